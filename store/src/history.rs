//! What tikker reads back from stored typing: a profile, the daily statistics, and the owner's
//! typing fed through the monitor. Each drives a streaming builder of `tikker-core` with one
//! scan of the matching events, so memory stays bounded whatever the database holds.

use jiff::tz::TimeZone;
use tikker_core::monitor::{EnrolmentTooShort, Monitor, StoredFeed, StoredTypingFeed};
use tikker_core::profile::{Profile, ProfileBuilder};
use tikker_core::stats::{StatsBuilder, Summary};

use crate::{Damage, EventFilter, Store, StoreError};

/// The profile of the events matching `filter` (see [`ProfileBuilder`]).
///
/// # Errors
/// [`StoreError`] when the events cannot be read.
pub fn profile(store: &Store, filter: &EventFilter) -> Result<Profile, StoreError> {
    let mut builder = ProfileBuilder::new();
    store.for_each_event(filter, |info, event| {
        builder.push(info.id.0, &event);
        Ok::<(), StoreError>(())
    })?;
    Ok(builder.finish())
}

/// The statistics of the events matching `filter`, days in `tz` (see [`StatsBuilder`]). A stored
/// time that no calendar day holds (outside the years 1970 to 9999) is skipped and counted in
/// [`Summary::skipped_events`]: one odd row never fails the whole statistics.
///
/// # Errors
/// [`StoreError`] when the events cannot be read.
pub fn summarize(store: &Store, filter: &EventFilter, tz: TimeZone) -> Result<Summary, StoreError> {
    let mut stats = StatsBuilder::new(tz);
    let mut no_day = 0;
    let scan = store.scan_events(filter, |info, event| {
        if stats.push(info.id.0, &event).is_err() {
            no_day += 1;
        }
        Ok::<(), StoreError>(())
    })?;
    let mut summary = stats.finish();
    summary.skipped_events = scan.skipped + no_day;
    if no_day > 0 {
        tracing::warn!(
            skipped = no_day,
            "skipped stored events whose time no calendar day holds"
        );
    }
    Ok(summary)
}

/// Why stored typing could not be fed through a monitor.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The enrolment could not build a model.
    #[error(transparent)]
    Enrolment(#[from] EnrolmentTooShort),
}

/// Stops a store scan early.
enum ScanStop {
    Failed(FeedError),
    Done,
}

impl From<StoreError> for ScanStop {
    fn from(e: StoreError) -> Self {
        ScanStop::Failed(FeedError::Store(e))
    }
}

/// Feeds the stored events matching `filter` through `monitor`, session by session, and says
/// what happened. With `until_enrolled` it stops as soon as the owner is enrolled (a daemon
/// resuming an enrolment); otherwise it reads everything (`tikker profile rebuild`). Nothing is
/// written.
///
/// # Errors
/// [`FeedError`]: the store could not be read, or the enrolment could not build a model.
pub fn feed_monitor(
    store: &Store,
    filter: &EventFilter,
    monitor: &mut Monitor,
    until_enrolled: bool,
) -> Result<StoredFeed, FeedError> {
    feed(store, filter, monitor, until_enrolled, false).map(|(fed, _)| fed)
}

/// [`feed_monitor`] reading past damaged pages ([`Store::scan_events_past_damage`]): the
/// monitor learns from what can be read, and the damage read past is returned.
///
/// # Errors
/// [`FeedError`]: the store could not be read for another reason than damage, or the
/// enrolment could not build a model.
pub fn feed_monitor_past_damage(
    store: &Store,
    filter: &EventFilter,
    monitor: &mut Monitor,
    until_enrolled: bool,
) -> Result<(StoredFeed, Option<Damage>), FeedError> {
    feed(store, filter, monitor, until_enrolled, true)
}

fn feed(
    store: &Store,
    filter: &EventFilter,
    monitor: &mut Monitor,
    until_enrolled: bool,
    past_damage: bool,
) -> Result<(StoredFeed, Option<Damage>), FeedError> {
    let mut feed = StoredTypingFeed::new(monitor, until_enrolled);
    let visit = |info: &crate::SessionInfo, event: tikker_core::KeyEvent| match feed
        .push(info.id.0, &event)
    {
        Ok(false) => Ok(()),
        Ok(true) => Err(ScanStop::Done),
        Err(e) => Err(ScanStop::Failed(e.into())),
    };
    let scan = if past_damage {
        store.scan_events_past_damage(filter, visit)
    } else {
        store.scan_events(filter, visit).map(|scan| (scan, None))
    };
    match scan {
        Ok((_, damage)) => Ok((feed.finish()?, damage)),
        // Enrolled before the end: the scan stopped there, and with it what it noted (the
        // enrolment is complete, which is what the damage could have cost).
        Err(ScanStop::Done) => Ok((feed.finish()?, None)),
        Err(ScanStop::Failed(e)) => Err(e),
    }
}
