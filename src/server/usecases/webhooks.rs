//! Webhook endpoints: registered, listed and removed by an admin (console,
//! API), a service key with both `read` and `publish` (API), or the
//! machine's operator (`herald webhook …`). Registration parses the URL
//! and the events at the edge and refuses private addresses; the secret
//! is made here and answered once.

use crate::{
    model::{AppError, CreatedWebhook, Scope, WebhookEvent, WebhookView},
    server::{
        auth::Caller,
        store::{audit::Actor, webhooks, Pool},
        webhook::{address, sign},
    },
};

/// Longest URL accepted.
pub const MAX_URL: usize = 2048;

/// Who may manage webhooks: what they see (`read`) and what they make
/// Herald send on their behalf (`publish`). A refusal names the scope
/// the key lacks.
pub fn authorize(caller: &Caller) -> Result<Actor<'_>, AppError> {
    caller.require(Scope::Read)?;
    caller.require(Scope::Publish)?;
    Ok(caller.actor())
}

/// Registers an endpoint; the answer is the only time its secret is seen.
pub async fn create(
    pool: &Pool,
    actor: Actor<'_>,
    allow_private: bool,
    url: &str,
    events: &[String],
) -> Result<CreatedWebhook, AppError> {
    let events = parse_events(events)?;
    let url = parse_url(url, allow_private).await?;
    let secret = sign::new_secret().map_err(|e| {
        tracing::error!(error = %e, "no randomness for a webhook secret");
        AppError::Internal
    })?;
    let id = webhooks::insert(pool, url.as_str(), &events, &secret, actor).await?;
    // The host only: a receiver's URL may carry a token of its own.
    tracing::info!(
        webhook = id,
        host = url.host_str().unwrap_or_default(),
        by = actor.name,
        "webhook endpoint registered"
    );
    Ok(CreatedWebhook { id, secret })
}

pub async fn list(pool: &Pool) -> Result<Vec<WebhookView>, AppError> {
    Ok(webhooks::list(pool).await?)
}

/// Removes it with what it had not yet been sent.
pub async fn remove(pool: &Pool, actor: Actor<'_>, id: i64) -> Result<(), AppError> {
    if !webhooks::remove(pool, id, actor).await? {
        return Err(AppError::NotFound(format!("webhook {id}")));
    }
    tracing::info!(webhook = id, by = actor.name, "webhook endpoint removed");
    Ok(())
}

/// At least one known event, each once, in a stable order.
pub fn parse_events(words: &[String]) -> Result<Vec<WebhookEvent>, AppError> {
    let mut events = words
        .iter()
        .map(|w| {
            WebhookEvent::parse(w.trim()).ok_or_else(|| {
                AppError::invalid(
                    "events",
                    format!(
                        "unknown event {w:?}; known: {}",
                        WebhookEvent::ALL.map(WebhookEvent::as_str).join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(AppError::invalid("events", "name at least one event"));
    }
    Ok(events)
}

/// An absolute http(s) URL with a host that is not private (unless allowed).
async fn parse_url(raw: &str, allow_private: bool) -> Result<reqwest::Url, AppError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL {
        return Err(AppError::invalid(
            "url",
            format!("is longer than {MAX_URL} characters"),
        ));
    }
    let url = reqwest::Url::parse(raw).map_err(|e| AppError::invalid("url", e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AppError::invalid("url", "must be http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AppError::invalid("url", "has no host"));
    }
    if !allow_private {
        address::check_public(&url).await.map_err(|reason| {
            AppError::invalid(
                "url",
                format!("{reason}; private endpoints need HERALD_WEBHOOK_ALLOW_PRIVATE=1"),
            )
        })?;
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_parsed_once_each() {
        let words = [
            "notification.read",
            "announcement.sent",
            "notification.read",
        ]
        .map(String::from);
        assert_eq!(
            parse_events(&words).unwrap(),
            vec![
                WebhookEvent::AnnouncementSent,
                WebhookEvent::NotificationRead
            ]
        );
        let err = parse_events(&["announcement.snet".into()]).unwrap_err();
        assert!(matches!(err, AppError::Invalid { ref field, .. } if field == "events"));
        assert!(parse_events(&[]).is_err());
    }

    #[tokio::test]
    async fn private_urls_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://[::1]/hook",
            "http://10.0.0.8/hook",
            "http://localhost:8080/hook",
        ] {
            let err = parse_url(url, false).await.unwrap_err();
            assert!(
                matches!(err, AppError::Invalid { ref field, .. } if field == "url"),
                "{url}: {err}"
            );
            assert!(parse_url(url, true).await.is_ok(), "{url}");
        }
        for url in [
            "ftp://example.com/",
            "not a url",
            "http://",
            "mailto:ops@example.com",
        ] {
            assert!(parse_url(url, true).await.is_err(), "{url}");
        }
    }
}
