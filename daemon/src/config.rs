//! The configuration file (`config.toml` in the XDG config folder) and the paths tikker uses.
//!
//! Every field has a default and a missing file means all defaults. An unknown key or a value of
//! the wrong kind is an error that names the key and the line. Command-line options (`--db`)
//! override the file.
//!
//! ```toml
//! database = "/home/me/.local/share/tikker/tikker.db"
//! log_level = "info"
//!
//! [capture]                # the daemon (`tikker daemon`)
//! source = "auto"          # auto | x11 | evdev
//! user = "me"              # whose typing; default: the login name ($USER)
//! commit_interval_ms = 200 # a batch is committed at most this long after its first event
//! batch_events = 512       # ... or as soon as it holds this many events
//! queue_events = 8192      # events waiting for the writer; beyond, new events are dropped
//! session_gap_s = 1800     # a pause this long (in seconds) starts a new session
//! retry_s = 30             # how often `auto` looks again for a source when it has none
//! input_dir = "/dev/input" # where evdev finds keyboards
//! ```

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
    /// The capture daemon.
    pub capture: CaptureConfig,
    /// The HTTP API.
    pub api: crate::api::config::ApiConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: None,
            log_level: "info".into(),
            capture: CaptureConfig::default(),
            api: crate::api::config::ApiConfig::default(),
        }
    }
}

/// Where the daemon's events come from when `--source` does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceChoice {
    /// evdev in a Wayland session; in an X11 session evdev when keyboards are readable, else X11.
    Auto,
    /// The X server's RECORD extension (every X11 client, no privileges).
    X11,
    /// The kernel's keyboards under `/dev/input` (needs membership of the `input` group).
    Evdev,
}

/// The `[capture]` section: how `tikker daemon` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// The source used when `--source` is not given.
    pub source: SourceChoice,
    /// Whose typing it is, stored with every session; by default the login name (`$USER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A batch of events is committed at most this many milliseconds after its first event.
    pub commit_interval_ms: u64,
    /// A batch is committed as soon as it holds this many events.
    pub batch_events: usize,
    /// How many events may wait for the writer; when full, new events are dropped and counted
    /// (the OS hook is never blocked).
    pub queue_events: usize,
    /// A gap between two events longer than this (in seconds) starts a new session.
    pub session_gap_s: u64,
    /// With `source = "auto"` and no usable source, how often (in seconds) to look again.
    pub retry_s: u64,
    /// Where the evdev source looks for keyboards.
    pub input_dir: PathBuf,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            source: SourceChoice::Auto,
            user: None,
            commit_interval_ms: 200,
            batch_events: 512,
            queue_events: 8192,
            session_gap_s: 1800,
            retry_s: 30,
            input_dir: PathBuf::from("/dev/input"),
        }
    }
}

impl CaptureConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if !(10..=250).contains(&self.commit_interval_ms) {
            bail!(
                "capture.commit_interval_ms = {}: give 10 to 250 (at most 250 ms of typing may wait for the disk)",
                self.commit_interval_ms
            );
        }
        if !(1..=512).contains(&self.batch_events) {
            bail!(
                "capture.batch_events = {}: give 1 to 512",
                self.batch_events
            );
        }
        if !(self.batch_events..=1_000_000).contains(&self.queue_events) {
            bail!(
                "capture.queue_events = {}: give at least batch_events ({}) and at most 1000000",
                self.queue_events,
                self.batch_events
            );
        }
        if self.session_gap_s < 10 {
            bail!(
                "capture.session_gap_s = {}: give at least 10 (seconds)",
                self.session_gap_s
            );
        }
        if self.retry_s == 0 {
            bail!("capture.retry_s = 0: give at least 1 (second)");
        }
        if let Some(user) = &self.user
            && user.trim().is_empty()
        {
            bail!("capture.user = \"\": give a name or leave the key out for the login name");
        }
        Ok(())
    }

    /// Whose typing the daemon records: `user`, else `$USER`, else `$LOGNAME`, else `"me"`.
    pub fn effective_user(&self) -> String {
        self.user
            .clone()
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "me".into())
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
        self.capture.validate()?;
        self.api.validate()
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
    fn the_capture_section_is_read_and_checked() {
        let config = Config::parse(
            "[capture]\nsource = \"x11\"\ncommit_interval_ms = 100\nuser = \"ann\"\n",
        )
        .unwrap();
        assert_eq!(config.capture.source, SourceChoice::X11);
        assert_eq!(config.capture.commit_interval_ms, 100);
        assert_eq!(config.capture.batch_events, 512);
        assert_eq!(config.capture.effective_user(), "ann");
        let message = format!(
            "{:#}",
            Config::parse("[capture]\ncommit_interval_ms = 1000\n").unwrap_err()
        );
        assert!(message.contains("capture.commit_interval_ms"), "{message}");
        let message = format!(
            "{:#}",
            Config::parse("[capture]\nsource = \"wayland\"\n").unwrap_err()
        );
        assert!(message.contains("wayland"), "{message}");
        let message = format!(
            "{:#}",
            Config::parse("[capture]\nsorce = \"x11\"\n").unwrap_err()
        );
        assert!(message.contains("sorce"), "{message}");
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
