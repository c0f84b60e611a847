//! Regenerates the README images in `docs/images/` from the built-in
//! reference scenario:
//!
//! ```text
//! cargo run --release --example readme_images
//! ```

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
    match crmo_sim::plot::render_readme_images(&dir) {
        Ok(()) => {
            println!("images written to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
