//! `GET /sse/stream`: turns a client's hub queue into `text/event-stream`.
//!
//! Order of a stream: `connected` (with `retry:`), then — when resuming with
//! `Last-Event-ID` — every log entry in the user's channels after that
//! position, then live events, with `ping` keep-alives in between
//! (published to every stream by one server-wide ticker, so an open stream
//! owns no timer). The client attaches to the hub first, which tells it the
//! last position applied there (`applied`): the replay reads
//! `(resume point, applied]` from the store, and the hub queues everything
//! after. No gap, no duplicate (live frames at or below the replay are
//! skipped by position all the same).
//!
//! Two paths serve a stream and share everything but the wire: [`direct`]
//! writes it straight to the socket when it is a connection's first request
//! (the common case, and the lean one), the router serves any other.

use std::{
    collections::VecDeque,
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

mod direct;

pub use direct::{serve_first_request, DirectPath, DirectStream, FirstRequest};

use axum::{
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::Stream;
use serde::Deserialize;

use crate::model::AppError;
use crate::server::{
    auth::{stream_ticket::authenticate_stream, Session},
    delivery::hub::{AttachError, Attached, ClientInfo, Frame, Hub, Subscription},
    delivery::wire,
    state::AppState,
    store::{
        self, log,
        notifications::{self, Replayed},
    },
};

/// How long the browser waits before reconnecting (the `retry:` field).
const RETRY: Duration = Duration::from_secs(3);
/// A resume further behind than this gets `resync` (refetch) instead of a replay.
const REPLAY_LIMIT: i64 = 500;

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    last_event_id: Option<String>,
    /// A stream ticket (`auth::stream_ticket`): how a page on another
    /// origin, whose `EventSource` cannot send a bearer, opens its stream.
    ticket: Option<String>,
    /// `page=1`: a Herald page's own stream, which also gets the events
    /// only a page uses: `event.names` before a notification under a custom
    /// name it was not told of (`delivery/hub/names.rs`) and, for admins,
    /// `console.changed` (`tasks/console_pulse.rs`). Other clients get the
    /// SPEC's events only.
    page: Option<String>,
}

impl StreamQuery {
    pub fn page_events(&self) -> bool {
        self.page.as_deref() == Some("1")
    }
}

/// The response headers of every stream, whichever path serves it (README, "The stream").
/// Compression layers skip `text/event-stream`; `X-Accel-Buffering` tells nginx not to buffer.
const STREAM_HEADERS: [(&str, &str); 4] = [
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache, no-store, must-revalidate"),
    ("connection", "keep-alive"),
    ("x-accel-buffering", "no"),
];

/// `GET /sse/stream` through the router: a connection whose first request is
/// a stream is served by [`direct`] instead; this serves the rest (a stream
/// opened on a kept-alive connection, or over HTTP/1.0) and answers every
/// refusal.
pub async fn stream(
    State(state): State<AppState>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let session = authenticate_stream(&state, &headers, query.ticket.as_deref()).await?;
    let page_events = query.page_events();
    let resume_after = resume_point(&headers, query);
    let client = open(&state, session, resume_after, page_events).await?;
    let mut response = Body::from_stream(client).into_response();
    for (name, value) in STREAM_HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    Ok(response)
}

/// Where a reconnecting client left off: `Last-Event-ID` wins over `?last_event_id=`.
fn resume_point(headers: &HeaderMap, query: StreamQuery) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(query.last_event_id)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|position| *position >= 0)
}

/// Attaches the stream to the hub and queues what it starts with:
/// `connected`, then the replay (or `resync` when it cannot be complete).
async fn open(
    state: &AppState,
    session: Session,
    resume_after: Option<i64>,
    page_events: bool,
) -> Result<ClientStream, AppError> {
    let user_id = session.user.id;
    let Attached {
        subscription,
        counts,
        applied,
        spans,
    } = attach(state, session, page_events).await?;

    let mut pending = VecDeque::new();
    pending.push_back(wire::connected(
        subscription.id,
        user_id,
        &counts,
        state.hub.event_names(),
        RETRY,
    ));
    let skip_through = applied;
    if let Some(after) = resume_after {
        let mut snapshot = store::begin_read(&state.pool).await?;
        let floor = log::resume_floor(&mut snapshot).await?;
        if after > applied || (0 < after && after < floor) {
            // A position this log never handed out (another database's, a
            // restored one's, made up) or a seq of the version before the
            // event log: nothing can be replayed from it.
            pending.push_back(wire::resync(
                "resumed from a position this stream never reached",
            ));
        } else {
            let replay = notifications::replay(
                &mut snapshot,
                user_id,
                &spans,
                after,
                applied,
                REPLAY_LIMIT + 1,
            )
            .await?;
            if replay.len() as i64 > REPLAY_LIMIT {
                // Too far behind to replay: have the client refetch, and only stream what is newer.
                pending.push_back(wire::resync("too far behind to replay"));
            } else {
                // Replayed frames carry the counts now (at `applied`).
                for entry in replay {
                    let (template, category) = match &entry {
                        Replayed::Notification(published) => (
                            wire::notification(published),
                            published.notification.category.as_deref(),
                        ),
                        Replayed::Removal {
                            entry,
                            removes,
                            counts_as,
                        } => (
                            wire::removal(entry, *removes),
                            counts_as.category.as_deref(),
                        ),
                    };
                    let in_category =
                        category.map(|c| (c, counts.by_category.get(c).copied().unwrap_or(0)));
                    pending.push_back(template.with_counts(counts.unread, in_category));
                }
                state.hub.note_delivered(user_id, applied);
            }
        }
    }

    Ok(ClientStream {
        pending,
        subscription,
        hub: state.hub.clone(),
        skip_through,
    })
}

/// Attaches with the user's live counter, or — the user's first stream on
/// this instance — seeds one from the store while the `Publisher` is quiet,
/// so that nothing is applied between the count and the attach.
async fn attach(
    state: &AppState,
    session: Session,
    page_events: bool,
) -> Result<Attached, AppError> {
    let info = ClientInfo {
        user_id: session.user.id,
        role: session.user.role,
        session_id: session.session_id,
        page_events,
    };
    let too_many = |limit| {
        AppError::LimitReached(format!(
            "too many open streams for this account (at most {limit}); close one and retry"
        ))
    };
    match state.hub.attach(info.clone(), None) {
        Ok(attached) => return Ok(attached),
        Err(AttachError::TooManyStreams { limit }) => return Err(too_many(limit)),
        Err(AttachError::NeedsSeed) => {}
    }
    let attached = state.publisher.attach_seeded(info).await?;
    attached.map_err(|e| match e {
        AttachError::TooManyStreams { limit } => too_many(limit),
        AttachError::NeedsSeed => AppError::Internal,
    })
}

/// The body of one stream. Dropping it (client gone) drops the subscription,
/// which unregisters the client from the hub.
struct ClientStream {
    pending: VecDeque<Frame>,
    subscription: Subscription,
    hub: Hub,
    skip_through: i64,
}

impl ClientStream {
    /// The next frame, in stream order: the start-up queue, then `resync` if
    /// the hub dropped events for this stream, then live frames not already
    /// replayed. The one place that order is decided, for both paths.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(frame) = self.pending.pop_front() {
            if self.pending.is_empty() {
                // Give back the start-up queue: an open stream should cost next to nothing.
                self.pending = VecDeque::new();
            }
            return Poll::Ready(Some(frame.bytes()));
        }
        if self.subscription.take_lagged() {
            return Poll::Ready(Some(
                wire::resync("events were dropped for a slow connection").bytes(),
            ));
        }
        loop {
            match self.subscription.poll_recv(cx) {
                Poll::Ready(Some(frame)) => {
                    if frame.position().is_some_and(|p| p <= self.skip_through) {
                        continue; // already replayed
                    }
                    self.hub.counters().publish_to_write.observe(frame.age());
                    return Poll::Ready(Some(frame.bytes()));
                }
                // The hub dropped us: session revoked or user removed.
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Appends to `batch`, in order, every frame ready now — at most
    /// `max_frames`, and no more once `max_bytes` is reached (a frame is never
    /// split, so the last may go past it) — so that a burst is written at once.
    /// `Pending` only when nothing was ready; `Ready(None)` when the stream has
    /// ended with nothing left to take.
    fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Bytes>,
        max_frames: usize,
        max_bytes: usize,
    ) -> Poll<Option<()>> {
        let mut bytes = 0;
        while batch.len() < max_frames && bytes < max_bytes {
            match self.poll_frame(cx) {
                Poll::Ready(Some(frame)) => {
                    bytes += frame.len();
                    batch.push(frame);
                }
                // The frames taken go out first; a closed queue stays closed,
                // so the next poll sees the end again.
                Poll::Ready(None) if batch.is_empty() => return Poll::Ready(None),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        if batch.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(Some(()))
        }
    }
}

impl Stream for ClientStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_frame(cx).map(|frame| frame.map(Ok))
    }
}

#[cfg(test)]
mod tests;
