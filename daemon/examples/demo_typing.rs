//! Synthetic typing for the quick start (`scripts/run`): two made-up typists, the owner and
//! someone else, as `events-csv` on standard output. Deterministic (a fixed seed per typist),
//! made from nothing but this file, so it may be shipped; no data set is read.
//!
//! Usage: `demo_typing [START_MS] [OWNER_KEYSTROKES] [OTHER_KEYSTROKES]` (defaults: now, 3,400,
//! 400). The owner types first (user `owner`, sessions `owner-N`, a sentence each); the other
//! typist follows 5 s after the owner's last key, at the owner's keyboard (user `owner`,
//! sessions `someone-else-N`), as an intruder would.
//!
//! A typist is a few numbers: a base hold time and press-to-press interval, and for every key
//! and every pair of keys a factor of its own drawn once from the typist's seed (people are
//! quick on some keys and pairs, slow on others, and keep to it), plus per-keystroke jitter.
//! Sentences are drawn from a list of common words; between sentences the typist pauses for
//! one to two seconds.

use std::io::Write;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of uniforms), mean 0, standard deviation 1.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// How one person types.
struct Typist {
    hold_ms: f64,
    interval_ms: f64,
    /// Per key (a–z, space): a factor on the hold time.
    key_hold: [f64; 27],
    /// Per pair of keys: a factor on the interval.
    pair_interval: [[f64; 27]; 27],
    jitter: f64,
    rng: Rng,
}

impl Typist {
    fn new(seed: u64, hold_ms: f64, interval_ms: f64, spread: f64) -> Typist {
        let mut rng = Rng(seed);
        let mut key_hold = [1.0; 27];
        for factor in &mut key_hold {
            *factor = (spread * rng.normal()).exp();
        }
        let mut pair_interval = [[1.0; 27]; 27];
        for row in &mut pair_interval {
            for factor in row.iter_mut() {
                *factor = (1.5 * spread * rng.normal()).exp();
            }
        }
        Typist {
            hold_ms,
            interval_ms,
            key_hold,
            pair_interval,
            jitter: 0.12,
            rng,
        }
    }
}

const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
    "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
    "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
    "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other",
    "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make", "like",
    "him", "into", "time", "has", "look", "two", "more", "write", "go", "see", "number", "no",
    "way", "could", "people", "my", "than", "first", "water", "been", "call", "who", "oil", "its",
    "now", "find", "long", "down", "day", "did", "get", "come", "made", "may", "part",
];

/// evdev codes of a–z, then space.
const KEYS: [u16; 27] = [
    30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45,
    21, 44, 57,
];

fn index_of(c: char) -> usize {
    match c {
        'a'..='z' => c as usize - 'a' as usize,
        _ => 26,
    }
}

/// Types sentences until `keystrokes` keystrokes, from `start_us`; returns the rows and the
/// time of the last release.
fn type_sentences(
    typist: &mut Typist,
    who: &str,
    keystrokes: usize,
    start_us: i64,
    out: &mut Vec<(String, i64, u16, &'static str)>,
) -> i64 {
    let mut t = start_us;
    let mut typed = 0;
    let mut sentence = 0;
    let mut last_release = start_us;
    while typed < keystrokes {
        sentence += 1;
        let session = format!("{who}-{sentence}");
        let words = 8 + typist.rng.below(8);
        let text: Vec<&str> = (0..words)
            .map(|_| WORDS[typist.rng.below(WORDS.len())])
            .collect();
        let mut previous: Option<usize> = None;
        for c in text.join(" ").chars() {
            if typed >= keystrokes {
                break;
            }
            let key = index_of(c);
            if let Some(before) = previous {
                let factor = typist.pair_interval[before][key];
                let jitter = (typist.jitter * typist.rng.normal()).exp();
                t += (typist.interval_ms * factor * jitter * 1000.0) as i64;
            }
            let jitter = (typist.jitter * typist.rng.normal()).exp();
            let hold = (typist.hold_ms * typist.key_hold[key] * jitter * 1000.0) as i64;
            let hold = hold.max(20_000);
            out.push((session.clone(), t, KEYS[key], "press"));
            out.push((session.clone(), t + hold, KEYS[key], "release"));
            last_release = last_release.max(t + hold);
            previous = Some(key);
            typed += 1;
        }
        // A pause between sentences: one to two seconds after the last release.
        t = last_release + 1_000_000 + (typist.rng.unit() * 1_000_000.0) as i64;
    }
    last_release
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: i64| -> i64 {
        args.get(i)
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let owner_keystrokes = number(1, 3_400).max(0) as usize;
    let other_keystrokes = number(2, 400).max(0) as usize;
    // By default the typing ends about now: the owner started long enough ago.
    let start_ms = number(0, now_ms - 20 * 60 * 1000);

    let mut owner = Typist::new(0x7469_6b6b_6572, 95.0, 175.0, 0.25);
    let mut other = Typist::new(0x0bad_cafe, 125.0, 240.0, 0.25);
    let mut rows = Vec::new();
    let owner_end = type_sentences(
        &mut owner,
        "owner",
        owner_keystrokes,
        start_ms * 1000,
        &mut rows,
    );
    type_sentences(
        &mut other,
        "someone-else",
        other_keystrokes,
        owner_end + 5_000_000,
        &mut rows,
    );
    rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(out, "user,session,timestamp_ms,key,event")?;
    for (session, time_us, key, action) in rows {
        writeln!(
            out,
            "owner,{session},{}.{:03},{key},{action}",
            time_us / 1000,
            time_us % 1000
        )?;
    }
    out.flush()
}
