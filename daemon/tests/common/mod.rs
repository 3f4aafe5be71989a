//! Helpers of the daemon's integration tests: a private home per test and the `tikker` daemon
//! in it. The parts every crate's tests share (Xvfb, a private D-Bus, dunst, waiting, data)
//! come from `tikker-testkit`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

pub mod splice;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use tikker_core::{KeyAction, KeyCode, KeyEvent};
use tikker_store::{EventFilter, Store, StoreError};

/// A private HOME, runtime folder and database.
#[derive(Debug)]
pub struct TestHome {
    pub dir: tempfile::TempDir,
    /// The database, when not `tikker.db` in the home (say on a small disk of its own).
    pub database: Option<PathBuf>,
}

impl TestHome {
    pub fn new() -> TestHome {
        let home = TestHome {
            dir: tempfile::tempdir().unwrap(),
            database: None,
        };
        // Tests replay typing recorded long ago: the retention (28 days by default) would prune
        // it while the daemon runs. A test about retention writes its own configuration.
        let config = home.path().join("config").join("tikker");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("config.toml"),
            "[store]\nraw_retention_days = 36500\n",
        )
        .unwrap();
        let runtime = home.runtime_dir();
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    pub fn db(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.dir.path().join("tikker.db"))
    }

    /// `tikker` with this home's environment and nothing of the caller's (but PATH).
    pub fn tikker(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tikker"));
        self.environment(&mut cmd);
        cmd
    }

    /// `tikker` run by `prlimit --nofile=N:N`: with at most `open_files` open files, a limit it
    /// cannot raise (the usual 1,024 of a session without `LimitNOFILE=`).
    pub fn tikker_with_open_files(&self, open_files: u64) -> Command {
        tikker_testkit::require("prlimit");
        let mut cmd = Command::new("prlimit");
        self.environment(&mut cmd);
        cmd.arg(format!("--nofile={open_files}:{open_files}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_tikker"));
        cmd
    }

    fn environment(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("HOME", self.path())
            .env("USER", "tester")
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("TZ", "UTC")
            .env("RUST_LOG", "info")
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    }

    /// `tikker --db DB ARGS…`, run to completion.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.tikker()
            .arg("--db")
            .arg(self.db())
            .args(args)
            .output()
            .unwrap()
    }

    /// `tikker status --json`.
    pub fn status(&self) -> Option<serde_json::Value> {
        let out = self.run(&["status", "--json"]);
        if !out.status.success() {
            return None;
        }
        Some(serde_json::from_slice(&out.stdout).unwrap())
    }

    /// Starts `tikker --db DB daemon ARGS…` with its log in a file.
    pub fn start_daemon(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Daemon {
        self.start_daemon_by(self.tikker(), args, extra_env)
    }

    /// Starts the daemon as [`TestHome::start_daemon`] does, with the command `cmd` (say
    /// [`TestHome::tikker_with_open_files`]).
    pub fn start_daemon_by(
        &self,
        mut cmd: Command,
        args: &[&str],
        extra_env: &[(&str, &str)],
    ) -> Daemon {
        let log = self.path().join(format!("daemon-{}.log", unique_suffix()));
        cmd.arg("--db")
            .arg(self.db())
            .arg("daemon")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (key, value) in extra_env {
            cmd.env(key, value);
        }
        Daemon {
            child: Some(cmd.spawn().unwrap()),
            log,
        }
    }

    /// Starts `WRAPPER… tikker --db DB daemon ARGS…` (a program that runs the daemon, such as
    /// the umockdev testbed) with this home's environment and the wrapper's stdin and stdout
    /// piped; the daemon's log (and the wrapper's stderr) go to a file.
    pub fn start_wrapped_daemon(
        &self,
        wrapper: &[&std::ffi::OsStr],
        args: &[&str],
        extra_env: &[(&str, &str)],
    ) -> (Daemon, std::process::ChildStdin, std::process::ChildStdout) {
        let log = self.path().join(format!("daemon-{}.log", unique_suffix()));
        let tikker = self.tikker();
        let mut cmd = Command::new(wrapper[0]);
        cmd.args(&wrapper[1..])
            .arg(tikker.get_program())
            .arg("--db")
            .arg(self.db())
            .arg("daemon")
            .args(args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        for (key, value) in tikker.get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        for (key, value) in extra_env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        (
            Daemon {
                child: Some(child),
                log,
            },
            stdin,
            stdout,
        )
    }

    /// Waits until the daemon answers with `state` (or fails with its log).
    pub fn wait_for_state(&self, daemon: &mut Daemon, state: &str) -> serde_json::Value {
        self.wait_for_status(daemon, &format!("state {state:?}"), |status| {
            status["state"] == state
        })
    }

    /// Polls `tikker status --json` until `check` holds (or fails with the daemon's log after
    /// 60 s, or as soon as the daemon exits).
    pub fn wait_for_status(
        &self,
        daemon: &mut Daemon,
        what: &str,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let start = Instant::now();
        loop {
            if let Some(status) = self.status()
                && check(&status)
            {
                return status;
            }
            if let Some(exit) = daemon.try_exit() {
                panic!(
                    "the daemon exited ({exit}) before {what}:\n{}",
                    daemon.log()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no {what} in 60 s:\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the daemon has recorded at least `events`.
    pub fn wait_for_recorded(&self, daemon: &mut Daemon, events: u64) -> serde_json::Value {
        let start = Instant::now();
        loop {
            if let Some(status) = self.status()
                && status["events"]["recorded"].as_u64().unwrap() >= events
            {
                return status;
            }
            if let Some(exit) = daemon.try_exit() {
                panic!("the daemon exited ({exit}):\n{}", daemon.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the daemon did not record {events} events in 60 s:\n{}",
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every stored event of every session, as (user, session label, event).
    pub fn stored_events(&self) -> Vec<(String, String, KeyEvent)> {
        events_in(&open_store_in(self.path(), &self.db()))
    }
}

/// Opens a database that `tikker` made in a test home (`db` in the home's top folder): with
/// the key from the home's key file (`config/tikker/tikker.key`, where tikker keeps the key when
/// no Secret Service answers, as in tests), or in plaintext when there is none.
pub fn open_store(db: &Path) -> Store {
    open_store_in(db.parent().unwrap(), db)
}

/// Opens the database at `db` of the test home at `home` (its key file is
/// `home/config/tikker/tikker.key`), wherever the database lives.
pub fn open_store_in(home: &Path, db: &Path) -> Store {
    let key_file = home.join("config").join("tikker").join("tikker.key");
    let encryption = match std::fs::read_to_string(&key_file) {
        Ok(text) => tikker_store::Encryption::Key(tikker_store::DbKey::from_hex(&text).unwrap()),
        Err(_) => tikker_store::Encryption::Off,
    };
    Store::open(db, &encryption).unwrap()
}

/// Every event in the database at `db`.
pub fn stored_events(db: &Path) -> Vec<(String, String, KeyEvent)> {
    events_in(&open_store(db))
}

/// Every event of `store`, as (user, session label, event).
fn events_in(store: &Store) -> Vec<(String, String, KeyEvent)> {
    let mut events = Vec::new();
    store
        .for_each_event(&EventFilter::default(), |session, event| {
            events.push((session.user.clone(), session.label.clone(), event));
            Ok::<(), StoreError>(())
        })
        .unwrap();
    events
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// A running `tikker daemon`, killed if the test ends without stopping it.
#[derive(Debug)]
pub struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().unwrap().id() as i32).unwrap()
    }

    pub fn signal(&self, signal: Signal) {
        kill_process(self.pid(), signal).unwrap();
    }

    /// Sends SIGTERM and waits for the exit (at most 30 s).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(Signal::TERM);
        self.wait(Duration::from_secs(30))
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(&mut self) {
        self.signal(Signal::KILL);
        self.child.take().unwrap().wait().unwrap();
    }

    /// Waits for the daemon to exit by itself.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_exit() {
                self.child = None;
                return status;
            }
            if start.elapsed() > timeout {
                panic!("the daemon did not exit in {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().unwrap())
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A number from the daemon's final `stopped` line (`captured=N`, `recorded=N`, …).
    pub fn final_count(&self, name: &str) -> u64 {
        let log = self.log();
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains(" stopped "))
            .unwrap_or_else(|| panic!("no `stopped` line in the log:\n{log}"));
        let key = format!("{name}=");
        let start = line.find(&key).unwrap() + key.len();
        line[start..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            tikker_testkit::stop(&mut child, Duration::ZERO);
        }
    }
}

#[allow(unused_imports)] // each test file uses some of them
pub use tikker_testkit::{Xvfb, require, shared_data, wait_for};

/// Writes an events-csv file of `events` in one session.
pub fn write_events_csv(path: &Path, user: &str, session: &str, events: &[KeyEvent]) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "user,session,timestamp_ms,key,event").unwrap();
    for event in events {
        writeln!(
            out,
            "{user},{session},{}.{:03},{},{}",
            event.time_us / 1000,
            event.time_us % 1000,
            event.key.0,
            event.action
        )
        .unwrap();
    }
}

/// `count` events of steady typing: presses every `step_us`, each released half a step later,
/// cycling through the letters.
pub fn typing(start_us: i64, count: usize, step_us: i64) -> Vec<KeyEvent> {
    let letters: Vec<KeyCode> = ('a'..='z')
        .map(|c| KeyCode::from_char(c).unwrap())
        .collect();
    (0..count)
        .map(|i| {
            let stroke = (i / 2) as i64;
            let key = letters[(i / 2) % letters.len()];
            if i % 2 == 0 {
                KeyEvent::press(start_us + stroke * step_us, key)
            } else {
                KeyEvent::release(start_us + stroke * step_us + step_us / 2, key)
            }
        })
        .collect()
}

/// The (key, action) pairs of `xdotool type TEXT`: a press and a release per character.
pub fn typed(text: &str) -> Vec<(KeyCode, KeyAction)> {
    text.chars()
        .flat_map(|c| {
            let key = KeyCode::from_char(c).unwrap();
            [(key, KeyAction::Press), (key, KeyAction::Release)]
        })
        .collect()
}
