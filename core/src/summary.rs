//! The 8-number timing summary of one typed sequence, as the "predict-user"
//! API receives it.
//!
//! Four interval series are summarised by their mean and standard deviation,
//! all in **milliseconds**:
//!
//! | series | meaning | CMU columns |
//! |---|---|---|
//! | HT  | hold time of each key (press → release of the same key) | the `H.*` columns |
//! | PPT | press → press of consecutive keys | the `DD.*` columns |
//! | RRT | release → release of consecutive keys | `DD_k − H_k + H_{k+1}` |
//! | RPT | release → press of consecutive keys (negative when keys overlap) | the `UD.*` columns |
//!
//! The standard deviation is the **population** one (divide by `n`, not
//! `n − 1`), so a series of one interval has a deviation of 0 instead of
//! being undefined. The order of [`TimingSummary::to_vec`] is HT mean, HT std,
//! PPT mean, PPT std, RRT mean, RRT std, RPT mean, RPT std
//! ([`TimingSummary::NAMES`]).

/// Mean and population standard deviation (ms) of the four interval series
/// of one typed sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingSummary {
    /// Mean hold time (press → release of one key), ms.
    pub ht_mean: f64,
    /// Population standard deviation of the hold times, ms.
    pub ht_std: f64,
    /// Mean press → press latency of consecutive keys, ms.
    pub ppt_mean: f64,
    /// Population standard deviation of the press → press latencies, ms.
    pub ppt_std: f64,
    /// Mean release → release latency of consecutive keys, ms.
    pub rrt_mean: f64,
    /// Population standard deviation of the release → release latencies, ms.
    pub rrt_std: f64,
    /// Mean release → press latency of consecutive keys, ms.
    pub rpt_mean: f64,
    /// Population standard deviation of the release → press latencies, ms.
    pub rpt_std: f64,
}

/// What can go wrong while building a [`TimingSummary`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    /// The timing columns do not describe one typed sequence of keys
    /// (`H.<k>` for every key, `DD.<k>.<k+1>` and `UD.<k>.<k+1>` for every
    /// consecutive pair, in order).
    #[error("unexpected timing columns: {0}")]
    BadColumns(String),
    /// The number of timings differs from the number of columns.
    #[error("expected {expected} timings (one per column), found {found}")]
    LengthMismatch {
        /// Number of columns.
        expected: usize,
        /// Number of timings given.
        found: usize,
    },
    /// An interval series is empty, so it has no mean.
    #[error("the {0} series is empty")]
    EmptySeries(&'static str),
    /// An interval is NaN or infinite.
    #[error("the {series} series has a non-finite value at position {index}")]
    NonFinite {
        /// Which series (`HT`, `PPT`, `RRT` or `RPT`).
        series: &'static str,
        /// 0-based position in that series.
        index: usize,
    },
}

impl TimingSummary {
    /// Number of values in [`Self::to_vec`].
    pub const LEN: usize = 8;

    /// Names of the values of [`Self::to_vec`], in order.
    pub const NAMES: [&'static str; Self::LEN] = [
        "ht_mean", "ht_std", "ppt_mean", "ppt_std", "rrt_mean", "rrt_std", "rpt_mean", "rpt_std",
    ];

    /// Summarises four interval series given in milliseconds: hold times,
    /// press → press, release → release and release → press latencies.
    ///
    /// # Errors
    /// [`SummaryError::EmptySeries`] if a series is empty,
    /// [`SummaryError::NonFinite`] if a value is NaN or infinite.
    pub fn from_intervals(
        ht: &[f64],
        ppt: &[f64],
        rrt: &[f64],
        rpt: &[f64],
    ) -> Result<Self, SummaryError> {
        let (ht_mean, ht_std) = mean_std("HT", ht)?;
        let (ppt_mean, ppt_std) = mean_std("PPT", ppt)?;
        let (rrt_mean, rrt_std) = mean_std("RRT", rrt)?;
        let (rpt_mean, rpt_std) = mean_std("RPT", rpt)?;
        Ok(Self {
            ht_mean,
            ht_std,
            ppt_mean,
            ppt_std,
            rrt_mean,
            rrt_std,
            rpt_mean,
            rpt_std,
        })
    }

    /// Summarises one repetition of the CMU benchmark file: `columns` are the
    /// timing column names (e.g. `CmuData::columns` of the CMU reader) and
    /// `timings` the matching values in **seconds**. The result is in
    /// milliseconds.
    ///
    /// This parses the column layout on every call; [`CmuLayout`] does it
    /// once for many repetitions.
    ///
    /// # Errors
    /// The errors of [`CmuLayout::new`] and [`CmuLayout::summarize`].
    pub fn from_cmu_timings<S: AsRef<str>>(
        columns: &[S],
        timings: &[f64],
    ) -> Result<Self, SummaryError> {
        CmuLayout::new(columns)?.summarize(timings)
    }

    /// Summarises a free-text sequence of keystrokes (sorted by press time, or sorted here):
    /// the hold time of every keystroke, and PPT, RRT and RPT of every pair of consecutive
    /// keystrokes that no pause (over 2 s) separates ([`crate::features`]), in milliseconds.
    ///
    /// # Errors
    /// [`SummaryError::EmptySeries`] without keystrokes or without a digraph.
    pub fn from_keystrokes(keys: &[crate::keystroke::Keystroke]) -> Result<Self, SummaryError> {
        let timings = crate::features::extract(keys);
        let ms = |us: i64| us as f64 / 1000.0;
        let ht: Vec<f64> = timings.holds.iter().map(|(_, us)| ms(*us)).collect();
        let ppt: Vec<f64> = timings.digraphs.iter().map(|d| ms(d.ppt_us)).collect();
        let rrt: Vec<f64> = timings.digraphs.iter().map(|d| ms(d.rrt_us)).collect();
        let rpt: Vec<f64> = timings.digraphs.iter().map(|d| ms(d.rpt_us)).collect();
        Self::from_intervals(&ht, &ppt, &rrt, &rpt)
    }

    /// The eight values in the order of [`Self::NAMES`].
    pub fn to_array(&self) -> [f64; Self::LEN] {
        [
            self.ht_mean,
            self.ht_std,
            self.ppt_mean,
            self.ppt_std,
            self.rrt_mean,
            self.rrt_std,
            self.rpt_mean,
            self.rpt_std,
        ]
    }

    /// The eight values in the order of [`Self::NAMES`], as a feature vector.
    pub fn to_vec(&self) -> Vec<f64> {
        self.to_array().to_vec()
    }
}

/// Positions of the hold, press → press and release → press columns of a
/// CMU-style timing table, checked once and reused for every repetition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmuLayout {
    /// Column index of `H.<key k>` for every key k, in typing order.
    hold: Vec<usize>,
    /// Column index of `DD.<key k>.<key k+1>` for every consecutive pair.
    down_down: Vec<usize>,
    /// Column index of `UD.<key k>.<key k+1>` for every consecutive pair.
    up_down: Vec<usize>,
    /// Total number of columns.
    width: usize,
}

impl CmuLayout {
    /// Checks the column names and records where each series lives.
    ///
    /// The keys, in typing order, are the `H.<key>` columns in the order they
    /// appear (key names may contain dots, e.g. `Shift.r`). For every pair
    /// of consecutive keys there must be exactly one `DD.<k>.<k+1>` and one
    /// `UD.<k>.<k+1>` column; no other columns are allowed.
    ///
    /// # Errors
    /// [`SummaryError::BadColumns`] naming the first problem.
    pub fn new<S: AsRef<str>>(columns: &[S]) -> Result<Self, SummaryError> {
        let names: Vec<&str> = columns.iter().map(AsRef::as_ref).collect();
        let mut keys = Vec::new();
        let mut hold = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if let Some(key) = name.strip_prefix("H.") {
                keys.push(key);
                hold.push(i);
            }
        }
        if keys.len() < 2 {
            return Err(SummaryError::BadColumns(format!(
                "need at least two H.<key> columns, found {}",
                keys.len()
            )));
        }
        let find = |prefix: &str, k: usize| -> Result<usize, SummaryError> {
            let wanted = format!("{prefix}.{}.{}", keys[k], keys[k + 1]);
            let mut hits = names
                .iter()
                .enumerate()
                .filter(|(_, n)| **n == wanted)
                .map(|(i, _)| i);
            match (hits.next(), hits.next()) {
                (Some(i), None) => Ok(i),
                (None, _) => Err(SummaryError::BadColumns(format!(
                    "missing column '{wanted}'"
                ))),
                (Some(_), Some(_)) => Err(SummaryError::BadColumns(format!(
                    "duplicate column '{wanted}'"
                ))),
            }
        };
        let pairs = keys.len() - 1;
        let down_down = (0..pairs)
            .map(|k| find("DD", k))
            .collect::<Result<Vec<_>, _>>()?;
        let up_down = (0..pairs)
            .map(|k| find("UD", k))
            .collect::<Result<Vec<_>, _>>()?;
        let used = hold.len() + down_down.len() + up_down.len();
        if used != names.len() {
            return Err(SummaryError::BadColumns(format!(
                "{} columns are neither H.<key> nor DD/UD of consecutive keys",
                names.len() - used
            )));
        }
        Ok(Self {
            hold,
            down_down,
            up_down,
            width: names.len(),
        })
    }

    /// Number of keys in the typed sequence.
    pub fn key_count(&self) -> usize {
        self.hold.len()
    }

    /// Summarises one repetition whose `timings` (seconds) follow the columns
    /// this layout was built from. The result is in milliseconds.
    ///
    /// # Errors
    /// [`SummaryError::LengthMismatch`] if `timings` has the wrong length,
    /// [`SummaryError::NonFinite`] for a NaN or infinite timing.
    pub fn summarize(&self, timings: &[f64]) -> Result<TimingSummary, SummaryError> {
        if timings.len() != self.width {
            return Err(SummaryError::LengthMismatch {
                expected: self.width,
                found: timings.len(),
            });
        }
        let ms = |i: &usize| timings[*i] * 1000.0;
        let ht: Vec<f64> = self.hold.iter().map(ms).collect();
        let ppt: Vec<f64> = self.down_down.iter().map(ms).collect();
        let rpt: Vec<f64> = self.up_down.iter().map(ms).collect();
        let rrt: Vec<f64> = (0..ppt.len()).map(|k| ppt[k] - ht[k] + ht[k + 1]).collect();
        TimingSummary::from_intervals(&ht, &ppt, &rrt, &rpt)
    }
}

/// Mean and population standard deviation of `values`.
fn mean_std(series: &'static str, values: &[f64]) -> Result<(f64, f64), SummaryError> {
    if values.is_empty() {
        return Err(SummaryError::EmptySeries(series));
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(SummaryError::NonFinite { series, index });
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    Ok((mean, var.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// A three-key sequence `a b c` with hand-computed results.
    ///
    /// Presses at 0, 300, 500 ms; holds 100, 200, 150 ms; so releases at
    /// 100, 500, 650 ms.
    /// - HT  = 100, 200, 150      → mean 150, pop. sd sqrt(5000/3)
    /// - PPT = 300, 200           → mean 250, sd 50
    /// - RRT = 400, 150           → mean 275, sd 125
    /// - RPT = 200, 0             → mean 100, sd 100
    #[test]
    fn summary_of_hand_computed_repetition() {
        let columns = ["H.a", "DD.a.b", "UD.a.b", "H.b", "DD.b.c", "UD.b.c", "H.c"];
        let timings = [0.100, 0.300, 0.200, 0.200, 0.200, 0.000, 0.150];
        let s = TimingSummary::from_cmu_timings(&columns, &timings).unwrap();
        assert!(close(s.ht_mean, 150.0), "{s:?}");
        assert!(close(s.ht_std, (5000.0f64 / 3.0).sqrt()), "{s:?}");
        assert!(close(s.ppt_mean, 250.0) && close(s.ppt_std, 50.0), "{s:?}");
        assert!(close(s.rrt_mean, 275.0) && close(s.rrt_std, 125.0), "{s:?}");
        assert!(close(s.rpt_mean, 100.0) && close(s.rpt_std, 100.0), "{s:?}");
        let v = s.to_vec();
        assert_eq!(v.len(), TimingSummary::LEN);
        assert_eq!(v[0], s.ht_mean);
        assert_eq!(v[5], s.rrt_std);
        assert_eq!(v[7], s.rpt_std);
    }

    #[test]
    fn free_text_keystrokes_give_the_same_summary_as_their_cmu_row() {
        use crate::keystroke::Keystroke;
        let keys = [
            Keystroke::at_ms(30, 0, 100),
            Keystroke::at_ms(48, 300, 500),
            Keystroke::at_ms(46, 500, 650),
        ];
        let s = TimingSummary::from_keystrokes(&keys).unwrap();
        assert!(close(s.ht_mean, 150.0) && close(s.ppt_mean, 250.0), "{s:?}");
        assert!(close(s.rrt_mean, 275.0) && close(s.rpt_std, 100.0), "{s:?}");
        assert_eq!(
            TimingSummary::from_keystrokes(&keys[..1]),
            Err(SummaryError::EmptySeries("PPT"))
        );
    }

    #[test]
    fn real_cmu_header_with_dotted_key_names() {
        let header = "H.period,DD.period.t,UD.period.t,H.t,DD.t.i,UD.t.i,H.i,DD.i.e,UD.i.e,H.e,DD.e.five,UD.e.five,H.five,DD.five.Shift.r,UD.five.Shift.r,H.Shift.r,DD.Shift.r.o,UD.Shift.r.o,H.o,DD.o.a,UD.o.a,H.a,DD.a.n,UD.a.n,H.n,DD.n.l,UD.n.l,H.l,DD.l.Return,UD.l.Return,H.Return";
        let columns: Vec<String> = header.split(',').map(String::from).collect();
        let layout = CmuLayout::new(&columns).unwrap();
        assert_eq!(layout.key_count(), 11);
        // First row of s002 in the published file.
        let row = [
            0.1491, 0.3979, 0.2488, 0.1069, 0.1674, 0.0605, 0.1169, 0.2212, 0.1043, 0.1417, 1.1885,
            1.0468, 0.1146, 1.6055, 1.4909, 0.1067, 0.7590, 0.6523, 0.1016, 0.2136, 0.1120, 0.1349,
            0.1484, 0.0135, 0.0932, 0.3515, 0.2583, 0.1338, 0.3509, 0.2171, 0.0742,
        ];
        let s = layout.summarize(&row).unwrap();
        let holds = [
            149.1, 106.9, 116.9, 141.7, 114.6, 106.7, 101.6, 134.9, 93.2, 133.8, 74.2,
        ];
        let mean = holds.iter().sum::<f64>() / 11.0;
        assert!(close(s.ht_mean, mean), "{s:?}");
        // RPT mean equals PPT mean minus the mean of the first ten holds.
        let first_ten = holds[..10].iter().sum::<f64>() / 10.0;
        assert!(close(s.rpt_mean, s.ppt_mean - first_ten), "{s:?}");
        // RRT mean: PPT mean plus (last hold − first hold) / 10.
        assert!(
            close(s.rrt_mean, s.ppt_mean + (holds[10] - holds[0]) / 10.0),
            "{s:?}"
        );
    }

    #[test]
    fn bad_layouts_are_rejected() {
        let e = CmuLayout::new(&["H.a"]).unwrap_err();
        assert!(matches!(e, SummaryError::BadColumns(_)), "{e}");
        let e = CmuLayout::new(&["H.a", "H.b", "DD.a.b"]).unwrap_err();
        assert!(e.to_string().contains("UD.a.b"), "{e}");
        let e = CmuLayout::new(&["H.a", "H.b", "DD.a.b", "UD.a.b", "DD.b.a"]).unwrap_err();
        assert!(e.to_string().contains("neither"), "{e}");
        let e = CmuLayout::new(&["H.a", "H.b", "DD.a.b", "UD.a.b", "UD.a.b"]).unwrap_err();
        assert!(e.to_string().contains("duplicate"), "{e}");
    }

    #[test]
    fn bad_timings_are_rejected() {
        let layout = CmuLayout::new(&["H.a", "DD.a.b", "UD.a.b", "H.b"]).unwrap();
        assert_eq!(
            layout.summarize(&[0.1, 0.2, 0.1]).unwrap_err(),
            SummaryError::LengthMismatch {
                expected: 4,
                found: 3
            }
        );
        let e = layout.summarize(&[0.1, f64::NAN, 0.1, 0.1]).unwrap_err();
        assert!(
            matches!(e, SummaryError::NonFinite { series: "PPT", .. }),
            "{e}"
        );
        let e = TimingSummary::from_intervals(&[1.0], &[], &[1.0], &[1.0]).unwrap_err();
        assert_eq!(e, SummaryError::EmptySeries("PPT"));
    }
}
