//! `tikker profile show|rebuild`: the owner's profile, in words, and its full rebuild from the
//! stored events.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use tikker_core::KeyCode;
use tikker_core::monitor::{Monitor, OwnerModel, StoredFeed};
use tikker_store::{EventFilter, StoredProfile};

use crate::profile_words::rhythm_in_words;

use super::RunContext;

/// Arguments of `tikker profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    command: ProfileCommand,
    /// Whose profile (default: the configured capture user, i.e. the login name).
    #[arg(long, global = true, value_name = "USER")]
    user: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// Print the newest stored profile in words.
    Show {
        /// Print it as JSON (the stored owner model with its metadata).
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the profile from every stored event of the owner, as the daemon would have
    /// learned it (enrol on the first keystrokes, then learn only from windows judged the
    /// owner's), and store it as a new version; a running daemon switches to it within 30 s.
    Rebuild,
}

pub fn run(context: &RunContext, args: ProfileArgs) -> anyhow::Result<()> {
    let user = args
        .user
        .unwrap_or_else(|| context.config.capture.effective_user());
    match args.command {
        ProfileCommand::Show { json } => show(context, &user, json),
        ProfileCommand::Rebuild => rebuild(context, &user),
    }
}

fn load(context: &RunContext, user: &str) -> anyhow::Result<(StoredProfile, OwnerModel)> {
    let store = context.open_store()?;
    let Some(stored) = store.latest_profile(user)? else {
        bail!(
            "no profile of {user:?} is stored yet: the daemon builds it once it has {} keystrokes of {user}'s typing (see `tikker status`), or run `tikker profile rebuild` over imported typing",
            context.config.monitor.enrolment_keystrokes
        );
    };
    let model = OwnerModel::from_json(&stored.data)
        .with_context(|| format!("profile version {} of {user:?}", stored.version))?;
    Ok((stored, model))
}

#[derive(Serialize)]
struct ShownProfile<'a> {
    user: &'a str,
    version: i64,
    saved_at: String,
    keystrokes: u64,
    words_per_minute: Option<f64>,
    rhythm_consistency: Option<f64>,
    median_hold_ms: Option<f64>,
    median_press_to_press_ms: Option<f64>,
    keys: usize,
    digraphs: usize,
    calibration: tikker_core::verify::calibration::Calibration,
}

fn show(context: &RunContext, user: &str, json: bool) -> anyhow::Result<()> {
    let (stored, model) = load(context, user)?;
    let profile = &model.profile;
    let median = crate::profile_words::median_ms;
    let shown = ShownProfile {
        user,
        version: stored.version,
        saved_at: tikker_capture::clock::rfc3339(stored.created_us),
        keystrokes: profile.keystrokes,
        words_per_minute: profile.wpm(),
        rhythm_consistency: profile.rhythm_consistency(),
        median_hold_ms: median(&profile.hold_hist),
        median_press_to_press_ms: median(&profile.ppt_hist),
        keys: profile.keys.len(),
        digraphs: profile.digraphs.len(),
        calibration: model.calibration,
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let fade = tikker_core::monitor::MonitorConfig::default();
    let confirm = context.config.monitor.monitor_config().confirm_keystrokes;
    outln!(
        "Profile of {user}: version {}, saved {}, learned from {} keystrokes (its enrolment and the typing judged yours since; the newest wait {confirm} keystrokes before they are learned, and older ones fade, so `tikker status` counts more key events).",
        shown.version,
        local_time(stored.created_us),
        shown.keystrokes
    );
    match (shown.words_per_minute, shown.rhythm_consistency) {
        (Some(wpm), Some(consistency)) => outln!(
            "You type at {wpm:.0} words per minute (characters / 5 per minute of active typing, as `tikker stats` counts) with a rhythm consistency of {consistency:.2} ({}).",
            rhythm_in_words(consistency)
        ),
        (Some(wpm), None) => outln!("You type at {wpm:.0} words per minute."),
        _ => outln!("Not enough continuous typing yet to measure your speed."),
    }
    if let (Some(hold), Some(ppt)) = (shown.median_hold_ms, shown.median_press_to_press_ms) {
        outln!(
            "You hold a key down for {hold:.0} ms and press the next one {ppt:.0} ms after the previous (medians)."
        );
    }
    let mut keys: Vec<(u16, u64, f64)> = profile
        .keys
        .iter()
        .filter_map(|(&key, w)| w.mean().map(|mean| (key, w.n, mean.exp())))
        .collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !keys.is_empty() {
        let listed: Vec<String> = keys
            .iter()
            .take(5)
            .map(|(key, _, hold)| format!("{} {hold:.0} ms", KeyCode(*key).label()))
            .collect();
        outln!(
            "It knows the hold times of {} keys and the timings of {} key pairs; your most used keys are held: {}.",
            shown.keys,
            shown.digraphs,
            listed.join(", ")
        );
    }
    outln!(
        "Scores: a window at your median distance ({:.2}) scores 0.95, one at your 99th percentile ({:.2}) scores 0.40 (suspicious from there down).",
        model.calibration.median,
        model.calibration.tail
    );
    outln!(
        "It learns only from windows judged yours; past {} keystrokes every statistic keeps {:.0} % of its weight, so recent typing counts most.",
        fade.fade_after_keystrokes,
        fade.fade_keep * 100.0
    );
    Ok(())
}

fn rebuild(context: &RunContext, user: &str) -> anyhow::Result<()> {
    let store = context.open_store()?;
    let settings = &context.config.monitor;
    let mut monitor = Monitor::new(settings.monitor_config());
    let filter = EventFilter {
        user: Some(user.to_owned()),
        ..EventFilter::default()
    };
    let fed: StoredFeed = tikker_store::history::feed_monitor(&store, &filter, &mut monitor, false)
        .context("rebuilding from the stored events")?;
    let Some(owner) = monitor.owner() else {
        bail!(
            "only {} keystrokes of {user:?} are stored; the enrolment needs {} (monitor.enrolment_keystrokes): nothing was saved",
            fed.keystrokes,
            settings.enrolment_keystrokes
        );
    };
    let json = owner.to_json().context("serialising the profile")?;
    let keystrokes = owner.profile.keystrokes;
    let version = store.save_profile(
        user,
        tikker_capture::clock::now_us(),
        i64::try_from(keystrokes).unwrap_or(i64::MAX),
        &json,
    )?;
    outln!(
        "Rebuilt the profile of {user} from {} stored keystrokes: enrolled on the first {}, then {} windows scored, {} of them judged yours and learned from, {} suspicious (not learned from).",
        fed.keystrokes,
        settings.enrolment_keystrokes,
        fed.windows,
        fed.owner_windows,
        fed.suspicious_windows
    );
    outln!(
        "Saved as version {version} ({keystrokes} keystrokes after fading); a running daemon switches to it within 30 s."
    );
    Ok(())
}

fn local_time(time_us: i64) -> String {
    jiff::Timestamp::from_microsecond(time_us)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| time_us.to_string())
}
