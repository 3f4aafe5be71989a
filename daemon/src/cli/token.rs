//! `tikker token`: prints the HTTP API's bearer token (creating it if there is none yet).

use crate::api::security::{ApiToken, token_file};

pub fn run() -> anyhow::Result<()> {
    let token = ApiToken::load_or_create(&token_file()?)?;
    println!("{}", token.as_str());
    Ok(())
}
