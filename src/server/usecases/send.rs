//! An admin sending an announcement: store it and append it once to the log
//! of its channel, then publish it, now; one with a send time is stored and
//! left for the scheduler (`schedule`). It arrives parsed
//! ([`Announcement`]): this use case checks who sends, how often, and to
//! whom, never a field.
//!
//! All or nothing: the announcement, its log entry, the audit row and the
//! `Idempotency-Key` result commit in one write transaction of the
//! `Publisher`, which applies it to the hub right after the commit, in log
//! order. Nothing after the commit can fail the request.

use crate::{
    model::{AppError, Channel, Scope, SentAnnouncement},
    server::{
        auth::Caller,
        delivery::events::DomainEvent,
        domain::announcement::Announcement,
        state::AppState,
        store::{
            announcements::{self, Timing},
            audit,
            notifications::NewAnnouncement,
            now_ms, users, webhooks,
        },
        usecases::idempotency::{self, Once},
    },
};

pub async fn send(
    state: &AppState,
    sender: &Caller,
    announcement: Announcement,
    recipients: Channel,
) -> Result<SentAnnouncement, AppError> {
    send_once(state, sender, announcement, recipients, None).await
}

/// [`send`], keyed: with `once`, a retry of the same request within 24 h
/// gets the first result back, and nothing is sent twice (see `idempotency`).
pub async fn send_once(
    state: &AppState,
    sender: &Caller,
    announcement: Announcement,
    recipients: Channel,
    once: Option<&Once>,
) -> Result<SentAnnouncement, AppError> {
    sender.require(Scope::Publish)?;
    // An admin, or a service key (each key has its own rate limit and keys).
    let owner = sender.owner();
    if let Some(once) = once {
        if let Some(first) = idempotency::first_result(&state.pool, &owner, once).await? {
            return Ok(first);
        }
    }
    if !state.limits.publish.allow(&owner) {
        return Err(AppError::RateLimited);
    }
    // After the first-result lookup: a retry is answered even once its send
    // time has passed.
    announcement.check_timely(now_ms())?;
    if let Channel::User(user_id) = recipients {
        if users::find_by_id(&state.pool, user_id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {user_id}")));
        }
    }
    let timing = Timing {
        send_at: announcement.send_at(),
        expires_at: announcement.expires_at(),
    };
    let new = NewAnnouncement {
        sender_id: sender.user_id(),
        sender_key_id: sender.key_id(),
        event: announcement.event().clone(),
        title: announcement.title().to_string(),
        body: announcement.body().to_string(),
        severity: announcement.severity(),
        link: announcement.link().map(str::to_string),
        category: announcement.category().map(str::to_string),
        data: announcement.data().cloned(),
        actions: announcement.actions().to_vec(),
    };

    let mut turn = state.publisher.begin().await?;
    let (id, published) = announcements::insert(turn.tx(), &new, &recipients, timing).await?;
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
    audit::record(
        turn.tx(),
        sender.actor(),
        action,
        &recipients.to_string(),
        &detail,
    )
    .await?;
    if let Some(published) = &published {
        // In the publishing turn: the message exists if and only if the
        // announcement does.
        webhooks::announcement_sent(turn.tx(), published).await?;
    }
    if let Some(once) = once {
        if !idempotency::keep(turn.tx(), &owner, once, &sent).await? {
            // A concurrent request with this key wrote first: ours rolls
            // back, and waits for the winner's commit to read its answer.
            turn.roll_back().await?;
            return idempotency::answer_of_winner(&state.pool, &owner, once).await;
        }
    }
    turn.commit(published.map(DomainEvent::Notified)).await?;
    if sent.scheduled {
        // Not in the log yet, but in the consoles' history: this instance's
        // admins hear of it at the next pulse (others at their next change).
        state.hub.console_changed();
    }
    tracing::info!(
        announcement_id = id,
        sender = sender.actor().name,
        target = %recipients.to_string(),
        recipients = sent.recipients,
        scheduled = sent.scheduled,
        "announcement accepted"
    );
    Ok(sent)
}

/// The one user an admin names in a form: checked before the lookup, so a
/// refusal never tells whether the name exists; an unknown name is the
/// form's field error.
pub async fn recipient_named(
    state: &AppState,
    sender: &Caller,
    username: Option<&str>,
) -> Result<Channel, AppError> {
    let name = username.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        sender.require(Scope::Publish)?;
        return Err(AppError::invalid("username", "is required for one user"));
    }
    user_named(state, sender, name)
        .await?
        .ok_or_else(|| AppError::invalid("username", format!("no user named {name:?}")))
}

/// The user a publisher names (`send-to-user`'s `username`), `None` when
/// there is none; the scope is checked before the lookup.
pub async fn user_named(
    state: &AppState,
    sender: &Caller,
    username: &str,
) -> Result<Option<Channel>, AppError> {
    sender.require(Scope::Publish)?;
    let user = users::find_by_name(&state.pool, username).await?;
    Ok(user.map(|u| Channel::User(u.id)))
}
