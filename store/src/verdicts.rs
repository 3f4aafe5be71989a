//! The continuous-authentication record in `tikker.db`: every scored window and every alert.
//!
//! The daemon's monitor stores each [`WindowScore`](tikker_core::monitor::WindowScore) it computes, with
//! its time range and the version of the owner model that scored it, and each alert it raises with
//! what became of it (whether a notification server took it, the outcome of the alert action).
//! The API reads them back by time.

use rusqlite::{OptionalExtension, Row, params};
use tikker_core::threat::AlertKind;
use tikker_core::verify::calibration::Verdict;

use super::{Store, StoreError};

/// A scored window, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredScore {
    /// Row id (0 before it is saved).
    pub id: i64,
    /// Whose profile scored it.
    pub user: String,
    /// First keystroke of the window (µs since the Unix epoch).
    pub from_us: i64,
    /// Last keystroke of the window (µs).
    pub to_us: i64,
    /// Calibrated score in `[0, 1]`.
    pub score: f64,
    /// How much the score can be trusted, in `[0, 1]`.
    pub confidence: f64,
    /// The verdict of the score (stored by its name, [`Verdict::as_str`]).
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
    /// The version of the stored owner profile that scored it.
    pub profile_version: Option<i64>,
}

/// An alert, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    /// Row id (0 before it is saved).
    pub id: i64,
    /// When it was raised (µs).
    pub created_us: i64,
    /// The score that raised it.
    pub score_id: Option<i64>,
    /// That score's value.
    pub score: f64,
    /// Why, in words.
    pub reason: String,
    /// Whether a notification server took the notification.
    pub notified: bool,
    /// The outcome of the configured alert action, if one is configured.
    pub action: Option<String>,
    /// What raised it.
    pub kind: AlertKind,
    /// The typing its evidence rests on: presses from this time (µs)…
    pub evidence_from_us: Option<i64>,
    /// …to this one (µs, inclusive); `None` for alerts that cover no windows.
    pub evidence_to_us: Option<i64>,
    /// When the owner said "It was me" (µs); `None` while it stands.
    pub marked_false_us: Option<i64>,
}

/// What [`Store::mark_alert_false`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedFalse {
    /// The alert, as stored afterwards.
    pub alert: StoredAlert,
    /// Whether this call marked it (`false`: it was marked before, and keeps that time).
    pub newly: bool,
}

fn score_from_row(row: &Row<'_>) -> rusqlite::Result<StoredScore> {
    Ok(StoredScore {
        id: row.get(0)?,
        user: row.get(1)?,
        from_us: row.get(2)?,
        to_us: row.get(3)?,
        score: row.get(4)?,
        confidence: row.get(5)?,
        verdict: Verdict::from_name(&row.get::<_, String>(6)?),
        reason: row.get(7)?,
        profile_version: row.get(8)?,
    })
}

fn alert_from_row(row: &Row<'_>) -> rusqlite::Result<StoredAlert> {
    Ok(StoredAlert {
        id: row.get(0)?,
        created_us: row.get(1)?,
        score_id: row.get(2)?,
        score: row.get(3)?,
        reason: row.get(4)?,
        notified: row.get(5)?,
        action: row.get(6)?,
        kind: AlertKind::from_name(&row.get::<_, String>(7)?),
        evidence_from_us: row.get(8)?,
        evidence_to_us: row.get(9)?,
        marked_false_us: row.get(10)?,
    })
}

const SCORE_COLUMNS: &str =
    "id, user, from_us, to_us, score, confidence, verdict, reason, profile_version";
const ALERT_COLUMNS: &str = "id, created_us, score_id, score, reason, notified, action, kind, \
     evidence_from_us, evidence_to_us, marked_false_us";

impl Store {
    /// Saves a scored window (its `id` is ignored) and returns its row id.
    pub fn save_score(&self, score: &StoredScore) -> Result<i64, StoreError> {
        self.connection()
            .query_row(
                "INSERT INTO scores
                   (user, from_us, to_us, score, confidence, verdict, reason, profile_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                params![
                    score.user,
                    score.from_us,
                    score.to_us,
                    score.score,
                    score.confidence,
                    score.verdict.as_str(),
                    score.reason,
                    score.profile_version
                ],
                |row| row.get(0),
            )
            .map_err(StoreError::sqlite("saving a score"))
    }

    /// The scored windows that end within `[from_us, to_us]` (either bound may be open), oldest
    /// first, at most `limit` of them (the newest ones when there are more).
    pub fn scores_between(
        &self,
        from_us: Option<i64>,
        to_us: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredScore>, StoreError> {
        let sql = format!(
            "SELECT * FROM (SELECT {SCORE_COLUMNS} FROM scores
               WHERE to_us >= ?1 AND to_us <= ?2 ORDER BY to_us DESC, id DESC LIMIT ?3)
             ORDER BY to_us, id"
        );
        self.rows_between(
            &sql,
            from_us,
            to_us,
            limit,
            score_from_row,
            "reading scores",
        )
    }

    /// The newest scored window, if any.
    pub fn latest_score(&self) -> Result<Option<StoredScore>, StoreError> {
        self.connection()
            .query_row(
                &format!("SELECT {SCORE_COLUMNS} FROM scores ORDER BY to_us DESC, id DESC LIMIT 1"),
                [],
                score_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("reading the latest score"))
    }

    /// Saves an alert (its `id` is ignored) and returns its row id.
    pub fn save_alert(&self, alert: &StoredAlert) -> Result<i64, StoreError> {
        self.connection()
            .query_row(
                "INSERT INTO alerts (created_us, score_id, score, reason, notified, action, kind,
                                     evidence_from_us, evidence_to_us, marked_false_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                params![
                    alert.created_us,
                    alert.score_id,
                    alert.score,
                    alert.reason,
                    alert.notified,
                    alert.action,
                    alert.kind.as_str(),
                    alert.evidence_from_us,
                    alert.evidence_to_us,
                    alert.marked_false_us
                ],
                |row| row.get(0),
            )
            .map_err(StoreError::sqlite("saving an alert"))
    }

    /// Records what became of an alert once its notification and action are done.
    pub fn update_alert_outcome(
        &self,
        id: i64,
        notified: bool,
        action: Option<&str>,
    ) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "UPDATE alerts SET notified = ?2, action = ?3 WHERE id = ?1",
                params![id, notified, action],
            )
            .map(drop)
            .map_err(StoreError::sqlite("updating an alert"))
    }

    /// The owner said "It was me": marks alert `id` false at `at_us`. Idempotent: an alert
    /// marked before keeps its first time (and [`MarkedFalse::newly`] says so). `None` when no
    /// alert has that id.
    pub fn mark_alert_false(&self, id: i64, at_us: i64) -> Result<Option<MarkedFalse>, StoreError> {
        let changed = self
            .connection()
            .execute(
                "UPDATE alerts SET marked_false_us = ?2 WHERE id = ?1 AND marked_false_us IS NULL",
                params![id, at_us],
            )
            .map_err(StoreError::sqlite("marking an alert false"))?;
        Ok(self.alert(id)?.map(|alert| MarkedFalse {
            alert,
            newly: changed > 0,
        }))
    }

    /// The alert with row id `id`, if any.
    pub fn alert(&self, id: i64) -> Result<Option<StoredAlert>, StoreError> {
        self.connection()
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                alert_from_row,
            )
            .optional()
            .map_err(StoreError::sqlite("reading an alert"))
    }

    /// How many alerts the owner marked false ("It was me").
    pub fn count_false_alerts(&self) -> Result<u64, StoreError> {
        self.connection()
            .query_row(
                "SELECT COUNT(*) FROM alerts WHERE marked_false_us IS NOT NULL",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(StoreError::sqlite("counting false alerts"))
    }

    /// The alerts raised within `[from_us, to_us]` (either bound may be open), newest first, at
    /// most `limit`.
    pub fn alerts_between(
        &self,
        from_us: Option<i64>,
        to_us: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE created_us >= ?1 AND created_us <= ?2
             ORDER BY created_us DESC, id DESC LIMIT ?3"
        );
        self.rows_between(
            &sql,
            from_us,
            to_us,
            limit,
            alert_from_row,
            "reading alerts",
        )
    }

    /// Runs `sql`, whose parameters are a time range (open bounds become the extremes) and a
    /// row limit, and reads every row with `read`.
    fn rows_between<T>(
        &self,
        sql: &str,
        from_us: Option<i64>,
        to_us: Option<i64>,
        limit: usize,
        read: fn(&Row<'_>) -> rusqlite::Result<T>,
        context: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self
            .connection()
            .prepare_cached(sql)
            .map_err(StoreError::sqlite(context))?;
        let rows = statement
            .query_map(
                params![
                    from_us.unwrap_or(i64::MIN),
                    to_us.unwrap_or(i64::MAX),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                read,
            )
            .map_err(StoreError::sqlite(context))?;
        rows.collect::<Result<_, _>>()
            .map_err(StoreError::sqlite(context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(from_us: i64, to_us: i64, value: f64) -> StoredScore {
        StoredScore {
            id: 0,
            user: "owner".into(),
            from_us,
            to_us,
            score: value,
            confidence: 0.9,
            verdict: Verdict::Authentic,
            reason: "hold times match".into(),
            profile_version: Some(1),
        }
    }

    #[test]
    fn scores_are_read_back_by_the_end_of_their_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        assert_eq!(store.latest_score().unwrap(), None);
        for i in 0..5 {
            let id = store
                .save_score(&score(i * 100, i * 100 + 50, 0.5))
                .unwrap();
            assert_eq!(id, i + 1);
        }
        let middle = store.scores_between(Some(150), Some(350), 100).unwrap();
        assert_eq!(
            middle.iter().map(|s| s.to_us).collect::<Vec<_>>(),
            [150, 250, 350]
        );
        let newest_two = store.scores_between(None, None, 2).unwrap();
        assert_eq!(
            newest_two.iter().map(|s| s.to_us).collect::<Vec<_>>(),
            [350, 450]
        );
        let latest = store.latest_score().unwrap().unwrap();
        assert_eq!((latest.id, latest.to_us), (5, 450));
        assert_eq!(latest.profile_version, Some(1));
    }

    #[test]
    fn alerts_keep_their_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db"), &crate::Encryption::Off).unwrap();
        let score_id = store.save_score(&score(0, 10, 0.01)).unwrap();
        let alert = StoredAlert {
            id: 0,
            created_us: 20,
            score_id: Some(score_id),
            score: 0.01,
            reason: "far below".into(),
            notified: false,
            action: None,
            kind: AlertKind::Impostor,
            evidence_from_us: None,
            evidence_to_us: None,
            marked_false_us: None,
        };
        let first = store.save_alert(&alert).unwrap();
        let second = store
            .save_alert(&StoredAlert {
                created_us: 30,
                kind: AlertKind::Injection,
                ..alert.clone()
            })
            .unwrap();
        store
            .update_alert_outcome(first, true, Some("ran `true`: exit 0"))
            .unwrap();
        let alerts = store.alerts_between(None, None, 10).unwrap();
        assert_eq!(
            alerts.iter().map(|a| a.id).collect::<Vec<_>>(),
            [second, first]
        );
        assert!(alerts[1].notified);
        assert_eq!(alerts[1].action.as_deref(), Some("ran `true`: exit 0"));
        assert!(!alerts[0].notified);
        assert_eq!(
            (alerts[0].kind, alerts[1].kind),
            (AlertKind::Injection, AlertKind::Impostor),
            "each alert keeps what raised it"
        );
        assert_eq!(store.alerts_between(Some(25), None, 10).unwrap().len(), 1);
    }

    #[test]
    fn it_was_me_marks_an_alert_false_once_and_keeps_its_evidence_span() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("tikker.db")).unwrap();
        let id = store
            .save_alert(&StoredAlert {
                id: 0,
                created_us: 5_000,
                score_id: None,
                score: 0.0,
                reason: "far below".into(),
                notified: true,
                action: None,
                kind: AlertKind::Impostor,
                evidence_from_us: Some(1_000),
                evidence_to_us: Some(4_900),
                marked_false_us: None,
            })
            .unwrap();
        assert_eq!(store.count_false_alerts().unwrap(), 0);
        let first = store.mark_alert_false(id, 9_000).unwrap().unwrap();
        assert!(first.newly);
        assert_eq!(first.alert.marked_false_us, Some(9_000));
        assert_eq!(
            (first.alert.evidence_from_us, first.alert.evidence_to_us),
            (Some(1_000), Some(4_900))
        );
        let again = store.mark_alert_false(id, 12_000).unwrap().unwrap();
        assert!(!again.newly, "a second mark changes nothing");
        assert_eq!(
            again.alert.marked_false_us,
            Some(9_000),
            "the first time stays"
        );
        assert_eq!(store.count_false_alerts().unwrap(), 1);
        assert_eq!(store.mark_alert_false(id + 1, 9_000).unwrap(), None);
    }
}
