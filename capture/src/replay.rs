//! The replay source: a recorded file fed through the same pipeline as live capture, at the
//! recorded pace or `--speed N` times faster.
//!
//! It reads an `events-csv` file, an Aalto participant file (both possibly gzipped; bad rows are
//! skipped with a warning, as `tikker import --skip-bad` does), or a raw recorded `input_event`
//! stream (decoded by the evdev source's [`Decoder`](crate::evdev::decode::Decoder)). Events keep their
//! recorded timestamps and the sessions of the file (a raw stream is one session of the configured
//! user), so a replay stores the same events as `tikker import` of the same file; sessions are
//! replayed one after the other, in the order of their first event, without the gaps between them.
//! Within a session, event *i* is handed over `(t_i − t_0) / speed` after the session's first.
//!
//! Replays wait for room in the writer's queue instead of dropping (they are not an OS hook), and
//! honour pauses like any source. When the file is done the source reports
//! [`SourceEnd::Finished`] and the daemon stops (committing everything).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tikker_core::KeyEvent;
use tikker_core::event::time_in_bounds;
use tikker_formats::{ImportFormat, ParseError, ParsedSession, open_input, parse};

use crate::evdev::decode::{INPUT_EVENT_SIZE, decode_recording};
use crate::pipeline::SessionStart;
use crate::{Running, Sink, Source, SourceEnd, Stopped};

/// A file to replay, parsed.
#[derive(Debug)]
pub struct ReplaySource {
    path: PathBuf,
    speed: f64,
    sessions: Vec<ParsedSession>,
    format: &'static str,
}

/// How long the replay sleeps at most at once (so that it notices a stop quickly).
const MAX_SLEEP: Duration = Duration::from_millis(100);

impl ReplaySource {
    /// Reads and parses `path`; `speed` > 0 scales the pace (`inf`: as fast as possible).
    pub fn open(path: &Path, speed: f64, user: &str) -> anyhow::Result<ReplaySource> {
        if speed.is_nan() || speed <= 0.0 {
            bail!(
                "--speed {speed}: give a factor above 0 (1 = the recorded pace; inf = no waiting)"
            );
        }
        let mut bytes = Vec::new();
        let mut ignore_progress = |_| {};
        open_input(path, &mut ignore_progress)
            .with_context(|| format!("opening the replay file {}", path.display()))?
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading the replay file {}", path.display()))?;
        let (format, sessions) = parse_recording(&bytes, path, user)?;
        let mut sessions: Vec<ParsedSession> = sessions
            .into_iter()
            .filter(|s| !s.events.is_empty())
            .collect();
        sessions.sort_by_key(|s| s.events.first().map(|e| e.time_us));
        Ok(ReplaySource {
            path: path.to_path_buf(),
            speed,
            sessions,
            format,
        })
    }

    /// How many events the file holds.
    pub fn event_count(&self) -> usize {
        self.sessions.iter().map(|s| s.events.len()).sum()
    }
}

/// Recognises and parses the recording: `events-csv`, Aalto, or raw `input_event`s.
fn parse_recording(
    bytes: &[u8],
    path: &Path,
    user: &str,
) -> anyhow::Result<(&'static str, Vec<ParsedSession>)> {
    for format in [ImportFormat::EventsCsv, ImportFormat::Aalto] {
        match parse(format, bytes) {
            Ok(parsed) => {
                if let Some(first) = parsed.bad_rows.first() {
                    tracing::warn!(
                        file = %path.display(),
                        skipped = parsed.bad_rows.len(),
                        %first,
                        "bad rows skipped"
                    );
                }
                return Ok((format.name(), parsed.into_sorted_sessions()));
            }
            Err(ParseError::Header(_)) => continue,
            Err(ParseError::Io(e)) => {
                return Err(e).with_context(|| format!("reading {}", path.display()));
            }
        }
    }
    if !bytes.is_empty() && bytes.len().is_multiple_of(INPUT_EVENT_SIZE) {
        let (mut events, stats) = decode_recording(bytes);
        let decoded = events.len();
        events.retain(|e| time_in_bounds(e.time_us));
        if events.len() < decoded {
            tracing::warn!(
                skipped = decoded - events.len(),
                "recorded events with a time outside the years 1970 to 9999 were skipped"
            );
        }
        if stats.overflows > 0 || stats.unmatched > 0 {
            tracing::warn!(
                overflows = stats.overflows,
                discarded = stats.discarded,
                unmatched = stats.unmatched,
                "the recorded input_event stream has gaps; the affected events were skipped"
            );
        }
        let label = events
            .first()
            .and_then(|e| jiff::Timestamp::from_microsecond(e.time_us).ok())
            .map(|t| t.to_string())
            .unwrap_or_default();
        return Ok((
            "evdev",
            vec![ParsedSession {
                user: user.to_owned(),
                label,
                events,
            }],
        ));
    }
    bail!(
        "{}: not a recording tikker can replay (expected an events-csv file with the header \
         user,session,timestamp_ms,key,event, an Aalto participant file, or raw input_event bytes)",
        path.display()
    )
}

impl Source for ReplaySource {
    fn kind(&self) -> &'static str {
        "replay"
    }

    fn detail(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    fn start(self: Box<Self>, sink: Sink) -> anyhow::Result<Running> {
        let (ended_tx, ended) = tokio::sync::oneshot::channel();
        let detail = self.detail();
        tracing::info!(
            file = %self.path.display(),
            format = self.format,
            sessions = self.sessions.len(),
            events = self.event_count(),
            speed = self.speed,
            "replaying"
        );
        sink.announce_source("replay", detail.clone())
            .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
        std::thread::Builder::new()
            .name("replay".into())
            .spawn(move || {
                let end = match replay(&self.sessions, self.speed, &detail, &sink) {
                    Ok(()) => SourceEnd::Finished,
                    Err(Stopped) => SourceEnd::Failed("stopped".into()),
                };
                let _ = ended_tx.send(end);
            })
            .context("starting the replay thread")?;
        Ok(Running { ended })
    }
}

fn replay(
    sessions: &[ParsedSession],
    speed: f64,
    detail: &str,
    sink: &Sink,
) -> Result<(), Stopped> {
    for session in sessions {
        let Some(first) = session.events.first() else {
            continue;
        };
        sink.begin_session(SessionStart {
            source_kind: "replay".into(),
            source_detail: detail.to_owned(),
            user: session.user.clone(),
            label: session.label.clone(),
        })?;
        let started = Instant::now();
        for event in &session.events {
            wait_until(started, offset(first, event, speed), sink)?;
            sink.deliver(*event, Instant::now())?;
        }
    }
    Ok(())
}

/// When `event` is due after the session's `first`, at `speed`.
fn offset(first: &KeyEvent, event: &KeyEvent, speed: f64) -> Duration {
    let recorded = (event.time_us - first.time_us).max(0) as f64 / 1e6;
    Duration::try_from_secs_f64(recorded / speed).unwrap_or(Duration::ZERO)
}

/// Sleeps until `started + offset` (if that is more than a millisecond away), watching for a stop.
fn wait_until(started: Instant, offset: Duration, sink: &Sink) -> Result<(), Stopped> {
    let due = started + offset;
    loop {
        if sink.is_stopping() {
            return Err(Stopped);
        }
        let now = Instant::now();
        if due <= now + Duration::from_millis(1) {
            return Ok(());
        }
        std::thread::sleep((due - now).min(MAX_SLEEP));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evdev::decode::encode_key_packet;

    #[test]
    fn every_replayable_format_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(
            &csv,
            "user,session,timestamp_ms,key,event\nann,s2,2000,a,press\nann,s1,1000,b,press\nann,s1,1100,b,release\n",
        )
        .unwrap();
        let source = ReplaySource::open(&csv, 1.0, "me").unwrap();
        assert_eq!(source.format, "events-csv");
        let labels: Vec<&str> = source.sessions.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["s1", "s2"],
            "sessions in the order of their first event"
        );
        assert_eq!(source.event_count(), 3);

        let raw = dir.path().join("kbd.evdev");
        let mut bytes = encode_key_packet(1_700_000_000_000_000, 30, 1);
        bytes.extend(encode_key_packet(1_700_000_000_090_000, 30, 0));
        std::fs::write(&raw, bytes).unwrap();
        let source = ReplaySource::open(&raw, 1.0, "me").unwrap();
        assert_eq!(source.format, "evdev");
        assert_eq!(source.sessions[0].user, "me");
        assert_eq!(source.sessions[0].label, "2023-11-14T22:13:20Z");
        assert_eq!(source.event_count(), 2);

        let junk = dir.path().join("junk.txt");
        std::fs::write(&junk, "hello\n").unwrap();
        let message = ReplaySource::open(&junk, 1.0, "me")
            .unwrap_err()
            .to_string();
        assert!(message.contains("not a recording"), "{message}");
        assert!(ReplaySource::open(&csv, 0.0, "me").is_err());
    }

    #[test]
    fn a_replay_file_with_windows_or_mac_line_ends_or_a_bom_replays_like_lf() {
        let dir = tempfile::tempdir().unwrap();
        let lf =
            "user,session,timestamp_ms,key,event\nann,s1,1000,b,press\nann,s1,1100,b,release\n";
        let variants = [
            lf.replace('\n', "\r\n"),
            lf.replace('\n', "\r"),
            format!("\u{feff}{}", lf.replace('\n', "\r\n")),
        ];
        for (i, text) in variants.iter().enumerate() {
            let path = dir.path().join(format!("{i}.csv"));
            std::fs::write(&path, text).unwrap();
            let source = ReplaySource::open(&path, 1.0, "me").unwrap();
            assert_eq!(
                (source.format, source.event_count()),
                ("events-csv", 2),
                "{i}"
            );
        }
    }

    #[test]
    fn a_replay_skips_events_outside_the_years_1970_to_9999() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(
            &csv,
            "user,session,timestamp_ms,key,event\nann,s1,1000,b,press\n\
             ann,s1,9223372036854775,b,release\nann,s1,253402300800000,b,release\n",
        )
        .unwrap();
        assert_eq!(
            ReplaySource::open(&csv, 1.0, "me").unwrap().event_count(),
            1
        );

        let raw = dir.path().join("kbd.evdev");
        let mut bytes = encode_key_packet(1_700_000_000_000_000, 30, 1);
        bytes.extend(encode_key_packet(-5_000_000, 31, 1));
        bytes.extend(encode_key_packet(i64::MAX / 2, 32, 1));
        std::fs::write(&raw, bytes).unwrap();
        let source = ReplaySource::open(&raw, 1.0, "me").unwrap();
        assert_eq!(source.event_count(), 1);
    }

    #[test]
    fn the_pace_scales_with_the_speed() {
        let first = KeyEvent::press(1_000_000, tikker_core::KeyCode(30));
        let later = KeyEvent::press(3_000_000, tikker_core::KeyCode(30));
        assert_eq!(offset(&first, &later, 1.0), Duration::from_secs(2));
        assert_eq!(offset(&first, &later, 1000.0), Duration::from_millis(2));
        assert_eq!(offset(&first, &later, f64::INFINITY), Duration::ZERO);
    }
}
