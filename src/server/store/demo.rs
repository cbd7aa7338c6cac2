//! Demo mode's first look (issue 19, item 8): a few categories and a week
//! of what a team really sends — deploys, an invoice, security notices
//! with action buttons — backdated to realistic times, so the inbox, its
//! tabs and the console's funnel show the product at once. Written once,
//! into an empty log, at start-up (before the hub follows the log), and
//! only in demo mode; `HERALD_DEMO_SEED=0` leaves it out (the tests do).

use serde_json::json;

use crate::{
    model::{Action, Channel, EventName, Severity},
    server::store::{
        announcements::{self, Timing},
        audit::{self, Actor},
        begin_write,
        dialect::{execute, fetch, Backend},
        notifications::NewAnnouncement,
        now_ms, Pool, StoreError,
    },
};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The categories the demo uses, with their labels.
const CATEGORIES: [(&str, &str); 3] = [
    ("deploys", "Deploys"),
    ("billing", "Billing"),
    ("security", "Security"),
];

struct Item {
    /// How long before now it was sent.
    ago: i64,
    category: Option<&'static str>,
    severity: Severity,
    title: &'static str,
    body: &'static str,
    /// `None`: everyone; `Some(name)`: that user only.
    to: Option<&'static str>,
    actions: &'static [(&'static str, &'static str)],
    data: Option<serde_json::Value>,
}

fn week() -> Vec<Item> {
    let item = |ago, category, severity, title, body| Item {
        ago,
        category,
        severity,
        title,
        body,
        to: None,
        actions: &[],
        data: None,
    };
    vec![
        item(7 * DAY - 2 * HOUR, None, Severity::Info, "Welcome to Herald",
            "Notifications from your team's services land here, live. Pick what to mute under Preferences."),
        Item {
            data: Some(json!({"service": "api", "version": "2.14.0", "env": "production", "commits": 12})),
            actions: &[("Release notes", "https://github.com/example/api/releases/tag/v2.14.0")],
            ..item(6 * DAY + 3 * HOUR, Some("deploys"), Severity::Info, "Deployed api v2.14.0 to production",
                "12 commits by 4 people; migrations ran in 3.2 s.")
        },
        Item {
            to: Some("alice"),
            data: Some(json!({"invoice": "INV-2026-1142", "amount": "1240.00", "currency": "EUR", "due": "2026-12-15"})),
            actions: &[("View invoice", "https://billing.example.com/invoices/INV-2026-1142")],
            ..item(5 * DAY - 5 * HOUR, Some("billing"), Severity::Info, "Invoice INV-2026-1142 is ready",
                "€1,240.00 for November, due December 15.")
        },
        item(4 * DAY + HOUR, Some("deploys"), Severity::Warning, "Rolled back web v5.3.1",
            "The error rate rose to 4% after the deploy; web is back on v5.3.0."),
        Item {
            to: Some("alice"),
            data: Some(json!({"city": "Lisbon", "country": "PT", "device": "Firefox on Linux"})),
            actions: &[("Review sign-ins", "https://account.example.com/security"), ("It was me", "/")],
            ..item(3 * DAY - 6 * HOUR, Some("security"), Severity::Warning, "New sign-in from Lisbon, PT",
                "Firefox on Linux signed in to your account. If this was not you, review your sign-ins.")
        },
        Item {
            data: Some(json!({"service": "web", "version": "5.3.2", "env": "production"})),
            ..item(2 * DAY + 2 * HOUR, Some("deploys"), Severity::Info, "Deployed web v5.3.2 to production",
                "Fixes the error-rate regression of v5.3.1.")
        },
        item(DAY + 4 * HOUR, Some("billing"), Severity::Warning, "The company card expires soon",
            "The card ending 4242 expires at the end of the month; update it to keep the plan active."),
        Item {
            actions: &[("Open the runbook", "https://runbooks.example.com/rotate-db-password")],
            ..item(3 * HOUR, Some("security"), Severity::Critical, "Rotate the staging database password",
                "A credential was printed in a public CI log. Rotate it before 18:00 UTC.")
        },
        item(20 * MINUTE, Some("deploys"), Severity::Info, "Deploying api v2.15.0 to staging",
            "Started by the merge of #482."),
    ]
}

/// Seeds the demo into an empty log; returns how many notifications it
/// wrote (0 when the log already held something).
pub async fn seed(pool: &Pool) -> Result<usize, StoreError> {
    let mut tx = begin_write(pool).await?;
    if tx.re().backend() == Backend::Postgres {
        // Several instances starting at once: one seeds, the others find it done.
        execute!(tx, "SELECT pg_advisory_xact_lock(?)", 0x6865_7261_6c64_i64)?;
    }
    let any: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "SELECT id FROM announcements LIMIT 1"
    )?;
    if any.is_some() {
        tx.commit().await?;
        return Ok(0);
    }
    for (slug, label) in CATEGORIES {
        execute!(
            tx,
            "INSERT INTO categories (slug, label, created_at) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING",
            slug,
            label,
            now_ms() - 8 * DAY
        )?;
    }
    let admin: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "SELECT id FROM users WHERE username = 'admin'"
    )?;
    let now = now_ms();
    let mut items = week();
    items.sort_by_key(|i| std::cmp::Reverse(i.ago));
    let mut written = 0;
    for item in items {
        let channel = match item.to {
            None => Channel::All,
            Some(name) => {
                let user: Option<(i64,)> = fetch!(
                    tx,
                    fetch_optional,
                    (i64,),
                    "SELECT id FROM users WHERE username = ?",
                    name
                )?;
                let Some((id,)) = user else { continue };
                Channel::User(id)
            }
        };
        let new = NewAnnouncement {
            sender_id: admin.map(|(id,)| id),
            sender_key_id: None,
            event: EventName::NOTIFICATION,
            title: item.title.into(),
            body: item.body.into(),
            severity: item.severity,
            link: None,
            category: item.category.map(str::to_string),
            data: item.data,
            actions: item
                .actions
                .iter()
                .map(|(label, url)| Action {
                    label: (*label).into(),
                    url: (*url).into(),
                })
                .collect(),
        };
        let (id, published) =
            announcements::insert(&mut tx, &new, &channel, Timing::default()).await?;
        // Audited like any send, in its transaction (the house's rule).
        let detail = format!(
            "#{id} \"{}\" ({}) to {} recipient(s)",
            new.title,
            new.severity.as_str(),
            published.map_or(0, |p| p.recipients)
        );
        let actor = Actor {
            id: admin.map(|(id,)| id),
            name: "herald (demo)",
        };
        audit::record(
            &mut tx,
            actor,
            "announcement.sent",
            &channel.to_string(),
            &detail,
        )
        .await?;
        execute!(
            tx,
            "UPDATE audit_log SET created_at = ? WHERE detail = ?",
            now - item.ago,
            &detail
        )?;
        // Sent then, not now: the inbox shows a week that happened.
        let at = now - item.ago;
        execute!(
            tx,
            "UPDATE announcements SET created_at = ?, sent_at = ? WHERE id = ?",
            at,
            at,
            id
        )?;
        execute!(
            tx,
            "UPDATE events SET created_at = ? WHERE announcement_id = ?",
            at,
            id
        )?;
        written += 1;
    }
    tx.commit().await?;
    Ok(written)
}
