//! Email escalation (docs/escalation.md): a user with an email address
//! gets by email what stayed unread and reached none of their streams
//! for the delay. One pass (`tasks::escalation`, every tick):
//!
//! 1. The due head: the last entry old enough that it may be due for
//!    someone (older than the shortest delay allowed). Nothing newer is
//!    looked at.
//! 2. Lease up to [`USERS_PER_PASS`] users with entries up to it not yet
//!    decided, or a digest still to send (`store::escalations::lease`).
//! 3. For each ([`CONCURRENCY`] at once): scan their notifications above
//!    `max(decided, delivered, read-all)` (at most [`ENTRIES_PER_EMAIL`]),
//!    decide each ([`verdict`]), claim the digest and the new watermark
//!    under the lease ([`plan`], `escalations::claim`), read the claimed
//!    entries again and send what is still unread and undelivered; clear
//!    on success, keep and retry later on failure.
//!
//! At most [`EMAILS_PER_PASS`] digests a pass; the rest wait for the next.
//!
//! A digest goes to the user's address (with a mailer) and to each of
//! their push subscriptions (with a VAPID key; `push_digest`). Each target
//! is marked once it took the digest, so a retry after a partial failure
//! sends only to the targets that did not.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;

use crate::{
    model::Severity,
    server::{
        config::EscalationConfig,
        mail::{
            digest::{self, DigestItem, Recipient},
            Mailer,
        },
        push::{self, Pusher},
        random,
        state::AppState,
        store::{
            escalations::{self, Decision, Item, Subject},
            now_ms, push as subscriptions, StoreError,
        },
    },
};

/// Users leased per pass.
pub const USERS_PER_PASS: i64 = 500;
/// Digests sent per pass.
pub const EMAILS_PER_PASS: usize = 100;
/// Users worked on at once (each is a few queries and at most one send).
pub const CONCURRENCY: usize = 8;
/// Notifications one digest lists (more wait for the next one).
pub const ENTRIES_PER_EMAIL: usize = 50;
/// Due entries past a not-yet-due one remembered as emailed, per user.
pub const EMAILED_ABOVE_MAX: usize = 200;
/// How long a pass holds a user: longer than a send can take.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// A failing send is retried at most this far apart.
const RETRY_MAX_MS: i64 = 3600 * 1000;
/// A digest's push to a subscription that keeps failing (a push service
/// down, a name that no longer resolves) is given up after this many
/// failed attempts of the digest (about 4 hours with the default retry
/// base), so one dead browser never holds the user's digests (and their
/// email) back for good. The subscription is kept: the next digest tries it.
pub const PUSH_ATTEMPTS_MAX: i64 = 10;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub users: usize,
    pub sent: usize,
    pub failed: usize,
}

/// What escalation makes of one notification for one user now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Never emailed: read, muted (and not critical), its category or the
    /// user turned escalation off.
    Skip,
    /// Its delay has passed: emailed.
    Due,
    /// Not yet: its delay ends then (Unix ms).
    NotYet(i64),
}

/// The delay: the user's own, else the category's, else the server's.
pub fn verdict(subject: &Subject, item: &Item, now: i64, default_secs: i64) -> Verdict {
    let critical = item.severity == Severity::Critical;
    let muted = item
        .category
        .as_deref()
        .is_some_and(|c| subject.muted.iter().any(|m| m == c));
    if item.read || !subject.enabled || (muted && !critical) || !item.category_enabled {
        return Verdict::Skip;
    }
    let secs = subject
        .after_secs
        .map(i64::from)
        .or(item.category_after_secs)
        .unwrap_or(default_secs);
    let due = item.created_at.saturating_add(secs.saturating_mul(1000));
    if due <= now {
        Verdict::Due
    } else {
        Verdict::NotYet(due)
    }
}

/// Decides a user's scan of `(after, due_head]` (`items`, oldest first, at
/// most `ENTRIES_PER_EMAIL + 1`): the digest, and how far everything is
/// decided. The watermark stops before the first entry not yet due (it
/// holds back nothing due after it: those are sent and remembered in
/// `emailed_above`, up to [`EMAILED_ABOVE_MAX`]), and at the last entry
/// scanned when the scan was cut. A user held by an entry not yet due is
/// looked at again when it comes due, or at `recheck_at` if sooner (one
/// shortest delay from now: nothing appended since can be due before).
pub fn plan(
    subject: &Subject,
    items: &[Item],
    after: i64,
    due_head: i64,
    now: i64,
    default_secs: i64,
    recheck_at: i64,
) -> Decision {
    if !subject.enabled {
        return Decision {
            up_to: due_head.max(after),
            emailed_above: Vec::new(),
            pending: Vec::new(),
            next_ms: 0,
        };
    }
    let cut = items.len() > ENTRIES_PER_EMAIL;
    let items = &items[..items.len().min(ENTRIES_PER_EMAIL)];
    let mut above: Vec<i64> = subject
        .emailed_above
        .iter()
        .copied()
        .filter(|&p| p > after)
        .collect();
    let mut pending = Vec::new();
    let mut blocker: Option<(i64, i64)> = None;
    for item in items {
        match verdict(subject, item, now, default_secs) {
            Verdict::Skip => {}
            Verdict::NotYet(due) => {
                if blocker.is_none() {
                    blocker = Some((item.position, due));
                }
            }
            Verdict::Due if above.contains(&item.position) => {}
            Verdict::Due => match blocker {
                None => pending.push(item.position),
                Some(_) if above.len() < EMAILED_ABOVE_MAX => {
                    pending.push(item.position);
                    above.push(item.position);
                }
                Some(_) => {}
            },
        }
    }
    let up_to = match (blocker, items.last()) {
        (Some((position, _)), _) => position - 1,
        (None, Some(last)) if cut => last.position,
        _ => due_head,
    }
    .max(after);
    above.retain(|&p| p > up_to);
    above.sort_unstable();
    Decision {
        up_to,
        emailed_above: above,
        pending,
        next_ms: blocker.map_or(0, |(_, due)| due.min(recheck_at)),
    }
}

/// One pass; see the module's comment.
/// Where digests go: the mailer (SMTP configured) and the pusher (a VAPID key).
#[derive(Clone, Copy)]
pub struct Outlets<'a> {
    pub mailer: Option<&'a Mailer>,
    pub pusher: Option<&'a Pusher>,
}

pub async fn pass(
    state: &AppState,
    outlets: Outlets<'_>,
    config: &EscalationConfig,
) -> Result<PassReport, StoreError> {
    let now = now_ms();
    let floor_ms = i64::from(state.config.escalate_min_secs) * 1000;
    let due_head = escalations::due_head(&state.pool, now - floor_ms).await?;
    let token = random::hex_id(16).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    let users = escalations::lease(
        &state.pool,
        now,
        due_head,
        USERS_PER_PASS,
        &token,
        now + LEASE_MS,
        outlets.mailer.is_none(),
    )
    .await?;
    let budget = AtomicUsize::new(EMAILS_PER_PASS);
    let report = std::sync::Mutex::new(PassReport {
        users: users.len(),
        ..PassReport::default()
    });
    let visit = Visit {
        state,
        outlets,
        config,
        token: &token,
        now,
        floor_ms,
        due_head,
        budget: &budget,
    };
    futures_util::stream::iter(users)
        .for_each_concurrent(CONCURRENCY, |user_id| {
            let (visit, report) = (&visit, &report);
            async move {
                let outcome = visit.user(user_id).await;
                let mut report = report.lock().unwrap_or_else(|e| e.into_inner());
                match outcome {
                    Ok(Sent::Yes) => report.sent += 1,
                    Ok(Sent::No) => {}
                    Ok(Sent::Failed) => report.failed += 1,
                    Err(e) => {
                        // The lease runs out and a later pass takes the user again.
                        tracing::warn!(user_id, error = %e, "escalation: user not decided");
                    }
                }
            }
        })
        .await;
    Ok(report.into_inner().unwrap_or_else(|e| e.into_inner()))
}

enum Sent {
    Yes,
    No,
    Failed,
}

struct Visit<'a> {
    state: &'a AppState,
    outlets: Outlets<'a>,
    config: &'a EscalationConfig,
    token: &'a str,
    now: i64,
    /// The shortest delay anyone may have, in ms.
    floor_ms: i64,
    due_head: i64,
    budget: &'a AtomicUsize,
}

impl Visit<'_> {
    fn default_secs(&self) -> i64 {
        self.config.after.as_secs() as i64
    }

    /// One digest from this pass's budget, if any is left.
    fn take_budget(&self) -> bool {
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    async fn user(&self, user_id: i64) -> Result<Sent, StoreError> {
        let pool = &self.state.pool;
        let Some(subject) = escalations::load(pool, user_id).await? else {
            escalations::release(pool, user_id, self.token).await?;
            return Ok(Sent::No);
        };
        let pending = match subject.pending.clone() {
            // Claimed before and not sent (a failed send, a crash): that
            // digest first, nothing new until it is out.
            Some(pending) => {
                if !self.take_budget() {
                    escalations::release(pool, user_id, self.token).await?;
                    return Ok(Sent::No);
                }
                pending
            }
            None => {
                let after = subject
                    .up_to
                    .max(subject.delivered_up_to)
                    .max(subject.read_all_up_to);
                let items = if subject.enabled && after < self.due_head {
                    let limit = ENTRIES_PER_EMAIL as i64 + 1;
                    escalations::scan(pool, &subject, after, self.due_head, limit).await?
                } else {
                    Vec::new()
                };
                let decision = plan(
                    &subject,
                    &items,
                    after,
                    self.due_head,
                    self.now,
                    self.default_secs(),
                    self.now + self.floor_ms,
                );
                if !decision.pending.is_empty() && !self.take_budget() {
                    escalations::release(pool, user_id, self.token).await?;
                    return Ok(Sent::No);
                }
                if !escalations::claim(pool, user_id, self.token, &decision).await? {
                    return Ok(Sent::No); // the lease ran out: another pass has the user
                }
                decision.pending
            }
        };
        if pending.is_empty() {
            return Ok(Sent::No);
        }
        self.send(&subject, &pending).await
    }

    /// Reads the claimed entries again (send time is what counts: read,
    /// archived, snoozed, retracted, expired or delivered meanwhile means
    /// not sent) and sends the rest in one digest, to each target that has
    /// not taken it yet (the digest's key is its last claimed position).
    async fn send(&self, subject: &Subject, pending: &[i64]) -> Result<Sent, StoreError> {
        let pool = &self.state.pool;
        let (read_all, delivered) = escalations::watermarks(pool, subject.user_id).await?;
        let items: Vec<Item> = escalations::items_at(pool, subject.user_id, read_all, pending)
            .await?
            .into_iter()
            .filter(|i| i.position > delivered)
            .filter(|i| verdict(subject, i, i64::MAX, 0) != Verdict::Skip)
            .collect();
        if items.is_empty() {
            escalations::finish(pool, subject.user_id, self.token).await?;
            return Ok(Sent::No);
        }
        let key = (
            pending.iter().copied().min().unwrap_or_default(),
            pending.iter().copied().max().unwrap_or_default(),
        );
        let mut retry: Option<String> = None;
        let mut any = false;
        if let Some(pusher) = self.outlets.pusher {
            let outcome = self.push(pusher, subject, &items, key.1).await?;
            any |= outcome.sent;
            retry = outcome.retry;
        }
        match self.outlets.mailer {
            Some(mailer) if subject.emailed_for != key.1 => {
                if let Some(email) = &subject.email {
                    match self.email(mailer, subject, email, &items, key).await {
                        Ok(sent) => {
                            any |= sent;
                            escalations::mark_emailed(pool, subject.user_id, self.token, key.1)
                                .await?;
                        }
                        Err(e) => retry = Some(e),
                    }
                }
            }
            _ => {}
        }
        match retry {
            None => {
                escalations::finish(pool, subject.user_id, self.token).await?;
                Ok(if any { Sent::Yes } else { Sent::No })
            }
            Some(error) => {
                let base = self.config.retry_base.as_millis() as i64;
                let shift = subject.attempts.clamp(0, 20) as u32;
                let wait = base.saturating_mul(1 << shift).min(RETRY_MAX_MS);
                tracing::warn!(user_id = subject.user_id, error = %error, wait_ms = wait, "escalation not sent everywhere; will retry");
                escalations::fail(pool, subject.user_id, self.token, now_ms() + wait).await?;
                Ok(Sent::Failed)
            }
        }
    }

    /// The digest by email: `Ok(true)` sent, `Ok(false)` dropped (an
    /// address the mailer cannot use), `Err` to retry.
    async fn email(
        &self,
        mailer: &Mailer,
        subject: &Subject,
        email: &str,
        items: &[Item],
        key: (i64, i64),
    ) -> Result<bool, String> {
        let items: Vec<DigestItem> = items
            .iter()
            .map(|i| DigestItem {
                title: i.title.clone(),
                body: i.body.clone(),
                link: i.link.clone(),
                severity: i.severity,
            })
            .collect();
        let to = Recipient {
            user_id: subject.user_id,
            username: &subject.username,
            email,
        };
        let sent = match digest::message(mailer.from(), &to, &items, &self.config.public_url, key) {
            Ok(message) => mailer.send(message).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                tracing::debug!(
                    user_id = subject.user_id,
                    count = items.len(),
                    "escalation emailed"
                );
                Ok(true)
            }
            Err(crate::server::mail::MailError::Address) => {
                // Never deliverable: dropping it is the only way forward.
                tracing::warn!(
                    user_id = subject.user_id,
                    "escalation: address unusable; dropped"
                );
                Ok(false)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// The digest to each of the user's push subscriptions that has not
    /// taken it (`key`): one message each, the newest notification shown.
    async fn push(
        &self,
        pusher: &Pusher,
        subject: &Subject,
        items: &[Item],
        key: i64,
    ) -> Result<PushOutcome, StoreError> {
        let pool = &self.state.pool;
        let mut outcome = PushOutcome::default();
        let targets = subscriptions::for_user(pool, subject.user_id).await?;
        let Some(newest) = items.last() else {
            return Ok(outcome);
        };
        let payload = push::payload::encode(
            items.len(),
            &newest.title,
            &newest.body,
            newest.link.as_deref(),
        );
        let urgent = items.iter().any(|i| i.severity == Severity::Critical);
        for row in targets.into_iter().filter(|t| t.sent_for != key) {
            let Some(target) = push_digest::target(&row) else {
                // Stored keys were checked at subscription: not expected.
                tracing::warn!(
                    user_id = subject.user_id,
                    "push: stored keys unusable; removed"
                );
                subscriptions::delete(pool, row.id).await?;
                continue;
            };
            match pusher.send(&target, &payload, urgent).await {
                push::Outcome::Sent => {
                    subscriptions::mark_sent(pool, row.id, key).await?;
                    outcome.sent = true;
                    tracing::debug!(
                        user_id = subject.user_id,
                        count = items.len(),
                        "escalation pushed"
                    );
                }
                push::Outcome::Gone => {
                    subscriptions::delete(pool, row.id).await?;
                    tracing::debug!(user_id = subject.user_id, "push subscription gone; removed");
                }
                push::Outcome::Refused(status) => {
                    subscriptions::mark_sent(pool, row.id, key).await?;
                    tracing::warn!(
                        user_id = subject.user_id,
                        status,
                        "push refused; not retried"
                    );
                }
                push::Outcome::Failed(error) if subject.attempts + 1 >= PUSH_ATTEMPTS_MAX => {
                    subscriptions::mark_sent(pool, row.id, key).await?;
                    tracing::warn!(user_id = subject.user_id, error = %error, attempts = subject.attempts + 1, "push failed; this digest given up for this browser");
                }
                push::Outcome::Failed(error) => outcome.retry = Some(error),
            }
        }
        Ok(outcome)
    }
}

#[derive(Default)]
struct PushOutcome {
    sent: bool,
    /// Some subscription should be tried again (why).
    retry: Option<String>,
}

/// Stored subscriptions as the pusher takes them.
mod push_digest {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    use crate::server::{push::Target, store::push::Row};

    pub fn target(row: &Row) -> Option<Target> {
        let p256dh = URL_SAFE_NO_PAD.decode(&row.p256dh).ok()?;
        let auth = URL_SAFE_NO_PAD.decode(&row.auth).ok()?;
        Some(Target {
            id: row.id,
            endpoint: row.endpoint.clone(),
            p256dh: p256::PublicKey::from_sec1_bytes(&p256dh).ok()?,
            auth: auth.try_into().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            user_id: 1,
            email: Some("e@example.com".into()),
            username: "e".into(),
            up_to: 0,
            emailed_above: Vec::new(),
            pending: None,
            attempts: 0,
            emailed_for: 0,
            read_all_up_to: 0,
            delivered_up_to: 0,
            muted: vec!["noise".into()],
            enabled: true,
            after_secs: None,
            spans: Vec::new(),
        }
    }

    fn item(position: i64, created_at: i64, category: Option<&str>) -> Item {
        Item {
            position,
            created_at,
            title: "t".into(),
            body: "b".into(),
            link: None,
            severity: Severity::Info,
            category: category.map(str::to_string),
            category_enabled: true,
            category_after_secs: None,
            read: false,
        }
    }

    #[test]
    fn verdicts_follow_reads_mutes_settings_and_delays() {
        let s = subject();
        assert_eq!(verdict(&s, &item(1, 0, None), 10_000, 10), Verdict::Due);
        assert_eq!(
            verdict(&s, &item(1, 0, None), 9_999, 10),
            Verdict::NotYet(10_000)
        );
        let read = Item {
            read: true,
            ..item(1, 0, None)
        };
        assert_eq!(verdict(&s, &read, 99_999, 10), Verdict::Skip);
        assert_eq!(
            verdict(&s, &item(1, 0, Some("noise")), 99_999, 10),
            Verdict::Skip
        );
        let critical = Item {
            severity: Severity::Critical,
            ..item(1, 0, Some("noise"))
        };
        assert_eq!(
            verdict(&s, &critical, 99_999, 10),
            Verdict::Due,
            "critical is never muted"
        );
        let off = Item {
            category_enabled: false,
            ..critical.clone()
        };
        assert_eq!(verdict(&s, &off, 99_999, 10), Verdict::Skip);
        let slow = Item {
            category_after_secs: Some(100),
            ..item(1, 0, None)
        };
        assert_eq!(verdict(&s, &slow, 99_999, 10), Verdict::NotYet(100_000));
        let own = Subject {
            after_secs: Some(5),
            ..subject()
        };
        assert_eq!(
            verdict(&own, &slow, 5_000, 10),
            Verdict::Due,
            "the user's delay wins"
        );
        let quiet = Subject {
            enabled: false,
            ..subject()
        };
        assert_eq!(
            verdict(&quiet, &item(1, 0, None), 99_999, 10),
            Verdict::Skip
        );
    }

    #[test]
    fn the_watermark_stops_before_what_is_not_due_and_remembers_what_went_past_it() {
        let s = subject();
        let slow = Item {
            category_after_secs: Some(100),
            ..item(3, 0, None)
        };
        let items = [
            item(2, 0, None),
            slow,
            item(4, 0, None),
            item(5, 50_000, None),
        ];
        let d = plan(&s, &items, 1, 9, 20_000, 10, 80_000);
        assert_eq!(d.pending, vec![2, 4]);
        assert_eq!(d.up_to, 2);
        assert_eq!(d.emailed_above, vec![4]);
        assert_eq!(d.next_ms, 80_000, "looked at again within a shortest delay");
        let d = plan(&s, &items, 1, 9, 20_000, 10, 200_000);
        assert_eq!(d.next_ms, 100_000, "or when the held one comes due");
        // The next visit, the slow one now due: 4 is not sent twice.
        let again = Subject {
            up_to: 2,
            emailed_above: vec![4],
            ..subject()
        };
        let d = plan(&again, &items[1..], 2, 9, 100_000, 10, 160_000);
        assert_eq!(d.pending, vec![3, 5]);
        assert_eq!(
            (d.up_to, d.emailed_above.clone(), d.next_ms),
            (9, vec![], 0)
        );
    }

    #[test]
    fn a_cut_scan_decides_up_to_its_last_entry() {
        let items: Vec<Item> = (1..=ENTRIES_PER_EMAIL as i64 + 1)
            .map(|p| item(p, 0, None))
            .collect();
        let d = plan(&subject(), &items, 0, 1000, 99_999, 10, 0);
        assert_eq!(d.pending.len(), ENTRIES_PER_EMAIL);
        assert_eq!(d.up_to, ENTRIES_PER_EMAIL as i64);
    }
}
