//! A private desktop for the tray's tests, and what they drive on it.
//!
//! [`Desktop`] starts, in one process group that is ended when it is dropped: Xvfb on a display
//! it picks itself, a private `dbus-daemon --session`, xfconfd, and `xfce4-panel
//! --disable-wm-check` with only its systray plugin (`tests/data/xfce4-panel.xml`), which is a
//! real StatusNotifierWatcher and StatusNotifierItem host. The tests look at the tray through
//! D-Bus (`gdbus`), through screenshots of the panel (ImageMagick's `import`, kept under
//! `target/tray-screenshots/`), and click its menu with xdotool.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

/// The face colours the tray draws (see `src/icon.rs`).
pub const GREEN: [u8; 3] = [0x2E, 0xA0, 0x43];
pub const AMBER: [u8; 3] = [0xE3, 0xA0, 0x08];
pub const RED: [u8; 3] = [0xD1, 0x24, 0x2F];
pub const BLUE: [u8; 3] = [0x1F, 0x6F, 0xEB];
pub const GREY: [u8; 3] = [0x8C, 0x8C, 0x8C];
pub const FACES: [[u8; 3]; 5] = [GREEN, AMBER, RED, BLUE, GREY];

/// Height of the strip of the screen the panel occupies (its size is 40).
const PANEL_HEIGHT: u32 = 40;

/// The desktop tests take turns: each brings up its own X server, bus and panel, and two at a
/// time on a loaded 2-core machine only make both slow.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[allow(unused_imports)] // each test file uses some of them
pub use tikker_testkit::{PATIENCE, installed, wait_for, wait_for_within};

/// The folder screenshots are kept in (a CI artifact): `target/tray-screenshots`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("tray-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `tikker` binary built next to `tikker-tray` (`cargo test --workspace` builds both).
pub fn tikker_binary() -> PathBuf {
    tikker_testkit::built_binary("tikker")
}

/// A private X server, session bus and panel, with a home and runtime folder for the processes
/// started on it. Everything it starts is ended when it is dropped.
pub struct Desktop {
    pub dir: tempfile::TempDir,
    pub display: String,
    pub bus: String,
    /// The process group every desktop process runs in (Xvfb leads it).
    group: Pid,
    children: Vec<Child>,
    session_bus: Option<tikker_testkit::SessionBus>,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("display", &self.display)
            .field("bus", &self.bus)
            .finish()
    }
}

impl Desktop {
    /// Starts the desktop; fails, naming it, when a program it needs is not installed
    /// (`scripts/setup --test` installs them).
    pub fn start() -> Desktop {
        for program in [
            "Xvfb",
            "dbus-daemon",
            "xfce4-panel",
            "gdbus",
            "xdotool",
            "import",
            "convert",
        ] {
            assert!(
                installed(program),
                "{program} is not installed: run scripts/setup --test"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        for sub in [
            "home",
            "config/xfce4/xfconf/xfce-perchannel-xml",
            "data",
            "cache",
        ] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let runtime = dir.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xfce4-panel.xml"),
            dir.path()
                .join("config/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml"),
        )
        .unwrap();

        // Xvfb leads the process group; it picks a free display and names it once it listens.
        let mut xvfb_command = Command::new("Xvfb");
        xvfb_command.process_group(0);
        let (xvfb, display) = tikker_testkit::spawn_xvfb(xvfb_command);
        let group = Pid::from_raw(xvfb.id() as i32).unwrap();
        let mut desktop = Desktop {
            dir,
            display,
            bus: String::new(),
            group,
            children: vec![xvfb],
            session_bus: None,
        };

        // The bus runs in the desktop's process group and goes with it.
        let bus = tikker_testkit::SessionBus::spawn(desktop.command("dbus-daemon"));
        desktop.bus = bus.address.clone();
        desktop.session_bus = Some(bus);

        let xfconfd = desktop.spawn_logged(
            "/usr/lib/x86_64-linux-gnu/xfce4/xfconf/xfconfd",
            &[],
            "xfconfd",
        );
        desktop.children.push(xfconfd);
        desktop.start_panel("panel");
        desktop
    }

    /// Starts xfce4-panel (the last child) and waits until its systray hosts items.
    fn start_panel(&mut self, log: &str) {
        let panel = self.spawn_logged("xfce4-panel", &["--disable-wm-check"], log);
        self.children.push(panel);
        wait_for(
            "the panel's systray to register as StatusNotifierItem host",
            || self.logs(),
            || {
                self.watcher_property("IsStatusNotifierHostRegistered")
                    .filter(|answer| answer.contains("true"))
            },
        );
    }

    /// Ends the panel (and with it the watcher and host) and starts a new one.
    pub fn restart_panel(&mut self) {
        let mut panel = self.children.pop().unwrap();
        let pid = Pid::from_raw(panel.id() as i32).unwrap();
        rustix::process::kill_process(pid, Signal::TERM).unwrap();
        panel.wait().unwrap();
        wait_for(
            "the watcher to leave the bus with the panel",
            || self.logs(),
            || {
                self.watcher_property("IsStatusNotifierHostRegistered")
                    .is_none()
                    .then_some(())
            },
        );
        self.start_panel("panel-restarted");
    }

    /// A command with this desktop's environment (and PATH), in its process group.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        let home = self.dir.path();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.join("home"))
            .env("USER", "tester")
            .env("DISPLAY", &self.display)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("TZ", "UTC")
            .env("RUST_LOG", "info")
            // No accessibility bus: GTK in the panel would have D-Bus start two more daemons.
            .env("NO_AT_BRIDGE", "1")
            .stdin(Stdio::null())
            .process_group(self.group.as_raw_nonzero().get());
        if !self.bus.is_empty() {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus);
        }
        cmd
    }

    /// Starts `program` with its output in `<name>.log`.
    fn spawn_logged(&self, program: &str, args: &[&str], name: &str) -> Child {
        let log = std::fs::File::create(self.log_path(name)).unwrap();
        self.command(program)
            .args(args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data/tikker/tikker.db")
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// The logs of everything started on this desktop, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut entries: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            out.push_str(&format!("--- {} ---\n", path.display()));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Starts `tikker-tray` (polling every half second) with its log in `tray.log`.
    pub fn start_tray(&self, extra_path: Option<&Path>) -> Process {
        let log = std::fs::File::create(self.log_path("tray")).unwrap();
        let mut cmd = self.command(env!("CARGO_BIN_EXE_tikker-tray"));
        cmd.args(["--interval", "0.5"])
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(dir) = extra_path {
            let mut paths = vec![dir.to_path_buf()];
            paths.extend(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            ));
            cmd.env("PATH", std::env::join_paths(paths).unwrap());
        }
        Process::new(cmd.spawn().unwrap())
    }

    /// Starts `tikker daemon --source replay:FILE` on this desktop's runtime folder, its HTTP
    /// API on a free loopback port (for "Open dashboard").
    pub fn start_daemon(&self, replay: &Path, name: &str) -> Process {
        let log = std::fs::File::create(self.log_path(name)).unwrap();
        let mut cmd = self.command(tikker_binary());
        cmd.arg("--db")
            .arg(self.db())
            .arg("daemon")
            .arg("--source")
            .arg(format!("replay:{}", replay.display()))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        Process::new(cmd.spawn().unwrap())
    }

    /// `tikker status --json` as the tray's user, if a daemon answers.
    pub fn tikker_status(&self) -> Option<serde_json::Value> {
        let out = self
            .command(tikker_binary())
            .args(["status", "--json"])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).unwrap())
    }

    /// `gdbus call` on this desktop's bus; its output if it succeeded.
    pub fn gdbus(&self, args: &[&str]) -> Option<String> {
        let out = self
            .command("gdbus")
            .args(["call", "--session", "--timeout", "10"])
            .args(args)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A property of the StatusNotifierWatcher.
    pub fn watcher_property(&self, property: &str) -> Option<String> {
        self.gdbus(&[
            "--dest",
            "org.kde.StatusNotifierWatcher",
            "--object-path",
            "/StatusNotifierWatcher",
            "--method",
            "org.freedesktop.DBus.Properties.Get",
            "org.kde.StatusNotifierWatcher",
            property,
        ])
    }

    /// The items registered with the watcher (`service/path`).
    pub fn registered_items(&self) -> Vec<String> {
        let answer = self
            .watcher_property("RegisteredStatusNotifierItems")
            .unwrap_or_default();
        answer
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    /// Waits until the tray with `pid` is registered; returns its D-Bus name.
    pub fn wait_for_item(&self, pid: u32) -> String {
        let name = format!("org.kde.StatusNotifierItem-{pid}-1");
        wait_for(
            &format!("the tray's item {name} to be registered with the watcher"),
            || self.logs(),
            || {
                self.registered_items()
                    .iter()
                    .any(|item| item.starts_with(&format!("{name}/")))
                    .then(|| name.clone())
            },
        )
    }

    /// A property of the tray's item, as gdbus prints it.
    pub fn item_property(&self, item: &str, property: &str) -> Option<String> {
        self.gdbus(&[
            "--dest",
            item,
            "--object-path",
            "/StatusNotifierItem",
            "--method",
            "org.freedesktop.DBus.Properties.Get",
            "org.kde.StatusNotifierItem",
            property,
        ])
    }

    /// Waits until the tray's tooltip contains every one of `words`; returns the tooltip.
    pub fn wait_for_tooltip(&self, item: &str, words: &[&str]) -> String {
        wait_for(
            &format!("the tooltip to say {words:?}"),
            || {
                format!(
                    "tooltip now: {:?}\n{}",
                    self.item_property(item, "ToolTip")
                        .map(|t| tooltip_text(&t)),
                    self.logs()
                )
            },
            || {
                let tooltip = tooltip_text(&self.item_property(item, "ToolTip")?);
                words.iter().all(|w| tooltip.contains(w)).then_some(tooltip)
            },
        )
    }

    /// A screenshot of the whole screen, kept as `target/tray-screenshots/<name>.png`.
    pub fn screenshot(&self, name: &str) -> Screenshot {
        let path = artifacts_dir().join(format!("{name}.png"));
        self.screenshot_to(&path);
        Screenshot::read(&path)
    }

    /// A screenshot in the desktop's own folder (for polling, not kept), as PPM.
    fn scratch_screenshot(&self) -> Screenshot {
        let path = self.dir.path().join("scratch.ppm");
        self.screenshot_to(&path);
        Screenshot::read(&path)
    }

    fn screenshot_to(&self, path: &Path) {
        let status = self
            .command("import")
            .args(["-window", "root", "-depth", "8"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "import failed");
    }

    /// Waits until the panel shows the tray's icon with the face colour `face` (and, with
    /// `white_mark`, a white mark on it); keeps the screenshot as `<name>.png` and returns
    /// where the icon is.
    pub fn wait_for_icon(&self, name: &str, face: [u8; 3], white_mark: bool) -> IconSpot {
        let spot = wait_for(
            &format!("the panel to show the icon with face {face:02X?} (mark: {white_mark})"),
            || self.logs(),
            || {
                let shot = self.scratch_screenshot();
                let spot = shot.icon_spot()?;
                (spot.face == face && spot.white_mark == white_mark).then_some(spot)
            },
        );
        let kept = self.screenshot(name);
        assert!(
            kept.icon_spot().is_some(),
            "the kept screenshot {name} shows no icon"
        );
        spot
    }

    /// Runs xdotool on this desktop.
    pub fn xdotool(&self, args: &[&str]) {
        let status = self.command("xdotool").args(args).status().unwrap();
        assert!(status.success(), "xdotool {args:?} failed");
    }

    /// Opens the tray's menu with a right click on its icon and clicks its `nth` enabled entry
    /// (1 = the first one that can be clicked): the entry is found by moving the menu's
    /// keyboard selection onto it (disabled lines are skipped), and then clicked with the
    /// mouse, where the selection shows it.
    pub fn click_menu_entry(&self, nth: usize, name: &str) {
        let icon = wait_for(
            "the icon in the panel",
            || self.logs(),
            || self.scratch_screenshot().icon_spot(),
        );
        // Nothing else is on the screen below the panel: an open menu is what is not black.
        let menu_open = || {
            let shot = self.scratch_screenshot();
            (shot.lit_pixels_below(PANEL_HEIGHT + 2) > 2000).then_some(())
        };
        self.xdotool(&[
            "mousemove",
            &icon.x.to_string(),
            &icon.y.to_string(),
            "click",
            "3",
        ]);
        wait_for("the tray's menu to open", || self.logs(), menu_open);
        for _ in 0..nth {
            self.xdotool(&["key", "Down"]);
        }
        let band = wait_for(
            &format!("the menu's selection to reach entry {nth}"),
            || self.logs(),
            || self.scratch_screenshot().selection_band(PANEL_HEIGHT + 2),
        );
        let shot = self.screenshot(name);
        assert!(shot.selection_band(PANEL_HEIGHT + 2).is_some());
        let (x, y) = band;
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
        wait_for(
            "the menu to close after the click",
            || self.logs(),
            || {
                let shot = self.scratch_screenshot();
                (shot.lit_pixels_below(PANEL_HEIGHT + 2) < 200).then_some(())
            },
        );
    }
}

impl Drop for Desktop {
    /// Ends the whole process group (the panel's plugin processes too): SIGTERM, then SIGKILL
    /// for whatever lingers.
    fn drop(&mut self) {
        let _ = kill_process_group(self.group, Signal::TERM);
        let start = Instant::now();
        for child in self.children.iter_mut().rev() {
            while start.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = kill_process_group(self.group, Signal::KILL);
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

/// The text parts (title and description) of a `ToolTip` property as gdbus prints it.
pub fn tooltip_text(gdbus_answer: &str) -> String {
    // `(<('', [(32, 32, [byte 0x.., ...])], 'tikker', 'tikker: capturing…\nScore…')>,)`:
    // the strings come after the pixmap's bytes.
    let after_pixmap = gdbus_answer
        .rfind(']')
        .map(|i| &gdbus_answer[i..])
        .unwrap_or(gdbus_answer);
    after_pixmap.replace("\\n", "\n")
}

/// A process started by a test, killed if the test ends without stopping it.
#[derive(Debug)]
pub struct Process {
    child: Option<Child>,
}

impl Process {
    fn new(child: Child) -> Process {
        Process { child: Some(child) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).unwrap();
        rustix::process::kill_process(pid, Signal::TERM).unwrap();
        self.wait()
    }

    /// Sends SIGKILL (a crash) and reaps it.
    pub fn kill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits (at most `PATIENCE`) for it to exit by itself.
    pub fn wait(&mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > PATIENCE {
                let _ = child.kill();
                panic!("process {} did not exit in {PATIENCE:?}", child.id());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where the tray's icon is in the panel, and how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IconSpot {
    pub x: u32,
    pub y: u32,
    pub face: [u8; 3],
    pub white_mark: bool,
}

/// A screenshot's pixels (RGB).
#[derive(Debug)]
pub struct Screenshot {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Screenshot {
    /// Reads a binary PPM, or a PNG through ImageMagick's `convert`.
    fn read(path: &Path) -> Screenshot {
        let data = if path.extension().is_some_and(|x| x == "ppm") {
            std::fs::read(path).unwrap()
        } else {
            let out = Command::new("convert")
                .arg(path)
                .args(["-depth", "8", "ppm:-"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "convert could not read {}",
                path.display()
            );
            out.stdout
        };
        // "P6\n<width> <height>\n255\n" then the pixels.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while data[at].is_ascii_whitespace() {
                at += 1;
            }
            let start = at;
            while !data[at].is_ascii_whitespace() {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(&data[start..at]).into_owned());
        }
        assert_eq!(fields[0], "P6");
        assert_eq!(fields[3], "255");
        let width: u32 = fields[1].parse().unwrap();
        let height: u32 = fields[2].parse().unwrap();
        let rgb = data[at + 1..].to_vec();
        assert_eq!(rgb.len(), (width * height * 3) as usize);
        Screenshot { width, height, rgb }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The tray icon in the panel: the face colour most of the panel's pixels have among the
    /// four the tray draws (at least 100 pixels of it), its centre, and whether white pixels
    /// lie inside the face's bounding box (a pause mark or a dash).
    pub fn icon_spot(&self) -> Option<IconSpot> {
        let panel_rows = PANEL_HEIGHT.min(self.height);
        type Hits = Vec<(u32, u32)>;
        let mut best: Option<([u8; 3], Hits)> = None;
        for face in FACES {
            let mut hits = Vec::new();
            for y in 0..panel_rows {
                for x in 0..self.width {
                    if self.pixel(x, y) == face {
                        hits.push((x, y));
                    }
                }
            }
            if hits.len() >= 100 && best.as_ref().is_none_or(|(_, b)| hits.len() > b.len()) {
                best = Some((face, hits));
            }
        }
        let (face, hits) = best?;
        let (min_x, max_x) = (
            hits.iter().map(|h| h.0).min()?,
            hits.iter().map(|h| h.0).max()?,
        );
        let (min_y, max_y) = (
            hits.iter().map(|h| h.1).min()?,
            hits.iter().map(|h| h.1).max()?,
        );
        let mut white = 0;
        for y in min_y..=max_y {
            for x in min_x..=max_x {
                if self.pixel(x, y) == [255, 255, 255] {
                    white += 1;
                }
            }
        }
        Some(IconSpot {
            x: (min_x + max_x) / 2,
            y: (min_y + max_y) / 2,
            face,
            white_mark: white >= 20,
        })
    }

    /// How many pixels below row `top` are not black (Xvfb's bare root window is black).
    pub fn lit_pixels_below(&self, top: u32) -> usize {
        (top..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y) != [0, 0, 0])
            .count()
    }

    /// The centre of an open menu's selected entry: the rows below `top` that are mostly a
    /// saturated colour (the theme's selection background), as (x, y).
    pub fn selection_band(&self, top: u32) -> Option<(u32, u32)> {
        let saturated = |p: [u8; 3]| {
            let max = *p.iter().max().unwrap_or(&0) as i32;
            let min = *p.iter().min().unwrap_or(&0) as i32;
            max - min > 80
        };
        let mut rows = Vec::new();
        let mut columns = (u32::MAX, 0u32);
        for y in top..self.height {
            let xs: Vec<u32> = (0..self.width)
                .filter(|&x| saturated(self.pixel(x, y)))
                .collect();
            if xs.len() >= 60 {
                rows.push(y);
                columns.0 = columns.0.min(xs[0]);
                columns.1 = columns.1.max(xs[xs.len() - 1]);
            }
        }
        if rows.len() < 8 {
            return None;
        }
        let (first, last) = (rows[0], rows[rows.len() - 1]);
        // One contiguous band, as tall as an entry (not a half-drawn menu).
        if last - first + 1 != rows.len() as u32 || rows.len() > 60 {
            return None;
        }
        Some(((columns.0 + columns.1) / 2, (first + last) / 2))
    }
}

/// Writes an events-csv replay of steady typing, one keystroke a second from now on, lasting
/// `minutes` (the daemon replays it at the recorded pace, so it captures all along the test).
pub fn write_slow_replay(path: &Path, minutes: u64) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "user,session,timestamp_ms,key,event").unwrap();
    for i in 0..minutes * 60 {
        let t = now_ms + i * 1000;
        let key = ["a", "s", "d", "f"][(i % 4) as usize];
        writeln!(out, "tester,s1,{t},{key},press").unwrap();
        writeln!(out, "tester,s1,{},{key},release", t + 90).unwrap();
    }
}

/// A stand-in for the daemon's control socket that answers whatever status the test sets and
/// records the requests it gets: for what today's daemon cannot report yet (verdicts).
#[derive(Debug, Clone)]
pub struct StandInDaemon {
    status: Arc<Mutex<serde_json::Value>>,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl StandInDaemon {
    /// Listens at `socket` on a thread of its own (for the rest of the test process).
    pub fn serve(socket: &Path, status: serde_json::Value) -> StandInDaemon {
        std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
        let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
        let daemon = StandInDaemon {
            status: Arc::new(Mutex::new(status)),
            requests: Arc::new(Mutex::new(Vec::new())),
        };
        let serving = daemon.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                serving.answer(stream);
            }
        });
        daemon
    }

    /// Changes the status it reports.
    pub fn set_status(&self, status: serde_json::Value) {
        *self.status.lock().unwrap() = status;
    }

    /// The requests so far, as (request line, body).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    fn answer(&self, mut stream: std::os::unix::net::UnixStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut data = Vec::new();
        let mut buffer = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => data.extend_from_slice(&buffer[..n]),
            }
        };
        let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        while data.len() < head_end + length {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => data.extend_from_slice(&buffer[..n]),
            }
        }
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        let body = String::from_utf8_lossy(&data[head_end..head_end + length]).into_owned();
        self.requests
            .lock()
            .unwrap()
            .push((request_line.clone(), body.clone()));
        {
            let mut status = self.status.lock().unwrap();
            if request_line.starts_with("POST /pause") {
                status["state"] = "paused".into();
                status["paused"] = true.into();
                let seconds = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["duration_s"].as_u64());
                status["paused_until"] = match seconds {
                    Some(s) => format!("2099-01-01T00:{:02}:00Z", (s / 60) % 60).into(),
                    None => serde_json::Value::Null,
                };
            } else if request_line.starts_with("POST /resume") {
                status["state"] = "capturing".into();
                status["paused"] = false.into();
                status["paused_until"] = serde_json::Value::Null;
            }
        }
        let json = self.status.lock().unwrap().to_string();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
            json.len()
        );
    }
}
