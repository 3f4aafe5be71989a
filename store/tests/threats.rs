//! What the store keeps for threat detection, on a real file: the replay history (timing only,
//! saved as it grows, pruned by age) and the keyboards sessions came from.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use tikker_core::device::DeviceInfo;
use tikker_core::threat::replay::StoredRun;
use tikker_core::{KeyCode, KeyEvent};
use tikker_store::{EventFilter, NewSession, Store};

fn run(start_us: i64, end_us: i64, keystrokes: u16) -> StoredRun {
    StoredRun {
        start_us,
        end_us,
        timings: (0..keystrokes).map(|i| [800 + i, 1500 + 3 * i]).collect(),
    }
}

#[test]
fn replay_runs_are_saved_as_they_grow_read_back_and_pruned_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    assert_eq!(store.replay_runs().unwrap(), vec![]);
    assert_eq!(store.replay_history_oldest_end().unwrap(), None);

    let old = run(1_000_000, 9_000_000, 40);
    store.save_replay_run(&old).unwrap();
    // The live run is saved again as it grows: one row, the latest state.
    store
        .save_replay_run(&run(20_000_000, 21_000_000, 5))
        .unwrap();
    let grown = run(20_000_000, 29_000_000, 50);
    store.save_replay_run(&grown).unwrap();
    assert_eq!(
        store.replay_runs().unwrap(),
        vec![old.clone(), grown.clone()]
    );
    assert_eq!(store.replay_history_oldest_end().unwrap(), Some(9_000_000));

    // The retention prune: runs that ended before the cutoff go, the others stay.
    assert_eq!(store.prune_replay_history_before(9_000_000).unwrap(), 0);
    assert_eq!(store.prune_replay_history_before(10_000_000).unwrap(), 1);
    assert_eq!(store.replay_runs().unwrap(), vec![grown]);
    assert_eq!(store.replay_history_oldest_end().unwrap(), Some(29_000_000));
}

#[test]
fn replay_history_holds_no_key_identities() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tikker.db");
    let store = Store::open(&path, &tikker_store::Encryption::Off).unwrap();
    store
        .save_replay_run(&run(1_000_000, 2_000_000, 3))
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('replay_runs')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    columns.sort();
    assert_eq!(
        columns,
        ["end_us", "id", "keystrokes", "start_us", "timings"],
        "times, a count and the timing bytes only"
    );
    let bytes: Vec<u8> = conn
        .query_row("SELECT timings FROM replay_runs", [], |row| row.get(0))
        .unwrap();
    // Start, end, count, then two u16 per keystroke (hold, interval): nothing else fits.
    assert_eq!(bytes.len(), 8 + 8 + 4 + 3 * 4);
}

fn keyboard(name: &str, sysfs_path: &str, phys: &str) -> DeviceInfo {
    DeviceInfo {
        name: name.into(),
        bus: 0x03,
        vendor: 0x046d,
        product: 0xc31c,
        phys: phys.into(),
        sysfs_path: sysfs_path.into(),
        is_virtual: DeviceInfo::is_virtual_path(sysfs_path, 0x03),
    }
}

#[test]
fn a_keyboard_is_new_once_and_the_same_on_another_port() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    let own = keyboard(
        "Logitech USB Keyboard",
        "/sys/devices/pci0000:00/usb1/1-2/input/input3",
        "usb-1-2/input0",
    );
    let first = store.note_device(&own, 1_000).unwrap();
    assert!(first.new);
    assert_eq!(first.known_before, 0, "the first keyboard ever seen");

    // Unplugged and plugged into another port: the same keyboard, its port updated.
    let moved = keyboard(
        "Logitech USB Keyboard",
        "/sys/devices/pci0000:00/usb1/1-3/input/input9",
        "usb-1-3/input0",
    );
    let again = store.note_device(&moved, 2_000).unwrap();
    assert_eq!((again.id, again.new), (first.id, false));

    // A virtual copy of its ids (a uinput device) is another keyboard.
    let copy = keyboard(
        "Logitech USB Keyboard",
        "/sys/devices/virtual/input/input12",
        "",
    );
    let virtual_one = store.note_device(&copy, 3_000).unwrap();
    assert!(virtual_one.new);
    assert_eq!(virtual_one.known_before, 1);

    let devices = store.devices().unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0].info, moved);
    assert_eq!(
        (devices[0].first_seen_us, devices[0].last_seen_us),
        (1_000, 2_000)
    );
    assert!(devices[1].info.is_virtual);
}

#[test]
fn a_session_says_which_keyboard_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(
        &dir.path().join("tikker.db"),
        &tikker_store::Encryption::Off,
    )
    .unwrap();
    let own = keyboard(
        "Test Keyboard",
        "/sys/devices/virtual/input/input7",
        "usb-test/input0",
    );
    let device = store.note_device(&own, 1_000).unwrap();
    let mut tx = store.write().unwrap();
    let new = |label: &str| NewSession {
        source_kind: "evdev".into(),
        source_detail: "/dev/input".into(),
        user: "owner".into(),
        label: label.into(),
    };
    let typed = tx.begin_session(&new("typed"), 5_000).unwrap();
    tx.set_session_device(typed, device.id).unwrap();
    tx.append(typed, &[KeyEvent::press(5_000, KeyCode(30))])
        .unwrap();
    let unknown = tx.begin_session(&new("unknown"), 6_000).unwrap();
    tx.append(unknown, &[KeyEvent::press(6_000, KeyCode(30))])
        .unwrap();
    tx.commit().unwrap();

    let sessions = store.sessions(&EventFilter::default()).unwrap();
    assert_eq!(sessions.len(), 2);
    let stored = sessions[0]
        .device
        .as_ref()
        .expect("the evdev session's keyboard");
    assert_eq!(stored.info, own);
    assert!(stored.info.is_virtual);
    assert_eq!(sessions[1].device, None, "a source that cannot tell");
}
