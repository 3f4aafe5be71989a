//! The daemon's status report: the answer to `GET /status` (and to `POST /pause` and
//! `/resume`), read by `tikker status`, the tray and the dashboard.
//!
//! Readers meet daemons older or newer than themselves, so reading is tolerant: every field has
//! a default, unknown fields are ignored, an unknown state, phase or verdict reads as `Unknown`,
//! and an optional part that cannot be read (`auth`, `last_alert`, `events_today`) reads as
//! absent instead of making the whole status unreadable.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub use tikker_core::threat::AlertKind;
pub use tikker_core::verify::calibration::Verdict;

/// What the daemon is doing about capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptureState {
    /// Opening its source.
    Starting,
    /// A source runs and events are recorded.
    Capturing,
    /// A source runs but capture is paused.
    Paused,
    /// No usable source: the daemon serves and tries again later.
    Waiting,
    /// Shutting down.
    Stopping,
    /// A state this reader does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl CaptureState {
    /// The state's name on the wire (`capturing`).
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureState::Starting => "starting",
            CaptureState::Capturing => "capturing",
            CaptureState::Paused => "paused",
            CaptureState::Waiting => "waiting",
            CaptureState::Stopping => "stopping",
            CaptureState::Unknown => "unknown",
        }
    }
}

/// Event counts since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CountersSnapshot {
    /// Events a source handed to the writer's queue.
    pub captured: u64,
    /// Events committed to the database.
    pub recorded: u64,
    /// Events dropped for any reason (queue full, kernel overflow, database errors).
    pub dropped: u64,
    /// Of `dropped`: because the writer's queue was full.
    pub dropped_queue_full: u64,
    /// Of `dropped`: discarded after the kernel reported lost events.
    pub dropped_by_kernel: u64,
    /// Of `dropped`: refused by the database.
    pub lost_to_store_errors: u64,
    /// Sessions opened.
    pub sessions: u64,
}

/// Percentiles of capture-to-commit latency, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LatencySummary {
    /// How many events were measured.
    pub samples: u64,
    /// Median (upper edge of its 1 ms bucket).
    pub p50_ms: f64,
    /// 99th percentile (upper edge of its 1 ms bucket).
    pub p99_ms: f64,
    /// The longest.
    pub max_ms: f64,
}

/// The phase of the continuous-authentication monitor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthPhase {
    /// Switched off in the configuration.
    Off,
    /// Learning the owner's typing.
    Enrolling,
    /// Scoring typing against the owner's profile.
    Monitoring,
    /// A phase this reader does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl AuthPhase {
    /// The phase's name on the wire (`monitoring`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthPhase::Off => "off",
            AuthPhase::Enrolling => "enrolling",
            AuthPhase::Monitoring => "monitoring",
            AuthPhase::Unknown => "unknown",
        }
    }
}

/// The last alert, as the status reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LastAlert {
    /// When (RFC 3339): the end of the window that raised it.
    pub at: String,
    /// That window's score.
    pub score: f64,
    /// Why.
    pub reason: String,
    /// Whether a notification server took the notification (false until it answers).
    pub notified: bool,
    /// What raised it (`impostor` from daemons that do not say).
    pub kind: AlertKind,
    /// Its id (`POST /alerts/{id}/false`), if it was stored.
    pub id: Option<i64>,
    /// The owner marked it false ("It was me").
    pub marked_false: bool,
}

/// Continuous authentication, as the status reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct AuthStatus {
    /// Off, enrolling or monitoring.
    pub phase: AuthPhase,
    /// Keystrokes of enrolment collected (all of them once enrolled).
    pub enrolled_keystrokes: u64,
    /// Keystrokes the enrolment needs.
    pub enrolment_needed: u64,
    /// The verdict of the latest window (`unknown` when nothing was scored yet, or enrolling).
    pub verdict: Verdict,
    /// The latest window's score in [0, 1], if any.
    pub score: Option<f64>,
    /// Its confidence in [0, 1].
    pub confidence: Option<f64>,
    /// Why, in words.
    pub reason: Option<String>,
    /// When that window ended (RFC 3339).
    pub scored_at: Option<String>,
    /// The stored owner profile version in use.
    pub profile_version: Option<i64>,
    /// Keystrokes the current profile rests on.
    pub profile_keystrokes: Option<u64>,
    /// The last alert (this run or an earlier one).
    #[serde(deserialize_with = "lenient")]
    pub last_alert: Option<LastAlert>,
    /// Committed events the monitor could not keep up with and did not score.
    pub skipped_events: u64,
    /// Events stored today (local calendar day), by any source.
    pub events_today: u64,
    /// Alerts the owner marked false ("It was me"), all time.
    pub alerts_marked_false: u64,
}

impl AuthStatus {
    /// The status of a daemon whose monitor is disabled.
    pub fn off() -> AuthStatus {
        AuthStatus {
            phase: AuthPhase::Off,
            ..AuthStatus::default()
        }
    }
}

/// The answer to `GET /status` (and to `POST /pause` and `/resume`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct StatusReport {
    /// What the daemon is doing about capture.
    pub state: CaptureState,
    /// The source in use (`x11`, `evdev`, `replay`), if any.
    pub source: Option<String>,
    /// Its display, devices or file.
    pub source_detail: Option<String>,
    /// Why nothing is captured (state `waiting`).
    pub waiting_reason: Option<String>,
    /// Whether capture is paused now.
    pub paused: bool,
    /// When the pause ends (RFC 3339), or `null` if not paused or paused until resumed.
    pub paused_until: Option<String>,
    /// Event counts since the daemon started.
    pub events: CountersSnapshot,
    /// Capture-to-commit latency since the daemon started.
    pub latency: LatencySummary,
    /// The database recorded into.
    pub database: String,
    /// The daemon's process id (a new one means the daemon restarted).
    pub pid: u32,
    /// Seconds since the daemon started.
    pub uptime_s: f64,
    /// Events stored today (local calendar day), by any source.
    #[serde(deserialize_with = "lenient")]
    pub events_today: Option<u64>,
    /// Continuous authentication: enrolment, the latest score and verdict, the last alert
    /// (absent from daemons without it).
    #[serde(deserialize_with = "lenient")]
    pub auth: Option<AuthStatus>,
    /// How the record is protected and how long raw events are kept (absent from daemons
    /// without it).
    #[serde(default, deserialize_with = "lenient")]
    pub privacy: Option<PrivacyStatus>,
}

/// How the daemon's record is protected at rest and kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrivacyStatus {
    /// Where the database key is: `keyring` (the desktop's Secret Service), `keyfile`, or `off`
    /// (not encrypted).
    pub encryption: String,
    /// The key file, when the key is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// What the user should know about it (for example that no Secret Service answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Raw key events older than this many days are deleted (0: only what the monitor needs).
    pub raw_retention_days: u32,
    /// Raw events before this instant (RFC 3339) were deleted by retention; absent if none ever
    /// were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_kept_from: Option<String>,
}

/// The body of `POST /pause`: pause for `duration_s` seconds, or without it until resumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PauseRequest {
    /// How long to pause, in seconds (1 to 3153600000, a century); absent: until
    /// `POST /resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 3_153_600_000_u64)]
    pub duration_s: Option<u64>,
}

/// Reads an optional part of the status, or `None` if it is absent, `null` or unreadable.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status as a daemon without authentication writes it.
    const WITHOUT_AUTH: &str = r#"{
        "state": "capturing", "source": "replay", "source_detail": "/tmp/x.csv",
        "waiting_reason": null, "paused": false, "paused_until": null,
        "events": {"captured": 10, "recorded": 10, "dropped": 0, "sessions": 1},
        "latency": {"p50_ms": 100.0, "p99_ms": 200.0, "max_ms": 210.0, "samples": 10},
        "database": "/home/me/.local/share/tikker/tikker.db", "pid": 4242, "uptime_s": 12.5
    }"#;

    #[test]
    fn a_status_without_auth_reads_as_unknown_authentication() {
        let status: StatusReport = serde_json::from_str(WITHOUT_AUTH).unwrap();
        assert_eq!(status.state, CaptureState::Capturing);
        assert_eq!(status.source.as_deref(), Some("replay"));
        assert_eq!(status.pid, 4242);
        assert_eq!(status.database, "/home/me/.local/share/tikker/tikker.db");
        assert_eq!(status.events.captured, 10);
        assert_eq!(status.auth, None);
        assert_eq!(status.events_today, None);
    }

    #[test]
    fn a_status_with_auth_reads_every_field_and_writes_back_the_same() {
        let json = r#"{
            "state": "capturing", "paused": false, "pid": 1, "events_today": 1234,
            "auth": {"phase": "monitoring", "enrolled_keystrokes": 5000, "enrolment_needed": 5000,
                     "verdict": "likely_authentic", "score": 0.71, "confidence": 0.9,
                     "reason": "typing matches the profile", "scored_at": "2026-05-01T10:00:00Z",
                     "profile_version": 3, "profile_keystrokes": 5000,
                     "last_alert": {"at": "2026-05-01T09:00:00Z", "score": 0.2,
                                    "reason": "five low windows", "notified": true},
                     "skipped_events": 0, "events_today": 1234}
        }"#;
        let status: StatusReport = serde_json::from_str(json).unwrap();
        assert_eq!(status.events_today, Some(1234));
        let auth = status.auth.clone().unwrap();
        assert_eq!(auth.phase, AuthPhase::Monitoring);
        assert_eq!(auth.verdict, Verdict::LikelyAuthentic);
        assert_eq!(auth.score, Some(0.71));
        assert_eq!(auth.enrolment_needed, 5000);
        assert_eq!(auth.last_alert.unwrap().reason, "five low windows");
        let again: StatusReport =
            serde_json::from_str(&serde_json::to_string(&status).unwrap()).unwrap();
        assert_eq!(again, status);
    }

    #[test]
    fn unknown_values_and_unreadable_parts_do_not_spoil_the_status() {
        let json = r#"{
            "state": "hibernating", "paused": false, "events_today": "many",
            "auth": {"phase": "dreaming", "verdict": "maybe", "score": null, "last_alert": 7}
        }"#;
        let status: StatusReport = serde_json::from_str(json).unwrap();
        assert_eq!(status.state, CaptureState::Unknown);
        assert_eq!(status.events_today, None);
        let auth = status.auth.unwrap();
        assert_eq!(auth.phase, AuthPhase::Unknown);
        assert_eq!(auth.verdict, Verdict::Unknown);
        assert_eq!(auth.last_alert, None);

        let broken_auth = r#"{"state": "paused", "paused": true, "auth": {"score": "high"}}"#;
        let status: StatusReport = serde_json::from_str(broken_auth).unwrap();
        assert_eq!(status.state, CaptureState::Paused);
        assert_eq!(status.auth, None);
    }

    #[test]
    fn a_pause_request_without_a_duration_is_an_empty_object() {
        assert_eq!(
            serde_json::to_string(&PauseRequest::default()).unwrap(),
            "{}"
        );
        let timed: PauseRequest = serde_json::from_str(r#"{"duration_s": 900}"#).unwrap();
        assert_eq!(timed.duration_s, Some(900));
    }
}
