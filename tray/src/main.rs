//! `tikker-tray`: the system tray client of the tikker daemon.
//!
//! A StatusNotifierItem (tray-icon's `ksni` backend: plain D-Bus, no GTK) whose colour says at a
//! glance whether the typing looks like the owner's, with a menu to pause and resume capture.
//! It is a thin client of the daemon's control socket (`GET /status`, `POST /pause`,
//! `POST /resume`): it never opens `tikker.db`, and it keeps working, grey, while no daemon runs.

mod app;
mod icon;
mod indicator;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// The tikker tray icon: capture state and typing verdict at a glance, pause and resume.
#[derive(Debug, Parser)]
#[command(
    name = "tikker-tray",
    version,
    about,
    after_help = "The icon is green while the typing looks like yours (authentic, likely authentic), \
amber when uncertain, red when suspicious, and grey when there is no verdict: paused (two bars), \
enrolling, unknown, or no daemon (a dash).\n\n\
The tray needs a StatusNotifierItem host: KDE Plasma, Xfce's panel (systray plugin), LXQt, \
Cinnamon, MATE, or GNOME with the AppIndicator extension. It talks to the daemon started with \
`systemctl --user enable --now tikker` (or `tikker daemon`)."
)]
struct Args {
    /// The daemon's control socket [default: $XDG_RUNTIME_DIR/tikker/control.sock].
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Seconds between two status requests to the daemon.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = parse_interval)]
    interval: f64,
}

fn parse_interval(text: &str) -> Result<f64, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if (0.1..=3600.0).contains(&seconds) {
        Ok(seconds)
    } else {
        Err("the interval must be between 0.1 and 3600 seconds".into())
    }
}

/// `$XDG_DATA_HOME/tikker` (or `~/.local/share/tikker`): where the daemon keeps tikker.db unless
/// configured otherwise; opened when no daemon says where its database is.
/// The daemon finds it the same way (`directories`, in `tikker config`'s `data_dir`).
fn default_data_folder() -> PathBuf {
    directories::ProjectDirs::from("", "", "tikker")
        .map_or_else(|| PathBuf::from("."), |dirs| dirs.data_dir().to_path_buf())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let settings = app::Settings {
        socket: args
            .socket
            .unwrap_or_else(tikker_wire::socket::control_socket),
        poll_interval: Duration::from_secs_f64(args.interval),
        fallback_data_folder: default_data_folder(),
    };
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(app::run(settings)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tikker-tray: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
