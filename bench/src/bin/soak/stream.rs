//! One stream slot of a virtual user for the whole run: open (resuming with
//! its last `id:`), read and account every event, churn, get caught in a
//! storm, reopen. Limits: each open is bounded by `STREAM_OPEN_TIMEOUT`; a
//! refused or failed open, or a stream the server ended, waits `RETRY_PAUSE`
//! (or half of it) before the next try; the read buffer is `READ_BUF` bytes.

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use herald_bench::{
    http::{self, HttpConn},
    soak::{Kind, Rng},
    wire::{self, Dechunker, SseEvent},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::watch,
};

use crate::{
    ctx::{Ctx, InboxPage, Phase, StoredEvent},
    READ_BUF, RECENT_IDS, REOPEN_PAUSE_MS, RETRY_PAUSE, SOURCE_MAIN, STORM_SHARE,
    STREAM_LIFETIME_SECS, STREAM_OPEN_TIMEOUT,
};

/// Why an established stream ended.
enum Ended {
    Churn,
    Storm,
    ByServer,
    Stop,
}

/// One stream slot of a user, for the whole run: open, read, churn, resume.
pub async fn run_slot(
    ctx: Arc<Ctx>,
    user: usize,
    slot: usize,
    mut phase: watch::Receiver<Phase>,
    mut storm: watch::Receiver<u64>,
    start_delay: Duration,
) {
    let mut rng = Rng::seeded((user * 16 + slot) as u64);
    tokio::time::sleep(start_delay).await;
    let via_query = (user + slot) % 2 == 1;
    loop {
        if *phase.borrow() == Phase::Stop {
            return;
        }
        let pause = match open_and_read(
            &ctx, user, slot, via_query, &mut rng, &mut phase, &mut storm,
        )
        .await
        {
            Ok(Ended::Stop) => return,
            Ok(Ended::Churn) => Duration::from_millis(rng.below(REOPEN_PAUSE_MS)),
            Ok(Ended::Storm) => Duration::ZERO,
            Ok(Ended::ByServer) => {
                ctx.closed_by_server.fetch_add(1, Ordering::Relaxed);
                RETRY_PAUSE / 2
            }
            Err(()) => RETRY_PAUSE,
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = phase.wait_for(|p| *p == Phase::Stop) => return,
        }
    }
}

/// Opens one stream (resuming where the slot left off) and reads it until it
/// churns, a storm takes it, the server ends it, or the run stops.
/// `Err(())` when it did not open (already counted).
#[allow(clippy::too_many_arguments)]
async fn open_and_read(
    ctx: &Ctx,
    user: usize,
    slot: usize,
    via_query: bool,
    rng: &mut Rng,
    phase: &mut watch::Receiver<Phase>,
    storm: &mut watch::Receiver<u64>,
) -> Result<Ended, ()> {
    let vu = &ctx.users[user];
    let token = vu.token();
    let last_id = ctx.user_slot(user, slot).last_id.clone();
    let mut path = "/sse/stream".to_string();
    let mut extra = String::new();
    if let Some(id) = &last_id {
        if via_query {
            path = format!("/sse/stream?last_event_id={id}");
        } else {
            extra = format!("Last-Event-ID: {id}\r\n");
        }
    }
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nAuthorization: Bearer {token}\r\n{extra}\r\n",
        ctx.server
    );

    let mut raw: Vec<u8> = Vec::with_capacity(READ_BUF);
    let opened = tokio::time::timeout(STREAM_OPEN_TIMEOUT, async {
        let mut stream = http::connect(ctx.server, Some(SOURCE_MAIN))
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let start = raw.len();
            raw.resize(start + READ_BUF, 0);
            let n = stream
                .read(&mut raw[start..])
                .await
                .map_err(|e| e.to_string())?;
            raw.truncate(start + n);
            if n == 0 {
                return Err("closed before the response head".to_string());
            }
            if let Some(head) = wire::parse_head(&raw).map_err(|e| e.0)? {
                return Ok((stream, head));
            }
        }
    })
    .await;
    let (mut stream, head) = match opened {
        Ok(Ok(v)) => v,
        Ok(Err(_)) | Err(_) => {
            ctx.tally.add(Kind::Stream, 0);
            return Err(());
        }
    };
    if head.status != 200 {
        // A sign-in moved this user to a new token and signed the old one out
        // between our reading it and the server checking it.
        let stale = head.status == 401 && vu.token() != token;
        let kind = if stale {
            Kind::StreamStaleToken
        } else {
            Kind::Stream
        };
        ctx.tally.add(kind, head.status);
        return Err(());
    }
    ctx.tally.add(Kind::Stream, 200);
    ctx.user_slot(user, slot).opens += 1;
    ctx.open_streams.fetch_add(1, Ordering::Relaxed);
    let ended = read_stream(ctx, user, slot, rng, phase, storm, &mut stream, raw, head).await;
    ctx.open_streams.fetch_sub(1, Ordering::Relaxed);
    Ok(ended)
}

#[allow(clippy::too_many_arguments)]
async fn read_stream(
    ctx: &Ctx,
    user: usize,
    slot: usize,
    rng: &mut Rng,
    phase: &mut watch::Receiver<Phase>,
    storm: &mut watch::Receiver<u64>,
    stream: &mut tokio::net::TcpStream,
    mut raw: Vec<u8>,
    head: wire::ResponseHead,
) -> Ended {
    raw.drain(..head.len);
    let mut dechunk = head.chunked.then(Dechunker::default);
    let mut events: Vec<u8> = Vec::new();
    let lifetime =
        STREAM_LIFETIME_SECS.0 + rng.below(STREAM_LIFETIME_SECS.1 - STREAM_LIFETIME_SECS.0 + 1);
    let churn_at = tokio::time::Instant::now() + Duration::from_secs(lifetime);
    // Highest seq seen on this connection: a resumed stream must go up by one each time.
    let mut last_seq_here: Option<u64> = None;
    storm.borrow_and_update();
    loop {
        // Decode and handle whatever is buffered.
        match dechunk.as_mut() {
            Some(d) => match d.decode(&raw, &mut events) {
                Ok(used) => {
                    raw.drain(..used);
                }
                Err(_) => return Ended::ByServer,
            },
            None => events.append(&mut raw),
        }
        let mut used = 0;
        let mut resynced = false;
        while let Some((block, len)) = wire::next_block(&events[used..]) {
            resynced |= on_event(
                ctx,
                user,
                slot,
                wire::parse_event(block),
                &mut last_seq_here,
            );
            used += len;
        }
        events.drain(..used);
        if resynced {
            refetch_after_resync(ctx, user, slot).await;
        }
        if dechunk.as_ref().is_some_and(Dechunker::is_done) {
            return Ended::ByServer;
        }

        let churning = *phase.borrow() == Phase::Load;
        let start = raw.len();
        raw.resize(start + READ_BUF, 0);
        tokio::select! {
            read = stream.read(&mut raw[start..]) => match read {
                Ok(0) | Err(_) => return Ended::ByServer,
                Ok(n) => raw.truncate(start + n),
            },
            _ = tokio::time::sleep_until(churn_at), if churning => return Ended::Churn,
            changed = storm.changed() => {
                raw.truncate(start);
                if changed.is_ok() && *phase.borrow() == Phase::Load && rng.chance(STORM_SHARE) {
                    return Ended::Storm;
                }
            }
            _ = phase.changed() => {
                raw.truncate(start);
                if *phase.borrow() == Phase::Stop {
                    return Ended::Stop;
                }
            }
        }
    }
}

/// Handles one event; true when it was a `resync`.
fn on_event(
    ctx: &Ctx,
    user: usize,
    slot: usize,
    ev: SseEvent<'_>,
    last_seq_here: &mut Option<u64>,
) -> bool {
    match ev.event {
        "connected" | "ping" | "notification.read" | "progress" | "" => false,
        "resync" => {
            ctx.resyncs.fetch_add(1, Ordering::Relaxed);
            ctx.user_slot(user, slot).resyncs += 1;
            true
        }
        _ => {
            // A stored event (`notification` or an admin's own name): it carries `id:`.
            let Some(id) = ev.id else { return false };
            let parsed: Option<StoredEvent> = serde_json::from_str(&ev.data).ok();
            let seq = parsed
                .as_ref()
                .and_then(|p| p.seq)
                .or_else(|| id.trim().parse().ok())
                .filter(|s| *s > 0);
            let mut state = ctx.user_slot(user, slot);
            state.last_id = Some(id.to_string());
            let Some(seq) = seq else { return false };
            let seq = seq as u64;
            if last_seq_here.is_some_and(|prev| seq <= prev) {
                state.out_of_order += 1;
            }
            *last_seq_here = Some(last_seq_here.map_or(seq, |p| p.max(seq)));
            if !state.streamed.insert(seq) {
                state.duplicates += 1;
            }
            drop(state);
            if slot == 0 {
                if let Some(p) = parsed {
                    let mut recent = ctx.users[user]
                        .recent_ids
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    if recent.len() == RECENT_IDS {
                        recent.pop_front();
                    }
                    recent.push_back(p.id);
                }
            }
            false
        }
    }
}

/// What a client does on `resync`: reread the inbox back to where its own
/// record is complete, so the gap is filled from the store.
async fn refetch_after_resync(ctx: &Ctx, user: usize, slot: usize) {
    let floor = {
        let s = ctx.user_slot(user, slot);
        s.streamed.contiguous().max(s.recovered.contiguous())
    };
    let token = ctx.users[user].token();
    let mut conn = HttpConn::new(ctx.server, Some(SOURCE_MAIN));
    let mut before: Option<i64> = None;
    for _ in 0..200 {
        let path = match before {
            Some(b) => format!("/api/notifications?limit=100&before={b}"),
            None => "/api/notifications?limit=100".to_string(),
        };
        let Some(reply) = ctx
            .request(&mut conn, Kind::Refetch, "GET", &path, Some(&token), None)
            .await
        else {
            return;
        };
        let Ok(page) = serde_json::from_slice::<InboxPage>(&reply.body) else {
            return;
        };
        let mut state = ctx.user_slot(user, slot);
        for item in &page.items {
            if item.seq > 0 {
                state.recovered.insert(item.seq as u64);
            }
        }
        drop(state);
        let lowest = page.items.iter().map(|i| i.seq).min();
        match (page.next_before, lowest) {
            (Some(next), Some(low)) if low as u64 > floor + 1 => before = Some(next),
            _ => return,
        }
    }
}
