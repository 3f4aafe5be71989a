//! Measures how fast stored events stream over a time range.
//!
//! `cargo run --release -p tikker-store --example scan -- PATH/TO/tikker.db [KEY_FILE]`
//!
//! With `KEY_FILE` (64 hexadecimal digits, as tikker's key file holds) the database is opened
//! encrypted.
//!
//! Streams every event, then the middle half of the stored time span, and prints events per
//! second for each (the best of three runs).

use std::time::Instant;

use tikker_store::{EventFilter, Store, StoreError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: scan PATH/TO/tikker.db")?;
    let encryption = match std::env::args().nth(2) {
        Some(key_file) => tikker_store::Encryption::Key(tikker_store::DbKey::from_hex(
            &std::fs::read_to_string(key_file)?,
        )?),
        None => tikker_store::Encryption::Off,
    };
    let store = Store::open(std::path::Path::new(&path), &encryption)?;
    let (first, last) = store.time_span()?.ok_or("the database holds no events")?;
    let quarter = (last - first) / 4;
    let ranges = [
        ("all events", EventFilter::default()),
        (
            "middle half of the time span",
            EventFilter {
                from_us: Some(first + quarter),
                to_us: Some(last - quarter),
                user: None,
            },
        ),
    ];
    for (name, filter) in ranges {
        let mut best = f64::INFINITY;
        let mut count = 0;
        let mut checksum = 0i64;
        for _ in 0..3 {
            let started = Instant::now();
            count = store.for_each_event(&filter, |_, event| {
                checksum = checksum.wrapping_add(event.time_us);
                Ok::<(), StoreError>(())
            })?;
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{name}: {count} events in {best:.3} s = {:.2} M events/s (checksum {checksum})",
            count as f64 / best / 1e6
        );
    }
    Ok(())
}
