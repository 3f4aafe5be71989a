//! `tikker serve`: the HTTP API without capture, on the same database, until SIGTERM or SIGINT.

use clap::Args;

use super::RunContext;
use crate::api::ApiOptions;

/// Arguments of `tikker serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The TCP address (IP:PORT); default: the configuration's api.listen (127.0.0.1:8003).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
}

pub fn run(context: &RunContext, args: ServeArgs) -> anyhow::Result<()> {
    let mut options = ApiOptions::from_config(
        &context.config.api,
        context.config.capture.effective_user(),
        args.listen,
    )?;
    options.tcp = Some(context.config.api.effective_listen(args.listen)?);
    crate::api::serve(&context.database()?, &options)
}
