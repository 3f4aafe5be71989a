//! What the data-set tests share.

use std::path::PathBuf;

use tikker_research::dataset::Participant;
use tikker_research::dataset::aalto::{participant_files, read_many};

/// The first `n` participants of `aalto-dev` by id; fails loudly if the data set is missing.
pub fn aalto_participants(n: usize) -> Vec<Participant> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/aalto-dev");
    assert!(
        dir.is_dir(),
        "the Aalto data set is expected at {}",
        dir.display()
    );
    let files = participant_files(&dir).unwrap();
    assert_eq!(files.len(), 1746);
    read_many(&files[..n], 2)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap()
}
