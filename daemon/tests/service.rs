//! `tikker service install|uninstall|status` through the real binary, with a stand-in
//! `systemctl` on PATH that records its arguments (and can fail as a missing user manager
//! does), and `systemd-analyze verify` of the unit it writes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::TestHome;
use predicates::prelude::*;

/// A folder holding a fake `systemctl`: it appends its arguments to `systemctl.log` and answers
/// `is-enabled`/`is-active` with `answer`; with `fail`, it fails every call as `systemctl --user`
/// does without a user manager.
fn fake_systemctl(home: &TestHome, answer: &str, fail: bool) -> PathBuf {
    let bin = home.path().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = home.path().join("systemctl.log");
    let script = if fail {
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n",
            log.display()
        )
    } else {
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$2\" in is-*) echo '{answer}';; esac\nexit 0\n",
            log.display()
        )
    };
    let path = bin.join("systemctl");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    bin
}

fn systemctl_calls(home: &TestHome) -> Vec<String> {
    std::fs::read_to_string(home.path().join("systemctl.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `tikker service ARGS` with only `bin` (and nothing else) on PATH.
fn service(home: &TestHome, bin: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::from_std(home.tikker());
    cmd.env("PATH", bin).arg("service").args(args);
    cmd
}

fn unit_path(home: &TestHome) -> PathBuf {
    home.path().join("config/systemd/user/tikker.service")
}

#[test]
fn install_writes_the_unit_for_this_binary_and_enables_it() {
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "inactive", false);
    service(&home, &bin, &["install"])
        .assert()
        .success()
        .stdout(predicate::str::contains("enabled and started"));
    let unit = std::fs::read_to_string(unit_path(&home)).unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_tikker"));
    assert!(
        unit.contains(&format!("\nExecStart={} daemon\n", exe.display())),
        "{unit}"
    );
    for line in [
        "Type=notify",
        "Restart=on-failure",
        "WatchdogSec=30s",
        "WantedBy=default.target",
    ] {
        assert!(
            unit.contains(&format!("\n{line}\n")),
            "{line} missing:\n{unit}"
        );
    }
    assert_eq!(
        systemctl_calls(&home),
        ["--user daemon-reload", "--user enable --now tikker.service"]
    );

    // Installing again rewrites the same file.
    service(&home, &bin, &["install"]).assert().success();
    assert_eq!(std::fs::read_to_string(unit_path(&home)).unwrap(), unit);
}

#[test]
fn without_xdg_config_home_the_unit_goes_to_dot_config() {
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "inactive", false);
    service(&home, &bin, &["install"])
        .env_remove("XDG_CONFIG_HOME")
        .assert()
        .success();
    assert!(
        home.path()
            .join(".config/systemd/user/tikker.service")
            .is_file()
    );
}

#[test]
fn without_a_user_manager_the_unit_is_written_and_the_error_says_how_to_enable_it() {
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "", true);
    service(&home, &bin, &["install"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("Failed to connect to bus")
                .and(predicate::str::contains("systemctl --user daemon-reload"))
                .and(predicate::str::contains(
                    "systemctl --user enable --now tikker",
                ))
                .and(predicate::str::contains(
                    unit_path(&home).display().to_string(),
                )),
        );
    assert!(unit_path(&home).is_file());
}

#[test]
fn without_systemctl_the_unit_is_written_and_the_error_says_so() {
    let home = TestHome::new();
    let empty = home.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    service(&home, &empty, &["install"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("systemctl is not installed")
                .and(predicate::str::contains("enable it by hand")),
        );
    assert!(unit_path(&home).is_file());
}

#[test]
fn a_daemon_started_by_hand_is_left_alone_and_the_unit_waits_for_the_next_login() {
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "inactive", false);
    let replay = home.path().join("typing.csv");
    common::write_events_csv(
        &replay,
        "tester",
        "s1",
        &common::typing(1_700_000_000_000_000, 2000, 1_000_000),
    );
    let mut daemon = home.start_daemon(&["--source", &format!("replay:{}", replay.display())], &[]);
    home.wait_for_state(&mut daemon, "capturing");
    service(&home, &bin, &["install"])
        .assert()
        .success()
        .stdout(predicate::str::contains("next login"));
    assert_eq!(
        systemctl_calls(&home),
        [
            "--user daemon-reload",
            "--user is-active tikker.service",
            "--user enable tikker.service"
        ]
    );
    daemon.terminate();
}

#[test]
fn status_says_where_the_unit_is_and_what_systemd_thinks() {
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "enabled", false);
    service(&home, &bin, &["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("user unit: none at"));
    service(&home, &bin, &["install"]).assert().success();
    let exe = env!("CARGO_BIN_EXE_tikker");
    service(&home, &bin, &["status"]).assert().success().stdout(
        predicate::str::contains(unit_path(&home).display().to_string())
            .and(predicate::str::contains(format!("ExecStart={exe} daemon")))
            .and(predicate::str::contains("enabled: enabled"))
            .and(predicate::str::contains("not what").not()),
    );
}

#[test]
fn uninstall_disables_and_removes_the_unit() {
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "inactive", false);
    service(&home, &bin, &["install"]).assert().success();
    service(&home, &bin, &["uninstall"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed"));
    assert!(!unit_path(&home).exists());
    assert_eq!(
        systemctl_calls(&home)[2..],
        [
            "--user disable --now tikker.service",
            "--user daemon-reload"
        ]
    );
    service(&home, &bin, &["uninstall"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to remove"));
}

#[test]
fn uninstall_without_a_user_manager_still_removes_the_unit_and_its_login_link() {
    let home = TestHome::new();
    let working = fake_systemctl(&home, "inactive", false);
    service(&home, &working, &["install"]).assert().success();
    // What `systemctl --user enable` would have made.
    let wants = home.path().join("config/systemd/user/default.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink(unit_path(&home), wants.join("tikker.service")).unwrap();
    let failing = fake_systemctl(&home, "", true);
    service(&home, &failing, &["uninstall"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("systemctl --user stop tikker"));
    assert!(!unit_path(&home).exists());
    assert!(wants.join("tikker.service").symlink_metadata().is_err());
}

/// `systemd-analyze verify` accepts the unit `install` writes (it checks that ExecStart= names
/// an executable, so the repository's unit, which names /usr/bin/tikker, is verified through
/// this copy; `scripts/test-deb` verifies the packaged one in place).
#[test]
fn systemd_analyze_verifies_the_written_unit_without_a_warning() {
    common::require("systemd-analyze");
    let home = TestHome::new();
    let bin = fake_systemctl(&home, "inactive", false);
    service(&home, &bin, &["install"]).assert().success();
    let out = std::process::Command::new("systemd-analyze")
        .args(["--user", "--man=no", "verify"])
        .arg(unit_path(&home))
        .env("XDG_RUNTIME_DIR", home.runtime_dir())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{said}"
    );
    assert!(
        said.trim().is_empty(),
        "systemd-analyze verify warned:\n{said}"
    );
}
