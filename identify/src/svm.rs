//! One-vs-one RBF support vector machine trained with smartcore's binary
//! `SVC` (LaSVM solver), one machine per pair of classes, as smartcore's
//! `MultiClassSVC` does.
//!
//! smartcore's `MultiClassSVC` cannot be stored: it is not serialisable,
//! borrows its parameters, and a deserialised `SVC` has lost its kernel. So
//! each trained pair's support vectors, coefficients and bias are read out of
//! the `SVC`'s serde form and evaluated here with the same formula,
//! `f(x) = b + Σ wᵢ·exp(−γ‖x − svᵢ‖²)`, `f > 0` voting for the pair's
//! second class. A support vector shared by several pairs (every row of a
//! class takes part in k − 1 pairs) is stored and evaluated once.

use std::collections::HashMap;

use serde::Deserialize;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::svm::Kernels;
use smartcore::svm::svc::{SVC, SVCParameters};

use super::codec::{Reader, Writer};
use super::{IdentifyError, ModelKind, SvmOptions, parallel_map};

/// A one-vs-one RBF SVM.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SvmModel {
    /// RBF width γ.
    pub(crate) gamma: f64,
    /// Distinct support vectors (standardised), shared by the pairs.
    pub(crate) support_vectors: Vec<Vec<f64>>,
    /// One machine per pair of classes.
    pub(crate) machines: Vec<PairMachine>,
}

/// The binary machine separating class `neg` (decision ≤ 0) from class
/// `pos` (decision > 0).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PairMachine {
    /// Class index that wins when the decision is ≤ 0.
    pub(crate) neg: u32,
    /// Class index that wins when the decision is > 0.
    pub(crate) pos: u32,
    /// Indices into [`SvmModel::support_vectors`], in smartcore's order.
    pub(crate) sv: Vec<u32>,
    /// Coefficient of each support vector (signed alpha).
    pub(crate) coef: Vec<f64>,
    /// Bias.
    pub(crate) bias: f64,
}

/// The part of a serialised smartcore `SVC` the prediction needs.
#[derive(Deserialize)]
struct SvcDump {
    classes: (i32, i32),
    instances: Vec<Vec<f64>>,
    w: Vec<f64>,
    b: f64,
}

/// Trains the pairwise machines on standardised rows `x` with class
/// indices `y` (`k` classes).
pub(crate) fn train(
    x: &[Vec<f64>],
    y: &[usize],
    k: usize,
    opt: &SvmOptions,
    threads: usize,
) -> Result<SvmModel, IdentifyError> {
    let invalid = |name, reason: &str| IdentifyError::InvalidOption {
        name,
        reason: reason.to_string(),
    };
    let d = x[0].len();
    if !(opt.c > 0.0 && opt.c.is_finite()) {
        return Err(invalid("svm.c", "must be a positive number"));
    }
    let gamma = opt.gamma.unwrap_or(1.0 / d as f64);
    if !(gamma > 0.0 && gamma.is_finite()) {
        return Err(invalid("svm.gamma", "must be a positive number"));
    }
    if opt.epochs == 0 {
        return Err(invalid("svm.epochs", "must be at least 1"));
    }
    if !(opt.tol > 0.0 && opt.tol.is_finite()) {
        return Err(invalid("svm.tol", "must be a positive number"));
    }
    if opt.max_rows_per_class == Some(0) {
        return Err(invalid("svm.max_rows_per_class", "must be at least 1"));
    }
    if u32::try_from(k).is_err() || u32::try_from(x.len()).is_err() {
        return Err(invalid("svm", "too many classes or rows"));
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (row, c) in y.iter().enumerate() {
        by_class[*c].push(row);
    }
    if let Some(cap) = opt.max_rows_per_class {
        for rows in &mut by_class {
            if rows.len() > cap {
                *rows = (0..cap).map(|i| rows[i * rows.len() / cap]).collect();
            }
        }
    }
    let pairs: Vec<(usize, usize)> = (0..k)
        .flat_map(|a| ((a + 1)..k).map(move |b| (a, b)))
        .collect();
    let train_pair = |&(a, b): &(usize, usize)| {
        let rows: Vec<usize> = by_class[a].iter().chain(&by_class[b]).copied().collect();
        train_pair(x, y, &rows, (a, b), gamma, opt)
    };
    let trained = parallel_map(&pairs, threads, train_pair)?;

    // Store each distinct support vector once.
    let mut support_vectors: Vec<Vec<f64>> = Vec::new();
    let mut seen: HashMap<Vec<u64>, u32> = HashMap::new();
    let mut machines = Vec::with_capacity(trained.len());
    for (mut machine, instances) in trained {
        for v in instances {
            let key: Vec<u64> = v.iter().map(|f| f.to_bits()).collect();
            // At most one support vector per training row, and the row count
            // fits in u32 (checked above).
            let next = support_vectors.len() as u32;
            let id = *seen.entry(key).or_insert_with(|| {
                support_vectors.push(v);
                next
            });
            machine.sv.push(id);
        }
        machines.push(machine);
    }
    Ok(SvmModel {
        gamma,
        support_vectors,
        machines,
    })
}

/// Trains the machine for classes `a < b` on `rows`; returns it with its
/// support vectors (not yet indexed).
fn train_pair(
    x: &[Vec<f64>],
    y: &[usize],
    rows: &[usize],
    (a, b): (usize, usize),
    gamma: f64,
    opt: &SvmOptions,
) -> Result<(PairMachine, Vec<Vec<f64>>), IdentifyError> {
    let err = |reason: String| IdentifyError::Training {
        model: ModelKind::Svm,
        reason: format!("classes {a} and {b}: {reason}"),
    };
    let d = x[0].len();
    // smartcore's solver copies only the first `n_rows` values of each row;
    // repeat the rows until there are at least as many rows as features
    // (only matters for tiny training sets).
    let copies = d.div_ceil(rows.len().max(1)).max(1);
    let mut px = Vec::with_capacity(rows.len() * copies);
    let mut py = Vec::with_capacity(rows.len() * copies);
    for _ in 0..copies {
        for r in rows {
            px.push(x[*r].clone());
            py.push(i32::from(y[*r] == b));
        }
    }
    let xm = DenseMatrix::from_2d_vec(&px).map_err(|e| err(e.to_string()))?;
    let params: SVCParameters<f64, i32, DenseMatrix<f64>, Vec<i32>> = SVCParameters::default()
        .with_c(opt.c)
        .with_tol(opt.tol)
        .with_epoch(opt.epochs)
        .with_kernel(Kernels::rbf().with_gamma(gamma))
        .with_seed(Some(opt.seed));
    let svc = SVC::fit(&xm, &py, &params).map_err(|e| err(e.to_string()))?;
    let dump: SvcDump = serde_json::to_value(&svc)
        .and_then(serde_json::from_value)
        .map_err(|e| err(format!("cannot read the trained SVC: {e}")))?;
    if dump.instances.len() != dump.w.len() || dump.instances.iter().any(|v| v.len() != d) {
        return Err(err("support vectors and coefficients do not match".into()));
    }
    let (neg, pos) = match dump.classes {
        (0, 1) => (a, b),
        (1, 0) => (b, a),
        other => return Err(err(format!("unexpected classes {other:?}"))),
    };
    // Class indices fit in u32 (checked by the caller).
    let machine = PairMachine {
        neg: neg as u32,
        pos: pos as u32,
        sv: Vec::new(),
        coef: dump.w,
        bias: dump.b,
    };
    Ok((machine, dump.instances))
}

impl SvmModel {
    /// Share of its `k − 1` duels each of `k` classes won, and each class's
    /// summed margin (positive when it wins a duel) for breaking ties.
    pub(crate) fn duel_scores(&self, x: &[f64], k: usize) -> (Vec<f64>, Vec<f64>) {
        let kernel: Vec<f64> = self
            .support_vectors
            .iter()
            .map(|sv| rbf(self.gamma, sv, x))
            .collect();
        let mut votes = vec![0u32; k];
        let mut margins = vec![0.0; k];
        for m in &self.machines {
            let f = m.decision_with(&kernel);
            let (winner, loser) = if f > 0.0 {
                (m.pos, m.neg)
            } else {
                (m.neg, m.pos)
            };
            votes[winner as usize] += 1;
            margins[winner as usize] += f.abs();
            margins[loser as usize] -= f.abs();
        }
        let duels = (k.max(2) - 1) as f64;
        (
            votes.iter().map(|v| f64::from(*v) / duels).collect(),
            margins,
        )
    }

    /// Appends the binary form.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.f64(self.gamma);
        w.len(self.support_vectors.len());
        for v in &self.support_vectors {
            for value in v {
                w.f64(*value);
            }
        }
        w.len(self.machines.len());
        for m in &self.machines {
            w.u32(m.neg);
            w.u32(m.pos);
            w.f64(m.bias);
            w.len(m.sv.len());
            for (i, c) in m.sv.iter().zip(&m.coef) {
                w.u32(*i);
                w.f64(*c);
            }
        }
    }

    /// Reads the binary form and checks it against `k` classes and `d`
    /// features.
    pub(crate) fn decode(r: &mut Reader<'_>, k: usize, d: usize) -> Result<Self, String> {
        let gamma = r.f64("gamma")?;
        if !(gamma > 0.0 && gamma.is_finite()) {
            return Err("SVM gamma must be positive".into());
        }
        let n_sv = r.len("support vector count", 8 * d)?;
        let mut support_vectors = Vec::with_capacity(n_sv);
        for _ in 0..n_sv {
            let v = (0..d)
                .map(|_| r.f64("support vector"))
                .collect::<Result<Vec<_>, _>>()?;
            support_vectors.push(v);
        }
        let n_machines = r.len("machine count", 20)?;
        if n_machines != k * (k - 1) / 2 {
            return Err(format!(
                "SVM has {n_machines} pair machines, {k} classes need {}",
                k * (k - 1) / 2
            ));
        }
        let mut machines = Vec::with_capacity(n_machines);
        for _ in 0..n_machines {
            let neg = r.u32("class")?;
            let pos = r.u32("class")?;
            let bias = r.f64("bias")?;
            let n = r.len("coefficient count", 12)?;
            let mut sv = Vec::with_capacity(n);
            let mut coef = Vec::with_capacity(n);
            for _ in 0..n {
                sv.push(r.u32("support vector index")?);
                coef.push(r.f64("coefficient")?);
            }
            let classes_ok = (neg as usize) < k && (pos as usize) < k && neg != pos;
            if !classes_ok || sv.iter().any(|i| *i as usize >= n_sv) {
                return Err("SVM pair machine refers to unknown classes or vectors".into());
            }
            machines.push(PairMachine {
                neg,
                pos,
                sv,
                coef,
                bias,
            });
        }
        Ok(Self {
            gamma,
            support_vectors,
            machines,
        })
    }
}

impl PairMachine {
    /// `b + Σ wᵢ K(x, svᵢ)` given the kernel values of all support vectors,
    /// summed in smartcore's order.
    pub(crate) fn decision_with(&self, kernel: &[f64]) -> f64 {
        let mut f = self.bias;
        for (i, w) in self.sv.iter().zip(&self.coef) {
            f += w * kernel[*i as usize];
        }
        f
    }
}

/// `exp(−γ‖a − b‖²)`.
fn rbf(gamma: f64, a: &[f64], b: &[f64]) -> f64 {
    let dist: f64 = a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum();
    (-gamma * dist).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_machines_match_smartcore_decision_function() {
        // Three classes in 2-D, overlapping a little.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..90usize {
            let c = i % 3;
            let t = (i * 29 % 31) as f64 / 31.0;
            let s = (i * 11 % 17) as f64 / 17.0;
            x.push(vec![c as f64 + 1.4 * t - 0.7, (c % 2) as f64 + s - 0.5]);
            y.push(c);
        }
        let opt = SvmOptions::default();
        let model = train(&x, &y, 3, &opt, 2).unwrap();
        assert_eq!(model.machines.len(), 3);
        for (m, (a, b)) in model.machines.iter().zip([(0, 1), (0, 2), (1, 2)]) {
            // Same row order as `train`: class a's rows, then class b's.
            let rows: Vec<usize> = (0..x.len())
                .filter(|r| y[*r] == a)
                .chain((0..x.len()).filter(|r| y[*r] == b))
                .collect();
            let px: Vec<Vec<f64>> = rows.iter().map(|r| x[*r].clone()).collect();
            let py: Vec<i32> = rows.iter().map(|r| i32::from(y[*r] == b)).collect();
            let xm = DenseMatrix::from_2d_vec(&px).unwrap();
            let params: SVCParameters<f64, i32, DenseMatrix<f64>, Vec<i32>> =
                SVCParameters::default()
                    .with_c(opt.c)
                    .with_tol(opt.tol)
                    .with_epoch(opt.epochs)
                    .with_kernel(Kernels::rbf().with_gamma(0.5))
                    .with_seed(Some(opt.seed));
            let svc = SVC::fit(&xm, &py, &params).unwrap();
            let want = svc.decision_function(&xm).unwrap();
            let labels = svc.predict(&xm).unwrap();
            assert_eq!((m.neg, m.pos), (a as u32, b as u32));
            for ((row, f), label) in px.iter().zip(&want).zip(&labels) {
                let kernel: Vec<f64> = model
                    .support_vectors
                    .iter()
                    .map(|sv| rbf(model.gamma, sv, row))
                    .collect();
                let got = m.decision_with(&kernel);
                assert!((got - f).abs() < 1e-9, "{got} vs {f}");
                assert_eq!(f64::from(i32::from(got > 0.0)), *label);
            }
        }
        let refs: usize = model.machines.iter().map(|m| m.sv.len()).sum();
        assert!(
            model.support_vectors.len() < refs,
            "shared vectors are stored once"
        );
    }

    #[test]
    fn binary_form_round_trips() {
        let model = SvmModel {
            gamma: 0.25,
            support_vectors: vec![vec![0.1, -0.2], vec![1.0 / 3.0, 7.0]],
            machines: vec![PairMachine {
                neg: 0,
                pos: 1,
                sv: vec![1, 0],
                coef: vec![-0.5, 0.5],
                bias: 0.125,
            }],
        };
        let mut w = Writer::default();
        model.encode(&mut w);
        let mut r = Reader::new(&w.buf);
        assert_eq!(SvmModel::decode(&mut r, 2, 2).unwrap(), model);
        r.finish().unwrap();
        let mut r = Reader::new(&w.buf);
        assert!(
            SvmModel::decode(&mut r, 3, 2).is_err(),
            "3 classes need 3 machines"
        );
    }
}
