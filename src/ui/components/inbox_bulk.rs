//! Snooze presets on each item, and the inbox's bulk actions: "Archive
//! read" and "Archive selected". The browser computes a snooze's instant
//! from its own clock and time zone ("tomorrow 09:00" is the user's 09:00);
//! the server only checks it (`domain::inbox_action::SnoozeUntil`).

use leptos::prelude::*;

use super::InboxActions;
use crate::api::inbox::{ArchiveSelected, Snooze};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoozePreset {
    Hour,
    TomorrowMorning,
    NextWeek,
}

const PRESETS: [SnoozePreset; 3] = [
    SnoozePreset::Hour,
    SnoozePreset::TomorrowMorning,
    SnoozePreset::NextWeek,
];

/// The hour "morning" means, in the user's time zone.
const MORNING_HOUR: u32 = 9;

impl SnoozePreset {
    fn label(self) -> &'static str {
        match self {
            SnoozePreset::Hour => "1 hour",
            SnoozePreset::TomorrowMorning => "Tomorrow 09:00",
            SnoozePreset::NextWeek => "Next week (Mon 09:00)",
        }
    }

    fn testid(self) -> &'static str {
        match self {
            SnoozePreset::Hour => "snooze-hour",
            SnoozePreset::TomorrowMorning => "snooze-tomorrow",
            SnoozePreset::NextWeek => "snooze-next-week",
        }
    }

    /// How many days ahead the preset's morning is, from a weekday
    /// (0 = Sunday, as JavaScript's `getDay`); `None` for "1 hour".
    fn days_ahead(self, weekday: u32) -> Option<u32> {
        match self {
            SnoozePreset::Hour => None,
            SnoozePreset::TomorrowMorning => Some(1),
            // The next Monday, never today: a week from a Monday.
            SnoozePreset::NextWeek => Some(match (8 - weekday % 7) % 7 {
                0 => 7,
                n => n,
            }),
        }
    }

    /// The instant, RFC 3339, by the browser's clock and time zone; `None`
    /// outside the browser.
    fn until(self) -> Option<String> {
        #[cfg(feature = "hydrate")]
        {
            let now = js_sys::Date::new_0();
            let at = match self.days_ahead(now.get_day()) {
                None => js_sys::Date::new(&(js_sys::Date::now() + 3_600_000.0).into()),
                Some(days) => {
                    // Local calendar arithmetic: `setDate` rolls months over
                    // and keeps daylight-saving changes right.
                    now.set_date(now.get_date() + days);
                    now.set_hours(MORNING_HOUR);
                    now.set_minutes(0);
                    now.set_seconds(0);
                    now.set_milliseconds(0);
                    now
                }
            };
            Some(String::from(at.to_iso_string()))
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (MORNING_HOUR, Self::days_ahead);
            None
        }
    }
}

/// "Snooze" on one item: a menu of the presets.
#[component]
pub fn SnoozeMenu(id: i64) -> impl IntoView {
    let actions = expect_context::<InboxActions>();
    let presets = PRESETS
        .into_iter()
        .map(|preset| {
            let snooze = move |_| {
                if let Some(until) = preset.until() {
                    actions.snooze.dispatch(Snooze { id, until });
                }
            };
            view! {
                <button type="button" class="link" data-testid=preset.testid() on:click=snooze>
                    {preset.label()}
                </button>
            }
        })
        .collect_view();
    view! {
        <details class="snooze" data-testid="snooze">
            <summary class="link">"Snooze"</summary>
            <div class="snooze-menu" role="menu">{presets}</div>
        </details>
    }
    // Erased: each item's view type is deep enough already (the release
    // build's layout computation overflows without it).
    .into_any()
}

/// The tick box that selects an item for "Archive selected".
#[component]
pub fn SelectBox(id: i64) -> impl IntoView {
    let actions = expect_context::<InboxActions>();
    view! {
        <input
            type="checkbox"
            class="select"
            data-testid="select"
            aria-label="Select"
            prop:checked=move || actions.selected.with(|s| s.contains(&id))
            on:change=move |ev| {
                let on = event_target_checked(&ev);
                actions
                    .selected
                    .update(|s| {
                        if on {
                            s.insert(id);
                        } else {
                            s.remove(&id);
                        }
                    });
            }
        />
    }
    .into_any()
}

/// "Archive read" (a form: works without JS) and "Archive selected (n)".
#[component]
pub fn BulkButtons() -> impl IntoView {
    let actions = expect_context::<InboxActions>();
    let count = move || actions.selected.with(|s| s.len());
    let archive_selected = move |_| {
        let ids: Vec<i64> = actions.selected.get_untracked().into_iter().collect();
        if !ids.is_empty() {
            actions.archive_selected.dispatch(ArchiveSelected { ids });
        }
    };
    let error = move || {
        actions
            .archive_selected
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <span class="error" role="alert">{e.to_string()}</span> })
    };
    view! {
        <ActionForm action=actions.archive_read attr:class="inline">
            <button type="submit" class="link" data-testid="archive-read">"Archive read"</button>
        </ActionForm>
        <button
            type="button"
            class="link"
            data-testid="archive-selected"
            disabled=move || count() == 0
            on:click=archive_selected
        >
            {move || format!("Archive selected ({})", count())}
        </button>
        {error}
    }
}

#[cfg(test)]
mod tests {
    use super::SnoozePreset::*;

    #[test]
    fn next_week_is_the_next_monday_never_today() {
        // Sunday → 1, Monday → 7, Tuesday → 6, Saturday → 2.
        let days: Vec<_> = (0..7).map(|d| NextWeek.days_ahead(d).unwrap()).collect();
        assert_eq!(days, [1, 7, 6, 5, 4, 3, 2]);
        assert_eq!(TomorrowMorning.days_ahead(3), Some(1));
        assert_eq!(Hour.days_ahead(3), None);
    }
}
