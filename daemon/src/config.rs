//! The configuration file (`config.toml` in the XDG config folder) and the paths tikker uses.
//!
//! Every field has a default and a missing file means all defaults. An unknown key or a value of
//! the wrong kind is an error that names the key and the line. Command-line options (`--db`)
//! override the file.
//!
//! ```toml
//! database = "/home/me/.local/share/tikker/tikker.db"
//! log_level = "info"       # off | error | warn | info | debug | trace, or directives: "info,tikker=debug"
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
//!
//! [store]
//! encryption = "auto"      # auto | keyring | keyfile | off: where the database key is kept
//! raw_retention_days = 28  # raw key events older than this are deleted; 0: only what the monitor needs
//!
//! [monitor]                # continuous authentication in the daemon
//! enabled = true
//! enrolment_keystrokes = 2000  # the owner's first keystrokes build the profile
//! window_keystrokes = 150  # keystrokes per scored window ...
//! step_keystrokes = 25     # ... scored every this many keystrokes
//! idle_gap_s = 180         # a longer pause in typing starts a new window
//! alert_threshold = 0.4    # scores at or below are `suspicious`
//! cusum_reference = 2.0    # evidence per window (owner spreads above the owner's median) that adds up
//! cusum_alert = 15.0       # the summed evidence that alerts
//! severe_threshold = 0.0001 # one window this low alerts at once
//! consecutive_low = 8      # and this many suspicious windows in a row alert
//! confirm_keystrokes = 2000 # keystrokes are learned only after this many more passed without an alert
//! cooldown_s = 600         # no second alert within this long
//! notify = true            # a desktop notification on alert
//! alert_command = []       # run on alert, e.g. ["loginctl", "lock-session"]; empty: nothing
//! save_interval_s = 600    # how often the learning profile is saved as a new version
//! ```

use crate::paths::project_dirs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tikker_core::monitor::MonitorConfig;

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Continuous authentication in the daemon.
    pub monitor: MonitorSettings,
    /// The HTTP API.
    pub api: crate::api::config::ApiConfig,
    /// How `tikker.db` is protected and how long raw events are kept.
    pub store: StoreSettings,
}

/// The `[store]` section: encryption at rest and retention of raw key events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// Where the database key is kept: `auto` (the Secret Service, else a key file), `keyring`,
    /// `keyfile`, or `off` (no encryption). See [`crate::db_key`].
    pub encryption: crate::db_key::EncryptionSetting,
    /// Raw key events older than this many days are deleted by the daemon (checked every hour);
    /// `0` keeps only what the monitor still needs (the enrolment's typing until the owner is
    /// enrolled, then the last hour). Rollups, scores, alerts and profiles are kept.
    pub raw_retention_days: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            encryption: crate::db_key::EncryptionSetting::Auto,
            raw_retention_days: DEFAULT_RAW_RETENTION_DAYS,
        }
    }
}

/// Raw key events are kept four weeks by default: enough to rebuild a profile from recent typing
/// and to recognise replays of it; statistics over longer spans come from the rollups.
pub const DEFAULT_RAW_RETENTION_DAYS: u32 = 28;

/// The longest retention that may be set: 100 years (beyond, say `raw_retention_days` is a
/// mistake).
const MAX_RAW_RETENTION_DAYS: u32 = 36_500;

impl Default for Config {
    fn default() -> Self {
        Config {
            database: None,
            log_level: "info".into(),
            capture: CaptureConfig::default(),
            monitor: MonitorSettings::default(),
            api: crate::api::config::ApiConfig::default(),
            store: StoreSettings::default(),
        }
    }
}

/// The `[monitor]` section: how the daemon enrols its owner, scores typing and alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorSettings {
    /// Whether the daemon scores typing at all.
    pub enabled: bool,
    /// The owner's first keystrokes that build the profile.
    pub enrolment_keystrokes: usize,
    /// Keystrokes in a scored window.
    pub window_keystrokes: usize,
    /// Keystrokes between two scores.
    pub step_keystrokes: usize,
    /// A pause in typing longer than this (seconds) starts a new window.
    pub idle_gap_s: u64,
    /// Scores at or below this are `suspicious`.
    pub alert_threshold: f64,
    /// A single window at or below this alerts at once.
    pub severe_threshold: f64,
    /// This many `suspicious` windows in a row alert (a backstop of the CUSUM).
    pub consecutive_low: usize,
    /// The CUSUM's reference value `k`: evidence per window (owner spreads above the owner's
    /// median distance) beyond which it adds up.
    pub cusum_reference: f64,
    /// The CUSUM's alert level `h`, in owner spreads.
    pub cusum_alert: f64,
    /// Keystrokes are learned only after this many more were typed without an alert.
    pub confirm_keystrokes: usize,
    /// No second alert within this many seconds of the last.
    pub cooldown_s: u64,
    /// Whether an alert shows a desktop notification.
    pub notify: bool,
    /// A command (program and arguments, no shell) run on each alert; empty: none.
    pub alert_command: Vec<String>,
    /// How often (seconds) a profile that learned is saved as a new version (and at stop).
    pub save_interval_s: u64,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        let core = MonitorConfig::default();
        MonitorSettings {
            enabled: true,
            enrolment_keystrokes: core.enrolment_keystrokes,
            window_keystrokes: core.window_keystrokes,
            step_keystrokes: core.step_keystrokes,
            idle_gap_s: u64::try_from(core.idle_gap_us / 1_000_000).unwrap_or(180),
            alert_threshold: core.alert_threshold,
            severe_threshold: core.severe_threshold,
            consecutive_low: core.consecutive_low,
            cusum_reference: core.cusum_reference,
            cusum_alert: core.cusum_alert,
            confirm_keystrokes: core.confirm_keystrokes,
            cooldown_s: u64::try_from(core.cooldown_us / 1_000_000).unwrap_or(600),
            notify: true,
            alert_command: Vec::new(),
            save_interval_s: 600,
        }
    }
}

impl MonitorSettings {
    fn validate(&self) -> anyhow::Result<()> {
        if !(10..=10_000).contains(&self.window_keystrokes) {
            bail!(
                "monitor.window_keystrokes = {}: give 10 to 10000",
                self.window_keystrokes
            );
        }
        if !(1..=self.window_keystrokes).contains(&self.step_keystrokes) {
            bail!(
                "monitor.step_keystrokes = {}: give 1 to window_keystrokes ({})",
                self.step_keystrokes,
                self.window_keystrokes
            );
        }
        // The calibration scores 20 held-out enrolment windows.
        let least = self.window_keystrokes + 20;
        if !(least..=1_000_000).contains(&self.enrolment_keystrokes) {
            bail!(
                "monitor.enrolment_keystrokes = {}: give at least window_keystrokes + 20 ({least}) and at most 1000000",
                self.enrolment_keystrokes
            );
        }
        for (name, value) in [
            ("alert_threshold", self.alert_threshold),
            ("severe_threshold", self.severe_threshold),
        ] {
            if !(0.0..=1.0).contains(&value) {
                bail!("monitor.{name} = {value}: give a score from 0 to 1");
            }
        }
        if self.severe_threshold > self.alert_threshold {
            bail!(
                "monitor.severe_threshold = {} is above alert_threshold = {}: the severe threshold is the lower one",
                self.severe_threshold,
                self.alert_threshold
            );
        }
        if self.consecutive_low == 0 {
            bail!("monitor.consecutive_low = 0: give at least 1");
        }
        for (name, value) in [
            ("cusum_reference", self.cusum_reference),
            ("cusum_alert", self.cusum_alert),
        ] {
            if !(value.is_finite() && value > 0.0 && value <= 1000.0) {
                bail!(
                    "monitor.{name} = {value}: give a number of owner spreads above 0 (at most 1000)"
                );
            }
        }
        if self.confirm_keystrokes > 1_000_000 {
            bail!(
                "monitor.confirm_keystrokes = {}: give at most 1000000",
                self.confirm_keystrokes
            );
        }
        if self.idle_gap_s == 0 || self.save_interval_s == 0 {
            bail!("monitor.idle_gap_s and monitor.save_interval_s must be at least 1 (second)");
        }
        if self
            .alert_command
            .first()
            .is_some_and(|p| p.trim().is_empty())
        {
            bail!(
                "monitor.alert_command starts with an empty program name: give a program, e.g. [\"loginctl\", \"lock-session\"], or [] for none"
            );
        }
        Ok(())
    }

    /// The engine's configuration.
    pub fn monitor_config(&self) -> MonitorConfig {
        let micros = |s: u64| i64::try_from(s.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
        MonitorConfig {
            enrolment_keystrokes: self.enrolment_keystrokes,
            window_keystrokes: self.window_keystrokes,
            step_keystrokes: self.step_keystrokes,
            idle_gap_us: micros(self.idle_gap_s),
            alert_threshold: self.alert_threshold,
            severe_threshold: self.severe_threshold,
            consecutive_low: self.consecutive_low,
            cusum_reference: self.cusum_reference,
            cusum_alert: self.cusum_alert,
            confirm_keystrokes: self.confirm_keystrokes,
            cooldown_us: micros(self.cooldown_s),
            ..MonitorConfig::default()
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
        if let Some(user) = &self.user {
            if user.trim().is_empty() {
                bail!(
                    "capture.user = {user:?}: give a name or leave the key out for the login name"
                );
            }
            // The rules of the API's user_id: what the daemon stores, the API must accept.
            if let Err(e) = tikker_core::analytics::input::user_id(user) {
                bail!("capture.user = {user:?}: {}", e.message);
            }
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
    ///
    /// The file must be the user's own (or root's), and so must a symlink leading to it; another
    /// account's file or link is refused, since it decides where tikker writes and what it runs.
    /// A file that other accounts can write (it or its folder is group- or other-writable) is
    /// read, but one that sets `monitor.alert_command` is refused: whoever can write it could
    /// make tikker run their program. Refusing (rather than ignoring the setting) keeps a user
    /// who relies on the alert (a screen lock) from running unprotected without knowing.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let writable_by_others = match check_config_owner(path)? {
            Some(writable) => writable,
            None => return Ok(Config::default()),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", path.display()));
            }
        };
        let config = Self::parse(&text)
            .with_context(|| format!("in the configuration file {}", path.display()))?;
        if let Some(others) = writable_by_others
            && !config.monitor.alert_command.is_empty()
        {
            bail!(
                "the configuration file {} sets monitor.alert_command but {others}: refusing to start, since any account that can write it could make tikker run its own program; run `chmod go-w {}` (and on its folder if that is the one named), or remove alert_command",
                path.display(),
                path.display()
            );
        }
        Ok(config)
    }

    /// Parses and validates the text of a configuration file.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        check_log_level("log_level", &self.log_level)?;
        if let Some(database) = &self.database
            && database.as_os_str().is_empty()
        {
            bail!("database = \"\": give a file path or leave the key out for the default");
        }
        self.capture.validate()?;
        self.monitor.validate()?;
        if self.store.raw_retention_days > MAX_RAW_RETENTION_DAYS {
            bail!(
                "store.raw_retention_days = {}: give 0 to {MAX_RAW_RETENTION_DAYS} days",
                self.store.raw_retention_days
            );
        }
        self.api.validate()
    }
}

/// The log levels `log_level` accepts, alone or after `target=`.
pub const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Refuses a `log_level` (or `RUST_LOG`, named by `key`) that is not a level or a list of
/// `target=level` directives.
///
/// `tracing`'s filter syntax reads a bare word such as `warning` as the name of a log *target*
/// (enabled at every level) and so switches every other line off, the alerts included: a typo
/// must be an error, not silence.
pub fn check_log_level(key: &str, value: &str) -> anyhow::Result<()> {
    let accepted = LOG_LEVELS.join(", ");
    let directives: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if directives.is_empty() {
        bail!(
            "{key} = {value:?}: give a level ({accepted}), or directives such as \"info,tikker=debug\""
        );
    }
    for directive in directives {
        let (target, level) = match directive.rsplit_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        if target.is_some_and(str::is_empty) {
            bail!(
                "{key} = {value:?}: {directive:?} names no target before `=`: give a level ({accepted}), or directives such as \"info,tikker=debug\""
            );
        }
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            bail!(
                "{key} = {value:?}: {level:?} is not a log level: give one of {accepted} (or directives such as \"info,tikker=debug\")"
            );
        }
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(value) {
        bail!("{key} = {value:?} is not a log filter: {e}");
    }
    Ok(())
}

/// Checks who may change the configuration file at `path`: `None` when there is no file,
/// `Some(None)` when only its user (or root) can, `Some(Some(what))` when other accounts can
/// write it or its folder (`what` says which, for messages).
///
/// # Errors
/// The file, or a symlink leading to it, belongs to another account (not the user, not root).
fn check_config_owner(path: &Path) -> anyhow::Result<Option<Option<String>>> {
    use std::os::unix::fs::MetadataExt;
    let me = tikker_wire::socket::current_uid();
    let trusted = |uid: u32| uid == me || uid == 0;
    let link = match std::fs::symlink_metadata(path) {
        Ok(link) => link,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if link.file_type().is_symlink() && !trusted(link.uid()) {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".to_owned());
        bail!(
            "the configuration file {} is a symlink (to {target}) made by {}: refusing to read it, since another account could point tikker at a configuration of its choosing; give a file of your own with --config, or remove the link",
            path.display(),
            tikker_store::describe_user(link.uid())
        );
    }
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if !trusted(metadata.uid()) {
        bail!(
            "the configuration file {} belongs to {}, not to {}: refusing to read it, since it decides where tikker writes and what it runs; use a file of your own (copy it, or give another with --config)",
            path.display(),
            tikker_store::describe_user(metadata.uid()),
            tikker_store::describe_user(me)
        );
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Ok(Some(Some(format!(
            "other accounts can write it (mode {mode:o})"
        ))));
    }
    let folder = std::fs::canonicalize(path)
        .ok()
        .and_then(|real| real.parent().map(Path::to_path_buf));
    if let Some(folder) = folder
        && let Ok(dir) = std::fs::metadata(&folder)
    {
        let dir_mode = dir.mode() & 0o7777;
        // A sticky folder (like /tmp) lets no one replace another account's file.
        if dir_mode & 0o022 != 0 && dir_mode & 0o1000 == 0 || !trusted(dir.uid()) {
            return Ok(Some(Some(format!(
                "other accounts can replace it (its folder {} has mode {dir_mode:o} and belongs to {})",
                folder.display(),
                tikker_store::describe_user(dir.uid())
            ))));
        }
    }
    Ok(Some(None))
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
    /// The database key's file, beside the configuration file (used where the key is not in the
    /// Secret Service).
    pub key_file: PathBuf,
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
        let key_file = config_file
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map_or_else(
                || PathBuf::from(crate::db_key::KEY_FILE_NAME),
                |dir| dir.join(crate::db_key::KEY_FILE_NAME),
            );
        Ok(Paths {
            config_file,
            data_dir,
            database,
            key_file,
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
    fn the_monitor_section_is_read_and_checked() {
        let config = Config::parse(
            "[monitor]\nenrolment_keystrokes = 500\ncooldown_s = 60\nalert_command = [\"loginctl\", \"lock-session\"]\n",
        )
        .unwrap();
        let core = config.monitor.monitor_config();
        assert_eq!(core.enrolment_keystrokes, 500);
        assert_eq!(core.cooldown_us, 60_000_000);
        assert_eq!(core.window_keystrokes, 150);
        assert_eq!(config.monitor.alert_command, ["loginctl", "lock-session"]);
        assert_eq!(
            Config::default().monitor.monitor_config(),
            MonitorConfig::default()
        );
        assert!(
            Config::default().monitor.alert_command.is_empty(),
            "no action by default"
        );
        for (text, named) in [
            (
                "[monitor]\nenrolment_keystrokes = 100\n",
                "monitor.enrolment_keystrokes",
            ),
            (
                "[monitor]\nalert_threshold = 1.5\n",
                "monitor.alert_threshold",
            ),
            (
                "[monitor]\nsevere_threshold = 0.5\n",
                "monitor.severe_threshold",
            ),
            (
                "[monitor]\nstep_keystrokes = 0\n",
                "monitor.step_keystrokes",
            ),
            (
                "[monitor]\nalert_command = [\"\"]\n",
                "monitor.alert_command",
            ),
            ("[monitor]\ncooldown = 5\n", "cooldown"),
        ] {
            let message = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(message.contains(named), "{text}: {message}");
        }
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

    /// `tracing` would read `warning` as a target's name and log nothing else: refused, naming
    /// the key, the value and the levels.
    #[test]
    fn a_log_level_that_is_not_a_level_is_refused() {
        for bad in [
            "warning",
            "chatty",
            "",
            "info,tikker=loud",
            "tikker",
            "=debug",
        ] {
            let text = format!("log_level = {bad:?}\n");
            let message = format!("{:#}", Config::parse(&text).unwrap_err());
            assert!(
                message.contains("log_level")
                    && message.contains(&format!("{bad:?}"))
                    && message.contains("off, error, warn, info, debug, trace"),
                "{bad}: {message}"
            );
        }
        for good in [
            "warn",
            "INFO",
            "info,tikker=debug",
            "tikker_store=trace, warn",
        ] {
            let text = format!("log_level = {good:?}\n");
            assert_eq!(Config::parse(&text).unwrap().log_level, good);
        }
    }

    #[test]
    fn a_capture_user_with_a_control_character_is_refused() {
        let message = format!(
            "{:#}",
            Config::parse("[capture]\nuser = \"me\\u0007\"\n").unwrap_err()
        );
        assert!(
            message.contains("capture.user") && message.contains("U+0007"),
            "{message}"
        );
    }
}
