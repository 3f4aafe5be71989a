//! Small dense linear algebra for the keystroke detectors: column statistics,
//! covariance, a symmetric eigen-decomposition (cyclic Jacobi) and the
//! pseudo-inverse "whitening" matrix used for Mahalanobis distances.
//!
//! Matrices are stored row-major in a flat `Vec<f64>`. Sizes here are tiny
//! (tens of features), so clarity wins over blocking or SIMD.

/// Column means of a non-empty set of equally long rows (an empty set gives
/// an empty vector).
pub fn column_means(rows: &[Vec<f64>]) -> Vec<f64> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let mut mean = vec![0.0; first.len()];
    for row in rows {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x;
        }
    }
    let n = rows.len() as f64;
    for m in &mut mean {
        *m /= n;
    }
    mean
}

/// Sample standard deviation (`n - 1` denominator) of each column around the
/// given means; 0 when there are fewer than two rows.
pub fn column_sds(rows: &[Vec<f64>], mean: &[f64]) -> Vec<f64> {
    let mut ss = vec![0.0; mean.len()];
    for row in rows {
        for ((s, x), m) in ss.iter_mut().zip(row).zip(mean) {
            *s += (x - m) * (x - m);
        }
    }
    let denom = rows.len().saturating_sub(1) as f64;
    ss.iter()
        .map(|s| if denom > 0.0 { (s / denom).sqrt() } else { 0.0 })
        .collect()
}

/// Mean absolute deviation of each column around the given means.
pub fn column_mean_abs_dev(rows: &[Vec<f64>], mean: &[f64]) -> Vec<f64> {
    let mut sad = vec![0.0; mean.len()];
    for row in rows {
        for ((s, x), m) in sad.iter_mut().zip(row).zip(mean) {
            *s += (x - m).abs();
        }
    }
    let n = rows.len().max(1) as f64;
    sad.iter().map(|s| s / n).collect()
}

/// Sample covariance matrix (`n - 1` denominator, as R's `cov`), `p × p`
/// row-major. Zero when there are fewer than two rows.
pub fn covariance(rows: &[Vec<f64>], mean: &[f64]) -> Vec<f64> {
    let p = mean.len();
    let mut cov = vec![0.0; p * p];
    let mut d = vec![0.0; p];
    for row in rows {
        for ((di, x), m) in d.iter_mut().zip(row).zip(mean) {
            *di = x - m;
        }
        for i in 0..p {
            let di = d[i];
            let line = &mut cov[i * p..i * p + p];
            for j in i..p {
                line[j] += di * d[j];
            }
        }
    }
    let denom = rows.len().saturating_sub(1) as f64;
    for i in 0..p {
        for j in i..p {
            let v = if denom > 0.0 {
                cov[i * p + j] / denom
            } else {
                0.0
            };
            cov[i * p + j] = v;
            cov[j * p + i] = v;
        }
    }
    cov
}

/// Eigen-decomposition of a symmetric `p × p` matrix by the cyclic Jacobi
/// method. Returns `(eigenvalues, eigenvectors)` where eigenvector `k` is
/// column `k` of the row-major `p × p` matrix, sorted by decreasing
/// eigenvalue.
pub fn symmetric_eigen(matrix: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * p + j] * a[i * p + j])
            .sum();
        let diag: f64 = (0..p).map(|i| a[i * p + i] * a[i * p + i]).sum();
        if off <= f64::EPSILON * f64::EPSILON * diag || off == 0.0 {
            break;
        }
        for k in 0..p {
            for l in k + 1..p {
                let akl = a[k * p + l];
                if akl == 0.0 {
                    continue;
                }
                let akk = a[k * p + k];
                let all = a[l * p + l];
                let theta = (all - akk) / (2.0 * akl);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A <- J^T A J, rotating rows/columns k and l.
                for i in 0..p {
                    let aik = a[i * p + k];
                    let ail = a[i * p + l];
                    a[i * p + k] = c * aik - s * ail;
                    a[i * p + l] = s * aik + c * ail;
                }
                for j in 0..p {
                    let akj = a[k * p + j];
                    let alj = a[l * p + j];
                    a[k * p + j] = c * akj - s * alj;
                    a[l * p + j] = s * akj + c * alj;
                }
                for i in 0..p {
                    let vik = v[i * p + k];
                    let vil = v[i * p + l];
                    v[i * p + k] = c * vik - s * vil;
                    v[i * p + l] = s * vik + c * vil;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&x, &y| a[y * p + y].total_cmp(&a[x * p + x]));
    let values: Vec<f64> = order.iter().map(|&k| a[k * p + k]).collect();
    let mut vectors = vec![0.0; p * p];
    for (new_k, &k) in order.iter().enumerate() {
        for i in 0..p {
            vectors[i * p + new_k] = v[i * p + k];
        }
    }
    (values, vectors)
}

/// A linear map `W` (`rank × dim`, row-major) with `Wᵀ W = Σ⁺`, the
/// Moore–Penrose pseudo-inverse of a covariance matrix `Σ`, so that the
/// squared Mahalanobis distance `dᵀ Σ⁺ d` equals `‖W d‖²`.
#[derive(Debug, Clone, PartialEq)]
pub struct Whitening {
    /// Input dimension (number of features).
    pub dim: usize,
    /// Number of retained eigen-directions.
    pub rank: usize,
    /// Row-major `rank × dim` matrix.
    pub matrix: Vec<f64>,
}

impl Whitening {
    /// Builds the whitening map of a symmetric positive semi-definite `dim ×
    /// dim` matrix, dropping eigenvalues `<= rel_tol × largest` exactly as R's
    /// `MASS::ginv` does with `rel_tol = sqrt(f64::EPSILON)`.
    pub fn from_covariance(cov: &[f64], dim: usize, rel_tol: f64) -> Whitening {
        let (values, vectors) = symmetric_eigen(cov, dim);
        let largest = values.first().copied().unwrap_or(0.0).max(0.0);
        let cutoff = rel_tol * largest;
        let mut matrix = Vec::new();
        let mut rank = 0;
        for (k, &lambda) in values.iter().enumerate() {
            if largest <= 0.0 || lambda <= cutoff {
                break; // values are sorted in decreasing order
            }
            let scale = 1.0 / lambda.sqrt();
            matrix.extend((0..dim).map(|i| vectors[i * dim + k] * scale));
            rank += 1;
        }
        Whitening { dim, rank, matrix }
    }

    /// Applies the map to `d` (which must have `dim` entries), writing `rank`
    /// values to `out`.
    pub fn apply_into(&self, d: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(self.matrix.chunks_exact(self.dim)) {
            *o = row.iter().zip(d).map(|(w, x)| w * x).sum();
        }
    }

    /// Applies the map to `d`, returning a new vector of `rank` values.
    pub fn apply(&self, d: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.rank];
        self.apply_into(d, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_known_matrix() {
        // [[2,1],[1,2]] has eigenvalues 3 and 1.
        let (vals, vecs) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        let s = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vecs[0].abs() - s).abs() < 1e-12 && (vecs[2].abs() - s).abs() < 1e-12);
    }

    #[test]
    fn whitening_reproduces_inverse() {
        // Σ = [[4,2,0],[2,3,1],[0,1,2]], check Wᵀ W Σ = I.
        let cov = [4.0, 2.0, 0.0, 2.0, 3.0, 1.0, 0.0, 1.0, 2.0];
        let w = Whitening::from_covariance(&cov, 3, 1e-8);
        assert_eq!(w.rank, 3);
        for c in 0..3 {
            let col: Vec<f64> = (0..3).map(|r| cov[r * 3 + c]).collect();
            let wc = w.apply(&col);
            // (Wᵀ W Σ)[:, c] = Wᵀ (W Σ[:, c])
            for r in 0..3 {
                let v: f64 = (0..3).map(|k| w.matrix[k * 3 + r] * wc[k]).sum();
                let want = if r == c { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-10, "{r},{c}: {v}");
            }
        }
    }

    #[test]
    fn whitening_drops_null_space() {
        // Rows in the subspace x3 = x1 + x2.
        let rows: Vec<Vec<f64>> = [[1.0, 2.0], [2.0, 1.0], [0.0, 0.5], [3.0, 3.5], [1.5, 0.2]]
            .iter()
            .map(|r| vec![r[0], r[1], r[0] + r[1]])
            .collect();
        let mean = column_means(&rows);
        let cov = covariance(&rows, &mean);
        let w = Whitening::from_covariance(&cov, 3, f64::EPSILON.sqrt());
        assert_eq!(w.rank, 2);
        // Mahalanobis of the training rows averages to (n-1)/n * rank.
        let avg: f64 = rows
            .iter()
            .map(|r| {
                let d: Vec<f64> = r.iter().zip(&mean).map(|(x, m)| x - m).collect();
                w.apply(&d).iter().map(|z| z * z).sum::<f64>()
            })
            .sum::<f64>()
            / rows.len() as f64;
        assert!((avg - 2.0 * 4.0 / 5.0).abs() < 1e-9, "{avg}");
    }

    #[test]
    fn statistics() {
        let rows = vec![vec![1.0, 10.0], vec![3.0, 10.0]];
        let m = column_means(&rows);
        assert_eq!(m, [2.0, 10.0]);
        let sd = column_sds(&rows, &m);
        assert!((sd[0] - 2f64.sqrt()).abs() < 1e-12 && sd[1] == 0.0);
        assert_eq!(column_mean_abs_dev(&rows, &m), [1.0, 0.0]);
        assert!(column_means(&[]).is_empty());
    }
}
