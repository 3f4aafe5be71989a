//! The HTTP API through the real binary and real sockets: `tikker serve` over TCP, `tikker
//! daemon` over its control socket and TCP, with and without the token; `tikker token`;
//! `tikker train identify` and the predict-user routes with the models it stores.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{TestHome, shared_data, typing};
use rustix::process::{Pid, Signal, kill_process};
use serde_json::{Value, json};

/// One HTTP/1.1 exchange on `stream` (`Connection: close`): the status and the JSON answer.
fn exchange(
    stream: impl Read + Write,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let (status, _, json) = exchange_with_headers(stream, method, path, headers, body);
    (status, json)
}

/// [`exchange`], with the answer's header lines too.
fn exchange_with_headers(
    mut stream: impl Read + Write,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, Value) {
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str("Host: 127.0.0.1\r\n");
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    // A server may answer (413) before reading a large body and close: that is its answer.
    let _ = stream.write_all(body.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
        .parse()
        .unwrap();
    let (head, json) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| {
            (
                h.to_owned(),
                serde_json::from_str(b).unwrap_or(Value::String(b.to_owned())),
            )
        })
        .unwrap_or((text.to_string(), Value::Null));
    (status, head, json)
}

fn tcp(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    exchange(stream, method, path, headers, body)
}

fn unix(socket: &Path, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    exchange(stream, method, path, &[("Host", "tikker")], body)
}

/// A `tikker serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(pid) = Pid::from_raw(self.child.id() as i32) {
            let _ = kill_process(pid, Signal::TERM);
        }
        let _ = self.child.wait();
    }
}

/// Waits for `HTTP API listening address=IP:PORT` in a log and returns the port.
fn wait_for_port(log: impl Fn() -> String, mut exited: impl FnMut() -> bool) -> u16 {
    let start = Instant::now();
    loop {
        let text = log();
        if let Some(line) = text.lines().find(|l| l.contains("HTTP API listening")) {
            let address = line
                .split("address=")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            return address.rsplit(':').next().unwrap().parse().unwrap();
        }
        assert!(!exited(), "the process exited:\n{text}");
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no API in 30 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn serve(home: &TestHome, args: &[&str]) -> Server {
    let log = home
        .path()
        .join(format!("serve-{}.log", std::process::id()));
    let mut child: Child = home
        .tikker()
        .arg("--db")
        .arg(home.db())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let port = wait_for_port(
        || std::fs::read_to_string(&log).unwrap_or_default(),
        || child.try_wait().unwrap().is_some(),
    );
    Server { child, port }
}

fn token(home: &TestHome) -> String {
    let out = home.run(&["token"]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn alice_example() -> String {
    json!({
        "events": [
            {"timestamp": 0, "key_code": 65, "event_type": "press"},
            {"timestamp": 95, "key_code": 66, "event_type": "press"},
            {"timestamp": 190, "key_code": 67, "event_type": "press"}
        ],
        "user_id": "alice"
    })
    .to_string()
}

fn predict_user_body(model: &str) -> String {
    json!({"Model": model, "HT": {"Mean": 48.43, "STD": 23.34}, "PPT": {"Mean": 120.43, "STD": 37.41}, "RRT": {"Mean": 124.43, "STD": 45.34}, "RPT": {"Mean": 132.56, "STD": 47.12}}).to_string()
}

#[test]
fn tikker_serve_over_tcp_with_and_without_the_token() {
    let home = TestHome::new();
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    let port = server.port;
    let (status, health) = tcp(port, "GET", "/health", &[], None);
    assert_eq!((status, &health["status"]), (200, &json!("healthy")));
    let (status, patterns) = tcp(
        port,
        "POST",
        "/patterns/detect",
        &[],
        Some(&alice_example()),
    );
    assert_eq!(status, 200, "{patterns}");
    assert_eq!(patterns[0]["name"], "fast_typist");

    // The token: made at the first start, private, printed by `tikker token`.
    let token_file = home.path().join("config/tikker/api-token");
    let mode = std::fs::metadata(&token_file).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let token = token(&home);
    assert_eq!(token, std::fs::read_to_string(&token_file).unwrap().trim());
    let bearer = format!("Bearer {token}");
    let body = r#"{"date_range_days": 7}"#;
    let (status, answer) = tcp(port, "POST", "/temporal/analyze", &[], Some(body));
    assert_eq!(status, 401, "{answer}");
    let (status, _) = tcp(
        port,
        "POST",
        "/temporal/analyze",
        &[("Authorization", "Bearer nope")],
        Some(body),
    );
    assert_eq!(status, 401);
    let (status, answer) = tcp(
        port,
        "POST",
        "/temporal/analyze",
        &[("Authorization", &bearer)],
        Some(body),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["analysis"].as_array().unwrap().len(), 7);
    let (status, answer) = tcp(
        port,
        "GET",
        "/stats/daily",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!((status, &answer["events"]), (200, &json!(0)));
    // Without capture, the daemon's own routes say so.
    let (status, _) = tcp(port, "GET", "/status", &[("Authorization", &bearer)], None);
    assert_eq!(status, 409);

    // DNS rebinding, oversized bodies, and the description.
    let (status, _) = tcp(port, "GET", "/health", &[("Host", "evil.example")], None);
    assert_eq!(status, 403);
    let huge = format!(
        r#"{{"events": [], "user_id": "a", "pad": "{}"}}"#,
        "x".repeat(9 << 20)
    );
    let (status, _) = tcp(port, "POST", "/patterns/detect", &[], Some(&huge));
    assert_eq!(status, 413);
    let (status, openapi) = tcp(port, "GET", "/openapi.json", &[], None);
    assert_eq!(status, 200);
    assert!(openapi["paths"]["/predict_user"].is_object());
    drop(server);
}

#[test]
fn the_daemon_serves_the_api_on_its_socket_and_on_tcp() {
    let home = TestHome::new();
    let no_keyboards = home.path().join("input");
    std::fs::create_dir(&no_keyboards).unwrap();
    let config = home.path().join("config/tikker/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!("[capture]\ninput_dir = \"{}\"\n", no_keyboards.display()),
    )
    .unwrap();
    let mut daemon = home.start_daemon(&["--listen", "127.0.0.1:0"], &[]);
    home.wait_for_state(&mut daemon, "waiting");
    let port = wait_for_port(|| daemon.log(), || false);
    let socket = home.runtime_dir().join("tikker/control.sock");

    // The Unix socket is trusted: every route, no token.
    let (status, report) = unix(&socket, "GET", "/status", None);
    assert_eq!((status, &report["state"]), (200, &json!("waiting")));
    let (status, _) = unix(
        &socket,
        "POST",
        "/temporal/analyze",
        Some(r#"{"date_range_days": 2}"#),
    );
    assert_eq!(status, 200);
    let (status, patterns) = unix(&socket, "POST", "/patterns/detect", Some(&alice_example()));
    assert_eq!(status, 200, "{patterns}");

    // TCP needs the token for the daemon's routes.
    let (status, _) = tcp(port, "GET", "/status", &[], None);
    assert_eq!(status, 401);
    let bearer = format!("Bearer {}", token(&home));
    let auth = [("Authorization", bearer.as_str())];
    let (status, report) = tcp(port, "POST", "/pause", &auth, Some(r#"{"duration_s": 60}"#));
    assert_eq!((status, &report["paused"]), (200, &json!(true)), "{report}");
    assert_eq!(home.status().unwrap()["paused"], true);
    let (status, report) = tcp(port, "POST", "/resume", &auth, None);
    assert_eq!((status, &report["paused"]), (200, &json!(false)));
    let (status, report) = tcp(port, "GET", "/status", &auth, None);
    assert_eq!((status, &report["state"]), (200, &json!("waiting")));
    // The tray's empty-body pause still works on the socket.
    let (status, report) = unix(&socket, "POST", "/pause", None);
    assert_eq!((status, &report["paused_until"]), (200, &Value::Null));
    let resumed = home.run(&["resume"]);
    assert!(resumed.status.success());
    assert!(String::from_utf8_lossy(&resumed.stdout).starts_with("capture resumed"));
    // Nothing to resume: it says so instead of "capture resumed".
    let again = home.run(&["resume"]);
    assert!(again.status.success());
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(said.starts_with("capture was not paused"), "{said}");
    assert!(daemon.terminate().success(), "{}", daemon.log());
}

#[test]
fn a_non_loopback_address_needs_the_switch_and_then_the_token_everywhere() {
    let home = TestHome::new();
    let out = home.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("allow_remote"), "{message}");

    let config = home.path().join("config/tikker/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[api]\nallow_remote = true\n").unwrap();
    let server = serve(&home, &["--listen", "0.0.0.0:0"]);
    let (status, _) = tcp(
        server.port,
        "GET",
        "/health",
        &[("Host", "tikker.lan")],
        None,
    );
    assert_eq!(status, 401);
    let bearer = format!("Bearer {}", token(&home));
    let (status, _) = tcp(
        server.port,
        "GET",
        "/health",
        &[("Host", "tikker.lan"), ("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200);
}

#[test]
fn predict_user_with_models_trained_on_the_cmu_benchmark() {
    let home = TestHome::new();
    let cmu = shared_data().join("cmu/DSL-StrongPasswordData.csv");
    let out = home.run(&[
        "train",
        "identify",
        cmu.to_str().unwrap(),
        "--format",
        "cmu",
        "--users",
        "5",
        "--quick",
    ]);
    assert!(out.status.success(), "{out:?}");
    let report = String::from_utf8_lossy(&out.stdout);
    for name in ["identify-rf", "identify-svm", "identify-xgboost"] {
        assert!(report.contains(name), "{report}");
    }
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    let subjects = ["s002", "s003", "s004", "s005", "s007"];
    for model in ["RF", "SVM", "XGBoost"] {
        for path in ["/predict_user", "/"] {
            let (status, answer) = tcp(
                server.port,
                "POST",
                path,
                &[],
                Some(&predict_user_body(model)),
            );
            assert_eq!(status, 200, "{model} {path}: {answer}");
            assert_eq!(answer["statuscode"], 200);
            assert_eq!(answer["status"], "success");
            let user = answer["predicted user"].as_str().unwrap();
            assert!(subjects.contains(&user), "{model}: {user}");
        }
    }
    let (status, answer) = tcp(
        server.port,
        "POST",
        "/predict_user",
        &[],
        Some(&predict_user_body("LSTM")),
    );
    assert_eq!((status, &answer["statuscode"]), (400, &json!(400)));
}

#[test]
fn train_identify_reads_events_csv() {
    let home = TestHome::new();
    let path = home.path().join("typing.csv");
    let mut csv = String::from("user,session,timestamp_ms,key,event\n");
    for (u, (user, step_us)) in [("ann", 150_000i64), ("ben", 260_000), ("cay", 400_000)]
        .iter()
        .enumerate()
    {
        for session in 0..4 {
            let start = 1_700_000_000_000_000 + (u as i64 * 10 + session) * 3_600_000_000;
            for event in typing(start, 60, *step_us) {
                csv.push_str(&format!(
                    "{user},s{session},{}.{:03},{},{}\n",
                    event.time_us / 1000,
                    event.time_us % 1000,
                    event.key.0,
                    event.action
                ));
            }
        }
    }
    std::fs::write(&path, csv).unwrap();
    let out = home.run(&[
        "train",
        "identify",
        path.to_str().unwrap(),
        "--format",
        "events-csv",
        "--quick",
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.as_array().unwrap().len(), 3);
    assert_eq!(report[0]["users"], 3);
    assert_eq!(report[0]["test_rows"], 3);

    let too_few = home.path().join("one.csv");
    std::fs::write(
        &too_few,
        "user,session,timestamp_ms,key,event\nann,s1,0,a,press\nann,s1,50,a,release\n",
    )
    .unwrap();
    let out = home.run(&[
        "train",
        "identify",
        too_few.to_str().unwrap(),
        "--format",
        "events-csv",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least two users"),
        "{out:?}"
    );
}

#[test]
fn tikker_token_makes_the_token_once() {
    let home = TestHome::new();
    let first = token(&home);
    assert_eq!(first.len(), 64);
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(token(&home), first);
}

/// A body of `n` press/release pairs of user `user` (an API caller's typing).
fn typing_body(user: &str, n: usize) -> String {
    let events: Vec<Value> = (0..n)
        .flat_map(|i| {
            let t = i as f64 * 180.0;
            let key = 65 + (i % 20) as u32;
            [
                json!({"timestamp": t, "key_code": key, "event_type": "press"}),
                json!({"timestamp": t + 90.0, "key_code": key, "event_type": "release"}),
            ]
        })
        .collect();
    json!({"events": events, "user_id": user}).to_string()
}

/// The API baselines stored in `db`.
fn stored_baselines(db: &Path) -> (u64, u64) {
    common::open_store(db).api_baseline_usage().unwrap()
}

/// Issue 13, item 1: a caller without the token stores nothing over TCP: `/profile/build` is
/// refused (401) and `/anomalies/detect` for a new `user_id` answers without storing a baseline;
/// with the token the baseline is stored and used.
#[test]
fn nothing_is_stored_for_a_caller_without_the_token() {
    let home = TestHome::new();
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    let port = server.port;
    for i in 0..20 {
        let body = typing_body(&format!("mallory{i}"), 100);
        let (status, answer) = tcp(port, "POST", "/profile/build", &[], Some(&body));
        assert_eq!(status, 401, "{answer}");
        let (status, answer) = tcp(port, "POST", "/anomalies/detect", &[], Some(&body));
        assert_eq!((status, &answer), (200, &json!([])));
    }
    assert_eq!(
        stored_baselines(&home.db()),
        (0, 0),
        "nothing stored without the token"
    );
    let bearer = format!("Bearer {}", token(&home));
    let body = typing_body("alice", 100);
    let (status, answer) = tcp(
        port,
        "POST",
        "/profile/build",
        &[("Authorization", &bearer)],
        Some(&body),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stored_baselines(&home.db()).0, 1);
    let (status, check) = tcp(port, "POST", "/authenticity/check", &[], Some(&body));
    assert_eq!(status, 200);
    assert_ne!(check["verdict"], "unknown", "{check}");
}

/// Issue 13, item 6: while another process holds the write lock of `tikker.db` longer than the
/// busy timeout (5 s), `/profile/build` answers 503 with `Retry-After` (nothing was stored),
/// never 200; once the lock is gone the same request stores the baseline and it is used.
#[test]
fn a_baseline_refused_by_a_locked_database_is_an_error_to_retry_never_200() {
    let home = TestHome::new();
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    let port = server.port;
    let bearer = format!("Bearer {}", token(&home));
    let auth = [("Authorization", bearer.as_str())];
    let body = typing_body("bob", 200);

    // Another connection takes the write lock, as `tikker import` does for a large file (the
    // database is encrypted, so the `sqlite3` shell cannot; a connection with the key can).
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let db = home.db();
    let locker = std::thread::spawn(move || {
        let mut store = common::open_store(&db);
        let tx = store.write().unwrap();
        locked_tx.send(()).unwrap();
        let _ = released.recv();
        drop(tx);
    });
    locked.recv().unwrap();

    let start = Instant::now();
    let (status, head, answer) = exchange_with_headers(
        {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            stream
        },
        "POST",
        "/profile/build",
        &auth,
        Some(&body),
    );
    let waited = start.elapsed();
    assert_eq!(status, 503, "{answer}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 5"),
        "{head}"
    );
    assert!(
        answer["error"].as_str().unwrap().contains("locked"),
        "{answer}"
    );
    assert!(
        waited >= Duration::from_secs(4),
        "the busy timeout was waited: {waited:?}"
    );
    let (_, check) = tcp(port, "POST", "/authenticity/check", &[], Some(&body));
    assert_eq!(
        check["verdict"], "unknown",
        "nothing is used that was not stored: {check}"
    );

    // The lock goes (after more than 5 s in all); the retry succeeds and is stored.
    drop(release);
    locker.join().unwrap();
    let (status, answer) = tcp(port, "POST", "/profile/build", &auth, Some(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stored_baselines(&home.db()).0, 1);
    let (_, check) = tcp(port, "POST", "/authenticity/check", &[], Some(&body));
    assert_ne!(check["verdict"], "unknown", "{check}");
}

/// Resident memory of process `pid`, MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib / 1024.0
}

/// How long `tikker status` takes to answer, and whether it did.
fn time_status(home: &TestHome) -> (Duration, bool) {
    let start = Instant::now();
    let out = home.run(&["status"]);
    (start.elapsed(), out.status.success())
}

/// Issue 13, item 2: a daemon limited to the usual 1,024 open files (which it cannot raise)
/// keeps answering `tikker status` on its control socket while 1,100 idle TCP connections are
/// open: beyond its cap (256) connections get 503 and are closed, and idle ones are closed after
/// the header timeout, after which `/health` answers again. 60 slow 7 MiB uploads are held to
/// the body budget (64 MiB in flight; the rest get 503 at once) and timed out (408).
#[test]
fn idle_connections_and_slow_uploads_cannot_silence_the_daemon() {
    let home = TestHome::new();
    let no_keyboards = home.path().join("input");
    std::fs::create_dir(&no_keyboards).unwrap();
    let config = home.path().join("config/tikker/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[capture]\ninput_dir = \"{}\"\n\n[api]\nheader_timeout_s = 10\nbody_timeout_s = 5\n",
            no_keyboards.display()
        ),
    )
    .unwrap();
    let mut daemon = home.start_daemon_by(
        home.tikker_with_open_files(1024),
        &["--listen", "127.0.0.1:0"],
        &[],
    );
    home.wait_for_state(&mut daemon, "waiting");
    let port = wait_for_port(|| daemon.log(), || false);
    let pid = daemon.pid().as_raw_nonzero().get() as u32;
    let rss_idle = rss_mib(pid);

    // 1,100 idle connections (the test itself may open that many).
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    assert!(
        limit.current.unwrap_or(u64::MAX) > 1300,
        "the test needs more than 1,300 open files: {limit:?}"
    );
    let idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    // Beyond the cap (within the header timeout of the idle ones): 503 at once.
    let (status, head, _) = exchange_with_headers(
        TcpStream::connect(("127.0.0.1", port)).unwrap(),
        "GET",
        "/health",
        &[],
        None,
    );
    assert_eq!(status, 503, "beyond the cap: {head}");
    assert!(head.contains("Retry-After: 1"), "{head}");
    let (took, answered) = time_status(&home);
    assert!(answered, "tikker status failed:\n{}", daemon.log());
    assert!(took < Duration::from_secs(2), "tikker status took {took:?}");
    let rss_connections = rss_mib(pid);
    eprintln!(
        "1,100 idle connections: tikker status answered in {:.0} ms; RSS {rss_idle:.1} → {rss_connections:.1} MiB",
        took.as_secs_f64() * 1000.0
    );
    // The idle ones are closed by the header timeout (10 s): /health answers again.
    let start = Instant::now();
    loop {
        let (status, _) = tcp(port, "GET", "/health", &[], None);
        if status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "/health: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(idle);

    // 60 slow uploads of 7 MiB: headers, then a trickle.
    let mut uploads: Vec<TcpStream> = Vec::new();
    let mut refused = 0;
    for _ in 0..60 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(
                format!(
                    "POST /patterns/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
                     application/json\r\nContent-Length: {}\r\n\r\n{{\"events\": [",
                    7 << 20
                )
                .as_bytes(),
            )
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut answer = [0u8; 12];
        match stream.read(&mut answer) {
            Ok(n) if n > 0 => {
                let text = String::from_utf8_lossy(&answer[..n]).into_owned();
                assert!(text.contains("503"), "{text}");
                refused += 1;
            }
            _ => uploads.push(stream),
        }
    }
    let (took_uploads, answered) = time_status(&home);
    assert!(
        answered && took_uploads < Duration::from_secs(2),
        "{took_uploads:?}"
    );
    let rss_uploads = rss_mib(pid);
    eprintln!(
        "60 slow 7 MiB uploads: {} read at once, {refused} refused (503); tikker status answered in {:.0} ms; RSS {rss_uploads:.1} MiB",
        uploads.len(),
        took_uploads.as_secs_f64() * 1000.0
    );
    assert_eq!(uploads.len(), 9, "64 MiB hold nine 7 MiB bodies");
    assert_eq!(refused, 51);
    // The admitted ones are timed out: 408.
    for mut stream in uploads {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    }
    assert!(
        rss_uploads < rss_idle + 100.0,
        "{rss_idle:.1} → {rss_uploads:.1} MiB"
    );
    assert!(daemon.terminate().success(), "{}", daemon.log());
}

/// A request that declares a body over the limit (8 MiB) and never sends it is answered `413`
/// at once from its Content-Length, and its connection closed: it holds no connection, so 300 of
/// them (more than the connection cap of 256) leave the API answering.
#[test]
fn a_body_declared_over_the_limit_is_refused_at_once_without_being_sent() {
    let home = TestHome::new();
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    for declared in ["9437184", "99999999999"] {
        let start = Instant::now();
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(
                format!(
                    "POST /patterns/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
                     application/json\r\nContent-Length: {declared}\r\n\r\n{{}}"
                )
                .as_bytes(),
            )
            .unwrap();
        // Nothing more is sent; the answer comes, and the server closes the connection.
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let took = start.elapsed();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 413"), "{declared}: {text}");
        assert!(text.contains("8 MiB"), "{text}");
        assert!(
            took < Duration::from_secs(2),
            "{declared}: answered in {took:?}"
        );
    }
    let held: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            stream
                .write_all(
                    b"POST /patterns/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \
                      application/json\r\nContent-Length: 9000000\r\n\r\n",
                )
                .unwrap();
            stream
        })
        .collect();
    for mut stream in held {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 413") || text.starts_with("HTTP/1.1 503"),
            "{text}"
        );
    }
    let (status, _) = tcp(server.port, "GET", "/health", &[], None);
    assert_eq!(status, 200);
}

/// `Authorization: bearer <token>` is the token too (the scheme's name is case-insensitive, RFC
/// 7235); and the dashboard's session cookie is honoured only from a request that says it comes
/// from the dashboard's own origin (`Sec-Fetch-Site`): without the header (curl, a program that
/// took the cookie) it is refused (403), as the README says.
#[test]
fn the_token_scheme_is_case_insensitive_and_the_session_needs_sec_fetch_site() {
    let home = TestHome::new();
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    let port = server.port;
    let token = token(&home);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, answer) = tcp(
            port,
            "GET",
            "/stats/daily",
            &[("Authorization", &format!("{scheme} {token}"))],
            None,
        );
        assert_eq!(status, 200, "{scheme}: {answer}");
    }
    let (status, _) = tcp(
        port,
        "GET",
        "/stats/daily",
        &[("Authorization", &format!("Basic {token}"))],
        None,
    );
    assert_eq!(status, 401);

    // A session: a one-time code (with the token), spent for the cookie.
    let (status, code) = tcp(
        port,
        "POST",
        "/dashboard/code",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(status, 200, "{code}");
    let url = code["url"].as_str().unwrap();
    let path = &url[url.find("/dashboard/").unwrap()..];
    let (status, head, _) = exchange_with_headers(
        TcpStream::connect(("127.0.0.1", port)).unwrap(),
        "GET",
        path,
        &[("Host", &format!("127.0.0.1:{port}"))],
        None,
    );
    assert_eq!(status, 303, "{head}");
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("no cookie: {head}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let host = format!("127.0.0.1:{port}");
    let (status, answer) = tcp(
        port,
        "GET",
        "/stats/daily",
        &[("Host", &host), ("Cookie", &cookie)],
        None,
    );
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("Sec-Fetch-Site"),
        "{answer}"
    );
    let (status, answer) = tcp(
        port,
        "GET",
        "/stats/daily",
        &[
            ("Host", &host),
            ("Cookie", &cookie),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        None,
    );
    assert_eq!(status, 200, "{answer}");
    let (status, _) = tcp(
        port,
        "GET",
        "/stats/daily",
        &[
            ("Host", &host),
            ("Cookie", &cookie),
            ("Sec-Fetch-Site", "same-site"),
        ],
        None,
    );
    assert_eq!(status, 403);
}

/// Every route sorts errors the README's way: malformed JSON is 400; a body or query parameter
/// of the wrong type, negative or out of range is 422 naming the field, in tikker's words (not
/// the web framework's "Failed to deserialize").
#[test]
fn wrong_values_are_422_naming_the_field_in_bodies_and_queries() {
    let home = TestHome::new();
    let server = serve(&home, &["--listen", "127.0.0.1:0"]);
    let port = server.port;
    let bearer = format!("Bearer {}", token(&home));
    let auth = [("Authorization", bearer.as_str())];
    for (method, path, body, field) in [
        (
            "POST",
            "/pause",
            Some(r#"{"duration_s": -1}"#),
            "duration_s",
        ),
        (
            "POST",
            "/pause",
            Some(r#"{"duration_s": 1e20}"#),
            "duration_s",
        ),
        ("POST", "/pause", Some(r#"{"duration_s": 0}"#), "duration_s"),
        (
            "POST",
            "/pause",
            Some(r#"{"duration_s": "1h"}"#),
            "duration_s",
        ),
        (
            "POST",
            "/data/forget",
            Some(r#"{"last_minutes": -5}"#),
            "last_minutes",
        ),
        ("GET", "/activity?bucket=year", None, "bucket"),
        ("GET", "/scores?limit=abc", None, "limit"),
        ("GET", "/alerts?limit=-1", None, "limit"),
    ] {
        let (status, answer) = tcp(port, method, path, &auth, body);
        assert_eq!(status, 422, "{method} {path} {body:?}: {answer}");
        assert_eq!(answer["field"], field, "{method} {path} {body:?}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            !error.contains("Failed to deserialize"),
            "{path}: the framework's words: {error}"
        );
    }
    for (path, body) in [("/pause", "{\"duration_s\": "), ("/data/forget", "x")] {
        let (status, answer) = tcp(port, "POST", path, &auth, Some(body));
        assert_eq!(status, 400, "{path} {body:?}: {answer}");
    }
    // A known route asked with another method: 405 with the Allow header and a JSON body.
    let (status, head, answer) = exchange_with_headers(
        TcpStream::connect(("127.0.0.1", port)).unwrap(),
        "DELETE",
        "/health",
        &[],
        None,
    );
    assert_eq!(status, 405, "{head}");
    assert!(head.to_ascii_lowercase().contains("allow: get"), "{head}");
    assert!(
        answer["error"].as_str().unwrap().contains("/health"),
        "{answer}"
    );
    // An unknown route is named in its 404.
    let (status, answer) = tcp(port, "GET", "/no/such/thing", &[], None);
    assert_eq!(status, 404);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("no route GET /no/such/thing"),
        "{answer}"
    );
}
