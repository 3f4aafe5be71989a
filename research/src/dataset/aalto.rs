//! Participants of the Aalto "136M Keystrokes" data set as sentences of keystrokes, for the
//! free-text evaluation protocol.
//!
//! Files are read by the same parser as `tikker import --format aalto` (rows that do not parse,
//! or whose release comes before the press, are skipped and counted), and each sentence's events
//! are paired into keystrokes by [`tikker_core::keystroke::keystrokes`].

use std::path::{Path, PathBuf};

use super::{Participant, sentences_of};
use tikker_formats::{ImportFormat, ReadError, parse_file};

/// Reads one participant file (gzipped or not), skipping bad rows.
pub fn read_participant(path: &Path) -> Result<Participant, ReadError> {
    let parsed = parse_file(path, ImportFormat::Aalto, &mut |_| {})?;
    let skipped = parsed.bad_rows.len();
    let sessions = parsed.into_sorted_sessions();
    let id = sessions.first().map(|s| s.user.clone()).unwrap_or_default();
    Ok(Participant {
        id,
        sentences: sentences_of(sessions),
        skipped,
    })
}

/// The participant files of a folder (or of its `users/` subfolder), sorted by numeric id.
pub fn participant_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let users = dir.join("users");
    let dir = if users.is_dir() { users.as_path() } else { dir };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains("_keystrokes.txt"))
        })
        .collect();
    let id = |path: &PathBuf| -> u64 {
        path.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('_').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    };
    files.sort_by_key(|p| (id(p), p.clone()));
    Ok(files)
}

/// Reads many participant files on `threads` threads, keeping their order.
pub fn read_many(paths: &[PathBuf], threads: usize) -> Vec<Result<Participant, ReadError>> {
    let threads = threads.clamp(1, paths.len().max(1));
    let chunk = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|p| read_participant(p)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                // A reader thread only panics on a bug; surface it as such.
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}
