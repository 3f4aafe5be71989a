//! Writes synthetic typing as `events-csv` to standard output, for benchmarks.
//!
//! `cargo run --release -p tikker-store --example gen_events -- EVENTS [USERS] [HOURS_APART]`
//!
//! Each user types in sessions of 2,000 keystrokes; holds of 60–140 ms, press-to-press gaps of
//! 80–330 ms and a 3 s pause every 40 keystrokes, from a fixed-seed generator (splitmix64), so
//! the same arguments always give the same file. A user's sessions start `HOURS_APART` hours
//! apart (default 1; 7 spreads 20 M events of 4 users over a year).

use std::io::{BufWriter, Write};

use tikker_core::KeyCode;
use tikker_core::sampling::SplitMix64;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let users: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let hours_apart: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let keys: Vec<KeyCode> = "etaoinshrdlucmfwypvbgkjqxz ,."
        .chars()
        .filter_map(KeyCode::from_char)
        .collect();
    let mut rng = SplitMix64(42);
    let out = std::io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, out);
    writeln!(out, "user,session,timestamp_ms,key,event")?;
    let keystrokes_per_session = 2_000;
    let mut written = 0;
    let mut session = 0u64;
    while written < events {
        let user = session % users;
        // Sessions of a user follow each other an hour apart; users type at the same time.
        let mut t_us: i64 =
            1_700_000_000_000_000 + (session / users) as i64 * hours_apart * 3_600_000_000;
        for i in 0..keystrokes_per_session {
            if written >= events {
                break;
            }
            let key = keys[(rng.next_u64() % keys.len() as u64) as usize];
            let hold = 60_000 + (rng.next_u64() % 80_000) as i64;
            for (time, action) in [(t_us, "press"), (t_us + hold, "release")] {
                writeln!(
                    out,
                    "user{user},s{session},{}.{:03},{key},{action}",
                    time / 1000,
                    time % 1000
                )?;
            }
            written += 2;
            t_us += 80_000 + (rng.next_u64() % 250_000) as i64;
            if i % 40 == 39 {
                t_us += 3_000_000;
            }
        }
        session += 1;
    }
    out.flush()
}
