//! Admins sending announcements: validate, store the announcement and append
//! it once to the event log of its channel (now, or when a schedule comes
//! due), then publish it; retracting and expiring append a removal.
//!
//! Every publish is all or nothing: what it stores (announcement, log
//! entry, audit row, `Idempotency-Key` result) commits in one write
//! transaction of the `Publisher`, which applies it to the hub right after
//! the commit, in log order. Nothing after the commit can fail the request.

use crate::{
    model::{limits, AppError, Channel, SentAnnouncement, Severity},
    server::{
        auth::Session,
        delivery::events::DomainEvent,
        delivery::hub::EventName,
        state::AppState,
        store::{
            announcements::{self, Timing},
            audit::{self, Actor},
            notifications::NewAnnouncement,
            now_ms, users,
        },
        usecases::idempotency::{self, Once},
    },
};

use crate::server::usecases::require_admin;

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
    recipients: Channel,
) -> Result<SentAnnouncement, AppError> {
    announce_once(state, sender, draft, recipients, None).await
}

/// [`announce`], keyed: with `once`, a retry of the same request within 24 h
/// gets the first result back, and nothing is sent twice (see `idempotency`).
///
/// All or nothing: the announcement, its log entry, the audit row and the kept
/// result commit in one transaction; only then is it published (by the
/// `Publisher`, in log order). After that nothing can turn it into an error.
pub async fn announce_once(
    state: &AppState,
    sender: &Session,
    draft: Draft,
    recipients: Channel,
    once: Option<&Once>,
) -> Result<SentAnnouncement, AppError> {
    require_admin(sender)?;
    let sender_id = sender.user.id;
    if let Some(once) = once {
        if let Some(first) = idempotency::first_result(&state.pool, sender_id, once).await? {
            return Ok(first);
        }
    }
    if !state.limits.publish.allow(&sender_id.to_string()) {
        return Err(AppError::RateLimited);
    }
    let timing = validate_timing(draft.send_at.as_deref(), draft.expires_at.as_deref())?;
    let (_, new) = validate(sender_id, draft)?;
    if let Channel::User(user_id) = recipients {
        if users::find_by_id(&state.pool, user_id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {user_id}")));
        }
    }

    let mut turn = state.publisher.begin().await?;
    let (id, published) = announcements::insert(&mut turn.tx, &new, &recipients, timing).await?;
    let sent = SentAnnouncement {
        id,
        recipients: published.as_ref().map_or(0, |p| p.recipients),
        scheduled: published.is_none(),
    };
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
        id: Some(sender_id),
        name: &sender.user.username,
    };
    audit::record(
        &mut turn.tx,
        actor,
        action,
        &recipients.to_string(),
        &detail,
    )
    .await?;
    if let Some(once) = once {
        if !idempotency::keep(&mut turn.tx, sender_id, once, &sent).await? {
            // A concurrent request with this key committed first: ours rolls back.
            drop(turn);
            return idempotency::answer_of_winner(&state.pool, sender_id, once).await;
        }
    }
    turn.commit(published.map(DomainEvent::Notified)).await?;
    tracing::info!(
        announcement_id = id,
        sender_id,
        target = %recipients.to_string(),
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
) -> Result<Channel, AppError> {
    require_admin(sender)?;
    let name = username.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(AppError::invalid("username", "is required for one user"));
    }
    let user = users::find_by_name(&state.pool, name)
        .await?
        .ok_or_else(|| AppError::invalid("username", format!("no user named {name:?}")))?;
    Ok(Channel::User(user.id))
}

/// Stores a notification for one user and publishes it: what Herald itself sends
/// (e.g. "your export is ready"; `sender_id` None keeps it out of the
/// admin's history).
pub(crate) async fn notify_user(
    state: &AppState,
    new: &NewAnnouncement,
    user_id: i64,
) -> Result<(), AppError> {
    let mut turn = state.publisher.begin().await?;
    let recipients = Channel::User(user_id);
    let (_, published) =
        announcements::insert(&mut turn.tx, new, &recipients, Timing::default()).await?;
    turn.commit(published.map(DomainEvent::Notified)).await?;
    Ok(())
}

/// Sends the scheduled announcements that are due and removes the expired
/// ones; run by the scheduler. Returns how many of each. Each one is
/// committed and published before the next is touched, so a failure (logged;
/// it is retried on the next run) cannot hold back or lose the others.
pub async fn run_schedule(state: &AppState) -> Result<(usize, usize), AppError> {
    let mut sent = 0;
    for id in announcements::due_ids(&state.pool).await? {
        match send_scheduled(state, id).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(announcement_id = id, error = %e, "scheduled send failed; will retry")
            }
        }
    }
    let mut expired = 0;
    let herald = Actor {
        id: None,
        name: "herald",
    };
    for id in announcements::expired_ids(&state.pool).await? {
        match remove_everywhere(state, id, "expired", &herald).await {
            Ok(Some(_)) => expired += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(announcement_id = id, error = %e, "expiry failed; will retry")
            }
        }
    }
    Ok((sent, expired))
}

/// One due announcement: append it, commit, publish. `false` when someone
/// else sent it meanwhile.
async fn send_scheduled(state: &AppState, id: i64) -> Result<bool, AppError> {
    let mut turn = state.publisher.begin().await?;
    let Some(published) = announcements::send_scheduled(&mut turn.tx, id).await? else {
        return Ok(false);
    };
    turn.commit([DomainEvent::Notified(published)]).await?;
    Ok(true)
}

/// Takes an announcement out of every inbox, live.
pub async fn retract(state: &AppState, admin: &Session, id: i64) -> Result<(), AppError> {
    require_admin(admin)?;
    let actor = Actor {
        id: Some(admin.user.id),
        name: &admin.user.username,
    };
    remove_everywhere(state, id, "retracted", &actor)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("announcement {id} in inboxes")))?;
    Ok(())
}

/// Retract or expire: the removal and its audit row commit together, then
/// every inbox hears of it. `None` when it was not in any inbox any more.
async fn remove_everywhere(
    state: &AppState,
    id: i64,
    status: &str,
    actor: &Actor<'_>,
) -> Result<Option<()>, AppError> {
    let mut turn = state.publisher.begin().await?;
    let Some(removal) = announcements::remove(&mut turn.tx, id, status).await? else {
        return Ok(None);
    };
    let detail = match &removal {
        Some(r) => format!("from channel {} (entry {})", r.entry.channel, r.removes),
        None => "before it was sent".to_string(),
    };
    let action = format!("announcement.{status}");
    audit::record(&mut turn.tx, *actor, &action, &format!("#{id}"), &detail).await?;
    turn.commit(removal.map(DomainEvent::Removed)).await?;
    Ok(Some(()))
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
            event: event.clone(),
            title,
            body,
            severity,
            link,
        },
    ))
}

/// Only http(s) URLs and same-origin paths: a `javascript:` link in an inbox
/// would run in every recipient's session. Browsers read `//host`, `/\host`
/// and `\\host` as "another host, same scheme", so a path must start with
/// exactly one `/`, and no backslash is allowed anywhere (WHATWG URL parsing
/// turns it into `/`).
fn validate_link(link: &str) -> Result<String, AppError> {
    if link.chars().count() > limits::LINK_MAX {
        return Err(AppError::invalid(
            "link",
            format!("must be at most {} characters", limits::LINK_MAX),
        ));
    }
    let absolute = link.starts_with("https://") || link.starts_with("http://");
    let same_origin = link.starts_with('/') && !link.starts_with("//");
    let smuggles = link.contains('\\') || link.chars().any(char::is_control);
    if !(absolute || same_origin) || smuggles {
        return Err(AppError::invalid(
            "link",
            "must be an http(s) URL or a path starting with a single /",
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
    fn links_cannot_leave_for_another_host_unannounced() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/ok\\..\\x",
            "https:\\\\evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
            "evil.example/path",
            "/\t/evil.example",
            "/\n/evil.example",
            "",
        ] {
            assert!(validate_link(bad).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "/changelog",
            "/inbox?x=1#top",
            "https://example.com/a",
            "http://example.com",
        ] {
            assert_eq!(validate_link(good).unwrap(), good);
        }
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
