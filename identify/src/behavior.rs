//! The behaviour model of `/model/train` and `/behavior/predict`.
//!
//! **Categories**, decided by this rule, in this order:
//!
//! | category | when |
//! |---|---|
//! | `fast_focused` | speed above [`FAST_FOCUSED_WPM`] (80 WPM) |
//! | `slow_deliberate` | speed below [`SLOW_DELIBERATE_WPM`] (30 WPM) |
//! | `stressed_or_tired` | rhythm consistency below [`STRESSED_CONSISTENCY`] (0.5) |
//! | `normal` | otherwise |
//!
//! **Where the labels come from.** Nobody told tikker when its owner was stressed or focused: the
//! label of each training window is the category the rule above gives for that window's own
//! speed and rhythm. The model (a random forest, [`IdentifyModel`] with the categories as its
//! classes) learns to reproduce the rule from five features of the window
//! ([`FEATURE_NAMES`]), and its accuracy, measured on held-out windows (every
//! [`HELD_OUT_EVERY`]th window, never trained on), says how faithfully it does: it is no measure
//! of anyone's real state of mind. The names are the original service's.
//!
//! **Windows** are runs of [`WINDOW_PRESSES`] key presses of one stored session (any user), the
//! newest `sample_size` of them; a window without speed or rhythm (a pause between every press)
//! is skipped.

use std::collections::{BTreeMap, VecDeque};

use tikker_core::analytics::metrics::{TypingMeter, TypingMetrics};
use tikker_core::event::KeyEvent;

use crate::{ForestOptions, IdentifyError, IdentifyModel, ModelKind, TrainOptions};

/// The name the model is stored under (the store's `models` table).
pub const MODEL_NAME: &str = "behavior";
/// Key presses per training window.
pub const WINDOW_PRESSES: u64 = 50;
/// The fewest windows a model is trained from.
pub const MIN_WINDOWS: usize = 10;
/// Windows trained on when the caller does not say.
pub const DEFAULT_SAMPLES: usize = 100;
/// The most windows trained on.
pub const MAX_SAMPLES: usize = 10_000;
/// Every this-many-th window is held out to measure accuracy.
pub const HELD_OUT_EVERY: usize = 5;
/// Faster than this (WPM) is `fast_focused`.
pub const FAST_FOCUSED_WPM: f64 = 80.0;
/// Slower than this (WPM) is `slow_deliberate`.
pub const SLOW_DELIBERATE_WPM: f64 = 30.0;
/// A rhythm consistency below this is `stressed_or_tired`.
pub const STRESSED_CONSISTENCY: f64 = 0.5;
/// The features of a window, in order.
pub const FEATURE_NAMES: [&str; 5] = [
    "typing_speed",
    "consistency",
    "mean_interval_ms",
    "sd_interval_ms",
    "pause_share",
];

/// A behaviour category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BehaviorCategory {
    /// None of the others.
    Normal,
    /// Fast typing.
    FastFocused,
    /// Slow typing.
    SlowDeliberate,
    /// Irregular rhythm.
    StressedOrTired,
}

impl BehaviorCategory {
    /// Every category.
    pub const ALL: [BehaviorCategory; 4] = [
        Self::Normal,
        Self::FastFocused,
        Self::SlowDeliberate,
        Self::StressedOrTired,
    ];

    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::FastFocused => "fast_focused",
            Self::SlowDeliberate => "slow_deliberate",
            Self::StressedOrTired => "stressed_or_tired",
        }
    }

    /// The category of a name.
    pub fn from_name(name: &str) -> Option<BehaviorCategory> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The category the rule gives (see the module documentation).
    pub fn of(wpm: f64, consistency: f64) -> BehaviorCategory {
        if wpm > FAST_FOCUSED_WPM {
            Self::FastFocused
        } else if wpm < SLOW_DELIBERATE_WPM {
            Self::SlowDeliberate
        } else if consistency < STRESSED_CONSISTENCY {
            Self::StressedOrTired
        } else {
            Self::Normal
        }
    }
}

/// The features of some typing ([`FEATURE_NAMES`]), if it has a speed and a rhythm.
pub fn features(m: &TypingMetrics) -> Option<[f64; 5]> {
    let pause_share = m.pauses as f64 / (m.intervals + m.pauses).max(1) as f64;
    Some([
        m.wpm?,
        m.consistency?,
        m.interval_mean_ms?,
        m.interval_sd_ms?,
        pause_share,
    ])
}

/// Cuts a stream of stored typing into windows of [`WINDOW_PRESSES`] key presses of one session
/// and keeps the features of the newest `sample_size` of them. The store's reader feeds it.
#[derive(Debug)]
pub struct WindowSampler {
    sample_size: usize,
    windows: VecDeque<[f64; 5]>,
    meter: TypingMeter,
    session: Option<i64>,
}

impl WindowSampler {
    /// A sampler keeping the newest `sample_size` windows.
    pub fn new(sample_size: usize) -> WindowSampler {
        WindowSampler {
            sample_size,
            windows: VecDeque::with_capacity(sample_size.min(MAX_SAMPLES)),
            meter: TypingMeter::new(),
            session: None,
        }
    }

    /// Feeds one event of session `session` (any id that tells sessions apart; sessions one
    /// after another, each in time order).
    pub fn push(&mut self, session: i64, event: &KeyEvent) {
        if self.session != Some(session) {
            self.session = Some(session);
            self.meter = TypingMeter::new();
        }
        self.meter.push(event);
        if self.meter.presses() >= WINDOW_PRESSES {
            if let Some(window) = features(&self.meter.metrics()) {
                if self.windows.len() == self.sample_size {
                    self.windows.pop_front();
                }
                if self.sample_size > 0 {
                    self.windows.push_back(window);
                }
            }
            self.meter = TypingMeter::new();
        }
    }

    /// The features of the kept windows, oldest first.
    pub fn finish(self) -> Vec<[f64; 5]> {
        self.windows.into()
    }
}

/// Why no behaviour model could be trained or used.
#[derive(Debug, thiserror::Error)]
pub enum BehaviorError {
    /// Too little stored typing.
    #[error(
        "{found} windows of {WINDOW_PRESSES} key presses are stored; at least {need} are needed"
    )]
    TooFewWindows {
        /// Windows found.
        found: usize,
        /// Windows needed.
        need: usize,
    },
    /// Every window falls in one category: there is nothing to tell apart.
    #[error(
        "all {windows} windows of stored typing are {category}: a model needs windows of at least two categories"
    )]
    OneCategory {
        /// The only category.
        category: &'static str,
        /// Windows.
        windows: usize,
    },
    /// The typing to predict has no speed or no rhythm.
    #[error("at least three key presses less than 2 s apart are needed for a speed and a rhythm")]
    TooLittleTyping,
    /// The model failed.
    #[error(transparent)]
    Model(#[from] IdentifyError),
}

/// A trained behaviour model and how it did.
#[derive(Debug)]
pub struct TrainedBehavior {
    /// The model.
    pub model: IdentifyModel,
    /// Windows used (trained on and held out).
    pub samples: usize,
    /// Windows trained on.
    pub trained_on: usize,
    /// Share of held-out windows whose category it predicts.
    pub accuracy: f64,
    /// Windows per category.
    pub categories: BTreeMap<&'static str, usize>,
}

/// Trains the model on windows (see the module documentation).
pub fn train(windows: &[[f64; 5]], threads: usize) -> Result<TrainedBehavior, BehaviorError> {
    if windows.len() < MIN_WINDOWS {
        return Err(BehaviorError::TooFewWindows {
            found: windows.len(),
            need: MIN_WINDOWS,
        });
    }
    let labels: Vec<BehaviorCategory> = windows
        .iter()
        .map(|w| BehaviorCategory::of(w[0], w[1]))
        .collect();
    let mut categories: BTreeMap<&'static str, usize> = BTreeMap::new();
    for label in &labels {
        *categories.entry(label.as_str()).or_default() += 1;
    }
    let held_out = |i: usize| i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1;
    let (mut train_x, mut train_y, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (window, label)) in windows.iter().zip(&labels).enumerate() {
        if held_out(i) {
            test.push((window.to_vec(), *label));
        } else {
            train_x.push(window.to_vec());
            train_y.push(label.as_str());
        }
    }
    if let Some(first) = train_y.first()
        && train_y.iter().all(|l| l == first)
    {
        return Err(BehaviorError::OneCategory {
            category: first,
            windows: windows.len(),
        });
    }
    let options = TrainOptions {
        forest: ForestOptions {
            n_trees: 50,
            ..ForestOptions::default()
        },
        threads,
        ..TrainOptions::default()
    };
    let model = IdentifyModel::train(ModelKind::RandomForest, &train_x, &train_y, &options)?;
    let mut correct = 0;
    for (x, label) in &test {
        if model.predict(x)?.0 == label.as_str() {
            correct += 1;
        }
    }
    Ok(TrainedBehavior {
        model,
        samples: windows.len(),
        trained_on: train_x.len(),
        accuracy: correct as f64 / test.len().max(1) as f64,
        categories,
    })
}

/// A predicted category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The category.
    pub category: BehaviorCategory,
    /// The share of the forest's trees that voted for it.
    pub confidence: f64,
    /// The typing's speed, WPM.
    pub typing_speed: f64,
    /// The typing's rhythm consistency.
    pub consistency: f64,
}

/// Predicts the category of some typing with a trained model.
pub fn predict(model: &IdentifyModel, m: &TypingMetrics) -> Result<Prediction, BehaviorError> {
    let x = features(m).ok_or(BehaviorError::TooLittleTyping)?;
    let (label, confidence) = model.predict(&x)?;
    let category = BehaviorCategory::from_name(&label).ok_or_else(|| {
        IdentifyError::Decode(format!("the behaviour model knows no category {label:?}"))
    })?;
    Ok(Prediction {
        category,
        confidence,
        typing_speed: x[0],
        consistency: x[1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use tikker_core::analytics::metrics::measure;
    use tikker_core::key::KeyCode;

    #[rstest]
    #[case(90.0, 0.9, BehaviorCategory::FastFocused)]
    #[case(90.0, 0.2, BehaviorCategory::FastFocused)]
    #[case(20.0, 0.9, BehaviorCategory::SlowDeliberate)]
    #[case(50.0, 0.3, BehaviorCategory::StressedOrTired)]
    #[case(50.0, 0.8, BehaviorCategory::Normal)]
    fn the_rule(#[case] wpm: f64, #[case] consistency: f64, #[case] expected: BehaviorCategory) {
        assert_eq!(BehaviorCategory::of(wpm, consistency), expected);
        assert_eq!(
            BehaviorCategory::from_name(expected.as_str()),
            Some(expected)
        );
    }

    /// Windows of every category, 25 of each, slightly varied.
    fn windows() -> Vec<[f64; 5]> {
        (0..100)
            .map(|i| {
                let v = (i / 4) as f64;
                match i % 4 {
                    0 => [100.0 + v, 0.9, 120.0, 12.0, 0.0],
                    1 => [20.0 + v / 5.0, 0.9, 600.0, 60.0, 0.1],
                    2 => [55.0 + v / 2.0, 0.3, 220.0, 150.0, 0.0],
                    _ => [55.0 + v / 2.0, 0.8, 220.0, 40.0, 0.0],
                }
            })
            .collect()
    }

    #[test]
    fn a_model_learns_the_rule_and_predicts_it() {
        let trained = train(&windows(), 1).unwrap();
        assert_eq!((trained.samples, trained.trained_on), (100, 80));
        assert!(trained.accuracy >= 0.9, "{}", trained.accuracy);
        assert_eq!(trained.categories["normal"], 25);
        let model = IdentifyModel::from_bytes(&trained.model.to_bytes().unwrap()).unwrap();
        let fast: Vec<KeyEvent> = (0..20)
            .map(|i| KeyEvent::press(i * 100_000, KeyCode(30)))
            .collect();
        let prediction = predict(&model, &measure(&fast)).unwrap();
        assert_eq!(prediction.category, BehaviorCategory::FastFocused);
        assert!(prediction.typing_speed > 100.0);
        assert!(matches!(
            predict(&model, &measure(&fast[..2])),
            Err(BehaviorError::TooLittleTyping)
        ));
    }

    #[test]
    fn stored_typing_is_cut_into_windows_per_session_newest_kept() {
        // Session 1: 120 presses 100 ms apart (two windows); session 2: 130 presses 300 ms
        // apart (two windows, the rest too short).
        let mut stream = Vec::new();
        for (session, gap, presses) in [(1i64, 100_000i64, 120i64), (2, 300_000, 130)] {
            let start = if session == 1 { 0 } else { 1_000_000_000 };
            for i in 0..presses {
                let t = start + i * gap;
                stream.push((session, KeyEvent::press(t, KeyCode(30))));
                stream.push((session, KeyEvent::release(t + 50_000, KeyCode(30))));
            }
        }
        let sample = |size| {
            let mut sampler = WindowSampler::new(size);
            for (session, event) in &stream {
                sampler.push(*session, event);
            }
            sampler.finish()
        };
        let all = sample(100);
        let speeds: Vec<f64> = all.iter().map(|w| w[0].round()).collect();
        assert_eq!(speeds, [120.0, 120.0, 40.0, 40.0]);
        let newest = sample(3);
        assert_eq!(newest, all[1..]);
    }

    #[test]
    fn too_few_or_uniform_windows_are_refused() {
        assert!(matches!(
            train(&windows()[..9], 1),
            Err(BehaviorError::TooFewWindows { found: 9, need: 10 })
        ));
        let uniform: Vec<[f64; 5]> = windows().into_iter().step_by(4).collect();
        assert!(matches!(
            train(&uniform, 1),
            Err(BehaviorError::OneCategory {
                category: "fast_focused",
                ..
            })
        ));
    }
}
