//! `tikker`: records key timings, keeps them in `tikker.db`, and tells its owner how they type.
//!
//! This binary is the OS edge and the process: the command line, logging, paths and
//! configuration, the capture daemon (sources, the recorder, the authentication monitor and its
//! alerts, the control channel) and the local HTTP API. The domain
//! lives in `tikker-core`.

mod alert;
mod api;
mod authenticator;
mod cli;
mod clock;
mod config;
mod control;
mod daemon;
mod metrics;
mod pause;
mod recorder;
mod runtime_dir;
mod source;
mod state;
mod systemd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`tikker export | head`) is not an error worth a message.
            if e.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tikker: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
