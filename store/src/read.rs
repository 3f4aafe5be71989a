//! Reading events back: sessions, and a streaming scan over a time range.
//!
//! [`Store::for_each_event`] walks sessions in time order, each session's segments in time order,
//! and each segment's id range of `key_events`; a callback sees one event at a time, so ten
//! million events never sit in memory at once. A stored event whose time lies outside the years
//! 1970 to 9999 (written before the importers checked, or damaged) is skipped and counted, so one
//! odd row never breaks a whole-database read.

use rusqlite::params;

use super::devices::{StoredDevice, device_from_row};
use super::write::SessionId;
use super::{Store, StoreError};
use tikker_core::event::{KeyAction, KeyEvent, time_in_bounds};
use tikker_core::key::KeyCode;

/// Which events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Events at or after this time (µs), if set.
    pub from_us: Option<i64>,
    /// Events before this time (µs), if set.
    pub to_us: Option<i64>,
    /// Only this user's sessions, if set.
    pub user: Option<String>,
}

/// What a [`Store::scan_events`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// Events handed to the visitor.
    pub visited: u64,
    /// Stored events skipped because their time is not within the years 1970 to 9999.
    pub skipped: u64,
}

impl EventFilter {
    fn contains(&self, time_us: i64) -> bool {
        self.from_us.is_none_or(|from| time_us >= from) && self.to_us.is_none_or(|to| time_us < to)
    }
}

/// The damaged parts of the database that [`Store::scan_events_past_damage`] read past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Segments (runs of a session's events) or sessions' segment lists that could not be read,
    /// wholly or from some row on.
    pub parts: u64,
    /// The first error met, as SQLite said it.
    pub first_error: String,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its id.
    pub id: SessionId,
    /// Whose typing it is.
    pub user: String,
    /// Its name, unique per user.
    pub label: String,
    /// The kind of source (`x11`, `evdev`, `replay`, `import`).
    pub source_kind: String,
    /// The source's device, file or format.
    pub source_detail: String,
    /// Time of its first event (µs).
    pub started_us: i64,
    /// Time of its last event so far (µs).
    pub ended_us: i64,
    /// How many events it holds.
    pub events: u64,
    /// The keyboard it came from, where its source could tell (evdev).
    pub device: Option<StoredDevice>,
}

impl Store {
    /// The sessions that may hold events matching `filter`, in time order.
    pub fn sessions(&self, filter: &EventFilter) -> Result<Vec<SessionInfo>, StoreError> {
        let mut stmt = self
            .connection()
            .prepare_cached(
                "SELECT s.id, s.user, s.label, src.kind, src.detail, s.started_us, s.ended_us,
                        s.events, d.id, d.name, d.bus, d.vendor, d.product, d.phys, d.sysfs_path,
                        d.is_virtual, d.first_seen_us, d.last_seen_us
                 FROM sessions s JOIN sources src ON src.id = s.source_id
                 LEFT JOIN devices d ON d.id = s.device_id
                 WHERE (?1 IS NULL OR s.ended_us >= ?1)
                   AND (?2 IS NULL OR s.started_us < ?2)
                   AND (?3 IS NULL OR s.user = ?3)
                 ORDER BY s.started_us, s.id",
            )
            .map_err(StoreError::sqlite("listing sessions"))?;
        let rows = stmt
            .query_map(params![filter.from_us, filter.to_us, filter.user], |row| {
                Ok(SessionInfo {
                    id: SessionId(row.get(0)?),
                    user: row.get(1)?,
                    label: row.get(2)?,
                    source_kind: row.get(3)?,
                    source_detail: row.get(4)?,
                    started_us: row.get(5)?,
                    ended_us: row.get(6)?,
                    events: row.get::<_, i64>(7)?.max(0) as u64,
                    device: match row.get::<_, Option<i64>>(8)? {
                        Some(_) => Some(device_from_row(row, 8)?),
                        None => None,
                    },
                })
            })
            .map_err(StoreError::sqlite("listing sessions"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite("listing sessions"))
    }

    /// Calls `visit` for every event matching `filter`, session by session in time order and
    /// in time order within a session; returns how many events it visited. An error from
    /// `visit` stops the scan and is returned. Events with a time outside the years 1970 to
    /// 9999 are skipped (and logged as a warning); [`Store::scan_events`] also counts them.
    pub fn for_each_event<E: From<StoreError>>(
        &self,
        filter: &EventFilter,
        visit: impl FnMut(&SessionInfo, KeyEvent) -> Result<(), E>,
    ) -> Result<u64, E> {
        self.scan_events(filter, visit).map(|scan| scan.visited)
    }

    /// [`Store::for_each_event`], saying how many events were visited and how many were
    /// skipped for a time outside the years 1970 to 9999.
    pub fn scan_events<E: From<StoreError>>(
        &self,
        filter: &EventFilter,
        visit: impl FnMut(&SessionInfo, KeyEvent) -> Result<(), E>,
    ) -> Result<Scan, E> {
        self.scan(filter, false, visit).map(|(scan, _)| scan)
    }

    /// [`Store::scan_events`] that reads past damaged pages: a segment (or a session's list of
    /// segments) that cannot be read because the file is damaged ([`crate::Fault::Damaged`]) is
    /// skipped from the damaged row on, and the scan goes on with the next one. Returns what was
    /// skipped, if anything; any other error stops the scan as usual. For readers that must not
    /// depend on all of the history (the daemon resuming an enrolment).
    pub fn scan_events_past_damage<E: From<StoreError>>(
        &self,
        filter: &EventFilter,
        visit: impl FnMut(&SessionInfo, KeyEvent) -> Result<(), E>,
    ) -> Result<(Scan, Option<Damage>), E> {
        self.scan(filter, true, visit)
    }

    fn scan<E: From<StoreError>>(
        &self,
        filter: &EventFilter,
        past_damage: bool,
        mut visit: impl FnMut(&SessionInfo, KeyEvent) -> Result<(), E>,
    ) -> Result<(Scan, Option<Damage>), E> {
        let mut visited = 0;
        let mut skipped = 0;
        let mut damage: Option<Damage> = None;
        // A damaged part is noted and read past (when asked to), anything else is returned.
        let mut read_past = |e: StoreError| -> Result<(), StoreError> {
            if !past_damage || e.fault() != crate::Fault::Damaged {
                return Err(e);
            }
            let noted = damage.get_or_insert_with(|| Damage {
                parts: 0,
                first_error: e.detail(),
            });
            noted.parts += 1;
            Ok(())
        };
        let conn = self.connection();
        let mut segments = conn
            .prepare_cached(
                "SELECT first_event, last_event, base_us FROM segments
                 WHERE session_id = ?1 AND first_event >= 0
                   AND (?2 IS NULL OR last_us >= ?2)
                   AND (?3 IS NULL OR base_us < ?3)
                 ORDER BY base_us, id",
            )
            .map_err(StoreError::sqlite("preparing the segment scan"))?;
        let mut events = conn
            .prepare_cached("SELECT dt_us, key, action FROM key_events WHERE id BETWEEN ?1 AND ?2")
            .map_err(StoreError::sqlite("preparing the event scan"))?;
        for session in self.sessions(filter)? {
            let ranges: Vec<(i64, i64, i64)> = match segments
                .query_map(params![session.id.0, filter.from_us, filter.to_us], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .and_then(|rows| rows.collect())
            {
                Ok(ranges) => ranges,
                Err(e) => {
                    read_past(StoreError::sqlite("reading segments")(e))?;
                    continue;
                }
            };
            for (first, last, base_us) in ranges {
                let mut rows = match events.query(params![first, last]) {
                    Ok(rows) => rows,
                    Err(e) => {
                        read_past(StoreError::sqlite("reading events")(e))?;
                        continue;
                    }
                };
                let mut time_us = base_us;
                loop {
                    let row = match rows.next() {
                        Ok(Some(row)) => row,
                        Ok(None) => break,
                        Err(e) => {
                            read_past(StoreError::sqlite("reading events")(e))?;
                            break;
                        }
                    };
                    let event = match decode(&mut time_us, row) {
                        Ok(event) => event,
                        Err(e) => {
                            read_past(e)?;
                            break;
                        }
                    };
                    if !time_in_bounds(event.time_us) {
                        skipped += 1;
                        continue;
                    }
                    if filter.contains(event.time_us) {
                        visited += 1;
                        visit(&session, event)?;
                    }
                }
            }
        }
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "skipped stored events whose time is not within the years 1970 to 9999"
            );
        }
        Ok((Scan { visited, skipped }, damage))
    }

    /// Counts the events matching `filter` without decoding them when no time bound is set.
    pub fn count_events(&self, filter: &EventFilter) -> Result<u64, StoreError> {
        if filter.from_us.is_none() && filter.to_us.is_none() {
            return Ok(self.sessions(filter)?.iter().map(|s| s.events).sum());
        }
        self.for_each_event(filter, |_, _| Ok::<(), StoreError>(()))
    }

    /// The first and last event time stored (µs), if there are events.
    pub fn time_span(&self) -> Result<Option<(i64, i64)>, StoreError> {
        self.connection()
            .query_row(
                "SELECT min(base_us), max(last_us) FROM segments WHERE first_event >= 0",
                [],
                |row| Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?)),
            )
            .map(|(min, max)| min.zip(max))
            .map_err(StoreError::sqlite("reading the time span"))
    }
}

/// Decodes one row, advancing `time_us` (the previous event's time in its segment) by its delta.
fn decode(time_us: &mut i64, row: &rusqlite::Row<'_>) -> Result<KeyEvent, StoreError> {
    let decoding = StoreError::sqlite("decoding an event");
    let dt_us: i64 = row.get(0).map_err(&decoding)?;
    let key: i64 = row.get(1).map_err(&decoding)?;
    let action: i64 = row.get(2).map_err(&decoding)?;
    if dt_us < 0 {
        return Err(StoreError::Corrupt(format!(
            "negative time delta {dt_us} µs"
        )));
    }
    // A damaged or impossible time saturates (and is then skipped) instead of overflowing.
    *time_us = time_us.saturating_add(dt_us);
    let key = u16::try_from(key)
        .ok()
        .filter(|k| *k <= KeyCode::MAX)
        .ok_or_else(|| StoreError::Corrupt(format!("key code {key} out of range")))?;
    let action = KeyAction::from_code(action)
        .ok_or_else(|| StoreError::Corrupt(format!("event action {action} unknown")))?;
    Ok(KeyEvent {
        time_us: *time_us,
        key: KeyCode(key),
        action,
    })
}
