//! The JSON of the HTTP API's analytics requests and answers (field names are the original
//! services'), with their OpenAPI schemas. Conversions from the core's types live with the
//! daemon's handlers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tikker_core::KeyAction;
use tikker_core::analytics::input::RawEvent;
pub use tikker_core::threat::AlertKind;
pub use tikker_core::verify::calibration::Verdict;
use utoipa::ToSchema;

/// Reads a JSON number that is a whole number (`97` or `97.0`, as JSON Schema's `integer`
/// allows) as an `i64`.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Integer(i64),
        Float(f64),
    }
    match Number::deserialize(deserializer) {
        Ok(Number::Integer(n)) => Ok(n),
        Ok(Number::Float(x)) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
        _ => Err(serde::de::Error::custom("expected a whole number")),
    }
}

/// Press or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// The key went down.
    Press,
    /// The key came up.
    Release,
}

/// One key event.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Event {
    /// When, in milliseconds (since the Unix epoch, or any start); fractions are kept to the
    /// microsecond.
    #[schema(minimum = 0.0, maximum = 253_402_300_799_999.0_f64, example = 95.0)]
    pub timestamp: f64,
    /// The key: a Linux evdev key code.
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = i64, minimum = 0, maximum = 767, example = 30)]
    pub key_code: i64,
    /// `press` or `release`.
    pub event_type: EventType,
}

impl Event {
    /// The core's form.
    pub fn raw(&self) -> RawEvent {
        RawEvent {
            timestamp_ms: self.timestamp,
            key_code: self.key_code,
            action: match self.event_type {
                EventType::Press => KeyAction::Press,
                EventType::Release => KeyAction::Release,
            },
        }
    }
}

/// Events of one typist (at most 200,000, in any order: they are sorted).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct EventsRequest {
    /// The key events.
    pub events: Vec<Event>,
    /// Whose typing it is (1 to 128 characters, no control characters). Its baseline is kept
    /// apart from the owner's profile.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]+$",
        example = "alice"
    )]
    pub user_id: String,
}

/// A detected typing pattern.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PatternOut {
    /// `fast_typist`, `slow_typist`, `consistent_rhythm` or `inconsistent_rhythm`.
    pub name: String,
    /// Strength times support, in [0, 1].
    pub confidence: f64,
    /// Press→press intervals it rests on.
    pub frequency: u64,
    /// What it means, with the measured value.
    pub description: String,
    /// The values it was decided on (`avg_wpm`, `consistency`, …).
    pub features: BTreeMap<String, f64>,
}

/// A typing profile built from the request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfileOut {
    /// The caller's `user_id`.
    pub user_id: String,
    /// Words per minute (`null` with fewer than two presses).
    pub avg_typing_speed: Option<f64>,
    /// The busiest hours of the day (0–23, local time), busiest first.
    pub peak_hours: Vec<u8>,
    /// The most common words of the request (never stored).
    pub common_words: Vec<String>,
    /// Rhythm consistency in [0, 1] (`null` with fewer than three presses).
    pub consistency_score: Option<f64>,
    /// The names of the detected patterns.
    pub patterns: Vec<String>,
}

/// What departed from the baseline.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyType {
    /// Typing speed.
    TypingSpeedDeviation,
    /// Rhythm consistency.
    RhythmDeviation,
}

/// A departure from the baseline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnomalyOut {
    /// The request's last event, ms.
    pub timestamp: f64,
    /// What departed.
    pub anomaly_type: AnomalyType,
    /// In (0.5, 1]: how far beyond the tolerance.
    pub severity: f64,
    /// In words.
    pub reason: String,
    /// The baseline's value.
    pub expected_value: f64,
    /// The request's value.
    pub actual_value: f64,
}

/// Whether the request's typing is its `user_id`'s.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthenticityOut {
    /// The free-text verifier's calibrated score in [0, 1] (0 when `unknown`).
    pub authenticity_score: f64,
    /// How much the request shared with the baseline, in [0, 1).
    pub confidence: f64,
    /// The verdict of the score.
    pub verdict: Verdict,
    /// Why, with every component of the verifier's distance.
    pub reason: String,
}

/// The body of `/temporal/analyze`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct TemporalRequest {
    /// Days to analyse, ending today (1 to 3650).
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = i64, minimum = 1, maximum = 3650, example = 7)]
    pub date_range_days: i64,
}

/// The trend of the daily counts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendOut {
    /// Rising by more than 20 % over the range.
    Increasing,
    /// Falling by more than 20 %.
    Decreasing,
    /// Neither.
    Stable,
    /// Events on fewer than two days.
    InsufficientData,
}

/// One day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayOut {
    /// `YYYY-MM-DD`, local time.
    pub date: String,
    /// Events stored for the day.
    pub total_events: u64,
}

/// Events per day stored in `tikker.db`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TemporalOut {
    /// The trend of the daily counts.
    pub trend: TrendOut,
    /// The range, in days.
    pub date_range_days: u32,
    /// Every day of the range, oldest first.
    pub analysis: Vec<DayOut>,
}

/// A trained behaviour model.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TrainOut {
    /// Always `trained`.
    pub status: String,
    /// Windows of stored typing used (trained on and held out).
    pub samples: usize,
    /// The features of a window.
    pub features: Vec<String>,
    /// Share of held-out windows whose category the model predicts.
    pub accuracy: f64,
}

/// A behaviour category.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BehaviorCategoryOut {
    /// None of the others.
    Normal,
    /// Above 80 WPM.
    FastFocused,
    /// Below 30 WPM.
    SlowDeliberate,
    /// Rhythm consistency below 0.5.
    StressedOrTired,
}

/// The features a behaviour was predicted from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BehaviorFeaturesOut {
    /// Words per minute.
    pub typing_speed: f64,
    /// Rhythm consistency in [0, 1].
    pub consistency: f64,
}

/// A predicted behaviour.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BehaviorOut {
    /// Always `predicted`.
    pub status: String,
    /// The category.
    pub behavior_category: BehaviorCategoryOut,
    /// The share of the model's trees that voted for it.
    pub confidence: f64,
    /// What it was predicted from.
    pub features: BehaviorFeaturesOut,
}

/// The model kinds of predict-user (read as text, so that an unknown one gets the
/// predict-user error).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum ModelName {
    /// Random forest.
    #[serde(rename = "RF")]
    Rf,
    /// Support vector machine.
    #[serde(rename = "SVM")]
    Svm,
    /// Gradient-boosted trees.
    #[serde(rename = "XGBoost")]
    XgBoost,
}

/// Mean and standard deviation of one timing series, ms.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesIn {
    /// Mean, ms (within ±10⁹).
    #[serde(rename = "Mean")]
    #[schema(minimum = -1e9, maximum = 1e9)]
    pub mean: f64,
    /// Standard deviation, ms (0 to 10⁹).
    #[serde(rename = "STD")]
    #[schema(minimum = 0.0, maximum = 1e9)]
    pub std: f64,
}

/// The 8-number timing summary of one typed sequence.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictUserRequest {
    /// `RF`, `SVM` or `XGBoost`.
    #[serde(rename = "Model")]
    #[schema(value_type = ModelName, example = "RF")]
    pub model: String,
    /// Hold times (press → release of a key).
    #[serde(rename = "HT")]
    pub ht: SeriesIn,
    /// Press → press latencies of consecutive keys.
    #[serde(rename = "PPT")]
    pub ppt: SeriesIn,
    /// Release → release latencies.
    #[serde(rename = "RRT")]
    pub rrt: SeriesIn,
    /// Release → press latencies (negative when keys overlap).
    #[serde(rename = "RPT")]
    pub rpt: SeriesIn,
}

/// The predicted user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PredictUserOut {
    /// Always 200.
    pub statuscode: u16,
    /// Always `success`.
    pub status: String,
    /// The user the model predicts.
    #[serde(rename = "predicted user")]
    pub predicted_user: String,
}

/// The service is up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthOut {
    /// Always `healthy`.
    pub status: String,
    /// tikker's version.
    pub version: String,
}

/// A scored window of the continuous-authentication monitor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScoreOut {
    /// Its id.
    pub id: i64,
    /// Whose profile scored it.
    pub user: String,
    /// Its first keystroke (RFC 3339).
    pub from: String,
    /// Its last keystroke (RFC 3339).
    pub to: String,
    /// Calibrated score in [0, 1].
    pub score: f64,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// The verdict of the score.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// The version of the owner profile that scored it.
    pub profile_version: Option<i64>,
}

/// An alert of the monitor.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertOut {
    /// Its id.
    pub id: i64,
    /// When it was raised (RFC 3339).
    pub created: String,
    /// The score that raised it.
    pub score_id: Option<i64>,
    /// That score.
    pub score: f64,
    /// Why.
    pub reason: String,
    /// Whether a notification server took it.
    pub notified: bool,
    /// The outcome of the configured alert action.
    pub action: Option<String>,
    /// What raised it: `impostor` (the monitor), `injection`, `replay` or `new_device`.
    pub kind: AlertKind,
    /// The typing its evidence rests on, from this time (RFC 3339)…
    #[serde(default)]
    pub evidence_from: Option<String>,
    /// …to this one; `null` for alerts that cover no scored windows.
    #[serde(default)]
    pub evidence_to: Option<String>,
    /// When the owner marked it false ("It was me", `POST /alerts/{id}/false`); `null` while
    /// it stands.
    #[serde(default)]
    pub marked_false: Option<String>,
}

/// One day of typing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayStatsOut {
    /// `YYYY-MM-DD`, local time.
    pub date: String,
    /// Events.
    pub events: u64,
    /// Key presses.
    pub keystrokes: u64,
    /// Active typing time, minutes.
    pub active_minutes: f64,
    /// Words per minute, if there was active typing.
    pub wpm: Option<f64>,
}

/// The statistics of `tikker stats`, per day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DailyStatsOut {
    /// All events.
    pub events: u64,
    /// All key presses.
    pub keystrokes: u64,
    /// Days with keystrokes.
    pub active_days: usize,
    /// Words per minute over all active typing.
    pub wpm: Option<f64>,
    /// Each day with events, oldest first.
    pub days: Vec<DayStatsOut>,
}

/// The body of `POST /data/forget`: forget the last `last_minutes` minutes, or the span from
/// `from_us` to `to_us` (µs since the Unix epoch, `from_us` inclusive, `to_us` exclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetRequest {
    /// Forget this many minutes up to now (1 to 5256000, ten years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_minutes: Option<u64>,
    /// The span's start, µs since the Unix epoch (with `to_us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_us: Option<i64>,
    /// The span's end, µs since the Unix epoch (with `from_us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_us: Option<i64>,
}

/// What `POST /data/forget` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ForgetReply {
    /// The span's start (RFC 3339).
    pub from: String,
    /// The span's end (RFC 3339).
    pub to: String,
    /// Raw key events deleted.
    pub events: u64,
    /// Key presses among them.
    pub keystrokes: u64,
    /// Sessions that lost events.
    pub sessions: u64,
    /// Quarter-hour activity rollups removed (those wholly inside the span; the two at its
    /// edges were recounted).
    pub rollups_removed: u64,
    /// Whether the write-ahead log was truncated at once (otherwise at SQLite's next
    /// checkpoint).
    pub log_truncated: bool,
    /// What was removed and what stays, in words.
    pub message: String,
}

/// A one-time code of the dashboard (`POST /dashboard/code`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DashboardCodeOut {
    /// The dashboard's address with the code: open it in a browser within `expires_in_s`.
    pub url: String,
    /// Seconds the code stays valid; it works once.
    pub expires_in_s: u64,
}

/// One key of the owner's profile.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfileKeyOut {
    /// Linux evdev key code.
    pub code: u16,
    /// Its name (`KEY_A` → `A`).
    pub name: String,
    /// Presses the profile holds (recent typing weighs more: older counts fade).
    pub presses: f64,
    /// Share of all presses, in `[0, 1]`.
    pub share: f64,
    /// Typical (median) time held, ms.
    pub hold_ms: f64,
}

/// One key pair of the owner's profile.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfileDigraphOut {
    /// The two keys' names, `T H`.
    pub pair: String,
    /// Times the pair was typed (fading as the presses do).
    pub count: f64,
    /// Typical (median) time from the first key's press to the second's, ms.
    pub ppt_ms: f64,
    /// How far its typical time lies from the owner's overall typical press-to-press time, in
    /// standard errors (positive: slower).
    pub distinctiveness: f64,
}

/// The owner's stored profile, for the dashboard's keyboard page (`GET /profile/owner`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OwnerProfileOut {
    /// Whose profile.
    pub user: String,
    /// Its version.
    pub version: i64,
    /// When it was saved (RFC 3339).
    pub saved_at: String,
    /// Keystrokes it rests on (after fading).
    pub keystrokes: u64,
    /// Words per minute of its typing.
    pub words_per_minute: Option<f64>,
    /// Rhythm consistency, `[0, 1]`.
    pub rhythm_consistency: Option<f64>,
    /// Median hold time, ms.
    pub median_hold_ms: Option<f64>,
    /// Median press-to-press time, ms.
    pub median_press_to_press_ms: Option<f64>,
    /// Every key it knows.
    pub keys: Vec<ProfileKeyOut>,
    /// The slowest key pairs (typed at least a few times), slowest first.
    pub slowest_digraphs: Vec<ProfileDigraphOut>,
    /// The key pairs whose timing sets the owner apart most, most distinctive first.
    pub characteristic_digraphs: Vec<ProfileDigraphOut>,
    /// How far the owner's typing and scores moved since enrolment (`null` for a profile
    /// saved before drift was tracked).
    pub drift: Option<tikker_core::verify::drift::Drift>,
    /// The profile in words, a sentence each (what `tikker profile show` says).
    pub words: Vec<String>,
}

/// Typing in one span of the dashboard's activity (a quarter hour, a day, a week, a month).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivitySpanOut {
    /// Its start: RFC 3339 for a quarter hour, `YYYY-MM-DD` (local) otherwise.
    pub start: String,
    /// Key presses.
    pub keystrokes: u64,
    /// Minutes of active typing (press-to-press gaps up to 2 s).
    pub active_minutes: f64,
    /// Words per minute of active typing (characters / 5 per minute), if there was any.
    pub wpm: Option<f64>,
    /// Rhythm consistency of the span's typing, from 0 to 1: `1 − std / mean` of its
    /// press-to-press intervals (gaps up to 2 s), pooled over its quarter hours. Higher is
    /// steadier: 1 is a perfectly even rhythm, 0.5 means the intervals typically stray from
    /// their mean by half of it. `None` with fewer than two intervals, or for typing whose raw
    /// events were pruned before tikker kept intervals (schema 8).
    pub rhythm_consistency: Option<f64>,
    /// The mean press-to-press interval of active typing, in ms, if there was any.
    pub mean_interval_ms: Option<f64>,
}

/// Key presses in one hour of the week, over the past year.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HourOfWeekOut {
    /// 1 = Monday … 7 = Sunday (local time).
    pub weekday: u8,
    /// 0–23 (local time).
    pub hour: u8,
    /// Key presses.
    pub keystrokes: u64,
}

/// One local day of the past year.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivityDayOut {
    /// `YYYY-MM-DD`, local.
    pub date: String,
    /// Key presses.
    pub keystrokes: u64,
    /// Minutes of active typing.
    pub active_minutes: f64,
    /// Words per minute, if there was active typing.
    pub wpm: Option<f64>,
}

/// The dashboard's activity (`GET /activity`), from the quarter-hour rollups.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActivityOut {
    /// The time zone of days and hours (IANA name, or the offset).
    pub time_zone: String,
    /// Whose typing (`None`: every user's).
    pub user: Option<String>,
    /// The first day of the past year (`YYYY-MM-DD`).
    pub year_from: String,
    /// Today (`YYYY-MM-DD`).
    pub year_to: String,
    /// Today: totals and its quarter hours with typing.
    pub today: TodayOut,
    /// The days of the past year with typing, oldest first.
    pub days: Vec<ActivityDayOut>,
    /// Every hour of the week with typing in the past year.
    pub hour_of_week: Vec<HourOfWeekOut>,
    /// `day`, `week` or `month`: the spans of `trend`.
    pub bucket: String,
    /// The last 30 days, 26 weeks (from Monday) or 12 months, oldest first, empty ones included.
    pub trend: Vec<ActivitySpanOut>,
}

/// Today's typing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TodayOut {
    /// Key presses today.
    pub keystrokes: u64,
    /// Minutes of active typing today.
    pub active_minutes: f64,
    /// Words per minute today, if there was active typing.
    pub wpm: Option<f64>,
    /// Today's quarter hours with typing, oldest first.
    pub quarters: Vec<ActivitySpanOut>,
}
