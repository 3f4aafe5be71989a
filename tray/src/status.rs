//! The daemon's `GET /status` answer, as much of it as the tray shows.
//!
//! These are the tray's own structures, not the daemon's: the tray is a thin client that builds
//! without the daemon crate. Every field has a default and unknown fields are ignored, so the tray
//! works with daemons older or newer than itself: a daemon without authentication reports no
//! `auth` (shown as grey, "unknown"), and an `auth` object the tray cannot read is treated the
//! same way instead of making the whole status unreadable.

use serde::{Deserialize, Deserializer};

/// The daemon's status, as the tray reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DaemonStatus {
    /// What the daemon is doing about capture.
    pub state: CaptureState,
    /// The source in use (`x11`, `evdev`, `replay`), if any.
    pub source: Option<String>,
    /// Why nothing is captured (state `waiting`).
    pub waiting_reason: Option<String>,
    /// Whether capture is paused now.
    pub paused: bool,
    /// When the pause ends (RFC 3339); `None` while paused means until resumed.
    pub paused_until: Option<String>,
    /// The database file the daemon records into (the tray only opens its folder).
    pub database: Option<String>,
    /// The daemon's process id: a new one means the daemon restarted.
    pub pid: Option<u32>,
    /// Key events recorded today, when the daemon reports it.
    #[serde(deserialize_with = "lenient")]
    pub events_today: Option<u64>,
    /// The continuous-authentication monitor, when the daemon reports it.
    #[serde(deserialize_with = "lenient")]
    pub auth: Option<AuthStatus>,
}

/// The daemon's capture state (`state` in the status).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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
    /// A state this tray does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

/// The continuous-authentication part of the status (`auth`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AuthStatus {
    /// Off, learning the owner's typing, or comparing typing with the profile.
    pub phase: AuthPhase,
    /// Keystrokes learnt so far while enrolling.
    pub enrolled_keystrokes: u64,
    /// Keystrokes enrolment needs in all.
    pub enrolment_needed: u64,
    /// The latest verdict.
    pub verdict: Verdict,
    /// The latest score in [0, 1] (1: surely the owner).
    pub score: Option<f64>,
    /// How much the scored window shared with the profile, in [0, 1].
    pub confidence: Option<f64>,
    /// Why the verdict is what it is, in words.
    pub reason: Option<String>,
    /// When the latest score was computed (RFC 3339).
    pub scored_at: Option<String>,
    /// The latest alert, if any.
    #[serde(deserialize_with = "lenient")]
    pub last_alert: Option<Alert>,
}

/// The phase of the authentication monitor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthPhase {
    /// Authentication is switched off.
    Off,
    /// Learning the owner's typing.
    Enrolling,
    /// Scoring typing against the owner's profile.
    Monitoring,
    /// A phase this tray does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

/// Whether the typing looks like the owner's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Score above 0.8.
    Authentic,
    /// Score above 0.6.
    LikelyAuthentic,
    /// Score above 0.4.
    Uncertain,
    /// Score at or below 0.4.
    Suspicious,
    /// No profile or no score yet (or a verdict this tray does not know).
    #[default]
    #[serde(other)]
    Unknown,
}

impl Verdict {
    /// The verdict in words.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Authentic => "authentic",
            Verdict::LikelyAuthentic => "likely authentic",
            Verdict::Uncertain => "uncertain",
            Verdict::Suspicious => "suspicious",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The latest alert raised by the monitor.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Alert {
    /// When (RFC 3339).
    pub at: String,
    /// The score that raised it.
    pub score: f64,
    /// Why, in words.
    pub reason: String,
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

    /// A status as today's daemon (without authentication) writes it.
    const WITHOUT_AUTH: &str = r#"{
        "state": "capturing", "source": "replay", "source_detail": "/tmp/x.csv",
        "waiting_reason": null, "paused": false, "paused_until": null,
        "events": {"captured": 10, "recorded": 10, "dropped": 0, "sessions": 1},
        "latency": {"p50_ms": 100.0, "p99_ms": 200.0, "max_ms": 210.0, "samples": 10},
        "database": "/home/me/.local/share/tikker/tikker.db", "pid": 4242, "uptime_s": 12.5
    }"#;

    #[test]
    fn a_status_without_auth_reads_as_unknown_authentication() {
        let status: DaemonStatus = serde_json::from_str(WITHOUT_AUTH).unwrap();
        assert_eq!(status.state, CaptureState::Capturing);
        assert_eq!(status.source.as_deref(), Some("replay"));
        assert_eq!(status.pid, Some(4242));
        assert_eq!(
            status.database.as_deref(),
            Some("/home/me/.local/share/tikker/tikker.db")
        );
        assert_eq!(status.auth, None);
        assert_eq!(status.events_today, None);
    }

    #[test]
    fn a_status_with_auth_reads_every_field() {
        // The daemon's `auth` as the monitor reports it (with fields the tray does not show).
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
        let status: DaemonStatus = serde_json::from_str(json).unwrap();
        assert_eq!(status.events_today, Some(1234));
        let auth = status.auth.unwrap();
        assert_eq!(auth.phase, AuthPhase::Monitoring);
        assert_eq!(auth.verdict, Verdict::LikelyAuthentic);
        assert_eq!(auth.score, Some(0.71));
        assert_eq!(auth.enrolment_needed, 5000);
        assert_eq!(auth.last_alert.unwrap().reason, "five low windows");
    }

    #[test]
    fn unknown_values_and_unreadable_parts_do_not_spoil_the_status() {
        let json = r#"{
            "state": "hibernating", "paused": false, "events_today": "many",
            "auth": {"phase": "dreaming", "verdict": "maybe", "score": null, "last_alert": 7}
        }"#;
        let status: DaemonStatus = serde_json::from_str(json).unwrap();
        assert_eq!(status.state, CaptureState::Unknown);
        assert_eq!(status.events_today, None);
        let auth = status.auth.unwrap();
        assert_eq!(auth.phase, AuthPhase::Unknown);
        assert_eq!(auth.verdict, Verdict::Unknown);
        assert_eq!(auth.last_alert, None);

        let broken_auth = r#"{"state": "paused", "paused": true, "auth": {"score": "high"}}"#;
        let status: DaemonStatus = serde_json::from_str(broken_auth).unwrap();
        assert_eq!(status.state, CaptureState::Paused);
        assert_eq!(status.auth, None);
    }
}
