//! Trust between processes, with a real second account (`tikker-intruder`, created with
//! `useradd` when missing; the attacker's steps run as that account through `setpriv`): a socket
//! or folder planted by another account is neither talked to nor stops the daemon, a listener of
//! another account behind the owner's own socket file is refused by its credentials, and a
//! database or configuration path that is another account's symlink or file is refused.
//!
//! These tests need root (to create the account and to switch to it); as another user they say
//! so and pass without checking anything.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestHome, typing, write_events_csv};

const INTRUDER: &str = "tikker-intruder";

/// The second account: its uid and gid, or `None` when the tests cannot create or become it.
fn intruder() -> Option<(u32, u32)> {
    static ACCOUNT: std::sync::OnceLock<Option<(u32, u32)>> = std::sync::OnceLock::new();
    *ACCOUNT.get_or_init(|| {
        if rustix::process::getuid().as_raw() != 0 {
            eprintln!("not root: the tests with a second account are skipped");
            return None;
        }
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, INTRUDER]).output().ok()?;
            String::from_utf8(out.stdout).ok()?.trim().parse().ok()
        };
        if id("-u").is_none() {
            let status = Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                ])
                .arg(INTRUDER)
                .status()
                .unwrap();
            assert!(status.success() || id("-u").is_some(), "useradd failed");
        }
        Some((id("-u").unwrap(), id("-g").unwrap()))
    })
}

/// `program` run as the second account.
fn as_intruder(program: &str) -> Command {
    let (uid, gid) = intruder().unwrap();
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg(program)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    cmd
}

/// A folder every account may create entries in, like `/tmp` (mode 1777).
fn shared_folder() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("tikker-shared-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

/// A fake daemon: listens at `socket` (creating its folder), answers every request with a
/// "capturing, authentic" status and writes each request line into `log`. With `drop_to`, it
/// binds as the caller and then becomes that account before it listens (so the socket file is
/// the caller's but the listening process is not).
const FAKE_DAEMON: &str = r#"
import json, os, socket, sys
path, log, ready = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
out = open(log, "a", buffering=1)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
marker = open(ready, "w")
if len(sys.argv) > 4:
    uid, gid = int(sys.argv[4]), int(sys.argv[5])
    os.setgroups([]); os.setgid(gid); os.setuid(uid)
server.listen(8)
marker.write("listening"); marker.close()
body = json.dumps({"state": "capturing", "auth": {"verdict": "authentic", "score": 0.99}}).encode()
while True:
    conn, _ = server.accept()
    try:
        request = conn.recv(65536).decode("latin-1")
        if request:  # a client that connects and hangs up sent nothing
            out.write(request.splitlines()[0] + "\n")
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    conn.close()
"#;

/// A running fake daemon, killed at the end of the test.
struct FakeDaemon {
    child: Child,
    log: PathBuf,
}

impl FakeDaemon {
    fn start(mut cmd: Command, socket: &Path, log: &Path, drop_to: Option<(u32, u32)>) -> Self {
        let ready = log.with_extension("ready");
        cmd.args(["-c", FAKE_DAEMON])
            .arg(socket)
            .arg(log)
            .arg(&ready);
        if let Some((uid, gid)) = drop_to {
            cmd.arg(uid.to_string()).arg(gid.to_string());
        }
        let child = cmd.stdin(Stdio::null()).spawn().unwrap();
        let start = Instant::now();
        while std::fs::read_to_string(&ready)
            .unwrap_or_default()
            .is_empty()
        {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the fake daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        FakeDaemon {
            child,
            log: log.to_path_buf(),
        }
    }

    /// The request lines it received.
    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tikker ARGS…` of the owner, with `XDG_RUNTIME_DIR` set to `runtime` (or unset).
fn owner_tikker(home: &TestHome, runtime: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut cmd = home.tikker();
    match runtime {
        Some(runtime) => cmd.env("XDG_RUNTIME_DIR", runtime),
        None => cmd.env_remove("XDG_RUNTIME_DIR"),
    };
    cmd.arg("--db").arg(home.db()).args(args).output().unwrap()
}

#[test]
fn a_daemon_folder_planted_by_another_account_gets_no_pause_and_no_status() {
    let Some(_) = intruder() else { return };
    let home = TestHome::new();
    let shared = shared_folder();
    let planted = shared.path().join("tikker");
    let fake = FakeDaemon::start(
        as_intruder("/usr/bin/python3"),
        &planted.join("control.sock"),
        &shared.path().join("requests.log"),
        None,
    );

    for args in [&["pause", "--for", "15m"][..], &["status"], &["resume"]] {
        let out = owner_tikker(&home, Some(shared.path()), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded: {out:?}");
        assert!(
            stderr.contains(&planted.display().to_string())
                && stderr.contains(&format!("belongs to {INTRUDER}"))
                && stderr.contains("nothing was sent"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(fake.requests(), "", "the planted daemon was talked to");
}

#[test]
fn a_listener_of_another_account_behind_the_owners_socket_is_refused_by_its_credentials() {
    let Some(account) = intruder() else { return };
    let home = TestHome::new();
    // The owner's own private folder and a socket file of the owner, but the process listening
    // on it runs as the other account (it bound as the owner, then switched).
    let runtime = home.path().join("private-run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let fake = FakeDaemon::start(
        Command::new("/usr/bin/python3"),
        &runtime.join("tikker/control.sock"),
        &home.path().join("requests.log"),
        Some(account),
    );

    let out = owner_tikker(&home, Some(&runtime), &["pause", "--for", "15m"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains(&format!("runs as {INTRUDER}")) && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    assert_eq!(
        fake.requests(),
        "",
        "the other account's listener got the pause"
    );
}

#[test]
fn a_folder_planted_in_tmp_neither_stops_the_daemon_nor_catches_its_clients() {
    let Some((uid, _)) = intruder() else { return };
    let home = TestHome::new();
    // Without XDG_RUNTIME_DIR, the old rule was `$TMPDIR/tikker-<uid>`: the other account takes
    // that place first.
    let shared = shared_folder();
    let owner_uid = rustix::process::getuid().as_raw();
    let planted = shared.path().join(format!("tikker-{owner_uid}"));
    let fake = FakeDaemon::start(
        as_intruder("/usr/bin/python3"),
        &planted.join("control.sock"),
        &shared.path().join("requests.log"),
        None,
    );
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&planted).unwrap()),
        uid
    );

    let file = home.path().join("typing.csv");
    write_events_csv(
        &file,
        "ann",
        "s1",
        &typing(1_750_000_000_000_000, 200, 100_000),
    );
    let log = home.path().join("daemon.log");
    let mut daemon = home
        .tikker()
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", shared.path())
        .arg("--db")
        .arg(home.db())
        .args(["daemon", "--source"])
        .arg(format!("replay:{}", file.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        let out = home
            .tikker()
            .env_remove("XDG_RUNTIME_DIR")
            .env("TMPDIR", shared.path())
            .args(["status", "--json"])
            .output()
            .unwrap();
        if out.status.success() {
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        if let Some(exit) = daemon.try_wait().unwrap() {
            panic!(
                "the daemon exited ({exit}):\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no status in 60 s: {out:?}\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        status["database"],
        home.db().display().to_string(),
        "{status}"
    );
    assert!(
        home.path().join(".cache/tikker").is_dir(),
        "the runtime folder is not under the home"
    );
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_child(&daemon),
        rustix::process::Signal::TERM,
    );
    daemon.wait().unwrap();
    assert_eq!(fake.requests(), "", "the planted daemon was talked to");
}

/// A folder of the second account in `/tmp` (mode 0755): where it plants links and files.
fn intruders_folder() -> tempfile::TempDir {
    let (uid, gid) = intruder().unwrap();
    let dir = tempfile::Builder::new()
        .prefix("tikker-intruder-")
        .tempdir_in("/tmp")
        .unwrap();
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs `args` as the second account and checks that it succeeded.
fn intruder_runs(program: &str, args: &[&std::ffi::OsStr]) {
    let status = as_intruder(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?} as {INTRUDER}");
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_database_path_that_is_another_accounts_symlink_is_refused_and_its_target_left_alone() {
    let Some(_) = intruder() else { return };
    let home = TestHome::new();
    let planted = intruders_folder();
    let mine = home.path().join("notes.txt");
    std::fs::write(&mine, "my notes\n").unwrap();
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o644)).unwrap();

    // The database itself, and the write-ahead log next to a database not there yet.
    let link = planted.path().join("x.db");
    let wal_link = planted.path().join("y.db-wal");
    for (at, db) in [
        (&link, link.clone()),
        (&wal_link, planted.path().join("y.db")),
    ] {
        intruder_runs("ln", &["-s".as_ref(), mine.as_os_str(), at.as_os_str()]);
        let out = home
            .tikker()
            .arg("--db")
            .arg(&db)
            .arg("stats")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{db:?} was used: {out:?}");
        assert!(
            stderr.contains(&at.display().to_string())
                && stderr.contains("is a symlink")
                && stderr.contains(INTRUDER),
            "{stderr}"
        );
        assert_eq!(mode_of(&mine), 0o644, "the target's mode was changed");
        assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes\n");
    }
    assert!(
        !planted.path().join("y.db").exists(),
        "a database was written there"
    );
}

#[test]
fn a_database_file_of_another_account_is_refused_and_left_alone() {
    let Some(_) = intruder() else { return };
    let home = TestHome::new();
    let planted = intruders_folder();
    let db = planted.path().join("z.db");
    intruder_runs("touch", &[db.as_os_str()]);
    intruder_runs("chmod", &["666".as_ref(), db.as_os_str()]);

    let out = home
        .tikker()
        .arg("--db")
        .arg(&db)
        .arg("stats")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains(&format!("belongs to {INTRUDER}")),
        "{stderr}"
    );
    assert_eq!(mode_of(&db), 0o666);
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "it was written");
}

#[test]
fn a_configuration_of_another_account_is_refused() {
    let Some(_) = intruder() else { return };
    let home = TestHome::new();
    let planted = intruders_folder();
    let config = planted.path().join("config.toml");
    let witness = planted.path().join("ran");
    intruder_runs(
        "sh",
        &[
            "-c".as_ref(),
            format!(
                "printf '[monitor]\\nalert_command = [\"touch\", \"{}\"]\\n' > {}",
                witness.display(),
                config.display()
            )
            .as_ref(),
        ],
    );
    // Also through a symlink of the other account's in a place of the owner's choosing.
    let link = planted.path().join("link.toml");
    intruder_runs("ln", &["-s".as_ref(), config.as_os_str(), link.as_os_str()]);
    for (path, expected) in [(&config, "belongs to"), (&link, "is a symlink")] {
        let out = home
            .tikker()
            .arg("--config")
            .arg(path)
            .arg("config")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{out:?}");
        assert!(
            stderr.contains(expected) && stderr.contains(INTRUDER),
            "{stderr}"
        );
    }
}

#[test]
fn a_configuration_others_can_write_cannot_set_an_alert_command() {
    let Some(_) = intruder() else { return };
    let home = TestHome::new();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "[monitor]\nalert_command = [\"loginctl\", \"lock-session\"]\n",
    )
    .unwrap();
    let run = |mode: u32| {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
        home.tikker()
            .arg("--config")
            .arg(&config)
            .arg("config")
            .output()
            .unwrap()
    };
    let out = run(0o666);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains("alert_command")
            && stderr.contains("other accounts can write it (mode 666)")
            && stderr.contains(&format!("chmod go-w {}", config.display())),
        "{stderr}"
    );
    // That the second account can indeed write it: the threat is real.
    intruder_runs(
        "sh",
        &[
            "-c".as_ref(),
            format!("test -w {}", config.display()).as_ref(),
        ],
    );
    assert!(run(0o600).status.success());
    std::fs::write(&config, "[monitor]\ncooldown_s = 60\n").unwrap();
    assert!(run(0o666).status.success(), "a setting without a command");
}
