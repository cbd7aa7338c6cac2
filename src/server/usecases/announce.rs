//! Admins sending announcements: validate, store one copy per recipient
//! (now, or when a schedule comes due), then publish one domain event per
//! copy; retracting and expiring take the copies back out of every inbox.

use crate::{
    model::{limits, AppError, SentAnnouncement, Severity},
    server::{
        auth::Session,
        events::{self, DomainEvent},
        hub::EventName,
        state::AppState,
        store::{
            announcements::{self, Removed, Timing},
            audit::{self, Actor},
            notifications::{self, Delivered, NewAnnouncement, Recipients},
            now_ms, users,
        },
    },
};

use super::require_admin;

/// How far in the past a `send_at` may be before it is taken for a mistake.
const SEND_AT_SLACK_MS: i64 = 60_000;

/// What an admin composed, as received (not yet validated).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// SSE event name; `notification` when absent.
    pub event: Option<String>,
    pub title: String,
    pub body: String,
    pub severity: Option<String>,
    pub link: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` (UTC, as an HTML datetime input sends it).
    pub send_at: Option<String>,
    pub expires_at: Option<String>,
}

pub async fn announce(
    state: &AppState,
    sender: &Session,
    draft: Draft,
    recipients: Recipients,
) -> Result<SentAnnouncement, AppError> {
    require_admin(sender)?;
    if !state.limits.publish.allow(&sender.user.id.to_string()) {
        return Err(AppError::RateLimited);
    }
    let timing = validate_timing(draft.send_at.as_deref(), draft.expires_at.as_deref())?;
    let (event, new) = validate(sender.user.id, draft)?;
    if let Recipients::User(user_id) = recipients {
        if users::find_by_id(&state.pool, user_id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {user_id}")));
        }
    }

    let in_order = state.publish_order.lock().await;
    let (id, copies) = announcements::insert(&state.pool, &new, &recipients, timing).await?;
    let sent = SentAnnouncement {
        id,
        recipients: copies.len() as i64,
        scheduled: timing.send_at.is_some_and(|at| at > now_ms()) && copies.is_empty(),
    };
    let reached = publish_copies(state, &event, copies);
    drop(in_order);
    notifications::mark_delivered(&state.pool, &reached).await?;

    let action = if sent.scheduled {
        "announcement.scheduled"
    } else {
        "announcement.sent"
    };
    let detail = format!(
        "#{id} \"{}\" ({}) to {} recipient(s)",
        new.title,
        new.severity.as_str(),
        sent.recipients
    );
    let actor = Actor {
        id: Some(sender.user.id),
        name: &sender.user.username,
    };
    audit::record(&state.pool, actor, action, &recipients.label(), &detail).await?;
    tracing::info!(
        announcement_id = id,
        sender_id = sender.user.id,
        target = %recipients.label(),
        recipients = sent.recipients,
        scheduled = sent.scheduled,
        "announcement accepted"
    );
    Ok(sent)
}

/// The one user an admin names in a form: admins only, checked before the
/// lookup, so a refusal never tells whether the name exists.
pub async fn recipient_named(
    state: &AppState,
    sender: &Session,
    username: Option<&str>,
) -> Result<Recipients, AppError> {
    require_admin(sender)?;
    let name = username.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::invalid("username", "is required for one user"));
    }
    let user = users::find_by_name(&state.pool, name)
        .await?
        .ok_or_else(|| AppError::invalid("username", format!("no user named {name:?}")))?;
    Ok(Recipients::User(user.id))
}

/// Stores one copy for one user and publishes it: what Herald itself sends
/// (e.g. "your export is ready").
pub(crate) async fn notify_user(
    state: &AppState,
    new: &NewAnnouncement,
    user_id: i64,
) -> Result<(), AppError> {
    let in_order = state.publish_order.lock().await;
    let recipients = Recipients::User(user_id);
    let (_, copies) =
        announcements::insert(&state.pool, new, &recipients, Timing::default()).await?;
    let reached = publish_copies(state, &EventName::NOTIFICATION, copies);
    drop(in_order);
    Ok(notifications::mark_delivered(&state.pool, &reached).await?)
}

/// Sends the scheduled announcements that are due and removes the expired
/// ones; run by the scheduler. Returns how many of each.
pub async fn run_schedule(state: &AppState) -> Result<(usize, usize), AppError> {
    let (sent, reached) = {
        let _in_order = state.publish_order.lock().await;
        let due = announcements::send_due(&state.pool).await?;
        let count = due.len();
        let mut reached = Vec::new();
        for (_, copies) in due {
            let event = copies
                .first()
                .and_then(|c| EventName::parse(&c.event).ok())
                .unwrap_or(EventName::NOTIFICATION);
            reached.extend(publish_copies(state, &event, copies));
        }
        (count, reached)
    };
    notifications::mark_delivered(&state.pool, &reached).await?;
    let expired = announcements::expired_ids(&state.pool).await?;
    for id in &expired {
        let removed = {
            let _in_order = state.publish_order.lock().await;
            announcements::remove(&state.pool, *id, "expired").await?
        };
        if let Some(removed) = removed {
            publish_removals(state, removed);
            let actor = Actor {
                id: None,
                name: "herald",
            };
            let target = format!("#{id}");
            audit::record(&state.pool, actor, "announcement.expired", &target, "").await?;
        }
    }
    Ok((sent, expired.len()))
}

/// Takes an announcement out of every inbox, live.
pub async fn retract(state: &AppState, admin: &Session, id: i64) -> Result<(), AppError> {
    require_admin(admin)?;
    let removed = {
        let _in_order = state.publish_order.lock().await;
        announcements::remove(&state.pool, id, "retracted")
            .await?
            .ok_or_else(|| AppError::NotFound(format!("announcement {id} in inboxes")))?
    };
    let detail = format!("from {} inbox(es)", removed.len());
    publish_removals(state, removed);
    let actor = Actor {
        id: Some(admin.user.id),
        name: &admin.user.username,
    };
    let target = format!("#{id}");
    audit::record(
        &state.pool,
        actor,
        "announcement.retracted",
        &target,
        &detail,
    )
    .await?;
    Ok(())
}

/// Publishes one event per copy, then records which copies reached an open
/// stream (the funnel's "delivered").
/// Publishes one event per stored copy; returns the copies that met an open
/// stream. Callers record those as delivered *after* releasing the
/// publishing lock: the funnel needs no ordering, and the next publish
/// should not wait on it.
fn publish_copies(state: &AppState, event: &EventName, copies: Vec<Delivered>) -> Vec<i64> {
    let mut reached = Vec::new();
    for copy in copies {
        let id = copy.notification.id;
        let streams = events::publish(
            &state.hub,
            [DomainEvent::NotificationCreated {
                user_id: copy.user_id,
                event: event.clone(),
                notification: copy.notification,
                unread: copy.unread,
            }],
        );
        if streams > 0 {
            reached.push(id);
        }
    }
    reached
}

fn publish_removals(state: &AppState, removed: Vec<Removed>) {
    events::publish(
        &state.hub,
        removed
            .into_iter()
            .map(|r| DomainEvent::NotificationsRemoved {
                user_id: r.user_id,
                ids: r.ids,
                unread: r.unread,
            }),
    );
}

fn validate_timing(send_at: Option<&str>, expires_at: Option<&str>) -> Result<Timing, AppError> {
    let send_at = parse_time("send_at", send_at)?;
    let expires_at = parse_time("expires_at", expires_at)?;
    let now = now_ms();
    if send_at.is_some_and(|at| at < now - SEND_AT_SLACK_MS) {
        return Err(AppError::invalid("send_at", "must be in the future"));
    }
    if let Some(expiry) = expires_at {
        if expiry <= send_at.unwrap_or(now).max(now) {
            return Err(AppError::invalid(
                "expires_at",
                "must be after the send time",
            ));
        }
    }
    Ok(Timing {
        send_at,
        expires_at,
    })
}

/// RFC 3339, or the `YYYY-MM-DDTHH:MM[:SS]` of an HTML datetime input, read as UTC.
fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let full = match raw.len() {
        16 => format!("{raw}:00Z"),
        19 => format!("{raw}Z"),
        _ => raw.to_string(),
    };
    time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
        .map(|t| Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| AppError::invalid(field, "must be a date and time like 2026-11-21T18:30:00Z"))
}

fn validate(sender_id: i64, draft: Draft) -> Result<(EventName, NewAnnouncement), AppError> {
    let event = match draft.event.as_deref().map(str::trim) {
        None | Some("") => EventName::NOTIFICATION,
        Some(raw) => {
            EventName::parse(raw).map_err(|e| AppError::invalid("event", e.to_string()))?
        }
    };
    if is_reserved(&event) {
        return Err(AppError::invalid(
            "event",
            format!("\"{event}\" is reserved for the server"),
        ));
    }
    let title = draft.title.trim().to_string();
    if title.is_empty() {
        return Err(AppError::invalid("title", "is required"));
    }
    if title.chars().count() > limits::TITLE_MAX {
        return Err(AppError::invalid(
            "title",
            format!("must be at most {} characters", limits::TITLE_MAX),
        ));
    }
    let body = draft.body.trim().to_string();
    if body.chars().count() > limits::BODY_MAX {
        return Err(AppError::invalid(
            "body",
            format!("must be at most {} characters", limits::BODY_MAX),
        ));
    }
    let severity = match draft.severity.as_deref().map(str::trim) {
        None | Some("") => Severity::Info,
        Some(s) => Severity::parse(s)
            .ok_or_else(|| AppError::invalid("severity", "must be info, warning or critical"))?,
    };
    let link = match draft.link.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(link) => Some(validate_link(link)?),
    };
    Ok((
        event.clone(),
        NewAnnouncement {
            sender_id: Some(sender_id),
            event: event.as_str().to_string(),
            title,
            body,
            severity,
            link,
        },
    ))
}

/// Only http(s) URLs and same-site paths: a `javascript:` link in an inbox
/// would run in every recipient's session.
fn validate_link(link: &str) -> Result<String, AppError> {
    let ok_scheme = link.starts_with("https://") || link.starts_with("http://");
    let same_site = link.starts_with('/') && !link.starts_with("//");
    if link.chars().count() > limits::LINK_MAX {
        return Err(AppError::invalid(
            "link",
            format!("must be at most {} characters", limits::LINK_MAX),
        ));
    }
    if !(ok_scheme || same_site) || link.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "link",
            "must be an http(s) URL or a path starting with /",
        ));
    }
    Ok(link.to_string())
}

/// Names the stream itself uses; an admin cannot impersonate them.
fn is_reserved(name: &EventName) -> bool {
    [
        EventName::CONNECTED,
        EventName::PING,
        EventName::NOTIFICATION_READ,
        EventName::NOTIFICATION_REMOVED,
        EventName::RESYNC,
        EventName::PROGRESS,
    ]
    .iter()
    .any(|reserved| reserved == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(title: &str) -> Draft {
        Draft {
            title: title.into(),
            ..Draft::default()
        }
    }

    fn field_of(err: AppError) -> String {
        match err {
            AppError::Invalid { field, .. } => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_trimming() {
        let (event, new) = validate(1, draft("  Hello ")).unwrap();
        assert_eq!(event, EventName::NOTIFICATION);
        assert_eq!(new.title, "Hello");
        assert_eq!(new.severity, Severity::Info);
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(field_of(validate(1, draft(" ")).unwrap_err()), "title");
        assert_eq!(
            field_of(validate(1, draft(&"x".repeat(201))).unwrap_err()),
            "title"
        );
        let bad = |f: fn(&mut Draft)| {
            let mut d = draft("ok");
            f(&mut d);
            field_of(validate(1, d).unwrap_err())
        };
        assert_eq!(bad(|d| d.event = Some("bad\nname".into())), "event");
        assert_eq!(bad(|d| d.event = Some("connected".into())), "event");
        assert_eq!(bad(|d| d.severity = Some("loud".into())), "severity");
        assert_eq!(bad(|d| d.link = Some("javascript:alert(1)".into())), "link");
        assert_eq!(bad(|d| d.link = Some("//evil.example".into())), "link");
        assert_eq!(bad(|d| d.body = "b".repeat(5_001)), "body");
    }

    #[test]
    fn custom_event_names_and_links_pass() {
        let mut d = draft("Deployed");
        d.event = Some("deploy.done".into());
        d.link = Some("/changelog".into());
        d.severity = Some("warning".into());
        let (event, new) = validate(1, d).unwrap();
        assert_eq!(event.as_str(), "deploy.done");
        assert_eq!(new.link.as_deref(), Some("/changelog"));
        assert_eq!(new.severity, Severity::Warning);
    }
}
