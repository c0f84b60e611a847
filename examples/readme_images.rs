//! Regenerates the metric list of `docs/outputs.md` (from the metric table, the
//! same source as `metrics.csv`) and the images in `docs/images/` from the
//! built-in reference scenario:
//!
//! ```text
//! cargo run --release --example readme_images            # both
//! cargo run --release --example readme_images -- metrics # the metric list only
//! ```

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = root.join("docs/outputs.md");
    let updated = std::fs::read_to_string(&readme)
        .ok()
        .and_then(|t| crmo_sim::output::tables::with_readme_metrics(&t));
    match updated.map(|t| std::fs::write(&readme, t)) {
        Some(Ok(())) => println!("metric list written to {}", readme.display()),
        _ => {
            eprintln!(
                "error: cannot update the metric list of {}",
                readme.display()
            );
            return ExitCode::FAILURE;
        }
    }
    if std::env::args().nth(1).as_deref() == Some("metrics") {
        return ExitCode::SUCCESS;
    }
    let dir = root.join("docs/images");
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
