//! The dashboard in a real browser: headless Chromium (Debian's `chromium`), driven over
//! WebDriver (`chromedriver`, through fantoccini), against a real `tikker daemon` over a real
//! socket, on a store holding real typing: an `aalto-dev` owner, then another participant, so
//! that the monitor raised an alert. Every page must render its charts with data and log no
//! console error; a screenshot of each is kept in `target/dashboard-screenshots/`. Also: the
//! one-time code works once and leaves only a clean URL, the data routes answer 401 without the
//! session or the token, a page served from another local port can neither read data nor pause
//! capture, and pause and resume work from the page.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::splice::write_splice;
use common::{Daemon, TestHome, require, wait_for};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The pages, as the URL's fragment names them.
const PAGES: [&str; 5] = ["overview", "activity", "authentication", "keyboard", "data"];

/// Sends one HTTP/1.1 request to `port` and returns the status, the headers and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

/// The port of `HTTP API listening address=IP:PORT` in the daemon's log.
fn api_port(daemon: &Daemon) -> u16 {
    wait_for(
        "the HTTP API to listen",
        || daemon.log(),
        || {
            daemon
                .log()
                .lines()
                .find(|l| l.contains("HTTP API listening"))
                .and_then(|l| l.split("address=").nth(1))
                .and_then(|a| a.split_whitespace().next())
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse().ok())
        },
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    fn start(dir: &Path) -> Driver {
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(
            "chromedriver to listen",
            || std::fs::read_to_string(&log).unwrap_or_default(),
            || TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ()),
        );
        Driver { child, port, log }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        tikker_testkit::stop(&mut self.child, Duration::from_secs(2));
    }
}

/// A headless Chromium session (fresh profile, no background networking).
async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "no browser session: {e}\n{}",
                std::fs::read_to_string(&driver.log).unwrap_or_default()
            )
        })
}

/// The browser's console messages since the last call (chromedriver's log endpoint clears
/// them), as (level, message).
async fn console(client: &Client, driver: &Driver) -> Vec<(String, String)> {
    let session = client.session_id().await.unwrap().unwrap();
    let (status, _, body) = http(
        driver.port,
        "POST",
        &format!("/session/{session}/se/log"),
        &[("Content-Type", "application/json")],
        r#"{"type":"browser"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["level"].as_str().unwrap_or("").to_owned(),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn script(client: &Client, code: &str) -> Value {
    client.execute(code, vec![]).await.unwrap()
}

/// Waits until the page's view `page` finished loading (or failed, which fails the test).
async fn wait_for_page(client: &Client, page: &str) {
    let start = Instant::now();
    loop {
        let ready = script(client, "return document.body.dataset.ready || ''").await;
        let ready = ready.as_str().unwrap_or("").to_owned();
        if ready == page {
            return;
        }
        let problem = script(
            client,
            "return document.getElementById('problem').textContent",
        )
        .await;
        assert!(
            !ready.ends_with(":failed"),
            "the {page} page failed: {problem}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the {page} page did not finish loading (ready {ready:?}, problem {problem})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The charts of the visible page: (id, data points shown).
async fn charts(client: &Client) -> Vec<(String, u64)> {
    let found = script(
        client,
        "return [...document.querySelectorAll('section:not([hidden]) .chart')]
                .map((el) => [el.id, Number(el.dataset.points || 0), el.querySelector('canvas') !== null]);",
    )
    .await;
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(c[2].as_bool().unwrap(), "chart {} has no canvas", c[0]);
            (c[0].as_str().unwrap().to_owned(), c[1].as_u64().unwrap())
        })
        .collect()
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A page of another local origin that tries to read the daemon's status and to pause capture
/// with the browser's cookies, and writes what happened into its title.
fn hostile_page(api: u16) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = format!(
        r#"<!doctype html><title>start</title><script>
        (async () => {{
          let read = 'blocked';
          try {{
            const r = await fetch('http://127.0.0.1:{api}/status', {{credentials: 'include'}});
            read = 'read ' + r.status + ' ' + (await r.text()).slice(0, 40);
          }} catch (e) {{ read = 'blocked'; }}
          try {{
            await fetch('http://127.0.0.1:{api}/pause', {{method: 'POST', mode: 'no-cors', credentials: 'include'}});
          }} catch (e) {{}}
          document.title = 'done ' + read;
        }})();
        </script>"#
    );
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(2) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    (port, server)
}

fn write_config(home: &TestHome, enrolment: usize) {
    let dir = home.path().join("config/tikker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!("[capture]\nuser = \"owner\"\n\n[monitor]\nenrolment_keystrokes = {enrolment}\n"),
    )
    .unwrap();
}

/// The owner's typing again, from now on at the recorded pace (the daemon keeps running after
/// it with `--keep-running`): a daemon that captures, and can be paused, while the browser looks.
fn write_live_typing(
    home: &TestHome,
    owner_keystrokes: &[tikker_core::keystroke::Keystroke],
) -> PathBuf {
    let first = owner_keystrokes[0].press_us;
    let shift = tikker_capture::clock::now_us() - first;
    let mut events = Vec::new();
    for k in owner_keystrokes {
        events.push(tikker_core::KeyEvent::press(k.press_us + shift, k.key));
        events.push(tikker_core::KeyEvent::release(k.release_us + shift, k.key));
    }
    events.sort_by_key(|e| e.time_us);
    let path = home.path().join("live.csv");
    common::write_events_csv(&path, "owner", "live", &events);
    path
}

#[test]
fn the_dashboard_shows_every_page_with_data_in_a_real_browser_and_keeps_other_origins_out() {
    require("chromium");
    require("chromedriver");
    let home = TestHome::new();
    // The splice, moved so that the impostor's typing ends ten minutes ago: today's figures.
    let unshifted = write_splice(&home, 0);
    let end = unshifted
        .intruding
        .iter()
        .map(|k| k.release_us)
        .max()
        .unwrap();
    let splice = write_splice(&home, tikker_capture::clock::now_us() - 600_000_000 - end);
    write_config(&home, splice.enrolment);
    let mut replay = home.start_daemon(
        &[
            "--source",
            &format!("replay:{}", splice.file.display()),
            "--speed",
            "inf",
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let exit = replay.wait(Duration::from_secs(120));
    assert!(exit.success(), "the replay failed:\n{}", replay.log());
    let alerts = common::open_store(&home.db())
        .alerts_between(None, None, 100)
        .unwrap();
    assert!(
        !alerts.is_empty(),
        "the impostor raised no alert:\n{}",
        replay.log()
    );

    let owner: Vec<_> = splice
        .owner
        .sentences
        .iter()
        .flat_map(|s| s.keystrokes.clone())
        .collect();
    let live = write_live_typing(&home, &owner);
    let mut daemon = home.start_daemon(
        &[
            "--source",
            &format!("replay:{}", live.display()),
            "--keep-running",
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let port = api_port(&daemon);
    home.wait_for_state(&mut daemon, "capturing");

    // Without the session cookie or the token, every data route answers 401.
    for path in [
        "/status",
        "/scores",
        "/alerts",
        "/stats/daily",
        "/activity",
        "/profile/owner",
    ] {
        let (status, _, body) = http(port, "GET", path, &[], "");
        assert_eq!(status, 401, "GET {path}: {body}");
        let (status, _, _) = http(
            port,
            "GET",
            path,
            &[("Cookie", &format!("tikker_session_{port}=forged"))],
            "",
        );
        assert_eq!(status, 401, "GET {path} with a forged cookie");
    }
    let (status, _, _) = http(port, "POST", "/pause", &[], "");
    assert_eq!(status, 401);
    // Without a session the page says what to do.
    let (status, head, body) = http(port, "GET", "/dashboard/", &[], "");
    assert_eq!(status, 401);
    assert!(body.contains("tikker dashboard"), "{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-security-policy: default-src 'none'"),
        "{head}"
    );

    // `tikker dashboard --url`: a one-time URL from the daemon (over its control socket).
    let out = home.run(&["dashboard", "--url"]);
    assert!(out.status.success(), "{out:?}");
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/dashboard/?code=")),
        "{url}"
    );

    let driver = Driver::start(home.path());
    let profile = home.path().join("chromium");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = browser(&driver, &profile).await;
        client.goto(&url).await.unwrap();
        let now = client.current_url().await.unwrap();
        assert_eq!(
            now.as_str(),
            format!("http://127.0.0.1:{port}/dashboard/"),
            "the code leaves a clean URL"
        );
        let cookies = client.get_all_cookies().await.unwrap();
        let session = cookies
            .iter()
            .find(|c| c.name() == format!("tikker_session_{port}"))
            .unwrap_or_else(|| panic!("no session cookie: {cookies:?}"));
        assert_eq!(session.http_only(), Some(true));
        assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
        let hidden = script(&client, "return document.cookie").await;
        assert_eq!(
            hidden,
            json!(""),
            "the session cookie is out of the page's reach"
        );

        // The code works once: again, in the browser or from anywhere else, it is refused.
        let (status, _, body) = http(
            port,
            "GET",
            url.trim_start_matches(&format!("http://127.0.0.1:{port}")),
            &[],
            "",
        );
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("already been used"), "{body}");

        let shots = screenshots();
        for page in PAGES {
            client
                .goto(&format!("http://127.0.0.1:{port}/dashboard/#{page}"))
                .await
                .unwrap();
            wait_for_page(&client, page).await;
            let charts = charts(&client).await;
            if page != "data" {
                assert!(!charts.is_empty(), "the {page} page shows no chart");
            }
            for (id, points) in &charts {
                assert!(*points > 0, "chart {id} of the {page} page shows no data");
            }
            // Let the canvas paint before the picture.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = client.screenshot().await.unwrap();
            std::fs::write(shots.join(format!("{page}.png")), png).unwrap();
            let messages = console(&client, &driver).await;
            let errors: Vec<_> = messages
                .iter()
                .filter(|(level, _)| level == "SEVERE" || level == "WARNING")
                .collect();
            assert!(
                errors.is_empty(),
                "console errors on the {page} page: {errors:?}"
            );
        }
        // The keyboard coloured by hold time, and a narrow window.
        client
            .goto(&format!("http://127.0.0.1:{port}/dashboard/#keyboard"))
            .await
            .unwrap();
        wait_for_page(&client, "keyboard").await;
        client
            .find(Locator::Css("[data-keys=hold]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(
            shots.join("keyboard-hold.png"),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        client.set_window_size(420, 900).await.unwrap();
        client
            .goto(&format!("http://127.0.0.1:{port}/dashboard/#overview"))
            .await
            .unwrap();
        wait_for_page(&client, "overview").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::write(
            shots.join("overview-narrow.png"),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        client.set_window_size(1280, 1000).await.unwrap();

        // "It was me" on the newest alert, from the page: the daemon marks it false.
        client
            .goto(&format!(
                "http://127.0.0.1:{port}/dashboard/#authentication"
            ))
            .await
            .unwrap();
        wait_for_page(&client, "authentication").await;
        let button = client
            .find(Locator::Css("button[data-alert]"))
            .await
            .unwrap();
        let id: i64 = button
            .attr("data-alert")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        button.click().await.unwrap();
        wait_for(
            "the alert to be marked false",
            || daemon.log(),
            || {
                common::open_store(&home.db())
                    .alerts_between(None, None, 100)
                    .unwrap()
                    .into_iter()
                    .find(|a| a.id == id && a.marked_false_us.is_some())
            },
        );
        // The page says so once the daemon answered.
        let start = Instant::now();
        loop {
            let shown = script(
                &client,
                "return document.querySelector('#alerts td.marked')?.textContent || ''",
            )
            .await;
            if shown == json!("Marked: it was you") {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the page does not show the alert marked: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Pause and resume from the page.
        client
            .goto(&format!("http://127.0.0.1:{port}/dashboard/#data"))
            .await
            .unwrap();
        wait_for_page(&client, "data").await;
        client
            .find(Locator::Id("pause"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(
            "the page's pause",
            || daemon.log(),
            || home.status().filter(|s| s["paused"] == true),
        );
        client
            .find(Locator::Id("resume"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(
            "the page's resume",
            || daemon.log(),
            || home.status().filter(|s| s["paused"] == false),
        );
        let messages = console(&client, &driver).await;
        assert!(
            messages.iter().all(|(level, _)| level != "SEVERE"),
            "console errors while pausing: {messages:?}"
        );

        // A page of another local port, in the same browser (which holds the session cookie).
        let (hostile, server) = hostile_page(port);
        client
            .goto(&format!("http://127.0.0.1:{hostile}/"))
            .await
            .unwrap();
        let start = Instant::now();
        let title = loop {
            let title = client.title().await.unwrap();
            if title.starts_with("done") {
                break title;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the other page did not finish: {title}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(
            title, "done blocked",
            "another origin read the daemon's answer"
        );
        assert_eq!(
            home.status().unwrap()["paused"],
            false,
            "another origin paused capture"
        );
        let _ = console(&client, &driver).await;
        drop(server);
        client.close().await.unwrap();
    });
    assert!(daemon.terminate().success(), "{}", daemon.log());
    assert!(!daemon.log().contains("panicked"), "{}", daemon.log());
}
