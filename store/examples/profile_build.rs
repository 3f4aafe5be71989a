//! Measures how long building a profile from every event stored in a `tikker.db` takes.
//!
//! `cargo run --release -p tikker-store --example profile_build -- PATH/TO/tikker.db [KEY_FILE]`
//!
//! With `KEY_FILE` (64 hexadecimal digits, as tikker's key file holds) the database is opened
//! encrypted.

use std::time::Instant;

use tikker_store::{EventFilter, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: profile_build PATH/TO/tikker.db")?;
    let encryption = match std::env::args().nth(2) {
        Some(key_file) => tikker_store::Encryption::Key(tikker_store::DbKey::from_hex(
            &std::fs::read_to_string(key_file)?,
        )?),
        None => tikker_store::Encryption::Off,
    };
    let store = Store::open(std::path::Path::new(&path), &encryption)?;
    let events = store.count_events(&EventFilter::default())?;
    let started = Instant::now();
    let profile = tikker_store::history::profile(&store, &EventFilter::default())?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "profile of {} keystrokes ({} digraphs) from {events} stored events in {seconds:.2} s ({:.2} M events/s)",
        profile.keystrokes,
        profile.digraph_count,
        events as f64 / seconds / 1e6
    );
    Ok(())
}
