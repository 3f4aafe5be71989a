//! Scoring a window of typing against a profile: the free-text verifier's hot path.
//!
//! `cargo bench -p tikker-core --bench verify`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tikker_core::KeyCode;
use tikker_core::keystroke::Keystroke;
use tikker_core::profile::Profile;
use tikker_core::sampling::SplitMix64;
use tikker_core::verify::freetext::{Params, Verifier};

/// Deterministic synthetic typing: `n` keystrokes over 30 letter keys, holds of 60–140 ms and
/// press-to-press gaps of 80–330 ms (splitmix64 with a fixed seed).
fn typing(seed: u64, n: usize) -> Vec<Keystroke> {
    let mut rng = SplitMix64(seed);
    let mut next = move || rng.next_u64();
    let keys: Vec<KeyCode> = "etaoinshrdlucmfwypvbgkjqxz ,."
        .chars()
        .filter_map(KeyCode::from_char)
        .collect();
    let mut t = 1_700_000_000_000_000i64;
    (0..n)
        .map(|_| {
            let key = keys[(next() % keys.len() as u64) as usize];
            let hold = 60_000 + (next() % 80_000) as i64;
            let k = Keystroke {
                key,
                press_us: t,
                release_us: t + hold,
            };
            t += 80_000 + (next() % 250_000) as i64;
            k
        })
        .collect()
}

fn score_window(c: &mut Criterion) {
    let enrolment = typing(1, 2_000);
    let profile = Profile::from_windows(enrolment.chunks(150));
    let verifier = Verifier::new(&profile, &Params::default());
    let window = typing(2, 150);
    c.bench_function("score a 150-keystroke window (prepared verifier)", |b| {
        b.iter(|| verifier.score(black_box(&window)))
    });
    c.bench_function(
        "score a 150-keystroke window (verifier built per call)",
        |b| {
            b.iter(|| {
                Verifier::new(black_box(&profile), &Params::default()).score(black_box(&window))
            })
        },
    );
}

criterion_group!(benches, score_window);
criterion_main!(benches);
