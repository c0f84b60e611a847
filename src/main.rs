//! The `crmo-sim` binary: parses arguments and hands them to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    crmo_sim::cli::main()
}
