//! The StatusNotifierItem itself (tray-icon's `ksni` backend: D-Bus only, no GTK): the icon,
//! its tooltip and its menu, brought up to date with a [`TrayView`].
//!
//! The menu, top to bottom: the status line, the score and verdict, the enrolment progress
//! (only while enrolling), a notice (only when there is one), "Pause for 15 minutes",
//! "Pause until resumed", "Resume", "Forget the last 5 minutes", "Open data folder", "Open
//! dashboard", "Start tikker" (enabled when no daemon runs), "Quit tray". Only what changed is sent
//! to the host, so an open menu is not rebuilt under the pointer every poll.

use anyhow::Context;
use tray_icon::menu::{IsMenuItem, Menu, MenuId, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, TrayIcon, TrayIconBuilder};

use crate::icon;
use crate::view::{IconLook, TrayView};

/// What a menu entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Pause capture for 15 minutes.
    PauseQuarterHour,
    /// Pause capture until resumed.
    PauseUntilResumed,
    /// Resume capture.
    Resume,
    /// Delete the last 5 minutes of typing from the record.
    ForgetLastFiveMinutes,
    /// Open the data folder in the file manager.
    OpenDataFolder,
    /// Start the daemon (no daemon runs).
    StartDaemon,
    /// Open the dashboard in the default browser.
    OpenDashboard,
    /// Quit the tray (the daemon keeps running).
    Quit,
}

impl Action {
    const ALL: [Action; 8] = [
        Action::PauseQuarterHour,
        Action::PauseUntilResumed,
        Action::Resume,
        Action::ForgetLastFiveMinutes,
        Action::OpenDataFolder,
        Action::OpenDashboard,
        Action::StartDaemon,
        Action::Quit,
    ];

    /// The menu item id (stable, so events name the action).
    fn id(self) -> &'static str {
        match self {
            Action::PauseQuarterHour => "pause-15m",
            Action::PauseUntilResumed => "pause",
            Action::Resume => "resume",
            Action::ForgetLastFiveMinutes => "forget-5m",
            Action::OpenDataFolder => "open-data-folder",
            Action::StartDaemon => "start-daemon",
            Action::OpenDashboard => "open-dashboard",
            Action::Quit => "quit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Action::PauseQuarterHour => "Pause for 15 minutes",
            Action::PauseUntilResumed => "Pause until resumed",
            Action::Resume => "Resume",
            Action::ForgetLastFiveMinutes => "Forget the last 5 minutes",
            Action::OpenDataFolder => "Open data folder",
            Action::StartDaemon => "Start tikker",
            Action::OpenDashboard => "Open dashboard",
            Action::Quit => "Quit tray",
        }
    }

    /// The action of a menu event, if it is one of the tray's.
    pub fn from_menu_id(id: &MenuId) -> Option<Action> {
        Action::ALL.into_iter().find(|action| id == action.id())
    }
}

/// The tray item and its menu.
pub struct Indicator {
    tray: TrayIcon,
    menu: Menu,
    status: MenuItem,
    score: MenuItem,
    enrolment: MenuItem,
    notice: MenuItem,
    pause_quarter_hour: MenuItem,
    pause_until_resumed: MenuItem,
    resume: MenuItem,
    forget: MenuItem,
    start: MenuItem,
    shown: TrayView,
}

impl std::fmt::Debug for Indicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indicator")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// Where the optional lines go: after the status and score lines.
const OPTIONAL_LINES_AT: usize = 2;

impl Indicator {
    /// Registers the item on the session bus, showing `view`.
    pub fn new(view: TrayView) -> anyhow::Result<Indicator> {
        let line = |text: &str| MenuItem::new(text, false, None);
        let action = |action: Action, enabled: bool| {
            MenuItem::with_id(action.id(), action.label(), enabled, None)
        };
        let status = line(&view.status_line);
        let score = line(&view.score_line);
        let enrolment = line(view.enrolment_line.as_deref().unwrap_or_default());
        let notice = line(view.notice_line.as_deref().unwrap_or_default());
        let pause_quarter_hour = action(Action::PauseQuarterHour, view.can_pause);
        let pause_until_resumed = action(Action::PauseUntilResumed, view.can_pause);
        let resume = action(Action::Resume, view.can_resume);
        let forget = action(
            Action::ForgetLastFiveMinutes,
            view.can_pause || view.can_resume,
        );
        let open_data_folder = action(Action::OpenDataFolder, true);
        let start = action(Action::StartDaemon, view.can_start);
        let open_dashboard = action(Action::OpenDashboard, true);
        let quit = action(Action::Quit, true);
        let menu = Menu::new();
        let mut items: Vec<&dyn IsMenuItem> = vec![&status, &score];
        if view.enrolment_line.is_some() {
            items.push(&enrolment);
        }
        if view.notice_line.is_some() {
            items.push(&notice);
        }
        let first_separator = PredefinedMenuItem::separator();
        let second_separator = PredefinedMenuItem::separator();
        items.extend([
            &first_separator as &dyn IsMenuItem,
            &pause_quarter_hour,
            &pause_until_resumed,
            &resume,
            &forget,
            &second_separator,
            &open_data_folder,
            &start,
            &open_dashboard,
            &quit,
        ]);
        menu.append_items(&items)
            .context("building the tray menu")?;
        let tray = TrayIconBuilder::new()
            .with_id("tikker")
            .with_title("tikker")
            .with_tooltip(&view.tooltip)
            .with_icon(icon_for(view.look)?)
            .with_menu(Box::new(menu.clone()))
            .build()
            .context(
                "registering the tray icon on the D-Bus session bus (is this a desktop session?)",
            )?;
        Ok(Indicator {
            tray,
            menu,
            status,
            score,
            enrolment,
            notice,
            pause_quarter_hour,
            pause_until_resumed,
            resume,
            forget,
            start,
            shown: view,
        })
    }

    /// Brings the icon, tooltip and menu up to date with `view`, touching only what changed.
    pub fn show(&mut self, view: TrayView) -> anyhow::Result<()> {
        let old = &self.shown;
        if view.look != old.look {
            self.tray
                .set_icon(Some(icon_for(view.look)?))
                .context("changing the tray icon")?;
        }
        if view.tooltip != old.tooltip {
            self.tray
                .set_tooltip(Some(&view.tooltip))
                .context("changing the tooltip")?;
        }
        set_text(&self.status, &old.status_line, &view.status_line);
        set_text(&self.score, &old.score_line, &view.score_line);
        // The optional lines: the enrolment line comes first, then the notice.
        self.toggle_line(
            &self.enrolment,
            old.enrolment_line.as_deref(),
            view.enrolment_line.as_deref(),
            OPTIONAL_LINES_AT,
        )?;
        let notice_at = OPTIONAL_LINES_AT + usize::from(view.enrolment_line.is_some());
        self.toggle_line(
            &self.notice,
            old.notice_line.as_deref(),
            view.notice_line.as_deref(),
            notice_at,
        )?;
        for (item, was, is) in [
            (&self.pause_quarter_hour, old.can_pause, view.can_pause),
            (&self.pause_until_resumed, old.can_pause, view.can_pause),
            (&self.resume, old.can_resume, view.can_resume),
            (
                &self.forget,
                old.can_pause || old.can_resume,
                view.can_pause || view.can_resume,
            ),
            (&self.start, old.can_start, view.can_start),
        ] {
            if was != is {
                item.set_enabled(is);
            }
        }
        self.shown = view;
        Ok(())
    }

    /// The folder "Open data folder" opens, as last shown.
    pub fn data_folder(&self) -> &std::path::Path {
        &self.shown.data_folder
    }

    /// Shows, changes or removes an optional line.
    fn toggle_line(
        &self,
        item: &MenuItem,
        was: Option<&str>,
        is: Option<&str>,
        position: usize,
    ) -> anyhow::Result<()> {
        match (was, is) {
            (None, None) => {}
            (Some(_), None) => self.menu.remove(item).context("changing the tray menu")?,
            (None, Some(text)) => {
                item.set_text(text);
                self.menu
                    .insert(item, position)
                    .context("changing the tray menu")?;
            }
            (Some(was), Some(is)) => set_text(item, was, is),
        }
        Ok(())
    }
}

fn set_text(item: &MenuItem, was: &str, is: &str) {
    if was != is {
        item.set_text(is);
    }
}

fn icon_for(look: IconLook) -> anyhow::Result<Icon> {
    Icon::from_rgba(icon::render(look), icon::SIZE, icon::SIZE).context("drawing the tray icon")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_name_their_actions() {
        for action in Action::ALL {
            assert_eq!(
                Action::from_menu_id(&MenuId::new(action.id())),
                Some(action)
            );
        }
        assert_eq!(Action::from_menu_id(&MenuId::new("42")), None);
    }
}
