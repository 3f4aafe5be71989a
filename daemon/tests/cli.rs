//! The `tikker` binary driven as a user would: import, export, stats, config, on real files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

mod common;

use assert_cmd::Command;
use common::shared_data;
use predicates::prelude::*;

/// `tikker` with a private HOME, so no test reads or writes the real user's files.
fn tikker(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tikker").unwrap();
    cmd.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TZ", "UTC")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn export(home: &Path, db: &Path, format: &str) -> String {
    let out = tikker(home)
        .args(["--db"])
        .arg(db)
        .args(["export", "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const SAMPLE: &str = "user,session,timestamp_ms,key,event
alice,morning,1700000000000,KEY_H,press
alice,morning,1700000000095.5,KEY_H,release
alice,morning,1700000000120,i,press
alice,morning,1700000000201,i,release
bob,\"lunch, late\",1700000100000,js:65,press
bob,\"lunch, late\",1700000100080,js:65,release
alice,morning,1700000000150,Shift_L,press
alice,morning,1700000000250,Shift_L,release
";

#[test]
fn version_is_printed() {
    let home = tempfile::tempdir().unwrap();
    tikker(home.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("tikker "));
}

#[test]
fn import_export_import_round_trips_identically() {
    let home = tempfile::tempdir().unwrap();
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    let first = home.path().join("first.db");
    tikker(home.path())
        .arg("--db")
        .arg(&first)
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported 8 events in 2 sessions"));
    let exported = export(home.path(), &first, "events-csv");
    assert_eq!(
        exported,
        "user,session,timestamp_ms,key,event
alice,morning,1700000000000.000,KEY_H,press
alice,morning,1700000000095.500,KEY_H,release
alice,morning,1700000000120.000,KEY_I,press
alice,morning,1700000000150.000,KEY_LEFTSHIFT,press
alice,morning,1700000000201.000,KEY_I,release
alice,morning,1700000000250.000,KEY_LEFTSHIFT,release
bob,\"lunch, late\",1700000100000.000,KEY_A,press
bob,\"lunch, late\",1700000100080.000,KEY_A,release
"
    );
    let again = write(&home.path().join("again.csv"), &exported);
    let second = home.path().join("second.db");
    tikker(home.path())
        .arg("--db")
        .arg(&second)
        .args(["import", "--format", "events-csv"])
        .arg(&again)
        .assert()
        .success();
    assert_eq!(export(home.path(), &second, "events-csv"), exported);
    let jsonl = export(home.path(), &second, "jsonl");
    let first_line: serde_json::Value =
        serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first_line["timestamp_us"], 1_700_000_000_000_000i64);
    assert_eq!(first_line["key"], "KEY_H");
    assert_eq!(first_line["key_code"], 35);
    assert_eq!(first_line["event"], "press");
}

#[test]
fn a_bad_row_in_the_middle_imports_nothing_of_that_file() {
    let home = tempfile::tempdir().unwrap();
    let mut rows: Vec<String> = SAMPLE.lines().map(str::to_owned).collect();
    rows.insert(4, "alice,morning,-12,a,press".into());
    let csv = write(&home.path().join("bad.csv"), &(rows.join("\n") + "\n"));
    let db = home.path().join("t.db");
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .failure()
        .stderr(predicate::str::contains("bad.csv:5: timestamp_ms"))
        .stderr(predicate::str::contains("negative"))
        .stderr(predicate::str::contains(
            "nothing of this file was imported",
        ));
    assert_eq!(
        export(home.path(), &db, "events-csv"),
        "user,session,timestamp_ms,key,event\n"
    );
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "events-csv", "--skip-bad"])
        .arg(&csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported 8 events"))
        .stdout(predicate::str::contains("skipped 1 bad row"));
}

#[test]
fn a_file_of_the_wrong_format_names_the_problem() {
    let home = tempfile::tempdir().unwrap();
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    tikker(home.path())
        .arg("--db")
        .arg(home.path().join("t.db"))
        .args(["import", "--format", "aalto"])
        .arg(&csv)
        .assert()
        .failure()
        .stderr(predicate::str::contains("sample.csv: line 1"))
        .stderr(predicate::str::contains("aalto"));
}

#[test]
fn stats_count_keystrokes_days_and_speed() {
    let home = tempfile::tempdir().unwrap();
    // 11 presses 200 ms apart on 2024-03-01 (UTC): 10 characters in 2 s = 60 WPM.
    let mut csv = String::from("user,session,timestamp_ms,key,event\n");
    let start = 1_709_251_200_000i64; // 2024-03-01T00:00:00Z
    for i in 0..11 {
        let t = start + 3_600_000 + i * 200;
        csv += &format!("me,s,{t},a,press\nme,s,{},a,release\n", t + 80);
    }
    csv += &format!("me,s2,{},a,press\n", start + 86_400_000 + 5);
    let file = write(&home.path().join("s.csv"), &csv);
    let db = home.path().join("t.db");
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "events-csv"])
        .arg(&file)
        .assert()
        .success();
    let out = tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["stats", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["events"], 23);
    assert_eq!(stats["keystrokes"], 12);
    assert_eq!(stats["active_days"], 2);
    assert_eq!(stats["days"][0]["date"], "2024-03-01");
    assert_eq!(stats["days"][0]["keystrokes"], 11);
    assert!((stats["days"][0]["wpm"].as_f64().unwrap() - 60.0).abs() < 1e-6);
    assert_eq!(stats["days"][1]["date"], "2024-03-02");
    assert!(stats["days"][1]["wpm"].is_null());
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["stats", "--from", "2024-03-02"])
        .assert()
        .success()
        .stdout(predicate::str::contains("keystrokes   1"));
}

#[test]
fn config_prints_paths_and_names_unknown_keys() {
    let home = tempfile::tempdir().unwrap();
    tikker(home.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("config/tikker/config.toml"))
        .stdout(predicate::str::contains("data/tikker/tikker.db"))
        .stdout(predicate::str::contains("log_level = \"info\""));
    let config_dir = home.path().join("config/tikker");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), "log_levle = \"debug\"\n").unwrap();
    tikker(home.path())
        .arg("config")
        .assert()
        .failure()
        .stderr(predicate::str::contains("log_levle"))
        .stderr(predicate::str::contains("config.toml"));
    std::fs::write(
        config_dir.join("config.toml"),
        format!(
            "database = \"{}\"\n",
            home.path().join("elsewhere.db").display()
        ),
    )
    .unwrap();
    tikker(home.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains("elsewhere.db"));
}

#[test]
fn the_default_database_is_private_in_the_xdg_data_folder() {
    let home = tempfile::tempdir().unwrap();
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    tikker(home.path())
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .success();
    use std::os::unix::fs::PermissionsExt;
    let folder = home.path().join("data/tikker");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("tikker.db")), 0o600);
}

#[test]
fn the_real_cmu_file_imports_completely() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.db");
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "cmu"])
        .arg(shared_data().join("cmu/DSL-StrongPasswordData.csv"))
        .assert()
        .success()
        // 51 subjects × 8 sessions; 20,400 repetitions × 11 keys × press and release.
        .stdout(predicate::str::contains(
            "imported 448800 events in 408 sessions",
        ));
}

#[test]
fn the_real_aalto_files_import_with_their_bad_rows_counted() {
    let home = tempfile::tempdir().unwrap();
    let data = shared_data().join("aalto-dev");
    let manifest = std::fs::read_to_string(data.join("MANIFEST.tsv")).unwrap();
    let rows: u64 = manifest
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("users"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 1746);
    let db = home.path().join("t.db");
    let out = tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "aalto", "--skip-bad"])
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number_after = |prefix: &str| -> u64 {
        let start = stdout.find(prefix).unwrap() + prefix.len();
        stdout[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let events = number_after("imported ");
    let skipped = number_after("skipped ");
    // Every row is a press and a release; every row is imported or counted as skipped.
    assert_eq!(events / 2 + skipped, rows, "{stdout}");
    assert!(skipped < 100, "{stdout}");
    // Without --skip-bad the import stops at the first file with a bad row and names its line.
    tikker(home.path())
        .arg("--db")
        .arg(home.path().join("strict.db"))
        .args(["import", "--format", "aalto"])
        .args(&files)
        .assert()
        .failure()
        .stderr(predicate::str::is_match(r"_keystrokes\.txt\.gz:\d+: ").unwrap())
        .stderr(predicate::str::contains("--skip-bad imports the rest"));
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish_and_load_in_bash() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = tikker(home.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("tikker"),
            "{shell}"
        );
    }
    let script = home.path().join("tikker.bash");
    let out = tikker(home.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    std::fs::write(&script, &out.stdout).unwrap();
    let loaded = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p tikker", script.display()))
        .output()
        .unwrap();
    assert!(
        loaded.status.success() && String::from_utf8_lossy(&loaded.stdout).contains("tikker"),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
}

#[test]
fn a_config_file_named_on_purpose_must_exist() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("no-such.toml");
    tikker(home.path())
        .arg("--config")
        .arg(&missing)
        .arg("config")
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("does not exist")
                .and(predicate::str::contains("no-such.toml")),
        );
    // The default file may be absent.
    tikker(home.path()).arg("config").assert().success();
}

#[test]
fn status_json_without_a_daemon_says_not_running_and_fails() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    let out = tikker(home.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["running"], false);
    assert!(json["error"].as_str().unwrap().contains("no tikker daemon"));
}

#[test]
fn from_and_to_take_words_spans_dates_and_instants() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("tikker.db");
    // A given --db must exist for a command that reads it.
    drop(common::open_store(&db));
    for from in [
        "today",
        "yesterday",
        "2h",
        "7d",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
    ] {
        tikker(home.path())
            .arg("--db")
            .arg(&db)
            .args(["stats", "--from", from])
            .assert()
            .success();
    }
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["stats", "--from", "tomorrowish"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--from").and(predicate::str::contains("yesterday")));
}

#[test]
fn alerts_and_scores_show_the_timeline_as_a_table_and_as_json() {
    use tikker_core::threat::AlertKind;
    use tikker_core::verify::calibration::Verdict;
    use tikker_store::{StoredAlert, StoredScore};
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("tikker.db");
    // A given --db must exist for a command that reads it (none is made) ...
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .arg("alerts")
        .assert()
        .failure()
        .stderr(predicate::str::contains("there is no tikker database"));
    assert!(!db.exists());
    // ... and an empty one has no alerts.
    drop(common::open_store(&db));
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .arg("alerts")
        .assert()
        .success()
        .stdout(predicate::str::contains("no alerts"));
    {
        let store = common::open_store(&db);
        let at = 1_764_500_000_000_000i64; // 2025-11-30T10:53:20Z
        let score_id = store
            .save_score(&StoredScore {
                id: 0,
                user: "me".into(),
                from_us: at - 30_000_000,
                to_us: at,
                score: 0.12,
                confidence: 0.9,
                verdict: Verdict::Suspicious,
                reason: "typing unlike the owner's".into(),
                profile_version: Some(1),
            })
            .unwrap();
        for (kind, offset) in [
            (AlertKind::Impostor, 0),
            (AlertKind::Injection, 60_000_000),
            (AlertKind::Replay, 120_000_000),
            (AlertKind::NewDevice, 180_000_000),
        ] {
            store
                .save_alert(&StoredAlert {
                    id: 0,
                    created_us: at + offset,
                    score_id: Some(score_id),
                    score: 0.12,
                    reason: "typing unlike the owner's".into(),
                    notified: true,
                    action: Some("loginctl lock-session: exit status: 0".into()),
                    kind,
                    evidence_from_us: None,
                    evidence_to_us: None,
                    marked_false_us: None,
                })
                .unwrap();
        }
    }
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .arg("alerts")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("2025-11-30 10:54:20  injection")
                .and(predicate::str::contains("2025-11-30 10:53:20  impostor"))
                .and(predicate::str::contains("2025-11-30 10:55:20  replay"))
                .and(predicate::str::contains("2025-11-30 10:56:20  new_device"))
                .and(predicate::str::contains(
                    "notified; alert command: loginctl",
                )),
        );
    let out = tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["alerts", "--json", "--from", "2025-11-30T10:54:00Z"])
        .output()
        .unwrap();
    let alerts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 3, "{alerts}");
    assert_eq!(alerts[0]["kind"], "new_device");
    assert_eq!(alerts[1]["kind"], "replay");
    assert_eq!(alerts[2]["kind"], "injection");
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["scores", "--from", "2025-11-30"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0.12  suspicious"));
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["scores", "--from", "2025-12-01", "--to", "2025-11-30"])
        .assert()
        .failure();
}

#[test]
fn windows_and_mac_line_ends_and_a_bom_import_like_lf_with_the_right_line_named() {
    let home = tempfile::tempdir().unwrap();
    let bad_lf = format!("{SAMPLE}alice,morning,soon,KEY_H,press\n");
    let lf_csv = write(&home.path().join("lf.csv"), &bad_lf);
    let lf_db = home.path().join("lf.db");
    tikker(home.path())
        .arg("--db")
        .arg(&lf_db)
        .args(["import", "--format", "events-csv", "--skip-bad"])
        .arg(&lf_csv)
        .assert()
        .success();
    let expected = export(home.path(), &lf_db, "events-csv");
    let variants = [
        ("crlf", bad_lf.replace('\n', "\r\n")),
        ("cr", bad_lf.replace('\n', "\r")),
        ("bom", format!("\u{feff}{}", bad_lf.replace('\n', "\r\n"))),
    ];
    for (name, text) in variants {
        let csv = write(&home.path().join(format!("{name}.csv")), &text);
        let db = home.path().join(format!("{name}.db"));
        // Without --skip-bad the bad row is named by its own line, quoted unaltered.
        tikker(home.path())
            .arg("--db")
            .arg(&db)
            .args(["import", "--format", "events-csv"])
            .arg(&csv)
            .assert()
            .failure()
            .stderr(predicate::str::contains(":10: timestamp_ms: \"soon\""));
        tikker(home.path())
            .arg("--db")
            .arg(&db)
            .args(["import", "--format", "events-csv", "--skip-bad"])
            .arg(&csv)
            .assert()
            .success()
            .stdout(predicate::str::contains("imported 8 events"));
        assert_eq!(export(home.path(), &db, "events-csv"), expected, "{name}");
    }
}

const CMU_HEADER: &str = "subject,sessionIndex,rep,H.period,DD.period.t,UD.period.t,H.t,DD.t.i,UD.t.i,H.i,DD.i.e,UD.i.e,H.e,DD.e.five,UD.e.five,H.five,DD.five.Shift.r,UD.five.Shift.r,H.Shift.r,DD.Shift.r.o,UD.Shift.r.o,H.o,DD.o.a,UD.o.a,H.a,DD.a.n,UD.a.n,H.n,DD.n.l,UD.n.l,H.l,DD.l.Return,UD.l.Return,H.Return";
const CMU_ROW: &str = "s002,1,1,0.1491,0.3979,0.2488,0.1069,0.1674,0.0605,0.1169,0.2212,0.1043,0.1417,1.1885,1.0468,0.1146,1.6055,1.4909,0.1067,0.7590,0.6523,0.1016,0.2136,0.1120,0.1349,0.1484,0.0135,0.0932,0.3515,0.2583,0.1338,0.3509,0.2171,0.0742";

#[test]
fn impossible_times_are_refused_by_every_importer_and_never_break_stats() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.db");
    let aalto_header = "PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\t\
                        PRESS_TIME\tRELEASE_TIME\tLETTER\tKEYCODE\n";
    let files = [
        (
            "cmu",
            "hold.csv",
            format!("{CMU_HEADER}\n{}\n", CMU_ROW.replacen("0.1491", "1e300", 1)),
            "out of range",
        ),
        (
            "cmu",
            "subject.csv",
            format!(
                "{CMU_HEADER}\n{}\n",
                CMU_ROW.replacen("s002", "s4294967295", 1)
            ),
            "years 1970 to 9999",
        ),
        (
            "events-csv",
            "near-limit.csv",
            "user,session,timestamp_ms,key,event\nann,s1,9223372036854775,a,press\n".to_owned(),
            "after the year 9999",
        ),
        (
            "aalto",
            "aalto.txt",
            format!("{aalto_header}7\t1\ta\ta\t3\t253402300800000\t253402300800001\ta\t65\n"),
            "out of range",
        ),
    ];
    for (format, name, text, reason) in files {
        let path = write(&home.path().join(name), &text);
        tikker(home.path())
            .arg("--db")
            .arg(&db)
            .args(["import", "--format", format])
            .arg(&path)
            .assert()
            .failure()
            .stderr(predicate::str::contains(":2: ").and(predicate::str::contains(reason)));
    }
    // Nothing was stored, and the statistics read.
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .arg("stats")
        .assert()
        .success()
        .stdout(predicate::str::contains("events       0"));

    // A database that already holds impossible times (imported before the check) still reads.
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .success();
    {
        let mut store = common::open_store(&db);
        let mut tx = store.write().unwrap();
        let session = tx
            .begin_session(
                &tikker_store::NewSession {
                    source_kind: "import".into(),
                    source_detail: "old".into(),
                    user: "alice".into(),
                    label: "overflowed".into(),
                },
                -9_223_372_036_854_775_000,
            )
            .unwrap();
        tx.append(
            session,
            &[tikker_core::KeyEvent::press(
                -9_223_372_036_854_775_000,
                tikker_core::KeyCode(30),
            )],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .arg("stats")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("events       8").and(predicate::str::contains(
                "skipped      1 stored event(s) with a time outside the years 1970 to 9999",
            )),
        );
    let exported = export(home.path(), &db, "events-csv");
    assert_eq!(exported.lines().count(), 9, "{exported}");
    for args in [&["profile", "show"][..], &["export", "--format", "jsonl"]] {
        let out = tikker(home.path())
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("damaged"),
            "{args:?}: {out:?}"
        );
    }
}

/// Runs `cmd` to its end and returns whether it succeeded and its peak resident memory in KiB
/// (`VmHWM` of /proc/PID/status, read every 5 ms until it exits: the high-water mark only grows,
/// so the last reading is its peak but for the last few milliseconds).
fn run_measuring_memory(cmd: &mut std::process::Command) -> (bool, u64) {
    let mut child = cmd.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib: u64 = line
                .trim_start_matches("VmHWM:")
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap();
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.success(), peak_kib);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_million_bad_rows_import_in_bounded_memory_and_huge_fields_are_cut() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.db");
    let mut text = String::from("user,session,timestamp_ms,key,event\n");
    let bad = [
        "alice,s1,NaN,KEY_H,press",
        "alice,s1,5,not-a-key,press",
        "alice,s1,5,a,hold",
        "alice,s1,-5,a,press",
        "alice,s1",
    ];
    for i in 0..1_000_000 {
        text.push_str(bad[i % bad.len()]);
        text.push('\n');
    }
    text.push_str("alice,s1,1000,a,press\n");
    let csv = write(&home.path().join("bad.csv"), &text);
    drop(text);
    let out_path = home.path().join("out.txt");
    let (success, peak_kib) = run_measuring_memory(
        std::process::Command::new(env!("CARGO_BIN_EXE_tikker"))
            .env_clear()
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .arg("--db")
            .arg(&db)
            .args(["import", "--format", "events-csv", "--skip-bad"])
            .arg(&csv)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::process::Stdio::null()),
    );
    let out = std::fs::read_to_string(&out_path).unwrap();
    assert!(success, "{out}");
    // Before: every reason was kept (about 160 MiB here, 748 MB for the issue's file).
    assert!(peak_kib < 64 * 1024, "peak {peak_kib} KiB");
    assert!(out.contains("skipped 1000000 bad row(s):"), "{out}");
    assert!(out.contains("  200000 × key"), "{out}");
    assert!(
        out.contains("the first 5:\n  line 2: timestamp_ms"),
        "{out}"
    );
    assert!(out.lines().count() < 20, "{out}");

    // A 5 MB field is quoted cut, to stderr without --skip-bad and to stdout with it.
    let huge = format!(
        "user,session,timestamp_ms,key,event\nalice,s1,{},a,press\nalice,s1,7,{},press\n",
        "9".repeat(5_000_000),
        "k".repeat(5_000_000)
    );
    let csv = write(&home.path().join("huge.csv"), &huge);
    let out = tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.len() < 1000, "{} bytes on stderr", stderr.len());
    assert!(stderr.contains(":2: timestamp_ms: \"9999"), "{stderr}");
    assert!(
        stderr.contains("…\" is too long (5000000 bytes)"),
        "{stderr}"
    );
    let out = tikker(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--format", "events-csv", "--skip-bad"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.len() < 1000,
        "{} bytes on stdout",
        out.stdout.len()
    );
}

/// `tikker token` prints the token and nothing else: no log line on standard error, even the
/// first time, when it creates the token.
#[test]
fn token_writes_the_token_only() {
    let home = tempfile::tempdir().unwrap();
    let first = tikker(home.path()).arg("token").output().unwrap();
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        String::from_utf8_lossy(&first.stderr),
        "",
        "nothing on stderr"
    );
    let token = String::from_utf8(first.stdout).unwrap();
    assert_eq!(token.lines().count(), 1, "{token}");
    let again = tikker(home.path()).arg("token").output().unwrap();
    assert_eq!(String::from_utf8(again.stdout).unwrap(), token);
    assert!(again.stderr.is_empty());
}

/// `--db` naming a folder, or a file that is not a database, is refused with an error naming it,
/// and nothing about it changes: not its mode (a folder at 0600 could no longer be entered), not
/// its bytes; with a key already made and without encryption alike.
#[test]
fn db_naming_a_folder_or_a_non_database_file_is_refused_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // A key exists already (a real database was made), so the store itself is reached too.
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    tikker(home.path())
        .arg("--db")
        .arg(home.path().join("real.db"))
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .success();
    let plaintext = write(
        &home.path().join("plain.toml"),
        "[store]\nencryption = \"off\"\n",
    );
    let folder = home.path().join("dirtest");
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let junk = write(&home.path().join("junk.db"), "not a database\n");
    std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o644)).unwrap();
    let commands: [&[&str]; 4] = [
        &["stats"],
        &["export", "--format", "jsonl"],
        &["forget", "--last", "1h"],
        &["import", "--format", "events-csv", csv.to_str().unwrap()],
    ];
    for config in [None, Some(&plaintext)] {
        for args in commands {
            for (db, why) in [
                (&folder, "is a folder"),
                (&junk, "is not a tikker database"),
            ] {
                let mut cmd = tikker(home.path());
                if let Some(config) = config {
                    cmd.arg("--config").arg(config);
                }
                cmd.arg("--db")
                    .arg(db)
                    .args(args)
                    .assert()
                    .failure()
                    .stderr(
                        predicate::str::contains(db.to_str().unwrap())
                            .and(predicate::str::contains(why)),
                    );
            }
            assert_eq!(mode(&folder), 0o755, "{config:?} {args:?}");
            assert!(folder.join("sub").is_dir());
            assert!(!folder.join("tikker.db").exists());
            assert_eq!(mode(&junk), 0o644, "{config:?} {args:?}");
            assert_eq!(std::fs::read(&junk).unwrap(), b"not a database\n");
        }
    }
}

/// `log_level = "warning"` is no level (`tracing` would read it as a target and log nothing
/// else, alerts included): `tikker config` and `tikker daemon` refuse it, naming the key, the
/// value and the levels accepted.
#[test]
fn a_log_level_that_is_not_a_level_is_refused_by_config_and_daemon() {
    let home = tempfile::tempdir().unwrap();
    let config = write(&home.path().join("l.toml"), "log_level = \"warning\"\n");
    for args in [&["config"][..], &["daemon", "--listen", "127.0.0.1:0"][..]] {
        tikker(home.path())
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(home.path().join("t.db"))
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .failure()
            .stderr(
                predicate::str::contains("log_level = \"warning\"")
                    .and(predicate::str::contains("l.toml"))
                    .and(predicate::str::contains(
                        "off, error, warn, info, debug, trace",
                    )),
            );
    }
    assert!(!home.path().join("t.db").exists());
    // RUST_LOG, which overrides log_level, is held to the same rule: ignored with a word, and
    // the configured level logs (here the warning about a folder every account may write).
    let open = home.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    tikker(home.path())
        .env("RUST_LOG", "warning")
        .arg("--db")
        .arg(open.join("t.db"))
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("RUST_LOG = \"warning\"")
                .and(predicate::str::contains("RUST_LOG is ignored"))
                .and(predicate::str::contains("every account")),
        );
}

/// Rows whose key names no key (`-3` was read as the key 3, `x11:3` stored as an unknown key) or
/// whose user or session carries a control character are refused like every bad row: file, line
/// and reason, and nothing of the file imported. A missing file is named, and nothing is made.
#[test]
fn bad_keys_and_control_characters_are_refused_with_file_line_and_reason() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.db");
    for (name, row, reason) in [
        (
            "negative.csv",
            "u,codem,1000,-3,press",
            "unknown key \"-3\"",
        ),
        (
            "x11.csv",
            "u,x11bad,1000,x11:3,press",
            "unknown key \"x11:3\"",
        ),
        ("x11high.csv", "u,x11bad,1000,x11:256,press", "x11:256"),
        (
            "bel.csv",
            "u\u{7},s,1000,a,press",
            "control character U+0007",
        ),
        (
            "esc.csv",
            "u,s\u{1b}[2J,1000,a,press",
            "control character U+001B",
        ),
    ] {
        let path = write(
            &home.path().join(name),
            &format!("user,session,timestamp_ms,key,event\n{row}\n"),
        );
        tikker(home.path())
            .arg("--db")
            .arg(&db)
            .args(["import", "--format", "events-csv"])
            .arg(&path)
            .assert()
            .failure()
            .stderr(
                predicate::str::contains(format!("{name}:2: "))
                    .and(predicate::str::contains(reason))
                    .and(predicate::str::contains(
                        "nothing of this file was imported",
                    )),
            );
    }
    tikker(home.path())
        .arg("--db")
        .arg(&db)
        .arg("stats")
        .assert()
        .success()
        .stdout(predicate::str::contains("events       0"));

    let fresh = home.path().join("fresh.db");
    for (missing, named) in [
        ("/nonexistent/keys.csv", "/nonexistent/keys.csv"),
        ("-", "-"),
    ] {
        tikker(home.path())
            .arg("--db")
            .arg(&fresh)
            .args(["import", "--format", "events-csv", missing])
            .assert()
            .failure()
            .stderr(predicate::str::contains(named).and(predicate::str::contains("No such file")));
    }
    assert!(!fresh.exists(), "a failed import made a database");
}

/// The commands that read what is stored (stats, export, scores, alerts, forget, "It was me"
/// without a daemon) on a database that is not there (a mistyped --db) fail naming the path and
/// make nothing: no database, no folders, no key.
#[test]
fn reading_commands_on_a_missing_database_name_it_and_make_nothing() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(
        &runtime,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let typo = home.path().join("typo/dir/x.db");
    for args in [
        &["stats"][..],
        &["stats", "--json"],
        &["export", "--format", "jsonl"],
        &["scores"],
        &["alerts"],
        &["alerts", "--false", "1"],
        &["forget", "--last", "1h"],
        &["profile", "show"],
        &["profile", "rebuild"],
    ] {
        tikker(home.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .arg("--db")
            .arg(&typo)
            .args(args)
            .assert()
            .failure()
            .stderr(
                predicate::str::contains("there is no tikker database at")
                    .and(predicate::str::contains(typo.to_str().unwrap())),
            );
    }
    assert!(!home.path().join("typo").exists(), "folders were made");
    assert!(
        !home.path().join("config/tikker/tikker.key").exists(),
        "a key was made for no database"
    );
    // The default database may be missing (a fresh install): it is made, in tikker's folder.
    tikker(home.path())
        .arg("stats")
        .assert()
        .success()
        .stdout(predicate::str::contains("events       0"));
    // `--limit 0` would list nothing: refused rather than answered "no scored windows".
    tikker(home.path())
        .args(["scores", "--limit", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--limit"));
    // `forget --last 0s` is worded for a span, not a pause.
    tikker(home.path())
        .arg("--db")
        .arg(&typo)
        .args(["forget", "--last", "0s"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("\"0s\" is no time at all")
                .and(predicate::str::contains("pause").not()),
        );
}

/// A database in a folder every account may write, without the sticky bit (unlike /tmp), is
/// opened with a warning that says others can delete or replace it; the folder is left as it is.
#[test]
fn a_database_in_a_world_writable_folder_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let open = home.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let csv = write(&home.path().join("sample.csv"), SAMPLE);
    tikker(home.path())
        .arg("--db")
        .arg(open.join("t.db"))
        .args(["import", "--format", "events-csv"])
        .arg(&csv)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("every account")
                .and(predicate::str::contains(open.to_str().unwrap())),
        );
    let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o777, "the folder is not tikker's to change");
    // With the sticky bit (as /tmp), no warning.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    tikker(home.path())
        .arg("--db")
        .arg(open.join("t.db"))
        .arg("stats")
        .assert()
        .success()
        .stderr(predicate::str::contains("every account").not());
}
