//! Router tests: the whole API in process, against a temporary store, through the TCP and Unix
//! routers (`tower::ServiceExt::oneshot`, no sockets).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rstest::rstest;
use serde_json::{Value, json};
use tikker_core::{KeyCode, KeyEvent};
use tikker_identify::{IdentifyModel, ModelKind, TrainOptions};
use tikker_store::{NewSession, Store, StoredAlert, StoredModel, StoredScore};
use tower::ServiceExt;

use tikker::api::Api;
use tikker::api::security::ApiToken;
use tikker::api::state::Limits;

const TOKEN: &str = "0123456789abcdef0123456789abcdef-test-token";

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    api: Api,
}

fn fixture_with(limits: Limits, allow_remote: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tikker.db");
    let api = Api::new(
        &tikker::db_key::Database::plaintext(db.clone()),
        None,
        ApiToken::new(TOKEN),
        allow_remote,
        limits,
    )
    .unwrap();
    Fixture { _dir: dir, db, api }
}

fn fixture() -> Fixture {
    fixture_with(Limits::default(), false)
}

/// One call through `router`; a loopback Host unless `headers` give one.
async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request = request.header(header::HOST, "127.0.0.1:8003");
    }
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, value)
}

async fn post(router: &Router, uri: &str, body: Value) -> (StatusCode, Value) {
    call(router, "POST", uri, &[], Some(body.to_string())).await
}

fn bearer() -> (&'static str, String) {
    ("authorization", format!("Bearer {TOKEN}"))
}

/// The original documentation's `patterns/detect` example.
fn alice_example() -> Value {
    json!({
        "events": [
            {"timestamp": 0, "key_code": 65, "event_type": "press"},
            {"timestamp": 95, "key_code": 66, "event_type": "press"},
            {"timestamp": 190, "key_code": 67, "event_type": "press"}
        ],
        "user_id": "alice"
    })
}

/// The original documentation's predict-user body for `model`.
fn predict_user_body(model: &str) -> Value {
    json!({"Model": model, "HT": {"Mean": 48.43, "STD": 23.34}, "PPT": {"Mean": 120.43, "STD": 37.41}, "RRT": {"Mean": 124.43, "STD": 45.34}, "RPT": {"Mean": 132.56, "STD": 47.12}})
}

/// Synthetic typing of one person (evdev letters, press and release), from `start_ms`.
fn typing(n: usize, hold_ms: i64, gap_ms: i64, seed: u64, start_ms: i64) -> Vec<KeyEvent> {
    let keys: Vec<KeyCode> = "etaoinshrdlu"
        .chars()
        .filter_map(KeyCode::from_char)
        .collect();
    let mut state = seed;
    let mut t = start_ms * 1000;
    let mut events = Vec::new();
    for i in 0..n {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let jitter = ((state >> 33) % 21) as i64 - 10;
        // A word of five letters, then a space.
        let key = if i % 6 == 5 {
            KeyCode::SPACE
        } else {
            keys[(i * 7 + (state >> 40) as usize) % keys.len()]
        };
        events.push(KeyEvent::press(t, key));
        events.push(KeyEvent::release(t + (hold_ms + jitter) * 1000, key));
        t += (gap_ms + 2 * jitter) * 1000;
    }
    tikker_core::event::sort_events(&mut events);
    events
}

fn request_of(user_id: &str, events: &[KeyEvent]) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "timestamp": e.time_us as f64 / 1000.0,
                "key_code": e.key.0,
                "event_type": e.action.as_str(),
            })
        })
        .collect();
    json!({"events": events, "user_id": user_id})
}

fn names(patterns: &Value) -> Vec<&str> {
    patterns
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_documented_patterns_example() {
    let f = fixture();
    let (status, body) = post(&f.api.tcp_router(), "/patterns/detect", alice_example()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body), ["fast_typist", "consistent_rhythm"]);
    let fast = &body[0];
    assert!(
        fast["features"]["avg_wpm"].as_f64().unwrap() > 120.0,
        "{fast}"
    );
    assert_eq!(fast["frequency"], 2);
    for key in ["name", "confidence", "frequency", "description", "features"] {
        assert!(fast.get(key).is_some(), "{key} missing in {fast}");
    }
}

#[tokio::test]
async fn the_documented_pattern_request_and_response_shape() {
    // The request of the original documentation's pattern-detection section, verbatim.
    let body = r#"{
  "events": [
    {"timestamp": 0, "key_code": 65, "event_type": "press"},
    {"timestamp": 100, "key_code": 66, "event_type": "press"}
  ],
  "user_id": "user123"
}"#;
    let f = fixture();
    let (status, answer) = call(
        &f.api.tcp_router(),
        "POST",
        "/patterns/detect",
        &[],
        Some(body.to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // Its documented answer is one `fast_typist` with `avg_wpm` among the features: one
    // interval of 100 ms is 120 WPM, and too little for a rhythm.
    assert_eq!(names(&answer), ["fast_typist"]);
    assert_eq!(answer[0]["features"]["avg_wpm"], 120.0);
    assert!(
        answer[0]["description"]
            .as_str()
            .unwrap()
            .contains("faster")
    );
}

#[tokio::test]
async fn the_documented_profile_anomaly_authenticity_sequence() {
    let f = fixture();
    let router = f.api.tcp_router();
    let (status, profile) = post(&router, "/profile/build", alice_example()).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["user_id"], "alice");
    assert!(profile["avg_typing_speed"].as_f64().unwrap() > 120.0);
    assert_eq!(profile["consistency_score"], 1.0);
    assert_eq!(
        profile["patterns"],
        json!(["fast_typist", "consistent_rhythm"])
    );
    // Key codes 65-67 are F7-F9 in evdev numbering: no words.
    assert_eq!(profile["common_words"], json!([]));
    assert_eq!(profile["peak_hours"].as_array().unwrap().len(), 1);
    let (status, anomalies) = post(&router, "/anomalies/detect", alice_example()).await;
    assert_eq!((status, anomalies), (StatusCode::OK, json!([])));
    let (status, check) = post(&router, "/authenticity/check", alice_example()).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(check["verdict"], "unknown");
    assert_eq!(check["authenticity_score"], 0.0);
    assert!(
        check["reason"]
            .as_str()
            .unwrap()
            .contains("complete keystrokes"),
        "{check}"
    );
}

#[tokio::test]
async fn a_real_baseline_tells_its_typist_from_another() {
    let f = fixture();
    let router = f.api.tcp_router();
    let alice = typing(400, 90, 180, 1, 1_700_000_000_000);
    let (status, profile) = post(&router, "/profile/build", request_of("alice", &alice)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let words = profile["common_words"].as_array().unwrap();
    assert!(!words.is_empty(), "{profile}");

    let again = typing(150, 90, 180, 2, 1_700_000_100_000);
    let (_, check) = post(&router, "/authenticity/check", request_of("alice", &again)).await;
    let verdict = check["verdict"].as_str().unwrap();
    assert!(
        verdict == "authentic" || verdict == "likely_authentic",
        "{check}"
    );
    assert!(check["confidence"].as_f64().unwrap() > 0.5, "{check}");
    let reason = check["reason"].as_str().unwrap();
    for component in tikker_core::verify::freetext::COMPONENT_NAMES {
        assert!(reason.contains(component), "{reason}");
    }
    let (_, anomalies) = post(&router, "/anomalies/detect", request_of("alice", &again)).await;
    assert_eq!(anomalies, json!([]));

    let mallory = typing(150, 160, 330, 3, 1_700_000_200_000);
    let (_, check) = post(
        &router,
        "/authenticity/check",
        request_of("alice", &mallory),
    )
    .await;
    assert_eq!(check["verdict"], "suspicious", "{check}");
    assert!(check["authenticity_score"].as_f64().unwrap() <= 0.4);
    let (_, anomalies) = post(&router, "/anomalies/detect", request_of("alice", &mallory)).await;
    let anomaly = &anomalies[0];
    assert_eq!(
        anomaly["anomaly_type"], "typing_speed_deviation",
        "{anomalies}"
    );
    assert!(anomaly["actual_value"].as_f64() < anomaly["expected_value"].as_f64());
    for key in ["timestamp", "severity", "reason"] {
        assert!(anomaly.get(key).is_some(), "{anomaly}");
    }

    // Another user_id has no baseline; the owner's profiles are untouched.
    let (_, check) = post(&router, "/authenticity/check", request_of("bob", &again)).await;
    assert_eq!(check["verdict"], "unknown");
    // The baseline is saved behind the answers, in its own table.
    let store = Store::open(&f.db, &tikker_store::Encryption::Off).unwrap();
    let start = std::time::Instant::now();
    while store.api_baseline("alice").unwrap().is_none() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(store.latest_profile("alice").unwrap(), None);
}

#[tokio::test]
async fn the_first_anomaly_call_stores_a_baseline() {
    let f = fixture();
    let router = f.api.tcp_router();
    let steady = typing(100, 90, 200, 1, 0);
    let (_, first) = post(&router, "/anomalies/detect", request_of("carol", &steady)).await;
    assert_eq!(first, json!([]));
    let fast = typing(100, 60, 90, 2, 100_000);
    let (_, second) = post(&router, "/anomalies/detect", request_of("carol", &fast)).await;
    assert_eq!(
        second[0]["anomaly_type"], "typing_speed_deviation",
        "{second}"
    );
    assert!(second[0]["severity"].as_f64().unwrap() > 0.5);
}

#[tokio::test]
async fn unsorted_events_are_sorted() {
    let f = fixture();
    let router = f.api.tcp_router();
    let mut shuffled = alice_example();
    shuffled["events"].as_array_mut().unwrap().reverse();
    let (_, sorted) = post(&router, "/patterns/detect", alice_example()).await;
    let (status, unsorted) = post(&router, "/patterns/detect", shuffled).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sorted, unsorted);
}

#[rstest]
#[case::malformed("{\"events\": [", StatusCode::BAD_REQUEST, None)]
#[case::nan(
    r#"{"events": [{"timestamp": NaN, "key_code": 1, "event_type": "press"}], "user_id": "a"}"#,
    StatusCode::BAD_REQUEST,
    None
)]
#[case::missing_user(r#"{"events": []}"#, StatusCode::UNPROCESSABLE_ENTITY, Some("user_id"))]
#[case::missing_timestamp(
    r#"{"events": [{"key_code": 1, "event_type": "press"}], "user_id": "a"}"#,
    StatusCode::UNPROCESSABLE_ENTITY,
    Some("events[0].timestamp")
)]
#[case::negative_timestamp(r#"{"events": [{"timestamp": 5, "key_code": 1, "event_type": "press"}, {"timestamp": -5, "key_code": 1, "event_type": "press"}], "user_id": "a"}"#, StatusCode::UNPROCESSABLE_ENTITY, Some("events[1].timestamp"))]
#[case::string_timestamp(
    r#"{"events": [{"timestamp": "0", "key_code": 1, "event_type": "press"}], "user_id": "a"}"#,
    StatusCode::UNPROCESSABLE_ENTITY,
    Some("events[0].timestamp")
)]
#[case::unknown_event_type(
    r#"{"events": [{"timestamp": 0, "key_code": 1, "event_type": "hold"}], "user_id": "a"}"#,
    StatusCode::UNPROCESSABLE_ENTITY,
    Some("events[0].event_type")
)]
#[case::key_out_of_range(
    r#"{"events": [{"timestamp": 0, "key_code": 70000, "event_type": "press"}], "user_id": "a"}"#,
    StatusCode::UNPROCESSABLE_ENTITY,
    Some("events[0].key_code")
)]
#[case::long_user(&format!(r#"{{"events": [], "user_id": "{}"}}"#, "u".repeat(129)), StatusCode::UNPROCESSABLE_ENTITY, Some("user_id"))]
#[case::control_character(
    r#"{"events": [], "user_id": "al\u0007ice"}"#,
    StatusCode::UNPROCESSABLE_ENTITY,
    Some("user_id")
)]
#[case::events_not_a_list(
    r#"{"events": 3, "user_id": "a"}"#,
    StatusCode::UNPROCESSABLE_ENTITY,
    Some("events")
)]
#[tokio::test]
async fn bad_input_is_refused_naming_the_field(
    #[case] body: &str,
    #[case] status: StatusCode,
    #[case] field: Option<&str>,
) {
    let f = fixture();
    let router = f.api.tcp_router();
    for route in [
        "/patterns/detect",
        "/profile/build",
        "/anomalies/detect",
        "/authenticity/check",
        "/behavior/predict",
    ] {
        let (got, answer) = call(&router, "POST", route, &[], Some(body.to_owned())).await;
        assert_eq!(got, status, "{route}: {answer}");
        assert!(answer["error"].is_string(), "{route}: {answer}");
        assert_eq!(answer["field"].as_str(), field, "{route}: {answer}");
    }
}

#[tokio::test]
async fn the_limits_answer_413_and_other_content_types_415() {
    let f = fixture_with(
        Limits {
            max_body_bytes: 4096,
            max_events: 10,
        },
        false,
    );
    let router = f.api.tcp_router();
    let events = typing(6, 90, 180, 1, 0);
    let (status, answer) = post(&router, "/patterns/detect", request_of("a", &events)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["field"], "events");
    let big = json!({"events": [], "user_id": "a", "padding": "x".repeat(5000)});
    let (status, _) = post(&router, "/patterns/detect", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, answer) = call(&router, "POST", "/predict_user", &[], Some(big.to_string())).await;
    assert_eq!(
        (status, &answer["statuscode"]),
        (StatusCode::BAD_REQUEST, &json!(400))
    );
    let (status, _) = call(
        &router,
        "POST",
        "/patterns/detect",
        &[("content-type", "text/plain")],
        Some(alice_example().to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

fn save_identify_models(db: &std::path::Path) {
    // Three made-up users: s002 types like the documented body, the others twice and three
    // times as slowly.
    let documented = [48.43, 23.34, 120.43, 37.41, 124.43, 45.34, 132.56, 47.12];
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (user, scale) in [("s002", 1.0), ("s003", 2.0), ("s004", 3.0)] {
        for i in 0..30 {
            let jitter = 1.0 + f64::from(i % 7 - 3) / 50.0;
            x.push(documented.iter().map(|v| v * scale * jitter).collect());
            y.push(user);
        }
    }
    let store = Store::open(db, &tikker_store::Encryption::Off).unwrap();
    for kind in ModelKind::ALL {
        let model = IdentifyModel::train(kind, &x, &y, &TrainOptions::default()).unwrap();
        store
            .save_model(&StoredModel {
                name: tikker_identify::model_name(kind).into(),
                created_us: 1,
                trained_on: "test".into(),
                metrics: "{}".into(),
                data: model.to_bytes().unwrap(),
            })
            .unwrap();
    }
}

#[tokio::test]
async fn predict_user_answers_the_documented_body_with_every_model() {
    let f = fixture();
    let router = f.api.tcp_router();
    let (status, answer) = post(&router, "/predict_user", predict_user_body("RF")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["statuscode"], 400);
    assert_eq!(answer["status"], "error");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("tikker train identify"),
        "{answer}"
    );
    save_identify_models(&f.db);
    for model in ["RF", "SVM", "XGBoost"] {
        for route in ["/predict_user", "/"] {
            let (status, answer) = post(&router, route, predict_user_body(model)).await;
            assert_eq!(status, StatusCode::OK, "{model} {route}: {answer}");
            assert_eq!(
                answer,
                json!({"statuscode": 200, "status": "success", "predicted user": "s002"}),
                "{model} {route}"
            );
        }
    }
}

#[rstest]
#[case::unknown_model(json!({"Model": "KNN", "HT": {"Mean": 1, "STD": 1}, "PPT": {"Mean": 1, "STD": 1}, "RRT": {"Mean": 1, "STD": 1}, "RPT": {"Mean": 1, "STD": 1}}), "Model")]
#[case::missing_field(json!({"Model": "RF", "HT": {"Mean": 1, "STD": 1}, "PPT": {"Mean": 1, "STD": 1}, "RRT": {"Mean": 1, "STD": 1}}), "RPT")]
#[case::missing_inner_field(json!({"Model": "RF", "HT": {"Mean": 1}, "PPT": {"Mean": 1, "STD": 1}, "RRT": {"Mean": 1, "STD": 1}, "RPT": {"Mean": 1, "STD": 1}}), "HT.STD")]
#[case::extra_field(json!({"Model": "RF", "HT": {"Mean": 1, "STD": 1}, "PPT": {"Mean": 1, "STD": 1}, "RRT": {"Mean": 1, "STD": 1}, "RPT": {"Mean": 1, "STD": 1}, "User": "x"}), "User")]
#[case::extra_inner_field(json!({"Model": "RF", "HT": {"Mean": 1, "STD": 1, "N": 3}, "PPT": {"Mean": 1, "STD": 1}, "RRT": {"Mean": 1, "STD": 1}, "RPT": {"Mean": 1, "STD": 1}}), "HT.N")]
#[case::negative_std(json!({"Model": "RF", "HT": {"Mean": 1, "STD": 1}, "PPT": {"Mean": 1, "STD": -1}, "RRT": {"Mean": 1, "STD": 1}, "RPT": {"Mean": 1, "STD": 1}}), "PPT.STD")]
#[case::not_an_object(json!([1, 2]), "")]
#[tokio::test]
async fn predict_user_errors_are_400_in_the_original_shape(
    #[case] body: Value,
    #[case] named: &str,
) {
    let f = fixture();
    save_identify_models(&f.db);
    let (status, answer) = post(&f.api.tcp_router(), "/predict_user", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["statuscode"], 400);
    assert_eq!(answer["status"], "error");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains(named), "{message}");
    assert_eq!(answer.as_object().unwrap().len(), 3, "{answer}");
}

#[tokio::test]
async fn stored_routes_need_the_token_over_tcp_only() {
    let f = fixture();
    let tcp = f.api.tcp_router();
    let unix = f.api.unix_router();
    let (token_header, token) = bearer();
    for (method, uri, body) in [
        (
            "POST",
            "/temporal/analyze",
            Some(json!({"date_range_days": 7}).to_string()),
        ),
        ("GET", "/stats/daily", None),
        ("GET", "/scores", None),
        ("GET", "/alerts", None),
        ("POST", "/model/train", None),
        ("GET", "/status", None),
        ("POST", "/pause", None),
        ("POST", "/resume", None),
    ] {
        let (status, answer) = call(&tcp, method, uri, &[], body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}: {answer}");
        let (status, _) = call(
            &tcp,
            method,
            uri,
            &[("authorization", "Bearer wrong")],
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let (with_token, answer) =
            call(&tcp, method, uri, &[(token_header, &token)], body.clone()).await;
        assert_ne!(with_token, StatusCode::UNAUTHORIZED, "{uri}: {answer}");
        assert!(!with_token.is_server_error(), "{uri}: {answer}");
        let (on_unix, answer) = call(&unix, method, uri, &[], body.clone()).await;
        assert_eq!(on_unix, with_token, "{uri}: {answer}");
    }
    // The routes on the request's events need none.
    let (status, _) = post(&tcp, "/patterns/detect", alice_example()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, health) = call(&tcp, "GET", "/health", &[], None).await;
    assert_eq!(
        (status, &health["status"]),
        (StatusCode::OK, &json!("healthy"))
    );
    // Without capture, the daemon's control routes say so (409, never 5xx).
    let (status, answer) = call(&unix, "GET", "/status", &[], None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
}

#[rstest]
#[case("evil.example:8003", StatusCode::FORBIDDEN)]
#[case("127.0.0.1.nip.io", StatusCode::FORBIDDEN)]
#[case("localhost:8003", StatusCode::OK)]
#[case("[::1]:8003", StatusCode::OK)]
#[tokio::test]
async fn the_host_must_be_loopback(#[case] host: &str, #[case] expected: StatusCode) {
    let f = fixture();
    let (status, _) = call(
        &f.api.tcp_router(),
        "GET",
        "/health",
        &[("host", host)],
        None,
    )
    .await;
    assert_eq!(status, expected);
    // The Unix socket does not check it.
    let (status, _) = call(
        &f.api.unix_router(),
        "GET",
        "/health",
        &[("host", host)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn remote_mode_needs_the_token_on_every_call_from_any_host() {
    let f = fixture_with(Limits::default(), true);
    let router = f.api.tcp_router();
    let (status, _) = call(
        &router,
        "GET",
        "/health",
        &[("host", "tikker.lan:8003")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (name, token) = bearer();
    let (status, _) = call(
        &router,
        "GET",
        "/health",
        &[("host", "tikker.lan:8003"), (name, &token)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Stores sessions of steady typing at `gap_ms` per press (press and release).
fn store_typing(db: &std::path::Path, sessions: &[(&str, i64, i64)], start_us: i64) {
    let mut store = Store::open(db, &tikker_store::Encryption::Off).unwrap();
    let mut tx = store.write().unwrap();
    for (i, &(label, gap_ms, presses)) in sessions.iter().enumerate() {
        let start = start_us + i as i64 * 3_600_000_000;
        let session = tx
            .begin_session(
                &NewSession {
                    source_kind: "import".into(),
                    source_detail: "test".into(),
                    user: "me".into(),
                    label: label.into(),
                },
                start,
            )
            .unwrap();
        let mut t = start;
        let mut events = Vec::new();
        for p in 0..presses {
            // Irregular sessions alternate short and long gaps.
            let gap = if label.starts_with("irregular") && p % 2 == 0 {
                gap_ms / 5
            } else if label.starts_with("irregular") {
                gap_ms * 9 / 5
            } else {
                gap_ms
            };
            events.push(KeyEvent::press(t, KeyCode(30)));
            events.push(KeyEvent::release(t + 40_000, KeyCode(30)));
            t += gap * 1000;
        }
        tx.append(session, &events).unwrap();
    }
    tx.commit().unwrap();
}

#[tokio::test]
async fn the_behaviour_model_is_trained_on_stored_typing_and_predicts() {
    let f = fixture();
    let router = f.api.unix_router();
    let fast = typing(60, 50, 100, 1, 0);
    let (status, answer) = post(&router, "/behavior/predict", request_of("a", &fast)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("/model/train"));
    let (status, answer) = call(&router, "POST", "/model/train", &[], None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    store_typing(
        &f.db,
        &[
            ("fast", 100, 500),
            ("slow", 500, 500),
            ("normal", 200, 500),
            ("irregular", 200, 500),
        ],
        1_700_000_000_000_000,
    );
    let (status, answer) = call(&router, "POST", "/model/train?sample_size=abc", &[], None).await;
    assert_eq!(
        (status, &answer["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("sample_size"))
    );
    let (status, answer) = call(&router, "POST", "/model/train?sample_size=10001", &[], None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, trained) = call(&router, "POST", "/model/train", &[], None).await;
    assert_eq!(status, StatusCode::OK, "{trained}");
    assert_eq!(trained["status"], "trained");
    assert_eq!(trained["samples"], 40);
    assert_eq!(trained["features"].as_array().unwrap().len(), 5);
    assert!(trained["accuracy"].as_f64().unwrap() >= 0.75, "{trained}");

    let (status, predicted) = post(&router, "/behavior/predict", request_of("a", &fast)).await;
    assert_eq!(status, StatusCode::OK, "{predicted}");
    assert_eq!(predicted["status"], "predicted");
    assert_eq!(
        predicted["behavior_category"], "fast_focused",
        "{predicted}"
    );
    assert!(predicted["features"]["typing_speed"].as_f64().unwrap() > 80.0);
    assert!(predicted["features"]["consistency"].is_number());
    let (status, answer) = post(&router, "/behavior/predict", alice_example()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = post(
        &router,
        "/behavior/predict",
        json!({"events": [], "user_id": "a"}),
    )
    .await;
    assert_eq!(
        (status, &answer["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("events"))
    );
}

#[tokio::test]
async fn temporal_analysis_counts_stored_events_per_day() {
    let f = fixture();
    let now = jiff::Timestamp::now().as_microsecond();
    store_typing(&f.db, &[("today", 200, 10)], now - 60_000_000);
    let router = f.api.unix_router();
    let (status, answer) = post(&router, "/temporal/analyze", json!({"date_range_days": 7})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["date_range_days"], 7);
    let days = answer["analysis"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let total: u64 = days
        .iter()
        .map(|d| d["total_events"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 20);
    assert_eq!(answer["trend"], "insufficient_data");
    for bad in [
        json!({"date_range_days": 0}),
        json!({"date_range_days": 3651}),
        json!({}),
    ] {
        let (status, answer) = post(&router, "/temporal/analyze", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["field"], "date_range_days");
    }
}

#[tokio::test]
async fn scores_alerts_and_daily_stats_read_what_the_daemon_stored() {
    let f = fixture();
    {
        let store = Store::open(&f.db, &tikker_store::Encryption::Off).unwrap();
        for i in 0..3 {
            let id = store
                .save_score(&StoredScore {
                    id: 0,
                    user: "me".into(),
                    from_us: 1_700_000_000_000_000 + i * 1_000_000,
                    to_us: 1_700_000_000_500_000 + i * 1_000_000,
                    score: 0.1 * i as f64,
                    confidence: 0.9,
                    verdict: tikker_core::verify::calibration::Verdict::Suspicious,
                    reason: "test".into(),
                    profile_version: Some(1),
                })
                .unwrap();
            store
                .save_alert(&StoredAlert {
                    id: 0,
                    created_us: 1_700_000_001_000_000 + i * 1_000_000,
                    score_id: Some(id),
                    score: 0.1 * i as f64,
                    reason: "test".into(),
                    notified: false,
                    action: None,
                    kind: if i == 2 {
                        tikker_core::threat::AlertKind::Injection
                    } else {
                        tikker_core::threat::AlertKind::Impostor
                    },
                    evidence_from_us: None,
                    evidence_to_us: None,
                    marked_false_us: None,
                })
                .unwrap();
        }
    }
    store_typing(&f.db, &[("s", 200, 10)], 1_700_000_000_000_000);
    let router = f.api.unix_router();
    let (status, scores) = call(
        &router,
        "GET",
        "/scores?from=2023-11-14T22:13:21Z&limit=5",
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scores}");
    assert_eq!(scores.as_array().unwrap().len(), 2, "{scores}");
    assert_eq!(scores[0]["to"], "2023-11-14T22:13:21.5Z");
    let (_, alerts) = call(&router, "GET", "/alerts", &[], None).await;
    assert_eq!(alerts.as_array().unwrap().len(), 3);
    assert!(alerts[0]["created"].as_str().unwrap() > alerts[1]["created"].as_str().unwrap());
    assert_eq!(alerts[0]["kind"], "injection", "{alerts}");
    assert_eq!(alerts[1]["kind"], "impostor", "{alerts}");
    let (status, stats) = call(
        &router,
        "GET",
        "/stats/daily?from=2023-11-14&to=2023-11-14",
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["events"], 20);
    assert_eq!(stats["days"][0]["keystrokes"], 10);
    for bad in [
        "/scores?from=yesterday",
        "/scores?limit=0",
        "/alerts?to=2023-13-01",
        "/scores?from=2024-01-02&to=2024-01-01",
    ] {
        let (status, answer) = call(&router, "GET", bad, &[], None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
        assert!(answer["field"].is_string(), "{bad}: {answer}");
    }
}

#[tokio::test]
async fn it_was_me_marks_an_alert_false_once_needs_the_token_and_names_unknown_ids() {
    let f = fixture();
    let id = Store::open(&f.db)
        .unwrap()
        .save_alert(&StoredAlert {
            id: 0,
            created_us: 1_700_000_001_000_000,
            score_id: None,
            score: 0.0,
            reason: "test".into(),
            notified: true,
            action: None,
            kind: tikker_core::threat::AlertKind::Impostor,
            evidence_from_us: Some(1_700_000_000_000_000),
            evidence_to_us: Some(1_700_000_001_000_000),
            marked_false_us: None,
        })
        .unwrap();
    let router = f.api.tcp_router();
    let uri = format!("/alerts/{id}/false");
    let (status, _) = call(&router, "POST", &uri, &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the token is required");
    assert_eq!(Store::open(&f.db).unwrap().count_false_alerts().unwrap(), 0);
    let (name, value) = bearer();
    let token = [(name, value.as_str())];
    let (status, first) = call(&router, "POST", &uri, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["id"], id);
    assert!(first["marked_false"].is_string(), "{first}");
    assert_eq!(first["evidence_from"], "2023-11-14T22:13:20Z");
    assert_eq!(first["evidence_to"], "2023-11-14T22:13:21Z");
    let (status, again) = call(&router, "POST", &uri, &token, None).await;
    assert_eq!(status, StatusCode::OK, "idempotent: {again}");
    assert_eq!(
        again["marked_false"], first["marked_false"],
        "the first time stays"
    );
    let (_, listed) = call(&router, "GET", "/alerts", &token, None).await;
    assert_eq!(listed[0]["marked_false"], first["marked_false"]);
    let (status, unknown) = call(&router, "POST", "/alerts/999/false", &token, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    assert!(
        unknown["error"].as_str().unwrap().contains("999"),
        "{unknown}"
    );
    let (status, _) = call(&router, "POST", "/alerts/abc/false", &token, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(Store::open(&f.db).unwrap().count_false_alerts().unwrap(), 1);
}

#[tokio::test]
async fn the_openapi_description_lists_every_route() {
    let f = fixture();
    let (status, openapi) = call(&f.api.tcp_router(), "GET", "/openapi.json", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    let paths = openapi["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/patterns/detect",
        "/profile/build",
        "/anomalies/detect",
        "/authenticity/check",
        "/temporal/analyze",
        "/model/train",
        "/behavior/predict",
        "/predict_user",
        "/",
        "/status",
        "/pause",
        "/resume",
        "/scores",
        "/alerts",
        "/alerts/{id}/false",
        "/stats/daily",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert_eq!(
        paths["/temporal/analyze"]["post"]["security"],
        json!([{"bearer": []}])
    );
    assert!(paths["/patterns/detect"]["post"].get("security").is_none());
    assert!(openapi["components"]["schemas"]["EventsRequest"].is_object());
    let (status, answer) = call(&f.api.tcp_router(), "GET", "/nowhere", &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(answer["error"].is_string());
}

#[tokio::test]
async fn many_requests_run_at_once() {
    let f = fixture();
    let router = Arc::new(f.api.tcp_router());
    let mut tasks = Vec::new();
    for i in 0..16 {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("user{}", i % 4);
            let body = request_of(&user, &typing(80, 90, 180, i, 0));
            post(&router, "/profile/build", body.clone()).await.0 == StatusCode::OK
                && post(&router, "/authenticity/check", body).await.0 == StatusCode::OK
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap());
    }
}

#[tokio::test]
async fn a_baseline_built_in_one_process_is_used_by_another() {
    let f = fixture();
    let other = Api::new(
        &tikker::db_key::Database::plaintext(f.db.clone()),
        None,
        ApiToken::new(TOKEN),
        false,
        Limits::default(),
    )
    .unwrap();
    let (first, second) = (f.api.tcp_router(), other.tcp_router());
    let slow = typing(200, 90, 300, 1, 0);
    post(&first, "/profile/build", request_of("dana", &slow)).await;
    // The other process sees it once it is written (behind the answer).
    let start = std::time::Instant::now();
    loop {
        let (_, check) = post(&second, "/authenticity/check", request_of("dana", &slow)).await;
        if check["verdict"] != "unknown" {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{check}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A newer baseline from the other process replaces it in the first, within a second.
    let fast = typing(200, 60, 90, 2, 100_000);
    post(&second, "/profile/build", request_of("dana", &fast)).await;
    let start = std::time::Instant::now();
    loop {
        let (_, anomalies) = post(&first, "/anomalies/detect", request_of("dana", &fast)).await;
        if anomalies == json!([]) {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{anomalies}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Stores one session of events at impossible times, as an import before issue 13 did (a CMU
/// hold time of 1e300 s overflowed to −9.2e18 µs; events-csv times near the 64-bit limit).
fn store_impossible_times(db: &std::path::Path) {
    let mut store = Store::open(db, &tikker_store::Encryption::Off).unwrap();
    let mut tx = store.write().unwrap();
    for (label, time_us) in [
        ("overflowed", -9_223_372_036_854_775_000),
        ("far future", 9_223_372_036_854_000_000),
        ("after 9999", 253_402_300_800_000_000),
    ] {
        let session = tx
            .begin_session(
                &NewSession {
                    source_kind: "import".into(),
                    source_detail: "test".into(),
                    user: "me".into(),
                    label: label.into(),
                },
                time_us,
            )
            .unwrap();
        tx.append(
            session,
            &[
                KeyEvent::press(time_us, KeyCode(30)),
                KeyEvent::release(time_us + 80_000, KeyCode(30)),
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

#[tokio::test]
async fn an_impossible_stored_time_never_breaks_a_whole_database_read() {
    let f = fixture();
    let router = f.api.unix_router();
    store_typing(
        &f.db,
        &[
            ("fast", 100, 500),
            ("slow", 500, 500),
            ("normal", 200, 500),
            ("irregular", 200, 500),
        ],
        1_700_000_000_000_000,
    );
    store_impossible_times(&f.db);
    let (status, stats) = call(&router, "GET", "/stats/daily", &[], None).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["events"], 4000, "{stats}");
    let (status, trained) = call(&router, "POST", "/model/train", &[], None).await;
    assert_eq!(status, StatusCode::OK, "{trained}");
    assert_eq!(trained["samples"], 40);
}
