//! The owner's word on an alert ("It was me"), passed from the HTTP API and the notifications'
//! buttons to the running monitor: the mark is stored and shown in the status at once (so that a
//! `tikker status` right after `tikker alerts --false` agrees), then the monitor's thread
//! releases the typing the alert's evidence covered ([`crate::authenticator`]).

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use tikker_wire::status::AuthStatus;

use tikker_capture::clock::now_us;
use tikker_store::{MarkedFalse, Store, StoreError};

/// The owner's word on an alert, for the monitor thread: the typing it covered was theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItWasMe {
    /// The alert's row id.
    pub alert_id: i64,
    /// Presses from this time (µs)…
    pub from_us: i64,
    /// …to this one (µs, inclusive) were the owner's.
    pub to_us: i64,
}

/// How the API and the notifications pass the owner's "It was me" to the running monitor;
/// cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct OwnerLink {
    commands: Sender<ItWasMe>,
    /// The daemon's authentication status, where a false alert is counted.
    status: Arc<Mutex<AuthStatus>>,
}

impl OwnerLink {
    /// A link whose words go to `commands` (the monitor thread's end) and are counted in
    /// `status`.
    pub fn new(commands: Sender<ItWasMe>, status: Arc<Mutex<AuthStatus>>) -> OwnerLink {
        OwnerLink { commands, status }
    }

    /// Marks alert `id` false in `store` (at once; idempotent) and, the first time, has the
    /// monitor release the typing its evidence covered. `None`: no alert has that id.
    ///
    /// # Errors
    /// The store's, when the mark cannot be written or read back.
    pub fn it_was_me(&self, store: &Store, id: i64) -> Result<Option<MarkedFalse>, StoreError> {
        let Some(marked) = store.mark_alert_false(id, now_us())? else {
            return Ok(None);
        };
        if marked.newly {
            if let Ok(mut status) = self.status.lock() {
                status.alerts_marked_false += 1;
                if let Some(last) = status.last_alert.as_mut()
                    && last.id == Some(id)
                {
                    last.marked_false = true;
                }
            }
            let (from_us, to_us) =
                match (marked.alert.evidence_from_us, marked.alert.evidence_to_us) {
                    (Some(from), Some(to)) => (from, to),
                    // The detectors' alerts (and alerts from before the span was stored) cover no
                    // windows: nothing to release, but the false alert still counts.
                    _ => (1, 0),
                };
            // A monitor that has stopped has nothing left to release.
            let _ = self.commands.send(ItWasMe {
                alert_id: id,
                from_us,
                to_us,
            });
        }
        Ok(Some(marked))
    }
}
