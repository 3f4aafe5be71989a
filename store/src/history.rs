//! What tikker reads back from stored typing: a profile, the daily statistics (from the
//! activity rollups), and the owner's typing fed through the monitor. Each drives a streaming builder of `tikker-core` with one
//! scan of the matching events, so memory stays bounded whatever the database holds.

use jiff::tz::TimeZone;
use tikker_core::activity::{ActivityBucket, ActivityBuilder, BUCKET_US, bucket_start};
use tikker_core::monitor::{EnrolmentTooShort, Monitor, StoredFeed, StoredTypingFeed};
use tikker_core::profile::{Profile, ProfileBuilder};
use tikker_core::stats::Summary;

use crate::{EventFilter, Store, StoreError};

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

/// The statistics of the events matching `filter`, days in `tz`, read from the quarter-hour
/// activity rollups (so they cover raw events already pruned, and cost one row per quarter hour
/// of typing). A bound of `filter` that is not on a quarter hour is honoured exactly by
/// counting the raw events between it and the nearest quarter hour (see
/// [`Summary::from_buckets`]; a time no calendar day holds is counted in
/// [`Summary::skipped_events`]).
///
/// # Errors
/// [`StoreError`] when the rollups or events cannot be read.
pub fn summarize(store: &Store, filter: &EventFilter, tz: TimeZone) -> Result<Summary, StoreError> {
    let first = filter
        .from_us
        .map(|from| bucket_start(from.saturating_add(BUCKET_US - 1)));
    let end = filter.to_us.map(bucket_start);
    if let (Some(first), Some(end)) = (first, end)
        && end <= first
    {
        // Within one or two quarter hours: count the raw events.
        return Ok(raw_buckets(store, filter).map(|b| Summary::from_buckets(b, tz))?);
    }
    let mut buckets = store.activity(first, end, filter.user.as_deref())?;
    if let (Some(from), Some(first)) = (filter.from_us, first)
        && from < first
    {
        let edge = EventFilter {
            to_us: Some(first),
            ..filter.clone()
        };
        buckets.extend(raw_buckets(store, &edge)?);
    }
    if let (Some(to), Some(end)) = (filter.to_us, end)
        && end < to
    {
        let edge = EventFilter {
            from_us: Some(end),
            ..filter.clone()
        };
        buckets.extend(raw_buckets(store, &edge)?);
    }
    let summary = Summary::from_buckets(buckets, tz);
    if summary.skipped_events > 0 {
        tracing::warn!(
            skipped = summary.skipped_events,
            "skipped stored events whose time no calendar day holds"
        );
    }
    Ok(summary)
}

/// The activity buckets of the raw events matching `filter`, counted afresh.
fn raw_buckets(store: &Store, filter: &EventFilter) -> Result<Vec<ActivityBucket>, StoreError> {
    let mut builder = ActivityBuilder::new();
    store.scan_events(filter, |info, event| {
        builder.push(info.id.0, &event);
        Ok::<(), StoreError>(())
    })?;
    Ok(builder.finish())
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
    let mut feed = StoredTypingFeed::new(monitor, until_enrolled);
    let scan = store.for_each_event(filter, |info, event| match feed.push(info.id.0, &event) {
        Ok(false) => Ok(()),
        Ok(true) => Err(ScanStop::Done),
        Err(e) => Err(ScanStop::Failed(e.into())),
    });
    match scan {
        Ok(_) | Err(ScanStop::Done) => Ok(feed.finish()?),
        Err(ScanStop::Failed(e)) => Err(e),
    }
}
