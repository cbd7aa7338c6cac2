//! Admins sending announcements: store the announcement (parsed at the edge,
//! `domain::announcement`) and append it once to the event log of its
//! channel (now, or when a schedule comes due), then publish it; retracting
//! and expiring append a removal.
//!
//! Every publish is all or nothing: what it stores (announcement, log
//! entry, audit row, `Idempotency-Key` result) commits in one write
//! transaction of the `Publisher`, which applies it to the hub right after
//! the commit, in log order. Nothing after the commit can fail the request.

use crate::{
    model::{AppError, SentAnnouncement},
    server::{
        auth::Session,
        delivery::events::DomainEvent,
        domain::announcement::Announcement,
        state::AppState,
        store::{
            announcements::{self, Timing},
            audit::{self, Actor},
            notifications::{NewAnnouncement, Recipients},
            now_ms, users,
        },
        usecases::idempotency::{self, Once},
    },
};

use crate::server::usecases::require_admin;

pub async fn announce(
    state: &AppState,
    sender: &Session,
    announcement: Announcement,
    recipients: Recipients,
) -> Result<SentAnnouncement, AppError> {
    announce_once(state, sender, announcement, recipients, None).await
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
    announcement: Announcement,
    recipients: Recipients,
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
    // After the first-result lookup: a retry is answered even once its send
    // time has passed.
    announcement.check_timely(now_ms())?;
    if let Recipients::User(user_id) = recipients {
        if users::find_by_id(&state.pool, user_id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {user_id}")));
        }
    }
    let timing = Timing {
        send_at: announcement.send_at(),
        expires_at: announcement.expires_at(),
    };
    let new = NewAnnouncement {
        sender_id: Some(sender_id),
        event: announcement.event().as_str().to_string(),
        title: announcement.title().to_string(),
        body: announcement.body().to_string(),
        severity: announcement.severity(),
        link: announcement.link().map(str::to_string),
    };

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
    audit::record(&mut turn.tx, actor, action, &recipients.label(), &detail).await?;
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

/// Stores a notification for one user and publishes it: what Herald itself sends
/// (e.g. "your export is ready"; `sender_id` None keeps it out of the
/// admin's history).
pub(crate) async fn notify_user(
    state: &AppState,
    new: &NewAnnouncement,
    user_id: i64,
) -> Result<(), AppError> {
    let mut turn = state.publisher.begin().await?;
    let recipients = Recipients::User(user_id);
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
