//! Evaluation protocols and their error rates, as published for the public data sets.

pub mod cmu;
pub mod continuous;
pub mod freetext;
pub mod identify;
pub mod injection;
pub mod roc;

/// Mean and sample standard deviation (`n − 1`) of `values`: `(NaN, NaN)` when empty, a zero
/// deviation for a single value.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}
