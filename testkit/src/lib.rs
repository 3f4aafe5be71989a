//! tikker-testkit: the parts every integration test of tikker starts and waits for, in one place
//! (a dev-dependency only; nothing ships it).
//!
//! - [`require`] and [`installed`]: the programs a test needs (a missing one fails the test, it
//!   never skips it: `scripts/setup --test` installs them);
//! - [`wait_for`] and [`wait_for_within`]: polling with a deadline that says what was awaited;
//! - [`Xvfb`]: an X server on a display it picks itself, and [`xdotool`] on it;
//! - [`SessionBus`]: a private D-Bus session bus, with [`SessionBus::name_has_owner`]; and
//!   [`Dunst`], a real notification server on it;
//! - [`ChildGuard`] / [`stop`]: child processes ended (SIGTERM, then SIGKILL) however a test ends;
//! - [`built_binary`]: the workspace's binaries next to the test executable;
//! - [`shared_data`]: the public data sets at `../shared/data`.
//!
//! It depends on std and rustix only; **it may not depend on** any tikker crate, so every crate's
//! tests can use it.
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a harness fails loudly by design

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// How long a test waits for something before it fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Whether `program` is on `PATH`.
pub fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Fails (never skips) when a program the test needs is missing.
pub fn require(program: &str) {
    assert!(
        installed(program),
        "{program} is not installed: run scripts/setup --test (it installs what the tests start)"
    );
}

/// Polls `probe` until it gives a value, or fails after [`PATIENCE`] saying what was awaited
/// and what `diagnostics` tells.
pub fn wait_for<T>(
    what: &str,
    diagnostics: impl Fn() -> String,
    probe: impl FnMut() -> Option<T>,
) -> T {
    wait_for_within(PATIENCE, what, diagnostics, probe)
}

/// [`wait_for`] with another deadline; polls every 100 ms.
pub fn wait_for_within<T>(
    patience: Duration,
    what: &str,
    diagnostics: impl Fn() -> String,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            start.elapsed() < patience,
            "waited {patience:?} for {what}, in vain\n{}",
            diagnostics()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM to `child` and waits up to `grace` for it to end, then kills it; returns how it
/// ended.
pub fn stop(child: &mut Child, grace: Duration) -> ExitStatus {
    if let Ok(Some(status)) = child.try_wait() {
        return status;
    }
    if let Some(pid) = Pid::from_raw(child.id() as i32) {
        let _ = kill_process(pid, Signal::TERM);
    }
    let start = Instant::now();
    while start.elapsed() < grace {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap()
}

/// A child process that is stopped ([`stop`], 2 s of grace) when the guard is dropped.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        stop(&mut self.0, Duration::from_secs(2));
    }
}

/// Starts Xvfb as `command` describes (the caller may set its process group) on a display it
/// picks itself (`-displayfd`: it takes the first free number and writes it once it accepts
/// connections), so parallel tests and other X servers never share a display. Returns the
/// child and the display (`:N`).
pub fn spawn_xvfb(mut command: Command) -> (Child, String) {
    require("Xvfb");
    let mut child = command
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "640x480x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let number: u32 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Xvfb did not start (it said {line:?})"));
    (child, format!(":{number}"))
}

/// An Xvfb server on a free display, stopped when dropped.
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    /// The display (`:N`).
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb ([`spawn_xvfb`]) and checks that it answers (xdpyinfo).
    pub fn start() -> Xvfb {
        require("xdpyinfo");
        let (child, display) = spawn_xvfb(Command::new("Xvfb"));
        let ready = Command::new("xdpyinfo")
            .args(["-display", &display])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ready.success(), "Xvfb on {display} does not answer");
        Xvfb { child, display }
    }

    /// Runs xdotool against this display.
    pub fn xdotool(&self, args: &[&str]) {
        xdotool(&self.display, args);
    }
}

impl Drop for Xvfb {
    /// SIGTERM, so that Xvfb removes its lock file and socket; SIGKILL if it lingers.
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(2));
    }
}

/// Runs xdotool on `display` and fails the test if it fails.
pub fn xdotool(display: &str, args: &[&str]) {
    require("xdotool");
    let status = Command::new("xdotool")
        .env("DISPLAY", display)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "xdotool {args:?} failed");
}

/// The configuration of a private session bus without service activation, written once per
/// test process.
fn private_bus_config() -> PathBuf {
    static CONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let path =
                std::env::temp_dir().join(format!("tikker-test-bus-{}.conf", std::process::id()));
            std::fs::write(
                &path,
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            )
            .unwrap();
            path
        })
        .clone()
}

/// A private D-Bus session bus (`dbus-daemon --session`), stopped when dropped.
#[derive(Debug)]
pub struct SessionBus {
    child: Child,
    /// Its address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
}

impl SessionBus {
    /// Starts a session bus as `command` (a `dbus-daemon` command the caller may give an
    /// environment or process group) describes.
    pub fn spawn(mut command: Command) -> SessionBus {
        require("dbus-daemon");
        let mut child = command
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut address = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        SessionBus { child, address }
    }

    /// Starts a session bus. It starts no service on demand (no D-Bus activation): a test gets
    /// exactly the services it starts itself, so a Secret Service or a notification server
    /// installed on the machine never joins uninvited (and never waits on a prompt).
    pub fn start() -> SessionBus {
        let mut command = Command::new("dbus-daemon");
        command.arg(format!("--config-file={}", private_bus_config().display()));
        SessionBus::spawn(command)
    }

    /// Whether some connection owns the bus name `name`.
    pub fn name_has_owner(&self, name: &str) -> bool {
        require("dbus-send");
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// Waits until `name` has an owner on the bus.
    pub fn wait_for_name(&self, name: &str) {
        wait_for_within(
            Duration::from_secs(20),
            &format!("{name} to appear on the session bus"),
            String::new,
            || self.name_has_owner(name).then_some(()),
        );
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(2));
    }
}

/// dunst, a real notification server, on `display` and `bus`, with its log in `log`; stopped
/// when dropped. [`Dunst::start`] returns once it owns `org.freedesktop.Notifications`.
#[derive(Debug)]
pub struct Dunst {
    child: Child,
}

impl Dunst {
    /// Starts dunst with `home` as its HOME.
    pub fn start(display: &str, bus: &SessionBus, home: &Path, log: &Path) -> Dunst {
        require("dunst");
        let child = Command::new("dunst")
            .env("DISPLAY", display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HOME", home)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let dunst = Dunst { child };
        bus.wait_for_name("org.freedesktop.Notifications");
        dunst
    }

    /// The process id (to stop or freeze it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Dunst {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(2));
    }
}

/// A real Secret Service: `gnome-keyring-daemon` on `bus`, its keyrings under `home`, the login
/// keyring created and unlocked with a password; stopped when dropped.
#[derive(Debug)]
pub struct GnomeKeyring {
    child: Child,
    bus: String,
    home: PathBuf,
}

impl GnomeKeyring {
    /// Starts it and waits until it owns `org.freedesktop.secrets`.
    pub fn start(bus: &SessionBus, home: &Path) -> GnomeKeyring {
        require("gnome-keyring-daemon");
        let mut child = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"test-password").unwrap();
        }
        bus.wait_for_name("org.freedesktop.secrets");
        GnomeKeyring {
            child,
            bus: bus.address.clone(),
            home: home.to_path_buf(),
        }
    }

    /// `secret-tool lookup` of the item with these attributes (`[name, value, …]`).
    pub fn lookup(&self, attributes: &[&str]) -> Option<String> {
        require("secret-tool");
        let out = Command::new("secret-tool")
            .arg("lookup")
            .args(attributes)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", &self.home)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for GnomeKeyring {
    fn drop(&mut self) {
        stop(&mut self.child, Duration::from_secs(2));
    }
}

/// A binary of the workspace (`tikker`, `tikker-tray`) in the target folder of the running test
/// (`target/<profile>/NAME`, next to `deps/` where the test runs); fails if it was not built.
pub fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executables run from target/<profile>/deps");
    let binary = profile_dir.join(name);
    assert!(
        binary.is_file(),
        "{} is missing: build it first (`cargo build -p tikker -p tikker-tray`; `cargo test --workspace` does)",
        binary.display()
    );
    binary
}

/// The project's public data sets (`../shared/data` from the repository's root); fails loudly
/// if they are missing.
pub fn shared_data() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    assert!(
        path.join("README.md").exists(),
        "the data sets are expected at {} (the project's ../shared/data)",
        path.display()
    );
    path
}
