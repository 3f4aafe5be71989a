//! The store as a real file: migrations, permissions, batched appends, segments, streaming reads.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use proptest::prelude::*;
use tikker_core::{KeyAction, KeyCode, KeyEvent};
use tikker_store::schema::{MAX_SEGMENT_SPAN_US, SCHEMA_VERSION};
use tikker_store::{EventFilter, NewSession, SessionId, Store, StoreError};

fn session(user: &str, label: &str) -> NewSession {
    NewSession {
        source_kind: "test".into(),
        source_detail: String::new(),
        user: user.into(),
        label: label.into(),
    }
}

fn new_session(store: &mut Store, user: &str, label: &str, start: i64) -> SessionId {
    let mut tx = store.write().unwrap();
    let id = tx.begin_session(&session(user, label), start).unwrap();
    tx.commit().unwrap();
    id
}

fn typing(start_us: i64, count: usize, gap_us: i64) -> Vec<KeyEvent> {
    (0..count)
        .flat_map(|i| {
            let t = start_us + i as i64 * gap_us;
            let key = KeyCode(30 + (i % 20) as u16);
            [
                KeyEvent::press(t, key),
                KeyEvent::release(t + gap_us / 2, key),
            ]
        })
        .collect()
}

fn all_events(store: &Store, filter: &EventFilter) -> Vec<(String, KeyEvent)> {
    let mut out = Vec::new();
    store
        .for_each_event(filter, |s, e| {
            out.push((s.label.clone(), e));
            Ok::<(), StoreError>(())
        })
        .unwrap();
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_database_is_migrated_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data").join("tikker");
    let path = folder.join("tikker.db");
    let store = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&path), 0o600);
    let wal = folder.join("tikker.db-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file");
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
}

#[test]
fn loose_permissions_are_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("tikker");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = folder.join("tikker.db");
    drop(Store::open(&path, &tikker_store::Encryption::Off).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&path, &tikker_store::Encryption::Off).unwrap());
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn migrating_from_the_previous_version_keeps_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let events = typing(1_000_000, 50, 100_000);
    {
        let mut old =
            Store::open_at_version(&path, &tikker_store::Encryption::Off, SCHEMA_VERSION - 1)
                .unwrap();
        assert_eq!(old.schema_version().unwrap(), SCHEMA_VERSION - 1);
        let id = new_session(&mut old, "alice", "s1", 1_000_000);
        old.append(id, &events).unwrap();
    }
    let store = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let read: Vec<KeyEvent> = all_events(&store, &EventFilter::default())
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(read, events);
    // The tables of the new version work.
    store.set_setting("paused_until", Some("123")).unwrap();
    assert_eq!(
        store.setting("paused_until").unwrap().as_deref(),
        Some("123")
    );
}

#[test]
fn a_database_from_a_newer_tikker_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    drop(Store::open(&path, &tikker_store::Encryption::Off).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path, &tikker_store::Encryption::Off).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { .. }), "{err}");
    assert!(err.to_string().contains("upgrade tikker"));
}

#[test]
fn batches_extend_one_segment_and_read_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let mut store = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    let id = new_session(&mut store, "alice", "s1", 0);
    let events = typing(0, 300, 100_000);
    for batch in events.chunks(64) {
        store.append(id, batch).unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let segments: i64 = conn
        .query_row("SELECT count(*) FROM segments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        segments, 1,
        "consecutive batches of one session share a segment"
    );
    let read: Vec<KeyEvent> = all_events(&store, &EventFilter::default())
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(read, events);
    assert_eq!(store.count_events(&EventFilter::default()).unwrap(), 600);
}

#[test]
fn a_long_session_is_split_into_segments_of_bounded_span() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let mut store = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    let id = new_session(&mut store, "alice", "day", 0);
    // Three hours of typing, one keystroke a minute.
    let events = typing(0, 180, 60_000_000);
    store.append(id, &events).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (segments, max_span): (i64, i64) = conn
        .query_row(
            "SELECT count(*), max(last_us - base_us) FROM segments",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(segments >= 5, "{segments} segments");
    assert!(max_span <= MAX_SEGMENT_SPAN_US);
    let read: Vec<KeyEvent> = all_events(&store, &EventFilter::default())
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(read, events);
}

#[test]
fn another_writer_in_between_starts_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let mut daemon = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    let mut importer = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    let live = new_session(&mut daemon, "me", "live", 0);
    let imported = new_session(&mut importer, "me", "file", 0);
    daemon.append(live, &typing(0, 10, 1000)).unwrap();
    importer.append(imported, &typing(5, 10, 1000)).unwrap();
    daemon.append(live, &typing(20_000, 10, 1000)).unwrap();
    let read = all_events(&daemon, &EventFilter::default());
    let live_events: Vec<KeyEvent> = read
        .iter()
        .filter(|(label, _)| label == "live")
        .map(|(_, e)| *e)
        .collect();
    let mut expected = typing(0, 10, 1000);
    expected.extend(typing(20_000, 10, 1000));
    assert_eq!(live_events, expected);
    assert_eq!(read.len(), 60);
}

#[test]
fn events_out_of_time_order_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    let id = new_session(&mut store, "alice", "s1", 0);
    store.append(id, &typing(1_000_000, 5, 1000)).unwrap();
    let err = store
        .append(
            id,
            &[
                KeyEvent::press(2_000_000, KeyCode(30)),
                KeyEvent::press(10, KeyCode(30)),
            ],
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfOrder { .. }), "{err}");
    let err = store
        .append(id, &[KeyEvent::press(500_000, KeyCode(30))])
        .unwrap_err();
    assert!(matches!(err, StoreError::OutOfOrder { .. }), "{err}");
    assert_eq!(store.count_events(&EventFilter::default()).unwrap(), 10);
}

#[test]
fn duplicate_sessions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    new_session(&mut store, "alice", "s1", 0);
    let mut tx = store.write().unwrap();
    let err = tx.begin_session(&session("alice", "s1"), 0).unwrap_err();
    assert!(matches!(err, StoreError::DuplicateSession { .. }));
}

#[test]
fn time_ranges_and_users_filter_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    let a = new_session(&mut store, "alice", "a", 0);
    let b = new_session(&mut store, "bob", "b", 0);
    store.append(a, &typing(0, 100, 1_000_000)).unwrap();
    store
        .append(b, &typing(50_000_000, 100, 1_000_000))
        .unwrap();
    let filter = EventFilter {
        from_us: Some(10_000_000),
        to_us: Some(60_000_000),
        user: None,
    };
    let read = all_events(&store, &filter);
    assert!(
        read.iter()
            .all(|(_, e)| (10_000_000..60_000_000).contains(&e.time_us))
    );
    // alice: presses 10..59 and their releases (+0.5 s) = 100; bob: presses 50..59 + releases = 20.
    assert_eq!(read.iter().filter(|(l, _)| l == "a").count(), 100);
    assert_eq!(read.iter().filter(|(l, _)| l == "b").count(), 20);
    let bob = EventFilter {
        user: Some("bob".into()),
        ..EventFilter::default()
    };
    assert_eq!(store.count_events(&bob).unwrap(), 200);
    assert_eq!(store.time_span().unwrap(), Some((0, 149_500_000)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_ordered_stream_reads_back_identically(
        gaps in prop::collection::vec(0i64..3_000_000_000, 1..200),
        keys in prop::collection::vec(0u16..=KeyCode::MAX, 200),
        actions in prop::collection::vec(0i64..3, 200),
        batch in 1usize..50,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("tikker.db"), &tikker_store::Encryption::Off).unwrap();
        let id = new_session(&mut store, "p", "p", 0);
        let mut t = 1_600_000_000_000_000i64;
        let events: Vec<KeyEvent> = gaps.iter().enumerate().map(|(i, gap)| {
            t += gap;
            KeyEvent { time_us: t, key: KeyCode(keys[i]), action: KeyAction::from_code(actions[i]).unwrap() }
        }).collect();
        for chunk in events.chunks(batch) {
            store.append(id, chunk).unwrap();
        }
        let read: Vec<KeyEvent> = all_events(&store, &EventFilter::default()).into_iter().map(|(_, e)| e).collect();
        prop_assert_eq!(read, events);
        prop_assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
    }
}

#[test]
fn a_profile_read_from_the_store_equals_one_built_from_the_same_events() {
    use tikker_core::profile::ProfileBuilder;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    let mut events = Vec::new();
    for i in 0..300i64 {
        let t = 1_000_000 + i * 150_000;
        let key = KeyCode(16 + (i % 20) as u16);
        events.push(KeyEvent::press(t, key));
        events.push(KeyEvent::release(t + 80_000 + (i % 7) * 3_000, key));
    }
    tikker_core::event::sort_events(&mut events);
    let mut tx = store.write().unwrap();
    let id = tx
        .begin_session(
            &NewSession {
                source_kind: "test".into(),
                source_detail: String::new(),
                user: "me".into(),
                label: "s".into(),
            },
            events[0].time_us,
        )
        .unwrap();
    tx.append(id, &events).unwrap();
    tx.commit().unwrap();
    let stored = tikker_store::history::profile(&store, &EventFilter::default()).unwrap();
    let mut builder = ProfileBuilder::new();
    for event in &events {
        builder.push(7, event);
    }
    let direct = builder.finish();
    assert_eq!(stored.to_json().unwrap(), direct.to_json().unwrap());
}
