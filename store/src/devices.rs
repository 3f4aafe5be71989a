//! The keyboards that typing came from (`devices`), and the device of each live session.
//!
//! A keyboard is recorded the first time a source opens it ([`Store::note_device`]), keyed by
//! its [`DeviceInfo::identity`]; the answer says whether it was never seen before, which is
//! what the daemon's `new_device` alert is raised on. Sessions point at their device
//! (`sessions.device_id`) where the source can tell.

use rusqlite::{OptionalExtension, Row, params};
use tikker_core::device::DeviceInfo;

use super::{Store, StoreError};

/// A keyboard as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDevice {
    /// Row id.
    pub id: i64,
    /// The device as last seen.
    pub info: DeviceInfo,
    /// When it was first seen (µs since the Unix epoch).
    pub first_seen_us: i64,
    /// When it was last seen (µs).
    pub last_seen_us: i64,
}

/// What [`Store::note_device`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSighting {
    /// The device's row id.
    pub id: i64,
    /// It was never seen before.
    pub new: bool,
    /// How many other keyboards were known before it (0: the first keyboard this database ever
    /// saw, the owner's own).
    pub known_before: u64,
}

pub(crate) const DEVICE_COLUMNS: &str = "id, name, bus, vendor, product, phys, sysfs_path, \
                                         is_virtual, first_seen_us, last_seen_us";

/// A `StoredDevice` from a row of [`DEVICE_COLUMNS`] starting at column `at`.
pub(crate) fn device_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<StoredDevice> {
    Ok(StoredDevice {
        id: row.get(at)?,
        info: DeviceInfo {
            name: row.get(at + 1)?,
            bus: row.get(at + 2)?,
            vendor: row.get(at + 3)?,
            product: row.get(at + 4)?,
            phys: row.get(at + 5)?,
            sysfs_path: row.get(at + 6)?,
            is_virtual: row.get(at + 7)?,
        },
        first_seen_us: row.get(at + 8)?,
        last_seen_us: row.get(at + 9)?,
    })
}

impl Store {
    /// Records that `device` was opened at `seen_us`: a keyboard never seen before is added
    /// (and said to be new), a known one has its port, sysfs folder and last sighting updated.
    pub fn note_device(
        &self,
        device: &DeviceInfo,
        seen_us: i64,
    ) -> Result<DeviceSighting, StoreError> {
        let conn = self.connection();
        let identity = device.identity();
        let known: Option<i64> = conn
            .query_row(
                "SELECT id FROM devices WHERE identity = ?1",
                [&identity],
                |row| row.get(0),
            )
            .optional()
            .map_err(StoreError::sqlite("looking up a keyboard"))?;
        if let Some(id) = known {
            conn.execute(
                "UPDATE devices SET phys = ?2, sysfs_path = ?3, last_seen_us = max(last_seen_us, ?4)
                 WHERE id = ?1",
                params![id, device.phys, device.sysfs_path, seen_us],
            )
            .map_err(StoreError::sqlite("updating a keyboard"))?;
            return Ok(DeviceSighting {
                id,
                new: false,
                known_before: 0,
            });
        }
        let known_before: i64 = conn
            .query_row("SELECT count(*) FROM devices", [], |row| row.get(0))
            .map_err(StoreError::sqlite("counting keyboards"))?;
        let id = conn
            .query_row(
                "INSERT INTO devices (identity, name, bus, vendor, product, phys, sysfs_path,
                                      is_virtual, first_seen_us, last_seen_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id",
                params![
                    identity,
                    device.name,
                    device.bus,
                    device.vendor,
                    device.product,
                    device.phys,
                    device.sysfs_path,
                    device.is_virtual,
                    seen_us
                ],
                |row| row.get(0),
            )
            .map_err(StoreError::sqlite("recording a new keyboard"))?;
        Ok(DeviceSighting {
            id,
            new: true,
            known_before: known_before.max(0) as u64,
        })
    }

    /// Every keyboard seen, in the order they were first seen.
    pub fn devices(&self) -> Result<Vec<StoredDevice>, StoreError> {
        let mut statement = self
            .connection()
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY first_seen_us, id"
            ))
            .map_err(StoreError::sqlite("listing keyboards"))?;
        let rows = statement
            .query_map([], |row| device_from_row(row, 0))
            .map_err(StoreError::sqlite("listing keyboards"))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite("listing keyboards"))
    }
}
