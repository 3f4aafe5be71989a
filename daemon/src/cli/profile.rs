//! `tikker profile show|rebuild`: the owner's profile, in words, and its full rebuild from the
//! stored events.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use tikker_core::monitor::{Monitor, OwnerModel, StoredFeed};
use tikker_store::{EventFilter, StoredProfile};

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
    let store = context.open_existing_store()?;
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
    /// How far the owner moved since enrolment (`null` for a profile saved before it was kept).
    drift: Option<tikker_core::verify::drift::Drift>,
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
        drift: model.drift(),
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let monitor = context.config.monitor.monitor_config();
    let saved = local_time(stored.created_us);
    for sentence in crate::profile_words::describe(user, stored.version, &saved, &model, &monitor) {
        outln!("{sentence}");
    }
    Ok(())
}

fn rebuild(context: &RunContext, user: &str) -> anyhow::Result<()> {
    let store = context.open_existing_store()?;
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
