//! `GET /activity`: the dashboard's view of typing over time, summed from the quarter-hour
//! rollups (`tikker_store`'s `activity` table, one row per quarter hour with typing), never
//! from the raw events: today per quarter hour, the past year per local day, per hour of the
//! week, and the last 30 days, 26 weeks or 12 months (keystrokes, active time, words per
//! minute and rhythm consistency, each span's from its buckets' pooled sums). One indexed read of at most a year of
//! rows (35,040 quarter hours), summed here.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;
use tikker_core::activity::{ActivityBucket, ActivityTally};
use tikker_wire::api::{ActivityDayOut, ActivityOut, ActivitySpanOut, HourOfWeekOut, TodayOut};
use utoipa::IntoParams;

use super::body::{ApiError, ErrorBody};
use super::state::{ApiState, blocking};

/// The spans of the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// The last 30 days.
    Day,
    /// The last 26 weeks, from Monday.
    Week,
    /// The last 12 months.
    Month,
}

impl Bucket {
    fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }
}

/// The query of `GET /activity`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// `day` (default), `week` or `month`: the spans of the trend.
    #[param(value_type = Option<String>)]
    pub bucket: Option<Bucket>,
    /// Whose typing (default: the daemon's capture user; `*` for every user).
    pub user: Option<String>,
}

fn day_of(time_us: i64, tz: &TimeZone) -> Option<jiff::Zoned> {
    Timestamp::from_microsecond(time_us)
        .ok()
        .map(|t| t.to_zoned(tz.clone()))
}

fn start_us(date: Date, tz: &TimeZone) -> Result<i64, ApiError> {
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_microsecond())
        .map_err(ApiError::internal)
}

fn span_out(start: String, tally: &ActivityTally) -> ActivitySpanOut {
    ActivitySpanOut {
        start,
        keystrokes: tally.keystrokes,
        active_minutes: tally.active_minutes(),
        wpm: tally.wpm(),
        rhythm_consistency: tally.rhythm_consistency(),
        mean_interval_ms: tally.mean_interval_ms(),
    }
}

/// The first day of the trend span holding `date`.
fn span_start(bucket: Bucket, date: Date) -> Date {
    match bucket {
        Bucket::Day => date,
        Bucket::Week => {
            let back = i64::from(date.weekday().to_monday_zero_offset());
            date.checked_sub(back.days()).unwrap_or(date)
        }
        Bucket::Month => date.first_of_month(),
    }
}

/// The trend's spans, oldest first, ending with the one holding `today`.
fn span_starts(bucket: Bucket, today: Date) -> Vec<Date> {
    let last = span_start(bucket, today);
    let (count, step) = match bucket {
        Bucket::Day => (30, 1.day()),
        Bucket::Week => (26, 1.week()),
        Bucket::Month => (12, 1.month()),
    };
    let mut starts: Vec<Date> = (0..count)
        .filter_map(|i| last.checked_sub(step * i).ok())
        .collect();
    starts.reverse();
    starts
}

/// Sums `buckets` (a year of rollups ending now) into the dashboard's activity.
pub fn summarize(
    buckets: &[ActivityBucket],
    bucket: Bucket,
    now: &jiff::Zoned,
    user: Option<String>,
) -> Result<ActivityOut, ApiError> {
    let tz = now.time_zone().clone();
    let today = now.date();
    let year_from = today.checked_sub(364.days()).map_err(ApiError::internal)?;
    let today_start = start_us(today, &tz)?;
    let mut days: BTreeMap<Date, ActivityTally> = BTreeMap::new();
    let mut week: BTreeMap<(u8, u8), u64> = BTreeMap::new();
    let mut spans: BTreeMap<Date, ActivityTally> = BTreeMap::new();
    let mut total_today = ActivityTally::default();
    let mut quarters = Vec::new();
    for b in buckets {
        let Some(at) = day_of(b.start_us, &tz) else {
            continue;
        };
        let date = at.date();
        days.entry(date).or_default().add(&b.tally);
        let weekday = u8::try_from(at.weekday().to_monday_one_offset()).unwrap_or(1);
        let hour = u8::try_from(at.hour()).unwrap_or(0);
        *week.entry((weekday, hour)).or_default() += b.tally.keystrokes;
        spans
            .entry(span_start(bucket, date))
            .or_default()
            .add(&b.tally);
        if b.start_us >= today_start {
            total_today.add(&b.tally);
            quarters.push(span_out(at.timestamp().to_string(), &b.tally));
        }
    }
    let trend = span_starts(bucket, today)
        .into_iter()
        .map(|start| {
            let tally = spans.get(&start).copied().unwrap_or_default();
            span_out(start.to_string(), &tally)
        })
        .collect();
    Ok(ActivityOut {
        time_zone: tz
            .iana_name()
            .map_or_else(|| now.offset().to_string(), str::to_owned),
        user,
        year_from: year_from.to_string(),
        year_to: today.to_string(),
        today: TodayOut {
            keystrokes: total_today.keystrokes,
            active_minutes: total_today.active_minutes(),
            wpm: total_today.wpm(),
            quarters,
        },
        days: days
            .into_iter()
            .filter(|(date, _)| *date >= year_from)
            .map(|(date, t)| ActivityDayOut {
                date: date.to_string(),
                keystrokes: t.keystrokes,
                active_minutes: t.active_minutes(),
                wpm: t.wpm(),
            })
            .collect(),
        hour_of_week: week
            .into_iter()
            .map(|((weekday, hour), keystrokes)| HourOfWeekOut {
                weekday,
                hour,
                keystrokes,
            })
            .collect(),
        bucket: bucket.as_str().to_owned(),
        trend,
    })
}

/// Typing over time for the dashboard, from the quarter-hour rollups: today per quarter hour,
/// the past year per local day and per hour of the week, and WPM and rhythm consistency over
/// the last 30 days, 26 weeks or 12 months.
#[utoipa::path(get, path = "/activity", tag = "daemon", params(ActivityQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Activity", body = ActivityOut),
        (status = 422, description = "A query parameter that does not fit (named in `field`)", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody)))]
pub async fn activity(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<Json<ActivityOut>, ApiError> {
    let Query(query) = query.map_err(super::body::query_error)?;
    let bucket = query.bucket.unwrap_or(Bucket::Day);
    let user = match query.user.as_deref() {
        Some("*") => None,
        Some(user) => Some(user.to_owned()),
        None => Some(state.owner().to_owned()),
    };
    blocking(move || {
        let now = Timestamp::now().to_zoned(state.tz.clone());
        // The year's first day, and a week before it for the trend's first week.
        let first = now
            .date()
            .checked_sub(371.days())
            .map_err(ApiError::internal)?;
        let from_us = start_us(first, &state.tz)?;
        let buckets = state
            .store
            .read(|store| store.activity(Some(from_us), None, user.as_deref()))
            .and_then(|r| r)
            .map_err(ApiError::internal)?;
        Ok(Json(summarize(&buckets, bucket, &now, user)?))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket of `keystrokes` presses whose `keystrokes − 1` intervals fill a minute of
    /// active time, alternating between 0.5 and 1.5 times their mean.
    fn bucket(at: &str, keystrokes: u64) -> ActivityBucket {
        let intervals = keystrokes - 1;
        let mean = 60_000_000 / intervals as u128;
        let interval_squares = (0..intervals as u128)
            .map(|i| if i % 2 == 0 { mean / 2 } else { 3 * mean / 2 }.pow(2))
            .sum();
        ActivityBucket {
            start_us: at.parse::<Timestamp>().unwrap().as_microsecond(),
            tally: ActivityTally {
                events: keystrokes * 2,
                keystrokes,
                active_us: 60_000_000,
                characters: keystrokes,
                intervals,
                interval_squares,
            },
        }
    }

    #[test]
    fn rollups_sum_into_days_hours_of_the_week_and_trend_spans_in_local_time() {
        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        // Wednesday 2026-11-25 and Monday 2026-11-30, local afternoon; one quarter hour
        // before midnight UTC that is already the next local day.
        let buckets = [
            bucket("2026-11-25T13:00:00Z", 100),
            bucket("2026-11-25T13:15:00Z", 50),
            bucket("2026-11-29T23:15:00Z", 10),
            bucket("2026-11-30T13:00:00Z", 200),
        ];
        let now = "2026-11-30T15:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .to_zoned(tz);
        let out = summarize(&buckets, Bucket::Week, &now, None).unwrap();
        assert_eq!(out.time_zone, "Europe/Amsterdam");
        assert_eq!(out.year_to, "2026-11-30");
        assert_eq!(out.year_from, "2025-12-01");
        let days: Vec<(&str, u64)> = out
            .days
            .iter()
            .map(|d| (d.date.as_str(), d.keystrokes))
            .collect();
        assert_eq!(days, [("2026-11-25", 150), ("2026-11-30", 210)]);
        assert_eq!(out.today.keystrokes, 210);
        assert_eq!(out.today.quarters.len(), 2);
        let cell = |weekday, hour| {
            out.hour_of_week
                .iter()
                .find(|c| c.weekday == weekday && c.hour == hour)
                .map(|c| c.keystrokes)
        };
        assert_eq!(cell(3, 14), Some(150), "Wednesday 14 h local");
        assert_eq!(cell(1, 0), Some(10), "Monday 0 h local");
        assert_eq!(cell(1, 14), Some(200));
        assert_eq!(out.trend.len(), 26);
        let last = out.trend.last().unwrap();
        assert_eq!((last.start.as_str(), last.keystrokes), ("2026-11-30", 210));
        let before = &out.trend[24];
        assert_eq!(
            (before.start.as_str(), before.keystrokes),
            ("2026-11-23", 150)
        );
        assert!(
            out.trend[..24]
                .iter()
                .all(|s| s.keystrokes == 0 && s.wpm.is_none())
        );
        // Rhythm: a quarter hour of intervals straying by half their mean is 0.5 consistent;
        // a span's figure pools its buckets' sums.
        let quarter = out
            .today
            .quarters
            .last()
            .unwrap()
            .rhythm_consistency
            .unwrap();
        assert!((quarter - 0.5).abs() < 0.01, "{quarter}");
        assert_eq!(
            out.today.quarters.last().unwrap().mean_interval_ms,
            Some(60_000.0 / 199.0)
        );
        let mut pooled = ActivityTally::default();
        for b in &buckets[2..] {
            pooled.add(&b.tally);
        }
        assert_eq!(last.rhythm_consistency, pooled.rhythm_consistency());
        assert!(last.rhythm_consistency.is_some());
        assert!(
            out.trend[..24]
                .iter()
                .all(|s| s.rhythm_consistency.is_none())
        );
        let months = summarize(&buckets, Bucket::Month, &now, None).unwrap();
        assert_eq!(months.trend.len(), 12);
        assert_eq!(months.trend.last().unwrap().start, "2026-11-01");
        assert_eq!(months.trend.last().unwrap().keystrokes, 360);
    }
}
