//! The owner's profile in words: the sentences `tikker profile show` prints and the
//! dashboard's keyboard page shows, and the key and key-pair figures behind that page.

use tikker_core::KeyCode;
use tikker_core::monitor::{MonitorConfig, OwnerModel};
use tikker_core::profile::{LogHistogram, Welford};
use tikker_core::verify::drift::Drift;
use tikker_wire::api::{ProfileDigraphOut, ProfileKeyOut};

/// Key pairs typed fewer times than this are left out of the slowest and most characteristic.
pub const MIN_PAIR_COUNT: f64 = 5.0;
/// Key pairs listed as slowest, and as most characteristic.
pub const LISTED_PAIRS: usize = 10;

/// The median of a histogram of log milliseconds, in ms.
pub fn median_ms(hist: &LogHistogram) -> Option<f64> {
    hist.quantile(0.5).map(f64::exp)
}

/// A key's short name (`KEY_A` → `A`, an unnamed key by its number).
pub fn key_name(code: u16) -> String {
    KeyCode(code)
        .name()
        .map_or_else(|| code.to_string(), str::to_owned)
}

/// Rhythm consistency in words.
pub fn rhythm_in_words(consistency: f64) -> &'static str {
    match consistency {
        c if c > 0.85 => "very steady",
        c if c > 0.65 => "steady",
        c if c >= 0.5 => "uneven",
        _ => "very uneven",
    }
}

/// Every key of the profile, most used first. A key's log hold times are taken as normal, so
/// the exponential of their mean is its median hold.
pub fn keys(model: &OwnerModel) -> Vec<ProfileKeyOut> {
    let profile = &model.profile;
    let total: f64 = profile.keys.values().map(|w| w.n as f64).sum();
    let mut keys: Vec<ProfileKeyOut> = profile
        .keys
        .iter()
        .filter_map(|(&code, w)| {
            w.mean().map(|mean| ProfileKeyOut {
                code,
                name: key_name(code),
                presses: w.n as f64,
                share: if total > 0.0 { w.n as f64 / total } else { 0.0 },
                hold_ms: mean.exp(),
            })
        })
        .collect();
    keys.sort_by(|a, b| b.presses.total_cmp(&a.presses).then(a.code.cmp(&b.code)));
    keys
}

/// The key pairs typed at least [`MIN_PAIR_COUNT`] times, with their median press-to-press
/// time and how far it lies from the owner's overall one (in standard errors).
fn pairs(model: &OwnerModel) -> Vec<ProfileDigraphOut> {
    let overall: &Welford = &model.profile.ppt;
    let (Some(mean), Some(var)) = (overall.mean(), overall.var()) else {
        return Vec::new();
    };
    let sd = var.sqrt().max(1e-9);
    model
        .profile
        .digraphs
        .iter()
        .filter(|(_, d)| d.ppt.n as f64 >= MIN_PAIR_COUNT)
        .filter_map(|(&id, d)| {
            let first = u16::try_from(id >> 16).ok()?;
            let second = u16::try_from(id & 0xffff).ok()?;
            let pair_mean = d.ppt.mean()?;
            Some(ProfileDigraphOut {
                pair: format!("{} {}", key_name(first), key_name(second)),
                count: d.ppt.n as f64,
                ppt_ms: pair_mean.exp(),
                distinctiveness: (pair_mean - mean) / sd * (d.ppt.n as f64).sqrt(),
            })
        })
        .collect()
}

/// The slowest key pairs, slowest first, and the most characteristic, most distinctive first.
pub fn digraphs(model: &OwnerModel) -> (Vec<ProfileDigraphOut>, Vec<ProfileDigraphOut>) {
    let mut slowest = pairs(model);
    slowest.sort_by(|a, b| b.ppt_ms.total_cmp(&a.ppt_ms).then(a.pair.cmp(&b.pair)));
    slowest.truncate(LISTED_PAIRS);
    let mut characteristic = pairs(model);
    characteristic.sort_by(|a, b| {
        b.distinctiveness
            .abs()
            .total_cmp(&a.distinctiveness.abs())
            .then(a.pair.cmp(&b.pair))
    });
    characteristic.truncate(LISTED_PAIRS);
    (slowest, characteristic)
}

/// A relative change in words: "5 % longer", "3 % shorter", "unchanged".
fn change_in_words(change: f64, more: &str, less: &str) -> String {
    let percent = change * 100.0;
    if percent.abs() < 0.5 {
        "unchanged".to_owned()
    } else if percent > 0.0 {
        format!("{percent:.0} % {more}")
    } else {
        format!("{:.0} % {less}", -percent)
    }
}

/// How far the owner moved since enrolment, in words (two sentences).
pub fn drift_in_words(drift: &Drift) -> [String; 2] {
    let typing = format!(
        "Since your enrolment, your hold times are {} and your press-to-press times {}; key by key, holds moved {:.2} of a keystroke's usual variation ({} keys compared; about 1 would be a clear change).",
        change_in_words(drift.hold_change, "longer", "shorter"),
        change_in_words(drift.ppt_change, "longer", "shorter"),
        drift.key_hold_shift,
        drift.keys_compared
    );
    let scores = if drift.owner_windows == 0 {
        "The scores are still calibrated on the enrolment alone: no run of windows judged yours has settled since (a window counts once the windows overlapping it were judged yours too).".to_owned()
    } else {
        let direction = if drift.score_shift >= 0.0 {
            "further from"
        } else {
            "closer to"
        };
        format!(
            "Your own windows now lie {:.2} of their usual spread {direction} your profile than at enrolment (median distance {:.2} then, {:.2} now, from {} windows judged yours); the scores follow them.",
            drift.score_shift.abs(),
            drift.enrolment_median,
            drift.current_location,
            drift.owner_windows
        )
    };
    [typing, scores]
}

/// The profile in words, one sentence each: who, speed and rhythm, hold and press-to-press
/// times, the keys it knows, how scores are calibrated, how far the owner drifted since
/// enrolment, and how it learns. `saved` is the local time it was saved; `monitor` the
/// monitor's settings (confirmation and fading).
pub fn describe(
    user: &str,
    version: i64,
    saved: &str,
    model: &OwnerModel,
    monitor: &MonitorConfig,
) -> Vec<String> {
    let profile = &model.profile;
    let mut words = vec![format!(
        "Profile of {user}: version {version}, saved {saved}, learned from {} keystrokes (its enrolment and the typing judged yours since; the newest wait {} keystrokes before they are learned, and older ones fade, so `tikker status` counts more key events).",
        profile.keystrokes, monitor.confirm_keystrokes
    )];
    words.push(match (profile.wpm(), profile.rhythm_consistency()) {
        (Some(wpm), Some(consistency)) => format!(
            "You type at {wpm:.0} words per minute (characters / 5 per minute of active typing, as `tikker stats` counts) with a rhythm consistency of {consistency:.2} ({}).",
            rhythm_in_words(consistency)
        ),
        (Some(wpm), None) => format!("You type at {wpm:.0} words per minute."),
        _ => "Not enough continuous typing yet to measure your speed.".to_owned(),
    });
    if let (Some(hold), Some(ppt)) = (median_ms(&profile.hold_hist), median_ms(&profile.ppt_hist)) {
        words.push(format!(
            "You hold a key down for {hold:.0} ms and press the next one {ppt:.0} ms after the previous (medians)."
        ));
    }
    let keys = keys(model);
    if !keys.is_empty() {
        let listed: Vec<String> = keys
            .iter()
            .take(5)
            .map(|k| format!("{} {:.0} ms", KeyCode(k.code).label(), k.hold_ms))
            .collect();
        words.push(format!(
            "It knows the hold times of {} keys and the timings of {} key pairs; your most used keys are held: {}.",
            profile.keys.len(),
            profile.digraphs.len(),
            listed.join(", ")
        ));
    }
    words.push(format!(
        "Scores: a window at your median distance ({:.2}) scores 0.95, one at your 99th percentile ({:.2}) scores 0.40 (suspicious from there down).",
        model.calibration.median, model.calibration.tail
    ));
    if let Some(drift) = model.drift() {
        words.extend(drift_in_words(&drift));
    }
    words.push(format!(
        "It learns only from windows judged yours; past {} keystrokes every statistic keeps {:.0} % of its weight, so recent typing counts most.",
        monitor.fade_after_keystrokes,
        monitor.fade_keep * 100.0
    ));
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drift() -> Drift {
        Drift {
            hold_change: 0.062,
            ppt_change: -0.031,
            key_hold_shift: 0.42,
            keys_compared: 27,
            enrolment_median: 3.1,
            current_location: 3.4,
            score_shift: 0.35,
            owner_windows: 120,
        }
    }

    #[test]
    fn drift_is_told_in_percent_spreads_and_windows() {
        let [typing, scores] = drift_in_words(&drift());
        assert!(typing.contains("hold times are 6 % longer"), "{typing}");
        assert!(
            typing.contains("press-to-press times 3 % shorter"),
            "{typing}"
        );
        assert!(
            typing.contains("0.42 of a keystroke's usual variation (27 keys"),
            "{typing}"
        );
        assert!(
            scores.contains("0.35 of their usual spread further from"),
            "{scores}"
        );
        assert!(
            scores.contains("3.10 then, 3.40 now, from 120 windows"),
            "{scores}"
        );
        let closer = Drift {
            score_shift: -0.2,
            hold_change: 0.001,
            ..drift()
        };
        let [typing, scores] = drift_in_words(&closer);
        assert!(typing.contains("hold times are unchanged"), "{typing}");
        assert!(
            scores.contains("0.20 of their usual spread closer to"),
            "{scores}"
        );
        let fresh = Drift {
            owner_windows: 0,
            ..drift()
        };
        assert!(drift_in_words(&fresh)[1].contains("calibrated on the enrolment alone"));
    }
}
