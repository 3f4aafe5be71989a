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

/// `f(i, item)` for every item, on up to `threads` scoped threads (each a contiguous chunk),
/// results in the items' order. A worker panics only on a bug; the panic is resumed here.
pub(crate) fn map_in_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let chunk = items
        .len()
        .div_ceil(threads.clamp(1, items.len().max(1)))
        .max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, item)| f(c * chunk + i, item))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}
