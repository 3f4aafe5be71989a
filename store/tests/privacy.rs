//! The record's privacy as real files: SQLCipher encryption (new, migrated, wrong key, no key),
//! the activity rollups that outlive raw events, retention pruning and forgetting a span.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::Path;

use proptest::prelude::*;
use tikker_core::activity::{ActivityBucket, ActivityBuilder, BUCKET_US};
use tikker_core::stats::StatsBuilder;
use tikker_core::typing::PAUSE_US;
use tikker_core::{KeyCode, KeyEvent};
use tikker_store::schema::SCHEMA_VERSION;
use tikker_store::{DbKey, Encryption, EventFilter, NewSession, SessionId, Store, StoreError};

const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

fn new_session(store: &mut Store, user: &str, label: &str, start: i64) -> SessionId {
    let mut tx = store.write().unwrap();
    let id = tx
        .begin_session(
            &NewSession {
                source_kind: "test".into(),
                source_detail: String::new(),
                user: user.into(),
                label: label.into(),
            },
            start,
        )
        .unwrap();
    tx.commit().unwrap();
    id
}

/// `count` keystrokes (press and release) `gap_us` apart from `start_us`, keys cycling over
/// `keys`.
fn typing(start_us: i64, count: usize, gap_us: i64, keys: &[u16]) -> Vec<KeyEvent> {
    (0..count)
        .flat_map(|i| {
            let t = start_us + i as i64 * gap_us;
            let key = KeyCode(keys[i % keys.len()]);
            [
                KeyEvent::press(t, key),
                KeyEvent::release(t + gap_us / 3, key),
            ]
        })
        .collect()
}

fn all_events(store: &Store) -> Vec<(String, KeyEvent)> {
    let mut events = Vec::new();
    store
        .for_each_event(&EventFilter::default(), |s, e| {
            events.push((s.label.clone(), e));
            Ok::<(), StoreError>(())
        })
        .unwrap();
    events
}

/// The rollups a fresh count of the stored events gives, all users summed per bucket.
fn recounted(store: &Store) -> Vec<ActivityBucket> {
    let mut builder = ActivityBuilder::new();
    store
        .for_each_event(&EventFilter::default(), |s, e| {
            builder.push(s.id.0, &e);
            Ok::<(), StoreError>(())
        })
        .unwrap();
    builder.finish()
}

fn key() -> Encryption {
    Encryption::Key(DbKey::generate().unwrap())
}

/// Every file of the database (the database, its log and index).
fn files_of(db: &Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            std::path::PathBuf::from(name)
        })
        .filter(|p| p.exists())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn rollups_kept_by_every_write_equal_a_recount_across_batches_sessions_and_quarter_hours() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tikker.db"), &Encryption::Off).unwrap();
    let a = new_session(&mut store, "me", "a", T0);
    let b = new_session(&mut store, "other", "b", T0);
    // Typing that crosses quarter-hour boundaries, with gaps just over and under the pause.
    let first = typing(T0 + BUCKET_US - 3_000_000, 40, 180_000, &[30, 31, 57, 42]);
    let second = typing(T0 + BUCKET_US + 5_000_000, 30, 1_900_000, &[16, 17]);
    for chunk in first.chunks(7) {
        store.append(a, chunk).unwrap();
    }
    store.append(b, &second).unwrap();
    let later = typing(T0 + 3 * BUCKET_US + 10, 25, 2_100_000, &[18]);
    store.append(a, &later).unwrap();
    let stored = store.activity(None, None, None).unwrap();
    assert_eq!(stored, recounted(&store));
    assert_eq!(stored.len(), 3, "{stored:?}");
    let only_me = store.activity(None, None, Some("other")).unwrap();
    assert_eq!(only_me.iter().map(|b| b.tally.events).sum::<u64>(), 60);
    // The statistics read from rollups equal those of a scan, for aligned and unaligned bounds.
    for (from, to) in [
        (None, None),
        (Some(T0 + BUCKET_US), Some(T0 + 2 * BUCKET_US)),
        (
            Some(T0 + BUCKET_US - 1_000_000),
            Some(T0 + BUCKET_US + 7_000_000),
        ),
        (Some(T0 + 17), Some(T0 + 3 * BUCKET_US + 20_000_000)),
    ] {
        let filter = EventFilter {
            from_us: from,
            to_us: to,
            user: None,
        };
        let summary =
            tikker_store::history::summarize(&store, &filter, jiff::tz::TimeZone::UTC).unwrap();
        let mut builder = StatsBuilder::new(jiff::tz::TimeZone::UTC);
        let mut scanned = 0;
        store
            .for_each_event(&EventFilter::default(), |s, e| {
                if filter.from_us.is_none_or(|f| e.time_us >= f)
                    && filter.to_us.is_none_or(|t| e.time_us < t)
                {
                    builder.push(s.id.0, &e);
                    scanned += 1;
                }
                Ok::<(), StoreError>(())
            })
            .unwrap();
        let direct = builder.finish();
        assert_eq!(summary.events, direct.events, "{from:?}..{to:?}");
        assert_eq!(summary.keystrokes, direct.keystrokes, "{from:?}..{to:?}");
        assert_eq!(summary.events, scanned);
        if from.is_none() {
            assert_eq!(summary, direct);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn rollups_equal_a_recount_for_any_stream_and_batching(
        gaps in prop::collection::vec(0i64..3_000_000, 1..300),
        batch in 1usize..60,
        split in 0usize..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("tikker.db"), &Encryption::Off).unwrap();
        let ids = [new_session(&mut store, "u", "x", T0), new_session(&mut store, "u", "y", T0)];
        let mut t = T0 + BUCKET_US - 60_000_000;
        let events: Vec<KeyEvent> = gaps.iter().enumerate().map(|(i, gap)| {
            t += gap;
            if i % 2 == 0 { KeyEvent::press(t, KeyCode(30 + (i % 9) as u16)) } else { KeyEvent::release(t, KeyCode(30)) }
        }).collect();
        let split = split.min(events.len());
        for (id, part) in [(ids[0], &events[..split]), (ids[1], &events[split..])] {
            for chunk in part.chunks(batch) {
                store.append(id, chunk).unwrap();
            }
        }
        let stored = store.activity(None, None, None).unwrap();
        prop_assert_eq!(&stored, &recounted(&store));
        // The rhythm columns, against the intervals read straight off each session's presses:
        // gaps of 0 to 2 s between consecutive presses of a session, in µs.
        let mut gaps: Vec<i64> = Vec::new();
        for part in [&events[..split], &events[split..]] {
            let presses: Vec<i64> = part
                .iter()
                .filter(|e| e.action == tikker_core::KeyAction::Press)
                .map(|e| e.time_us)
                .collect();
            gaps.extend(presses.windows(2).map(|w| w[1] - w[0]).filter(|g| *g <= PAUSE_US));
        }
        let intervals: u64 = stored.iter().map(|b| b.tally.intervals).sum();
        let squares: u128 = stored.iter().map(|b| b.tally.interval_squares).sum();
        let active: i64 = stored.iter().map(|b| b.tally.active_us).sum();
        prop_assert_eq!(intervals, gaps.len() as u64);
        prop_assert_eq!(squares, gaps.iter().map(|g| (*g as u128) * (*g as u128)).sum::<u128>());
        prop_assert_eq!(active, gaps.iter().sum::<i64>());
    }
}

#[test]
fn a_migrated_database_counts_the_rollups_of_the_typing_stored_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    {
        let mut old = Store::open_at_version(&path, &Encryption::Off, 4).unwrap();
        let id = new_session(&mut old, "me", "s", T0);
        old.append(id, &typing(T0, 500, 150_000, &[30, 31, 32]))
            .unwrap();
    }
    let store = Store::open(&path, &Encryption::Off).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let rollups = store.activity(None, None, None).unwrap();
    assert_eq!(rollups, recounted(&store));
    assert_eq!(rollups.iter().map(|b| b.tally.keystrokes).sum::<u64>(), 500);
    // Counted once: opening again adds nothing.
    drop(store);
    let again = Store::open(&path, &Encryption::Off).unwrap();
    assert_eq!(again.activity(None, None, None).unwrap(), rollups);
}

#[test]
fn a_database_migrated_from_schema_7_gets_the_rhythm_of_the_typing_still_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let day = 86_400_000_000i64;
    {
        // Schema 7: rollups without intervals, kept by every write; then retention prunes the
        // first day's raw events (their rollups stay).
        let mut old = Store::open_at_version(&path, &Encryption::Off, 7).unwrap();
        assert_eq!(old.schema_version().unwrap(), 7);
        // What a tikker of schema 7 did when it opened the database.
        old.backfill_activity().unwrap();
        let first = new_session(&mut old, "me", "s1", T0);
        old.append(first, &typing(T0, 300, 150_000, &[30, 31, 32]))
            .unwrap();
        let second = new_session(&mut old, "me", "s2", T0 + day);
        // Uneven typing over several quarter hours, in batches.
        let mut events: Vec<KeyEvent> = (0..2_000i64)
            .flat_map(|i| {
                let t = T0 + day + i * 140_000 + (i * 7_919) % 90_000 + (i / 500) * BUCKET_US;
                [
                    KeyEvent::press(t, KeyCode(30)),
                    KeyEvent::release(t + 60_000, KeyCode(30)),
                ]
            })
            .collect();
        events.sort_by_key(|e| e.time_us);
        for chunk in events.chunks(333) {
            old.append(second, chunk).unwrap();
        }
        old.prune_raw_before(T0 + day).unwrap();
    }
    let store = Store::open(&path, &Encryption::Off).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let rollups = store.activity(None, None, None).unwrap();
    let (pruned, kept): (Vec<&ActivityBucket>, Vec<&ActivityBucket>) =
        rollups.iter().partition(|b| b.start_us < T0 + day);
    assert!(!pruned.is_empty() && kept.len() >= 4, "{rollups:?}");
    // The pruned day keeps its counts and has no rhythm (its intervals are unknown) …
    for b in &pruned {
        assert!(b.tally.keystrokes > 0);
        assert_eq!((b.tally.intervals, b.tally.interval_squares), (0, 0));
        assert_eq!(b.tally.rhythm_consistency(), None);
    }
    assert_eq!(pruned.iter().map(|b| b.tally.keystrokes).sum::<u64>(), 300);
    // … the day still stored has exactly what a recount of its events gives.
    let recount = recounted(&store);
    assert_eq!(
        kept.iter().map(|b| **b).collect::<Vec<_>>(),
        recount,
        "the intervals of the typing still stored are counted"
    );
    assert!(kept.iter().all(|b| {
        b.tally.intervals > 0
            && b.tally
                .rhythm_consistency()
                .is_some_and(|c| c > 0.0 && c < 1.0)
    }));
    assert_eq!(store.setting("activity_intervals_backfill").unwrap(), None);
    // Counted once: with the raw events gone, opening again changes nothing.
    drop(store);
    let mut again = Store::open(&path, &Encryption::Off).unwrap();
    again
        .prune_raw_before(T0 + 2 * day + 4 * BUCKET_US)
        .unwrap();
    drop(again);
    let third = Store::open(&path, &Encryption::Off).unwrap();
    assert_eq!(third.activity(None, None, None).unwrap(), rollups);
}

#[test]
fn forgetting_a_span_deletes_exactly_its_events_and_keeps_every_other_time_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tikker.db"), &Encryption::Off).unwrap();
    let id = new_session(&mut store, "me", "s", T0);
    // One long session: 1,200 keystrokes 1.5 s apart (30 minutes, several segments' worth of
    // batches), then the span to forget is in the middle of a segment.
    let events = typing(T0, 1_200, 1_500_000, &[30, 31, 32, 33]);
    for chunk in events.chunks(64) {
        store.append(id, chunk).unwrap();
    }
    let (from, to) = (T0 + 600_000_000 + 250_000, T0 + 900_000_000 + 10);
    let forgotten = store.forget(from, to).unwrap();
    let expected: Vec<KeyEvent> = events
        .iter()
        .copied()
        .filter(|e| e.time_us < from || e.time_us >= to)
        .collect();
    let removed = (events.len() - expected.len()) as u64;
    assert_eq!(forgotten.events, removed);
    assert_eq!(forgotten.keystrokes, removed / 2);
    assert_eq!(forgotten.sessions, 1);
    let read: Vec<KeyEvent> = all_events(&store).into_iter().map(|(_, e)| e).collect();
    assert_eq!(read, expected, "times outside the span read back unchanged");
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
    // Rollups: the buckets wholly inside are gone, the edges recounted, the rest untouched.
    assert_eq!(
        forgotten.rollups_removed, 0,
        "the span is shorter than two quarter hours"
    );
    assert_eq!(store.activity(None, None, None).unwrap(), recounted(&store));
    // The session goes on being written after the forget, as a daemon would.
    let more = typing(T0 + 1_900_000_000, 50, 200_000, &[40]);
    store.append(id, &more).unwrap();
    let read: Vec<KeyEvent> = all_events(&store).into_iter().map(|(_, e)| e).collect();
    assert_eq!(read.len(), expected.len() + more.len());
    assert_eq!(&read[expected.len()..], &more[..]);
    let sessions = store.sessions(&EventFilter::default()).unwrap();
    assert_eq!(sessions[0].events, read.len() as u64);
}

#[test]
fn a_writer_with_an_open_segment_survives_another_connection_forgetting_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let mut daemon = Store::open(&path, &Encryption::Off).unwrap();
    let id = new_session(&mut daemon, "me", "s", T0);
    let first = typing(T0, 100, 200_000, &[30]);
    daemon.append(id, &first).unwrap();
    // `tikker forget --last …` from another process takes the middle of the open segment.
    let mut cli = Store::open(&path, &Encryption::Off).unwrap();
    cli.forget(T0 + 5_000_000, T0 + 10_000_000).unwrap();
    let second = typing(T0 + 30_000_000, 100, 200_000, &[31]);
    daemon.append(id, &second).unwrap();
    let read: Vec<KeyEvent> = all_events(&daemon).into_iter().map(|(_, e)| e).collect();
    let expected: Vec<KeyEvent> = first
        .iter()
        .chain(second.iter())
        .copied()
        .filter(|e| e.time_us < T0 + 5_000_000 || e.time_us >= T0 + 10_000_000)
        .collect();
    assert_eq!(read, expected);
    assert_eq!(daemon.integrity_check().unwrap(), vec!["ok".to_owned()]);
}

#[test]
fn pruning_deletes_old_raw_events_and_keeps_their_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("tikker.db"), &Encryption::Off).unwrap();
    let day = 86_400_000_000i64;
    // Typing on three days, the middle one running over midnight.
    let mut all = Vec::new();
    for (n, start) in [
        T0 + 10 * 3_600_000_000,
        T0 + day + 23 * 3_600_000_000 + 3_540_000_000,
        T0 + 2 * day + 3_600_000_000,
    ]
    .into_iter()
    .enumerate()
    {
        let id = new_session(&mut store, "me", &format!("s{n}"), start);
        let events = typing(start, 400, 300_000, &[30, 31, 57]);
        store.append(id, &events).unwrap();
        all.extend(events);
    }
    let before =
        tikker_store::history::summarize(&store, &EventFilter::default(), jiff::tz::TimeZone::UTC)
            .unwrap();
    let cutoff = T0 + 2 * day; // midnight: the second session is cut in two
    let pruned = store.prune_raw_before(cutoff).unwrap();
    let kept: Vec<KeyEvent> = all
        .iter()
        .copied()
        .filter(|e| e.time_us >= cutoff)
        .collect();
    assert_eq!(pruned.events, (all.len() - kept.len()) as u64);
    assert_eq!(store.raw_pruned_before().unwrap(), Some(cutoff));
    let read: Vec<KeyEvent> = all_events(&store).into_iter().map(|(_, e)| e).collect();
    assert_eq!(read, kept);
    let after =
        tikker_store::history::summarize(&store, &EventFilter::default(), jiff::tz::TimeZone::UTC)
            .unwrap();
    assert_eq!(after, before, "the statistics outlive the raw events");
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
    // Forgetting a pruned span removes its rollups too.
    let forgotten = store.forget(T0, T0 + day).unwrap();
    assert_eq!(forgotten.events, 0);
    assert!(forgotten.rollups_removed > 0);
    let left =
        tikker_store::history::summarize(&store, &EventFilter::default(), jiff::tz::TimeZone::UTC)
            .unwrap();
    assert_eq!(left.days.len(), before.days.len() - 1);
}

/// A typed word's key codes.
const SECRET_KEYS: [u16; 8] = [25, 30, 31, 31, 17, 24, 19, 32]; // "password" as evdev codes

fn secret_typing(start: i64, repeats: usize) -> Vec<KeyEvent> {
    let mut events = Vec::new();
    for r in 0..repeats {
        for (i, key) in SECRET_KEYS.iter().enumerate() {
            let t = start + (r * 20 + i) as i64 * 150_000;
            events.push(KeyEvent::press(t, KeyCode(*key)));
            events.push(KeyEvent::release(t + 60_000, KeyCode(*key)));
        }
    }
    events
}

/// What any file of the database shows in plain text: the SQLite header, or the schema (a
/// plaintext database holds its `CREATE TABLE` statements verbatim). The daemon's privacy tests
/// also look for a typed secret's key codes.
fn readable_in(db: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in files_of(db) {
        let bytes = std::fs::read(&file).unwrap();
        if contains(&bytes, b"SQLite format 3") {
            found.push(format!("{}: the SQLite header", file.display()));
        }
        if contains(&bytes, b"key_events") || contains(&bytes, b"CREATE TABLE") {
            found.push(format!("{}: the schema in plain text", file.display()));
        }
    }
    found
}

#[test]
fn an_encrypted_database_reads_back_and_no_file_of_it_is_readable_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let encryption = key();
    let events = secret_typing(T0, 50);
    {
        let mut store = Store::open(&path, &encryption).unwrap();
        assert!(store.is_encrypted());
        let id = new_session(&mut store, "me", "s", T0);
        store.append(id, &events).unwrap();
        // While open (the log holds the commits), nothing is readable either.
        assert_eq!(readable_in(&path), Vec::<String>::new());
    }
    assert_eq!(readable_in(&path), Vec::<String>::new());
    let store = Store::open(&path, &encryption).unwrap();
    let read: Vec<KeyEvent> = all_events(&store).into_iter().map(|(_, e)| e).collect();
    assert_eq!(read, events);
    drop(store);

    let wrong = Store::open(&path, &key()).unwrap_err();
    assert!(matches!(wrong, StoreError::WrongKey { .. }), "{wrong}");
    assert!(wrong.to_string().contains("Backing up the key"), "{wrong}");
    let none = Store::open(&path, &Encryption::Off).unwrap_err();
    assert!(matches!(none, StoreError::NeedsKey { .. }), "{none}");
    // Neither attempt replaced or changed the file.
    let store = Store::open(&path, &encryption).unwrap();
    assert_eq!(all_events(&store).len(), events.len());
}

#[test]
fn a_plaintext_database_is_encrypted_in_place_once_and_nothing_readable_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let events = secret_typing(T0, 200);
    {
        let mut plain = Store::open(&path, &Encryption::Off).unwrap();
        let id = new_session(&mut plain, "me", "s", T0);
        plain.append(id, &events).unwrap();
        // Another connection is open: the migration must refuse rather than pull the file from
        // under it.
        let encryption = key();
        let busy = Store::open(&path, &encryption).unwrap_err();
        assert!(matches!(busy, StoreError::InUse { .. }), "{busy}");
    }
    assert!(
        !readable_in(&path).is_empty(),
        "the test's pattern finds plaintext"
    );
    let encryption = key();
    let store = Store::open(&path, &encryption).unwrap();
    let read: Vec<KeyEvent> = all_events(&store).into_iter().map(|(_, e)| e).collect();
    assert_eq!(read, events);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.activity(None, None, None).unwrap(), recounted(&store));
    drop(store);
    assert_eq!(readable_in(&path), Vec::<String>::new());
    let mut leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["tikker.db"],
        "no copy, log or journal left behind"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
