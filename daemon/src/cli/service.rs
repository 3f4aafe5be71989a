//! `tikker service install|uninstall|status`: the systemd user unit, for installs without the
//! Debian package (which ships the unit in `/usr/lib/systemd/user/`).
//!
//! `install` writes `$XDG_CONFIG_HOME/systemd/user/tikker.service` (`~/.config/...`): the
//! project's unit (`systemd/tikker.service`) with `ExecStart=` naming the absolute path of the
//! running `tikker`, then runs `systemctl --user daemon-reload` and `enable --now`. Without a
//! usable `systemctl --user` the file is still written and the error says how to enable it by
//! hand. `uninstall` disables the unit and removes the file; `status` says where the unit is,
//! what it runs and what systemd thinks of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::runtime_dir::RuntimeDir;

/// The project's user unit; `install` replaces its `ExecStart=` line.
const UNIT_TEMPLATE: &str = include_str!("../../../systemd/tikker.service");
/// The unit's name.
const UNIT: &str = "tikker.service";
/// Where the Debian package installs the unit.
const PACKAGED_UNIT: &str = "/usr/lib/systemd/user/tikker.service";
/// How to enable the unit by hand.
const ENABLE_BY_HAND: &str =
    "systemctl --user daemon-reload && systemctl --user enable --now tikker";

/// Arguments of `tikker service`.
#[derive(Debug, Args)]
#[command(after_help = "\
The unit runs `tikker daemon` with the settings of ~/.config/tikker/config.toml (set `database` \
there to record elsewhere). With the Debian package the unit is already installed: enable it \
with `systemctl --user enable --now tikker` instead.

On Wayland (and to capture from every keyboard on X11) the daemon reads /dev/input, which takes \
membership of the `input` group: `sudo usermod -aG input $USER`, then log out and in again.")]
pub struct ServiceArgs {
    #[command(subcommand)]
    action: ServiceAction,
}

#[derive(Debug, Subcommand)]
enum ServiceAction {
    /// Write ~/.config/systemd/user/tikker.service (running this tikker binary) and enable it:
    /// the daemon starts now and at every login.
    Install,
    /// Disable the user unit and remove the file `install` wrote.
    Uninstall,
    /// Where the user unit is, what it runs, and whether it is enabled and active.
    Status,
}

/// Runs `tikker service …`.
pub fn run(args: ServiceArgs) -> anyhow::Result<()> {
    let unit_path = user_unit_dir()?.join(UNIT);
    match args.action {
        ServiceAction::Install => install(&unit_path),
        ServiceAction::Uninstall => uninstall(&unit_path),
        ServiceAction::Status => status(&unit_path),
    }
}

/// `$XDG_CONFIG_HOME/systemd/user`, or `~/.config/systemd/user` (where systemd looks).
fn user_unit_dir() -> anyhow::Result<PathBuf> {
    Ok(directories::BaseDirs::new()
        .context("no home folder found: set HOME (no place for a user unit)")?
        .config_dir()
        .join("systemd/user"))
}

fn install(unit_path: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding the path of this tikker binary")?;
    let text = unit_text(&exe)?;
    let folder = unit_path.parent().context("the unit path has no folder")?;
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    // Written next to its place and renamed: systemd never reads half a file.
    let partial = unit_path.with_extension("service.partial");
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, unit_path)
        .with_context(|| format!("writing {}", unit_path.display()))?;
    outln!(
        "wrote {} (ExecStart={} daemon)",
        unit_path.display(),
        exe.display()
    );
    if Path::new(PACKAGED_UNIT).exists() {
        outln!("  it takes precedence over the packaged {PACKAGED_UNIT}");
    }

    let unit_written = |e: anyhow::Error| {
        anyhow::anyhow!(
            "{e:#}\nthe unit is written to {}; enable it by hand once your user's systemd runs:\n    {ENABLE_BY_HAND}",
            unit_path.display()
        )
    };
    systemctl(&["daemon-reload"]).map_err(unit_written)?;
    // A daemon started by hand holds the one-daemon lock: starting the unit now would only
    // fail (and be retried). Enable it for the next login instead.
    let by_hand =
        daemon_answers() && systemctl_says(&["is-active", UNIT]).is_none_or(|s| s != "active");
    if by_hand {
        systemctl(&["enable", UNIT]).map_err(unit_written)?;
        outln!(
            "enabled: it starts at your next login; a tikker daemon started by hand is running now \
             (stop it, then `systemctl --user start tikker` to hand over to systemd)"
        );
    } else {
        systemctl(&["enable", "--now", UNIT]).map_err(unit_written)?;
        outln!(
            "enabled and started: the daemon runs now and at every login \
             (`systemctl --user status tikker`, logs: `journalctl --user -u tikker`)"
        );
    }
    Ok(())
}

fn uninstall(unit_path: &Path) -> anyhow::Result<()> {
    if !unit_path.exists() {
        outln!("no user unit at {}: nothing to remove", unit_path.display());
        if Path::new(PACKAGED_UNIT).exists() {
            outln!(
                "the packaged unit {PACKAGED_UNIT} is switched off with `systemctl --user disable --now tikker`"
            );
        }
        return Ok(());
    }
    let disabled = systemctl(&["disable", "--now", UNIT]);
    // What `disable` removes, in case systemctl could not: the link that starts it at login.
    if let Some(folder) = unit_path.parent() {
        let wants = folder.join("default.target.wants").join(UNIT);
        if wants.symlink_metadata().is_ok() {
            std::fs::remove_file(&wants)
                .with_context(|| format!("removing {}", wants.display()))?;
        }
    }
    std::fs::remove_file(unit_path).with_context(|| format!("removing {}", unit_path.display()))?;
    outln!("removed {}", unit_path.display());
    let reloaded = systemctl(&["daemon-reload"]);
    disabled.and(reloaded).map_err(|e| {
        anyhow::anyhow!(
            "{e:#}\nthe unit file is removed; if a tikker daemon still runs, stop it with \
             `systemctl --user stop tikker` (or `tikker status` names its pid)"
        )
    })
}

fn status(unit_path: &Path) -> anyhow::Result<()> {
    match std::fs::read_to_string(unit_path) {
        Ok(text) => {
            outln!("user unit: {}", unit_path.display());
            if let Some(exec) = text.lines().find(|l| l.starts_with("ExecStart=")) {
                outln!("  {exec}");
            }
            if let Ok(exe) = std::env::current_exe()
                && unit_text(&exe).ok().as_deref() != Some(text.as_str())
            {
                outln!(
                    "  (not what `tikker service install` would write for {}: run it again to update)",
                    exe.display()
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            outln!("user unit: none at {}", unit_path.display());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", unit_path.display())),
    }
    if Path::new(PACKAGED_UNIT).exists() {
        outln!("packaged unit: {PACKAGED_UNIT}");
    }
    for (question, label) in [("is-enabled", "enabled"), ("is-active", "active")] {
        match systemctl_says(&[question, UNIT]) {
            Some(answer) => outln!("{label}: {answer}"),
            None => outln!("{label}: unknown (systemctl --user {question} gave no answer)"),
        }
    }
    Ok(())
}

/// The unit `install` writes for the binary at `exe`.
fn unit_text(exe: &Path) -> anyhow::Result<String> {
    let exec = format!("ExecStart={} daemon", systemd_quoted(exe)?);
    let mut out = format!(
        "# Written by `tikker service install` (tikker {}); `tikker service uninstall` removes it.\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut replaced = false;
    for line in UNIT_TEMPLATE.lines() {
        if line.starts_with("ExecStart=") {
            out.push_str(&exec);
            replaced = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    // An invariant of the unit file shipped in the binary, checked by the unit tests.
    if !replaced {
        bail!("the built-in unit has no ExecStart= line");
    }
    Ok(out)
}

/// A path as one word of an `ExecStart=` command line: as it is when it needs nothing, else in
/// double quotes with `\` and `"` escaped; `%` (specifiers) and `$` (variables) are doubled.
fn systemd_quoted(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{} is not UTF-8: systemd cannot run it", path.display()))?;
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._+-".contains(c));
    if plain {
        return Ok(text.to_owned());
    }
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '%' => quoted.push_str("%%"),
            '$' => quoted.push_str("$$"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    Ok(quoted)
}

/// `systemctl --user ARGS…`, run to the end with its output captured.
fn run_systemctl(args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("systemctl").arg("--user").args(args).output()
}

/// Runs `systemctl --user ARGS…`; an error carries what systemctl said.
fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let shown = format!("systemctl --user {}", args.join(" "));
    let out = run_systemctl(args).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            anyhow::anyhow!("`{shown}` failed: systemctl is not installed (no systemd here?)")
        }
        _ => anyhow::Error::new(e).context(format!("running `{shown}`")),
    })?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.trim();
        bail!(
            "`{shown}` failed ({}){}{said}",
            out.status,
            if said.is_empty() { "" } else { ": " }
        );
    }
    Ok(())
}

/// The first line `systemctl --user ARGS…` prints (its answer to `is-enabled`, `is-active`),
/// whatever its exit status; `None` if it cannot run or says nothing.
fn systemctl_says(args: &[&str]) -> Option<String> {
    let out = run_systemctl(args).ok()?;
    let answer = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    (!answer.is_empty()).then_some(answer)
}

/// Whether a tikker daemon answers on this user's control socket.
fn daemon_answers() -> bool {
    let socket = RuntimeDir::locate().control_socket();
    let trusted = tikker_wire::socket::check_socket(&socket).is_ok_and(|checked| checked.is_ok());
    trusted
        && std::os::unix::net::UnixStream::connect(&socket).is_ok_and(|stream| {
            let peer = rustix::net::sockopt::socket_peercred(&stream).map(|c| c.uid.as_raw());
            peer.is_ok_and(|uid| uid == tikker_wire::socket::current_uid())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_unit_is_the_projects_with_this_binary() {
        let text = unit_text(Path::new("/opt/tikker/bin/tikker")).unwrap();
        assert!(text.starts_with("# Written by `tikker service install`"));
        assert!(text.contains("\nExecStart=/opt/tikker/bin/tikker daemon\n"));
        assert!(!text.contains("/usr/bin/tikker"));
        // Everything else is the project's unit as it is.
        let rest: Vec<&str> = text
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("ExecStart="))
            .collect();
        let template: Vec<&str> = UNIT_TEMPLATE
            .lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect();
        assert_eq!(rest, template);
        assert_eq!(
            UNIT_TEMPLATE
                .lines()
                .filter(|l| l.starts_with("ExecStart="))
                .count(),
            1
        );
    }

    #[test]
    fn paths_are_quoted_for_exec_start() {
        assert_eq!(
            systemd_quoted(Path::new("/home/me/.cargo/bin/tikker")).unwrap(),
            "/home/me/.cargo/bin/tikker"
        );
        assert_eq!(
            systemd_quoted(Path::new("/home/me/My Apps/50%/$x\"y\\z")).unwrap(),
            r#""/home/me/My Apps/50%%/$$x\"y\\z""#
        );
    }
}
