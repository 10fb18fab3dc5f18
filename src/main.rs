//! The `clv` binary: parse arguments, call the library, print any error once.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

/// Exit code for an internal error (a panic): EX_SOFTWARE.
const INTERNAL_ERROR: u8 = 70;

fn main() -> ExitCode {
    let cli = clv::cli::Cli::parse();
    // A panic is a bug, never the user's fault: say so in one line, without a backtrace, once
    // (a panic in a worker thread is raised again in the caller).
    static REPORTED: AtomicBool = AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        if !REPORTED.swap(true, Ordering::SeqCst) {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            eprintln!(
                "clv: internal error: {message} (this is a bug in clv; please report it with the command you ran)"
            );
        }
    }));
    match std::panic::catch_unwind(|| clv::cli::run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("clv: error: {e}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::from(INTERNAL_ERROR),
    }
}
