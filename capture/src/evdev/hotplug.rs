//! Hot-plug: an inotify watch on `/dev/input` picks up keyboards plugged in later or re-created
//! after a suspend (`IN_CREATE`, and `IN_ATTRIB` for when udev grants access a moment later).

use std::io;
use std::path::{Path, PathBuf};

use super::discover::{is_event_node, open_keyboard};
use super::source::{ActiveDevices, spawn_reader};
use crate::Sink;

/// Waits for new devices under `dir` and reads the keyboards among them; returns only if the
/// watch fails.
pub(super) fn watch_hotplug(
    inotify: &mut inotify::Inotify,
    dir: &Path,
    sink: &Sink,
    active: &ActiveDevices,
) -> String {
    let mut buffer = [0u8; 4096];
    loop {
        let events = match inotify.read_events_blocking(&mut buffer) {
            Ok(events) => events,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return format!("watching {} for keyboards failed: {e}", dir.display()),
        };
        let names: Vec<PathBuf> = events
            .filter_map(|event| event.name.map(|name| dir.join(name)))
            .filter(|path| is_event_node(path))
            .collect();
        for path in names {
            let known = active.lock().map(|a| a.contains(&path)).unwrap_or(true);
            if known || sink.is_stopping() {
                continue;
            }
            match open_keyboard(&path) {
                Ok(Some(keyboard)) => {
                    if let Err(e) = spawn_reader(keyboard, sink.clone(), active.clone()) {
                        tracing::warn!(device = %path.display(), error = %e, "new keyboard not read");
                    }
                }
                Ok(None) => {}
                // udev sets the permissions a moment after the node appears: IN_ATTRIB follows.
                Err(e) => {
                    tracing::debug!(device = %path.display(), error = %e, "new device not opened (yet)")
                }
            }
        }
    }
}
