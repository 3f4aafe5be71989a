//! Tunes the fusion weights of the free-text verifier on the **first half** of the Aalto
//! development participants only, and reports the TypeNet-protocol EER of both halves.
//!
//! ```sh
//! cargo run --release -p tikker-research --example tune_freetext -- ../shared/data/aalto-dev \
//!     [--gallery 5] [--impostors 500] [--rounds 4] [--set name=value ...] [--drop COMPONENT ...] [--no-search]
//! ```
//!
//! Every query's distance components ([`tikker_core::verify::freetext::Score::components`]) are
//! computed once with the constants given (`--set` overrides any constant of [`Params`],
//! including weights `w_<component>`; a structural constant is tried by running again with a
//! different `--set`); the fusion weights are then searched coordinate-wise (each weight in
//! turn, a step of half its size up or down, halved every round, kept when the mean
//! per-participant EER falls), since the distance is linear in them.
//!
//! The search looks only at the **tuning set**: the first half of the participants by id as a
//! closed set (their impostor queries are drawn from the first half too). The second half is
//! never looked at while searching; the figures of `tikker eval freetext` (impostors from
//! everyone) are printed for both halves before and after, the second half being the honest
//! one. `--drop NAME` fixes a component's weight at 0 (an ablation); `--no-search` only
//! evaluates. Prints the weights as an array literal for [`Params::default`].

use std::path::PathBuf;

use tikker_core::profile::Profile;
use tikker_core::verify::freetext::{COMPONENT_NAMES, N_COMPONENTS, Params, Verifier};
use tikker_research::dataset::aalto;
use tikker_research::eval::freetext::{
    EvalConfig, GENUINE_QUERIES, eer, impostor_queries, prepare_windows,
};

type Components = [f64; N_COMPONENTS];

/// The components of one participant's genuine and impostor queries.
struct Queries {
    genuine: Vec<Components>,
    impostor: Vec<Components>,
}

fn distances(queries: &[Components], w: &Components) -> Vec<f64> {
    queries
        .iter()
        .map(|c| c.iter().zip(w).map(|(c, w)| c * w).sum())
        .collect()
}

/// Mean per-participant EER over `users`.
fn mean_eer(users: &[Queries], w: &Components) -> f64 {
    let mut sum = 0.0;
    let mut n: f64 = 0.0;
    for q in users {
        if let Some(e) = eer(&distances(&q.genuine, w), &distances(&q.impostor, w)) {
            sum += e;
            n += 1.0;
        }
    }
    sum / n.max(1.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut path: Option<PathBuf> = None;
    let mut cfg = EvalConfig::default();
    let mut rounds = 4;
    let mut params = Params::default();
    let mut frozen = false;
    let mut dropped: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--gallery" => cfg.gallery = args.next().ok_or("--gallery N")?.parse()?,
            "--impostors" => cfg.impostors = args.next().ok_or("--impostors N")?.parse()?,
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            "--no-search" => frozen = true,
            "--drop" => dropped.push(args.next().ok_or("--drop NAME")?),
            "--set" => {
                let kv = args.next().ok_or("--set name=value")?;
                let (k, v) = kv.split_once('=').ok_or("--set name=value")?;
                if !params.set(k, v.parse()?) {
                    return Err(format!("unknown constant {k}").into());
                }
            }
            _ => path = Some(PathBuf::from(a)),
        }
    }
    let path = path.ok_or("usage: tune_freetext AALTO_DIR [options]")?;
    let files = aalto::participant_files(&path)?;
    let participants = aalto::read_many(&files, 2)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let windows = prepare_windows(&participants);
    let n = participants.len();
    let sentences_of = |j: usize| participants[j].sentences.len();
    // The components of every participant of `0..pool` against impostors drawn from `0..pool`.
    let components = |pool: usize| -> Vec<Queries> {
        (0..pool)
            .map(|u| {
                let p = &participants[u];
                let ns = p.sentences.len();
                if ns < cfg.gallery + GENUINE_QUERIES {
                    return Queries {
                        genuine: Vec::new(),
                        impostor: Vec::new(),
                    };
                }
                let profile = Profile::from_windows(
                    p.sentences[..cfg.gallery]
                        .iter()
                        .map(|s| s.keystrokes.as_slice()),
                );
                let v = Verifier::new(&profile, &params);
                let both = |j: usize, s: usize| v.score_window(&windows[j][s]).components;
                Queries {
                    genuine: (ns - GENUINE_QUERIES..ns).map(|s| both(u, s)).collect(),
                    impostor: impostor_queries(pool, u, cfg.impostors, cfg.seed, sentences_of)
                        .into_iter()
                        .map(|(j, s)| both(j, s))
                        .collect(),
                }
            })
            .collect()
    };
    // Tuning: the first half as a closed set (its impostors are first-half participants too).
    let tuning = components(n / 2);
    // Reporting: the protocol of `tikker eval freetext` (impostors from everyone).
    let users = components(n);
    let (first, second) = users.split_at(n / 2);
    // `--drop NAME` fixes a component's weight at 0 (an ablation).
    let mut w = params.w;
    let mut searched = Vec::new();
    for (i, (name, weight)) in COMPONENT_NAMES.iter().zip(w.iter_mut()).enumerate() {
        if dropped.iter().any(|d| d == name) {
            *weight = 0.0;
        } else {
            searched.push(i);
        }
    }
    println!(
        "start: tuning set {:.5}; first half {:.5}, second half {:.5}, all {:.5}",
        mean_eer(&tuning, &w),
        mean_eer(first, &w),
        mean_eer(second, &w),
        mean_eer(&users, &w)
    );
    if !frozen {
        let mut best = mean_eer(&tuning, &w);
        for round in 0..rounds {
            let scale = 0.5f64.powi(round);
            for &i in &searched {
                loop {
                    let base = w[i];
                    let step = if base.abs() > 1e-9 {
                        base.abs() * 0.5 * scale
                    } else {
                        0.05 * scale
                    };
                    let mut improved = false;
                    for candidate in [base + step, base - step] {
                        let mut trial = w;
                        trial[i] = candidate;
                        let e = mean_eer(&tuning, &trial);
                        if e < best - 1e-6 {
                            best = e;
                            w = trial;
                            improved = true;
                            break;
                        }
                    }
                    if !improved {
                        break;
                    }
                }
            }
            println!("round {round}: tuning set {best:.5}");
        }
    }
    for (name, weight) in COMPONENT_NAMES.iter().zip(&w) {
        println!("  {name:>12} {weight:.4}");
    }
    println!("weights: {w:?}");
    println!(
        "tuned: tuning set {:.5}; first half {:.5}, second half {:.5}, all {:.5}",
        mean_eer(&tuning, &w),
        mean_eer(first, &w),
        mean_eer(second, &w),
        mean_eer(&users, &w)
    );
    Ok(())
}
