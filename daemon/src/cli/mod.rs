//! The command line: global options, subcommands, and the setup they share (configuration,
//! logging, the database).
#![deny(clippy::print_stdout)]

// Every line for the user goes through these two macros (the lint above forbids `println!`):
// a reader that goes away (`tikker stats | head -1`) ends the command quietly instead of the
// panic of `println!`.

/// `println!` to standard output, ending the process quietly when the reader has gone away.
macro_rules! outln {
    () => {
        $crate::cli::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` to standard output, ending the process quietly when the reader has gone away.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

mod control;
mod daemon;
mod dashboard;
mod eval;
mod export;
mod forget;
mod import;
mod profile;
mod review;
mod serve;
mod service;
mod show_config;
mod stats;
mod token;
mod train;
mod when;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tikker_store::{EventFilter, Store};

use crate::config::{Config, Paths};
use crate::paths::default_config_file;

/// Runs the command line: parses the arguments, runs the command and turns its outcome into
/// the exit code (a closed output pipe ends quietly).
pub fn main() -> ExitCode {
    let args = Cli::parse();
    match run(args) {
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

/// Writes to standard output for [`outln!`] and [`out!`]. A closed pipe ends the process with
/// success and no message (the reader has what it wanted, as with `head`); any other failure
/// to write ends it with a message and failure.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // stderr may be gone as well: ignore a failure to say so.
        let _ = writeln!(
            std::io::stderr(),
            "tikker: error: writing to standard output: {e}"
        );
        std::process::exit(1);
    }
}

/// Local keystroke dynamics: records key timings (never text) in tikker.db.
#[derive(Debug, Parser)]
#[command(name = "tikker", version, about, propagate_version = true)]
pub struct Cli {
    /// The database file to use instead of the configured one.
    #[arg(long, global = true, value_name = "PATH", env = "TIKKER_DB")]
    db: Option<PathBuf>,
    /// The configuration file to use instead of ~/.config/tikker/config.toml.
    #[arg(long, global = true, value_name = "PATH", env = "TIKKER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import key events from files (one transaction per file).
    Import(import::ImportArgs),
    /// Stream stored events to standard output.
    Export(export::ExportArgs),
    /// Events, keystrokes, active days, and per day keystrokes and words per minute.
    Stats(stats::StatsArgs),
    /// Print the effective configuration and the paths in use.
    Config,
    /// Measure tikker's verifiers with the published protocols on public data sets.
    Eval(eval::EvalArgs),
    /// Capture key events (X11, evdev or a replay) into the database until stopped.
    Daemon(daemon::DaemonArgs),
    /// Pause capture (until `tikker resume`, or --for a while); nothing is recorded meanwhile.
    Pause(control::PauseArgs),
    /// Resume capture after `tikker pause`.
    Resume,
    /// The running daemon's state: source, pause, event counts, enrolment, score, last alert.
    Status(control::StatusArgs),
    /// The owner's typing profile: show it in words, or rebuild it from the stored events.
    Profile(profile::ProfileArgs),
    /// The systemd user unit: install (and enable), uninstall, status.
    Service(service::ServiceArgs),
    /// Serve the HTTP API without capturing, on the same database.
    Serve(serve::ServeArgs),
    /// Print the HTTP API's bearer token (made at the first start).
    Token,
    /// Open the dashboard in the default browser (or print its one-time URL with --url).
    Dashboard(dashboard::DashboardArgs),
    /// Train models on a data set and store them (predict-user: `train identify`).
    Train(train::TrainArgs),
    /// The alerts raised, newest first: when, what raised it, why, what was done.
    Alerts(review::AlertsArgs),
    /// The scored windows of the authentication monitor, newest first.
    Scores(review::ReviewArgs),
    /// Delete a span of typing from the record: its key events and activity counts (--last 10m).
    Forget(forget::ForgetArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(CompletionsArgs),
}

/// Arguments of `tikker completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// What every command knows once set up.
#[derive(Debug)]
pub struct RunContext {
    /// The effective configuration.
    pub config: Config,
    /// Where the database, the configuration and the data folder are.
    pub paths: Paths,
    /// How to open the database, found on first use (commands that never open it never ask the
    /// Secret Service).
    access: std::sync::OnceLock<crate::db_key::StoreAccess>,
}

/// `--from` and `--to` as instants (µs), each optional (see [`when`] for what they accept).
fn time_range(from: Option<&str>, to: Option<&str>) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let tz = jiff::tz::TimeZone::system();
    let now = jiff::Timestamp::now();
    let from_us = from
        .map(|t| when::parse_bound(t, when::End::Start, now, &tz))
        .transpose()
        .context("--from")?;
    let to_us = to
        .map(|t| when::parse_bound(t, when::End::Finish, now, &tz))
        .transpose()
        .context("--to")?;
    Ok((from_us, to_us))
}

/// Options that select stored events.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only events from then on: today, yesterday, 2h, 7d, a date (YYYY-MM-DD, local time) or
    /// an RFC 3339 instant.
    #[arg(long, value_name = "WHEN")]
    from: Option<String>,
    /// Only events up to then (a date counts whole): same forms as --from.
    #[arg(long, value_name = "WHEN")]
    to: Option<String>,
    /// Only this user's sessions.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
}

impl FilterArgs {
    fn to_filter(&self) -> anyhow::Result<EventFilter> {
        let (from_us, to_us) = time_range(self.from.as_deref(), self.to.as_deref())?;
        if let (Some(from), Some(to)) = (from_us, to_us)
            && to <= from
        {
            anyhow::bail!("--to must come after --from");
        }
        Ok(EventFilter {
            from_us,
            to_us,
            user: self.user.clone(),
        })
    }
}

impl RunContext {
    /// A context for `config` and `paths`.
    pub fn new(config: Config, paths: Paths) -> RunContext {
        RunContext {
            config,
            paths,
            access: std::sync::OnceLock::new(),
        }
    }

    /// How to open the database: its key, found (or made) as `[store] encryption` says (see
    /// [`crate::db_key`]).
    ///
    /// # Errors
    /// The key cannot be found for an encrypted database, or cannot be stored.
    pub fn store_access(&self) -> anyhow::Result<&crate::db_key::StoreAccess> {
        if let Some(access) = self.access.get() {
            return Ok(access);
        }
        let access = crate::db_key::resolve(
            self.config.store.encryption,
            &self.paths.key_file,
            &self.paths.database,
        )?;
        Ok(self.access.get_or_init(|| access))
    }

    /// The database and how to open it.
    ///
    /// # Errors
    /// As [`RunContext::store_access`].
    pub fn database(&self) -> anyhow::Result<crate::db_key::Database> {
        Ok(crate::db_key::Database::new(
            self.paths.database.clone(),
            self.store_access()?.clone(),
        ))
    }

    /// Opens the database for a command that reads (or changes) what is stored: a database that
    /// is not there is an error naming the path, and none is made (nor a key for it), so a
    /// mistyped `--db` never leaves a new empty database and its folders behind.
    ///
    /// # Errors
    /// There is no database at the path; as [`RunContext::open_store`].
    pub fn open_existing_store(&self) -> anyhow::Result<Store> {
        self.require_database()?;
        self.open_store()
    }

    /// Fails, naming the path, when there is no database to read at a path that was given
    /// (`--db`, `TIKKER_DB`, `database =`). The default database may be missing: it is made
    /// there, in tikker's own folder, as on a fresh install.
    ///
    /// # Errors
    /// No file at the database's given path, or it cannot be read.
    pub fn require_database(&self) -> anyhow::Result<()> {
        let path = &self.paths.database;
        if *path == self.paths.data_dir.join("tikker.db") {
            return Ok(());
        }
        match std::fs::symlink_metadata(path) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A companion planted as a symlink is reported as such (it is the graver fault).
                for suffix in ["-wal", "-shm", "-journal"] {
                    let mut companion = path.as_os_str().to_owned();
                    companion.push(suffix);
                    tikker_store::check_own_path(std::path::Path::new(&companion))?;
                }
                anyhow::bail!(
                    "there is no tikker database at {} (from --db, TIKKER_DB or `database =` in the configuration): \
                 this command reads one and made none; check the path, or record first (tikker daemon, tikker import)",
                    path.display()
                )
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Opens the database (creating and migrating it if needed).
    ///
    /// # Errors
    /// As [`RunContext::store_access`] and [`tikker_store::Store::open`].
    pub fn open_store(&self) -> anyhow::Result<Store> {
        self.store_access()?.open(&self.paths.database)
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Completions(args) = &cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(args.shell, &mut command, "tikker", &mut std::io::stdout());
        return Ok(());
    }
    let config_file = match cli.config {
        // Only the default file may be missing: a file named on purpose must be there.
        Some(path) => {
            if !path.exists() {
                anyhow::bail!(
                    "the configuration file {} does not exist (--config or TIKKER_CONFIG)",
                    path.display()
                );
            }
            path
        }
        None => default_config_file()?,
    };
    let config = Config::load(&config_file)?;
    // `tikker token` prints the token and nothing else: scripts read it.
    if !matches!(cli.command, Command::Token) {
        init_logging(&config.log_level);
    }
    let paths = Paths::resolve(config_file, cli.db.as_deref(), &config)?;
    let context = RunContext::new(config, paths);
    match cli.command {
        Command::Import(args) => import::run(&context, args),
        Command::Export(args) => export::run(&context, args),
        Command::Stats(args) => stats::run(&context, args),
        Command::Config => show_config::run(&context),
        Command::Eval(args) => eval::run(args),
        Command::Daemon(args) => daemon::run(&context, args),
        Command::Pause(args) => control::pause(args),
        Command::Resume => control::resume(),
        Command::Status(args) => control::status(args),
        Command::Profile(args) => profile::run(&context, args),
        Command::Service(args) => service::run(args),
        Command::Serve(args) => serve::run(&context, args),
        Command::Token => token::run(),
        Command::Dashboard(args) => dashboard::run(&context, args),
        Command::Train(args) => train::run(&context, args),
        Command::Alerts(args) => review::alerts(&context, args),
        Command::Scores(args) => review::scores(&context, args),
        Command::Forget(args) => forget::run(&context, args),
        Command::Completions(_) => Ok(()),
    }
}

fn init_logging(level: &str) {
    // RUST_LOG overrides log_level, but only with a real filter: `RUST_LOG=warning` would be
    // read as a target's name and silence every other line, the alerts included.
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .filter(
            |value| match crate::config::check_log_level("RUST_LOG", value) {
                Ok(()) => true,
                Err(e) => {
                    eprintln!("tikker: {e:#}; RUST_LOG is ignored, log_level = {level:?} applies");
                    false
                }
            },
        );
    let filter = from_env
        .as_deref()
        .map_or_else(
            || tracing_subscriber::EnvFilter::try_new(level),
            tracing_subscriber::EnvFilter::try_new,
        )
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
