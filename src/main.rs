//! The `clv` binary: parse arguments, call the library, print any error once.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match clv::cli::run(clv::cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clv: error: {e}");
            ExitCode::FAILURE
        }
    }
}
