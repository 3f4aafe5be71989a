//! Where tikker keeps its files by default: the XDG folders (`~/.config/tikker`,
//! `~/.local/share/tikker`), the configuration file and the HTTP API's token in the
//! configuration folder. The configuration ([`crate::config`]) may move the database.

use std::path::PathBuf;

use anyhow::Context;

/// The file of the HTTP API's bearer token, in the configuration folder.
const TOKEN_FILE: &str = "api-token";

/// The XDG folders of tikker (`~/.config/tikker`, `~/.local/share/tikker`).
///
/// # Errors
/// No home folder (HOME unset).
pub fn project_dirs() -> anyhow::Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "tikker")
        .context("no home folder found: set HOME (or use --db and --config)")
}

/// The default configuration file (`~/.config/tikker/config.toml`).
///
/// # Errors
/// As [`project_dirs`].
pub fn default_config_file() -> anyhow::Result<PathBuf> {
    Ok(project_dirs()?.config_dir().join("config.toml"))
}

/// Where the HTTP API's token lives: `api-token` in tikker's configuration folder.
///
/// # Errors
/// As [`project_dirs`].
pub fn api_token_file() -> anyhow::Result<PathBuf> {
    let config = default_config_file()?;
    Ok(config
        .parent()
        .map_or_else(|| PathBuf::from(TOKEN_FILE), |dir| dir.join(TOKEN_FILE)))
}
