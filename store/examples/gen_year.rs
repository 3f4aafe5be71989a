//! Writes a year of one person's synthetic typing as `events-csv` to standard output, for the
//! dashboard's benchmark (`scripts/bench-dashboard`).
//!
//! `cargo run --release -p tikker-store --example gen_year -- EVENTS [END_UNIX_S]`
//!
//! The year ends at `END_UNIX_S` (default: now) and starts 365 days before. `EVENTS` events
//! (a press and a release per keystroke) are spread over it as an office worker types: on
//! weekdays from 8 to 19 h (UTC) with more in the morning and afternoon, less at weekends,
//! in sessions of a few hundred keystrokes; holds of 60–140 ms, press-to-press gaps of
//! 80–330 ms and a 3 s pause every 40 keystrokes. A fixed-seed generator (splitmix64) makes
//! the same arguments give the same file. User `owner`, one session label per session.

use std::io::{BufWriter, Write};

use tikker_core::KeyCode;
use tikker_core::sampling::SplitMix64;

const DAY_US: i64 = 86_400_000_000;
const HOUR_US: i64 = 3_600_000_000;

/// The relative amount of typing in each hour of a weekday (UTC).
const WEEKDAY_HOURS: [u64; 24] = [
    0, 0, 0, 0, 0, 0, 0, 1, 4, 8, 9, 8, 4, 6, 8, 8, 7, 5, 2, 1, 1, 1, 0, 0,
];
/// The same at weekends.
const WEEKEND_HOURS: [u64; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 0, 0,
];

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let end_s: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    let end_day = end_s * 1_000_000 / DAY_US * DAY_US;
    let start_day = end_day - 364 * DAY_US;
    // Weight of every hour of the year; keystrokes are dealt out in proportion.
    let mut hours: Vec<(i64, u64)> = Vec::new();
    for day in 0..365 {
        let day_us = start_day + day * DAY_US;
        // 1970-01-01 was a Thursday: day 0 of the week is Monday.
        let weekday = (day_us / DAY_US + 3).rem_euclid(7);
        let profile = if weekday >= 5 {
            &WEEKEND_HOURS
        } else {
            &WEEKDAY_HOURS
        };
        for (hour, weight) in profile.iter().enumerate() {
            if *weight > 0 {
                hours.push((day_us + hour as i64 * HOUR_US, *weight));
            }
        }
    }
    let total_weight: u64 = hours.iter().map(|(_, w)| w).sum();
    let keystrokes = events / 2;
    let keys: Vec<KeyCode> = "etaoinshrdlucmfwypvbgkjqxz ,."
        .chars()
        .filter_map(KeyCode::from_char)
        .collect();
    let mut rng = SplitMix64(7);
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    writeln!(out, "user,session,timestamp_ms,key,event")?;
    let mut written = 0u64;
    let mut session = 0u64;
    let mut owed = 0u64; // keystrokes carried over (in weight units × keystrokes)
    for (hour_us, weight) in hours {
        owed += weight * keystrokes;
        let mut in_hour = owed / total_weight;
        owed %= total_weight;
        if written + in_hour * 2 > events {
            in_hour = (events - written) / 2;
        }
        // The hour's typing as sessions of up to 600 keystrokes, each starting a few minutes
        // after the last one ended (and never running into the next hour's).
        let mut t_us = hour_us + (rng.next_u64() % 120_000_000) as i64;
        while in_hour > 0 {
            let length = in_hour.min(300 + rng.next_u64() % 300);
            session += 1;
            for i in 0..length {
                let key = keys[(rng.next_u64() % keys.len() as u64) as usize];
                let hold = 60_000 + (rng.next_u64() % 80_000) as i64;
                for (time, action) in [(t_us, "press"), (t_us + hold, "release")] {
                    writeln!(
                        out,
                        "owner,y{session},{}.{:03},{key},{action}",
                        time / 1000,
                        time % 1000
                    )?;
                }
                t_us += 80_000 + (rng.next_u64() % 250_000) as i64;
                if i % 40 == 39 {
                    t_us += 3_000_000;
                }
            }
            written += length * 2;
            in_hour -= length;
            t_us += 30_000_000 + (rng.next_u64() % 90_000_000) as i64;
        }
    }
    out.flush()
}
