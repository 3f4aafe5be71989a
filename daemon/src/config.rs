//! The configuration file (`config.toml` in the XDG config folder) and the paths tikker uses.
//!
//! Every field has a default and a missing file means all defaults. An unknown key or a value of
//! the wrong kind is an error that names the key and the line. Command-line options (`--db`)
//! override the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where `tikker.db` lives; by default in the XDG data folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<PathBuf>,
    /// The log filter (`error`, `warn`, `info`, `debug`, `trace`, or a `tracing` directive such as
    /// `tikker=debug`); `RUST_LOG` overrides it.
    pub log_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: None,
            log_level: "info".into(),
        }
    }
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", path.display()));
            }
        };
        Self::parse(&text).with_context(|| format!("in the configuration file {}", path.display()))
    }

    /// Parses and validates the text of a configuration file.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log_level) {
            bail!("log_level = {:?} is not a log filter: {e}", self.log_level);
        }
        if let Some(database) = &self.database
            && database.as_os_str().is_empty()
        {
            bail!("database = \"\": give a file path or leave the key out for the default");
        }
        Ok(())
    }
}

/// The folders and files tikker uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Paths {
    /// The configuration file.
    pub config_file: PathBuf,
    /// The folder of `tikker.db` by default.
    pub data_dir: PathBuf,
    /// The database in use.
    pub database: PathBuf,
}

/// The XDG folders of tikker (`~/.config/tikker`, `~/.local/share/tikker`).
fn project_dirs() -> anyhow::Result<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "tikker")
        .context("no home folder found: set HOME (or use --db and --config)")
}

/// The default configuration file.
pub fn default_config_file() -> anyhow::Result<PathBuf> {
    Ok(project_dirs()?.config_dir().join("config.toml"))
}

impl Paths {
    /// Resolves the paths from the command-line overrides and the configuration.
    pub fn resolve(
        config_file: PathBuf,
        db_override: Option<&Path>,
        config: &Config,
    ) -> anyhow::Result<Paths> {
        let dirs = project_dirs();
        let data_dir = match &dirs {
            Ok(dirs) => dirs.data_dir().to_path_buf(),
            Err(_) => PathBuf::from("."),
        };
        let database = match (db_override, &config.database) {
            (Some(path), _) => path.to_path_buf(),
            (None, Some(path)) => path.clone(),
            (None, None) => match dirs {
                Ok(dirs) => dirs.data_dir().join("tikker.db"),
                Err(e) => return Err(e),
            },
        };
        Ok(Paths {
            config_file,
            data_dir,
            database,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_means_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn a_missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("absent.toml")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn fields_are_read() {
        let config = Config::parse("database = \"/tmp/x.db\"\nlog_level = \"debug\"\n").unwrap();
        assert_eq!(config.database, Some(PathBuf::from("/tmp/x.db")));
        assert_eq!(config.log_level, "debug");
    }

    #[test]
    fn an_unknown_key_is_named() {
        let err = Config::parse("databse = \"/tmp/x.db\"\n").unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("databse"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn a_bad_value_is_named() {
        let message = format!("{:#}", Config::parse("log_level = 5\n").unwrap_err());
        assert!(message.contains("log_level"), "{message}");
        let message = format!("{:#}", Config::parse("log_level = \"=[\"\n").unwrap_err());
        assert!(message.contains("log_level"), "{message}");
    }
}
