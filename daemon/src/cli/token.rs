//! `tikker token`: prints the HTTP API's bearer token (creating it if there is none yet).

use crate::api::security::ApiToken;

pub fn run() -> anyhow::Result<()> {
    let token = ApiToken::load_or_create(&crate::paths::api_token_file()?)?;
    outln!("{}", token.as_str());
    Ok(())
}
