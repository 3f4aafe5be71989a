//! The dashboard in a real browser: headless Chromium (Debian's `chromium`), driven over
//! WebDriver (`chromedriver`, through fantoccini), against a real `tikker daemon` over a real
//! socket, on a store holding real typing: an `aalto-dev` owner, then another participant, so
//! that the monitor raised an alert. Every page must render its charts with data and log no
//! console error; a screenshot of each is kept in `target/dashboard-screenshots/`. Also: the
//! one-time code works once and leaves only a clean URL, the data routes answer 401 without the
//! session or the token, a page served from another local port can neither read data nor pause
//! capture, and pause, resume and "forget the last N minutes" work from the page. Every page is
//! shown again with the system's dark theme (emulated over the DevTools protocol): its
//! background and the charts' text and ink must be dark and light where they were light and
//! dark; screenshots `*-dark.png`. The Activity page's rhythm consistency must be what the
//! store's rollups pool to.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::HashMap;
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

/// Runs a Chrome DevTools command in the browser's page (chromedriver's
/// `goog/cdp/execute`), and returns its result.
async fn devtools(client: &Client, driver: &Driver, cmd: &str, params: Value) -> Value {
    let session = client.session_id().await.unwrap().unwrap();
    let (status, _, body) = http(
        driver.port,
        "POST",
        &format!("/session/{session}/goog/cdp/execute"),
        &[("Content-Type", "application/json")],
        &json!({ "cmd": cmd, "params": params }).to_string(),
    );
    assert_eq!(status, 200, "{cmd}: {body}");
    serde_json::from_str::<Value>(&body).unwrap()["value"].clone()
}

/// Makes the page see `prefers-color-scheme: scheme` (`dark` or `light`).
async fn color_scheme(client: &Client, driver: &Driver, scheme: &str) {
    devtools(
        client,
        driver,
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
    )
    .await;
    let seen = script(
        client,
        &format!("return window.matchMedia('(prefers-color-scheme: {scheme})').matches"),
    )
    .await;
    assert_eq!(seen, json!(true), "the page does not see {scheme}");
}

/// A JSON data route, fetched by the page (with its session cookie).
async fn fetch_json(client: &Client, path: &str) -> Value {
    let answer = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { credentials: 'same-origin' })
               .then((r) => r.json()).then(done, (e) => done({ fetch_failed: String(e) }));",
            vec![json!(path)],
        )
        .await
        .unwrap();
    assert!(answer.get("fetch_failed").is_none(), "GET {path}: {answer}");
    answer
}

/// How the visible page looks, as the browser computed and painted it.
#[derive(Debug, Clone)]
struct Look {
    /// The body's computed background colour.
    background: String,
    /// The first chart's computed background (its panel), if the page has a chart.
    chart_background: Option<String>,
    /// The colour ECharts draws the first chart's text in.
    chart_text: Option<String>,
    /// The mean relative luminance (0 black … 1 white) of the pixels the first chart painted
    /// opaque on its transparent canvas in a colour other than its panel's: its text, axes,
    /// marks and cells.
    chart_ink: Option<f64>,
}

async fn look(client: &Client) -> Look {
    let found = script(
        client,
        "const chart = document.querySelector('section:not([hidden]) .chart');
         let ink = null;
         const canvas = chart && chart.querySelector('canvas');
         if (canvas) {
           const rgb = getComputedStyle(chart).backgroundColor.match(/[0-9.]+/g).map(Number);
           const lum = (r, g, b) => (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
           const panel = lum(rgb[0], rgb[1], rgb[2]);
           const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
           let sum = 0, n = 0;
           for (let i = 0; i < px.length; i += 4) {
             const l = lum(px[i], px[i + 1], px[i + 2]);
             if (px[i + 3] > 200 && Math.abs(l - panel) > 0.08) {
               sum += l;
               n += 1;
             }
           }
           ink = n > 0 ? sum / n : null;
         }
         return [getComputedStyle(document.body).backgroundColor,
                 chart ? getComputedStyle(chart).backgroundColor : null,
                 chart ? chart.dataset.textColor : null, ink];",
    )
    .await;
    Look {
        background: found[0].as_str().unwrap().to_owned(),
        chart_background: found[1].as_str().map(str::to_owned),
        chart_text: found[2].as_str().map(str::to_owned),
        chart_ink: found[3].as_f64(),
    }
}

/// The relative luminance (0 … 1) of a CSS colour written `rgb(r, g, b)`, `rgba(…)` or
/// `#rrggbb`.
fn luminance(css: &str) -> f64 {
    let channels: Vec<f64> = if let Some(hex) = css.strip_prefix('#') {
        (0..3)
            .map(|i| f64::from(u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()))
            .collect()
    } else {
        css.trim_start_matches("rgba(")
            .trim_start_matches("rgb(")
            .trim_end_matches(')')
            .split(',')
            .take(3)
            .map(|c| c.trim().parse().unwrap())
            .collect()
    };
    assert_eq!(channels.len(), 3, "not a colour: {css}");
    (0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]) / 255.0
}

/// Every stored event with its session, in the store's order.
fn stored_events(home: &TestHome) -> Vec<(i64, tikker_core::KeyEvent)> {
    let mut events = Vec::new();
    common::open_store(&home.db())
        .for_each_event(&tikker_store::EventFilter::default(), |info, event| {
            events.push((info.id.0, event));
            Ok::<(), tikker_store::StoreError>(())
        })
        .unwrap();
    events
}

/// Checks that the Activity page's data (`GET /activity`, as the page fetches it) gives each
/// day and each of today's quarter hours the rhythm consistency that the store's quarter-hour
/// rollups pool to; the store must stand still meanwhile (capture paused). Returns how many
/// days and quarter hours had a rhythm.
async fn check_rhythm_against_store(client: &Client, home: &TestHome) -> usize {
    let activity = fetch_json(client, "/activity?bucket=day").await;
    let tz = jiff::tz::TimeZone::get(activity["time_zone"].as_str().unwrap())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let mut days: HashMap<String, tikker_core::activity::ActivityTally> = HashMap::new();
    let mut quarters: HashMap<String, tikker_core::activity::ActivityTally> = HashMap::new();
    for b in common::open_store(&home.db())
        .activity(None, None, Some("owner"))
        .unwrap()
    {
        let at = jiff::Timestamp::from_microsecond(b.start_us).unwrap();
        let date = at.to_zoned(tz.clone()).date().to_string();
        days.entry(date).or_default().add(&b.tally);
        quarters.insert(at.to_string(), b.tally);
    }
    let spans = activity["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s, days.get(s["start"].as_str().unwrap())))
        .chain(
            activity["today"]["quarters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s, quarters.get(s["start"].as_str().unwrap()))),
        );
    let mut with_rhythm = 0;
    for (span, stored) in spans {
        let start = span["start"].as_str().unwrap();
        let stored = stored.copied().unwrap_or_default();
        assert_eq!(
            span["keystrokes"].as_u64().unwrap(),
            stored.keystrokes,
            "{start}"
        );
        match (
            span["rhythm_consistency"].as_f64(),
            stored.rhythm_consistency(),
        ) {
            (Some(shown), Some(pooled)) => {
                assert!(
                    (shown - pooled).abs() < 1e-9,
                    "{start}: {shown} != {pooled}"
                );
                assert!(shown > 0.0 && shown < 1.0, "{start}: {shown}");
                let mean = span["mean_interval_ms"].as_f64().unwrap();
                assert!(
                    (mean - stored.mean_interval_ms().unwrap()).abs() < 1e-6,
                    "{start}"
                );
                with_rhythm += 1;
            }
            (None, None) => {}
            other => panic!("{start}: the API and the rollups disagree: {other:?}"),
        }
    }
    assert!(with_rhythm > 0, "no day with a rhythm: {activity}");
    with_rhythm
}

/// Checks the page-specific content of the visible, loaded page against the store.
async fn check_page_content(client: &Client, home: &TestHome, page: &str) {
    let text = |id: &str| format!("return document.getElementById('{id}').textContent");
    match page {
        "overview" => {
            let verdict = script(client, &text("ov-verdict")).await;
            assert!(
                verdict != json!("–") && verdict != json!(""),
                "no verdict: {verdict}"
            );
            let last = script(client, &text("ov-alert")).await;
            assert_ne!(last, json!("No alert so far."), "the last alert is missing");
            let keystrokes = script(client, &text("ov-keystrokes")).await;
            let keystrokes: u64 = keystrokes
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap();
            assert!(keystrokes > 0, "no keystrokes today on the overview");
        }
        "activity" => {
            // The rhythm chart shows as many points as the API gave.
            let activity = fetch_json(client, "/activity?bucket=day").await;
            let drawn = script(
                client,
                "return document.getElementById('chart-rhythm').dataset.points",
            )
            .await;
            let expected = activity["trend"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    u64::from(!s["rhythm_consistency"].is_null())
                        + u64::from(!s["mean_interval_ms"].is_null())
                })
                .sum::<u64>();
            assert_eq!(
                drawn.as_str().unwrap().parse::<u64>().unwrap(),
                expected,
                "the rhythm chart shows what the API gave"
            );
        }
        "authentication" => {
            let stored = common::open_store(&home.db())
                .alerts_between(None, None, 200)
                .unwrap();
            let rows = script(
                client,
                "return document.querySelectorAll('#alerts tbody button[data-alert], #alerts tbody td.marked').length",
            )
            .await;
            assert_eq!(rows, json!(stored.len()), "one row per stored alert");
        }
        "keyboard" => {
            let words = script(
                client,
                "return [...document.querySelectorAll('#profile-words p')].map((p) => p.textContent)",
            )
            .await;
            let words = words.as_array().unwrap();
            assert!(
                words
                    .iter()
                    .any(|w| w.as_str().unwrap().contains("words per minute")),
                "the profile in words: {words:?}"
            );
        }
        "data" => {
            let storage = script(
                client,
                "return [...document.querySelectorAll('#storage dt, #storage dd')].map((e) => e.textContent)",
            )
            .await;
            let storage: Vec<&str> = storage
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let db = home.db();
            let at = storage.iter().position(|t| *t == "Database");
            assert_eq!(
                at.map(|i| storage[i + 1]),
                Some(db.to_str().unwrap()),
                "{storage:?}"
            );
            assert!(storage.contains(&"Encryption"), "{storage:?}");
            let exports = script(
                client,
                "return [...document.querySelectorAll('#exports a')].map((a) => a.getAttribute('href'))",
            )
            .await;
            assert_eq!(exports.as_array().unwrap().len(), 5, "{exports}");
        }
        _ => {}
    }
}

/// A screenshot of the Activity page scrolled to its speed and rhythm charts (then scrolled
/// back).
async fn trend_screenshot(client: &Client) -> Vec<u8> {
    script(
        client,
        "document.getElementById('chart-rhythm').scrollIntoView({ block: 'center' })",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let png = client.screenshot().await.unwrap();
    script(client, "window.scrollTo(0, 0)").await;
    png
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
    let spliced_end_us = tikker_capture::clock::now_us() - 600_000_000;
    let splice = write_splice(&home, spliced_end_us - end);
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
        let mut light: HashMap<&str, Look> = HashMap::new();
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
            check_page_content(&client, &home, page).await;
            // Let the canvas paint before the picture.
            tokio::time::sleep(Duration::from_millis(300)).await;
            light.insert(page, look(&client).await);
            let png = client.screenshot().await.unwrap();
            std::fs::write(shots.join(format!("{page}.png")), png).unwrap();
            if page == "activity" {
                // The speed and rhythm charts, below the fold.
                std::fs::write(
                    shots.join("activity-trend.png"),
                    trend_screenshot(&client).await,
                )
                .unwrap();
            }
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
        // The system's dark theme: every page again, dark where it was light.
        color_scheme(&client, &driver, "dark").await;
        for page in PAGES {
            client
                .goto(&format!("http://127.0.0.1:{port}/dashboard/#{page}"))
                .await
                .unwrap();
            wait_for_page(&client, page).await;
            for (id, points) in charts(&client).await {
                assert!(
                    points > 0,
                    "chart {id} of the dark {page} page shows no data"
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let dark = look(&client).await;
            let bright = &light[page];
            assert!(
                luminance(&dark.background) < 0.2 && luminance(&bright.background) > 0.8,
                "the {page} page's background: light {} dark {}",
                bright.background,
                dark.background
            );
            if let (Some(d), Some(l)) = (&dark.chart_background, &bright.chart_background) {
                assert!(
                    luminance(d) < 0.2 && luminance(l) > 0.8,
                    "the {page} page's chart panel: light {l} dark {d}"
                );
            }
            if let (Some(d), Some(l)) = (&dark.chart_text, &bright.chart_text) {
                assert!(
                    luminance(d) > 0.7 && luminance(l) < 0.3,
                    "the {page} page's chart text: light {l} dark {d}"
                );
            }
            // What the chart paints stands out from its panel: darker on light, lighter on dark.
            if let (Some(d), Some(l), Some(dp), Some(lp)) = (
                dark.chart_ink,
                bright.chart_ink,
                &dark.chart_background,
                &bright.chart_background,
            ) {
                assert!(
                    l < luminance(lp) - 0.05 && d > luminance(dp) + 0.05,
                    "the {page} page's chart ink: light {l:.2} on {lp}, dark {d:.2} on {dp}"
                );
            }
            assert_eq!(
                dark.chart_text.is_some(),
                page != "data",
                "{page}: {dark:?}"
            );
            std::fs::write(
                shots.join(format!("{page}-dark.png")),
                client.screenshot().await.unwrap(),
            )
            .unwrap();
            if page == "activity" {
                std::fs::write(
                    shots.join("activity-trend-dark.png"),
                    trend_screenshot(&client).await,
                )
                .unwrap();
            }
            let errors: Vec<_> = console(&client, &driver)
                .await
                .into_iter()
                .filter(|(level, _)| level == "SEVERE" || level == "WARNING")
                .collect();
            assert!(
                errors.is_empty(),
                "console errors on the dark {page} page: {errors:?}"
            );
        }
        color_scheme(&client, &driver, "light").await;

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

        // Pause from the page, forget the last N minutes from the page (the live capture's
        // typing, not the replayed owner and impostor before it), resume.
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
        // Paused: once what was captured before is written, the store stands still.
        let mut previous = stored_events(&home).len();
        let before = loop {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let now = stored_events(&home);
            if now.len() == previous {
                break now;
            }
            previous = now.len();
        };
        // The rhythm the Activity page charts is the rollups', per day and quarter hour.
        check_rhythm_against_store(&client, &home).await;
        let input = client.find(Locator::Id("forget-minutes")).await.unwrap();
        input.clear().await.unwrap();
        // The span starts a minute or two after the replayed typing ended.
        let minutes = (tikker_capture::clock::now_us() - spliced_end_us) / 60_000_000 - 1;
        assert!((1..=1440).contains(&minutes), "{minutes}");
        input.send_keys(&minutes.to_string()).await.unwrap();
        client
            .find(Locator::Css("#forget button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let start = Instant::now();
        let message = loop {
            let shown = script(
                &client,
                "return document.getElementById('forget-result').textContent",
            )
            .await;
            let shown = shown.as_str().unwrap_or("").to_owned();
            if !shown.is_empty() {
                break shown;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the page shows no answer to the forget"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(message.starts_with("forgot "), "{message}");
        // "forgot K keystrokes (E key events) from FROM to TO, and …"
        let (_, span) = message.split_once(" from ").unwrap();
        let (from, rest) = span.split_once(" to ").unwrap();
        let to = rest.split_once(',').unwrap().0;
        let from_us = from.parse::<jiff::Timestamp>().unwrap().as_microsecond();
        let to_us = to.parse::<jiff::Timestamp>().unwrap().as_microsecond();
        assert_eq!(to_us - from_us, minutes * 60_000_000 + 1, "{message}");
        assert!(from_us > spliced_end_us, "{message}");
        let after = stored_events(&home);
        let expected: Vec<_> = before
            .iter()
            .copied()
            .filter(|(_, e)| e.time_us < from_us || e.time_us >= to_us)
            .collect();
        let removed = before.len() - expected.len();
        assert!(
            removed > 0,
            "no live typing in the last {minutes} minutes to forget"
        );
        assert!(
            message.contains(&format!("({removed} key events)")),
            "{message}"
        );
        assert_eq!(
            after, expected,
            "exactly the span's raw events are gone, every other one is kept"
        );
        assert!(expected.iter().any(|(_, e)| e.time_us < from_us));
        // The rollups of the span's quarter hours are recounted from the events left.
        let mut recount = tikker_core::activity::ActivityBuilder::new();
        for (session, event) in &after {
            recount.push(*session, event);
        }
        assert_eq!(
            common::open_store(&home.db())
                .activity(None, None, None)
                .unwrap(),
            recount.finish(),
            "the rollups after the forget equal a recount"
        );
        check_rhythm_against_store(&client, &home).await;
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
