//! Admins sending announcements: validate, store one copy per recipient,
//! then publish one domain event per copy.

use crate::{
    model::{limits, AppError, SentAnnouncement, Severity},
    server::{
        auth::Session,
        events::{self, DomainEvent},
        hub::EventName,
        state::AppState,
        store::{
            notifications::{self, NewAnnouncement, Recipients},
            users,
        },
    },
};

/// What an admin composed, as received (not yet validated).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// SSE event name; `notification` when absent.
    pub event: Option<String>,
    pub title: String,
    pub body: String,
    pub severity: Option<String>,
    pub link: Option<String>,
}

pub async fn announce(
    state: &AppState,
    sender: &Session,
    draft: Draft,
    recipients: Recipients,
) -> Result<SentAnnouncement, AppError> {
    if !sender.user.is_admin() {
        return Err(AppError::Forbidden);
    }
    let (event, new) = validate(sender.user.id, draft)?;
    if let Recipients::User(user_id) = recipients {
        if users::find_by_id(&state.pool, user_id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {user_id}")));
        }
    }
    let sent = deliver(state, &event, &new, &recipients).await?;
    tracing::info!(
        announcement_id = sent.id,
        sender_id = sender.user.id,
        target = %recipients.label(),
        recipients = sent.recipients,
        "announcement sent"
    );
    Ok(sent)
}

/// Stores one copy per recipient, then publishes one event per copy. The
/// lock makes "commit, then publish" atomic with respect to other senders,
/// so each user's stream sees seqs in increasing order.
pub(crate) async fn deliver(
    state: &AppState,
    event: &EventName,
    new: &NewAnnouncement,
    recipients: &Recipients,
) -> Result<SentAnnouncement, AppError> {
    let _in_order = state.publish_order.lock().await;
    let (id, copies) = notifications::insert_announcement(&state.pool, new, recipients).await?;
    let recipients = copies.len() as i64;
    events::publish(
        &state.hub,
        copies
            .into_iter()
            .map(|copy| DomainEvent::NotificationCreated {
                user_id: copy.user_id,
                event: event.clone(),
                notification: copy.notification,
                unread: copy.unread,
            }),
    );
    Ok(SentAnnouncement { id, recipients })
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
