//! Order and resume as a client sees them — the `id:` values and the data of
//! each stream — under concurrent publishers on a multi-threaded runtime, and
//! resume by the `Last-Event-ID` header as browsers send it, on both stream
//! paths (straight on the socket, and through the router).
//!
//! Written to carry over to the event log (docs/event-log.md): what assumes
//! today's per-user `seq` is only [`assert_gapless`] (ids consecutive per
//! user); with global positions that check becomes "`off` consecutive per
//! `ch`" and the rest stands — ids strictly increasing, every accepted
//! publish exactly once, each event's `unread` one more than the last.

use std::{collections::BTreeMap, sync::Arc};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    harness::{SseEvent, SseReader, TestServer},
    wire::{direct_streams, open_routed_with, stream_request_with},
};

/// The server's two ways of serving a stream; each test runs on both.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Path {
    /// The connection's first request: answered on the socket (`sse::direct`).
    Direct,
    /// Asked for on a kept-alive connection: answered by the router.
    Routed,
}

/// Opens a stream on `path` and checks it really took that path (the count
/// of direct streams moves only for the direct one), then returns it with
/// its `connected` event. Only for streams opened one at a time.
async fn open_on(
    server: &TestServer,
    path: Path,
    token: &str,
    query: &str,
    headers: &[(&str, &str)],
) -> (SseReader, SseEvent) {
    let direct_before = direct_streams(server);
    let opened = open_path(server, path, token, query, headers).await;
    let expected = direct_before + u64::from(path == Path::Direct);
    assert_eq!(direct_streams(server), expected, "{path:?} stream");
    opened
}

/// [`open_on`] without the check, for streams opened concurrently.
async fn open_path(
    server: &TestServer,
    path: Path,
    token: &str,
    query: &str,
    headers: &[(&str, &str)],
) -> (SseReader, SseEvent) {
    match path {
        Path::Direct => server.open_stream_with(token, query, headers).await,
        Path::Routed => {
            let target = format!("/sse/stream{query}");
            let request = stream_request_with(&target, token, headers);
            let mut reader = open_routed_with(server, &request).await.into_sse();
            let connected = reader.next_event().await.expect("connected event");
            assert_eq!(connected.event, "connected");
            (reader, connected)
        }
    }
}

/// A notification as its client sees it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    id: i64,
    title: String,
    unread: i64,
    /// The entry's channel and its offset there (consecutive per channel).
    ch: String,
    off: i64,
}

fn seen(event: &SseEvent) -> Seen {
    assert_eq!(event.event, "notification", "{event:?}");
    let data = event.json();
    Seen {
        id: event
            .id
            .as_deref()
            .expect("id:")
            .parse()
            .expect("an integer id"),
        title: data["title"].as_str().expect("title").to_string(),
        unread: data["unread"].as_i64().expect("unread"),
        ch: data["ch"].as_str().expect("ch").to_string(),
        off: data["off"].as_i64().expect("off"),
    }
}

/// The next `n` notifications of a stream; anything else (a `resync`
/// above all) fails the test, since nothing here may lag.
async fn take(stream: &mut SseReader, n: usize) -> Vec<Seen> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let event = stream.next_non_ping().await.expect("the stream ended");
        got.push(seen(&event));
    }
    got
}

/// Ids strictly increasing: what a client resumes from is the last one it saw.
fn assert_increasing(what: &str, events: &[Seen]) {
    for pair in events.windows(2) {
        assert!(
            pair[0].id < pair[1].id,
            "{what}: id {} then {} ({:?} then {:?})",
            pair[0].id,
            pair[1].id,
            pair[0].title,
            pair[1].title
        );
    }
}

/// No gap after `after` (the last id seen before these, 0 for none). Today
/// an id is the user's `seq`, so ids are consecutive; the event log's
/// positions are not, and this becomes "`off` consecutive per `ch`".
/// Positions are global (other channels' entries fall between a user's),
/// so gaps are seen per channel: each channel's offsets go up by one.
/// `before`: what the client saw earlier (its channels continue from
/// there; one it never saw is adopted at its first offset, as the browser
/// does); `None`: a stream from the start of a fresh log (offsets from 1).
fn assert_gapless(what: &str, before: Option<&[Seen]>, events: &[Seen]) {
    let mut last: BTreeMap<&str, i64> = BTreeMap::new();
    for e in before.unwrap_or_default() {
        last.insert(&e.ch, e.off);
    }
    for e in events {
        let expected = match last.get(e.ch.as_str()) {
            Some(off) => off + 1,
            None if before.is_none() => 1,
            None => e.off,
        };
        assert_eq!(
            e.off, expected,
            "{what}: channel {} jumps to offset {} (position {})",
            e.ch, e.off, e.id
        );
        last.insert(&e.ch, e.off);
    }
}

/// Nothing is read meanwhile, so each event's count is one more than the
/// last one's: an event delivered out of commit order shows a count going down.
fn assert_counts_climb(what: &str, start: i64, events: &[Seen]) {
    let counts: Vec<i64> = events.iter().map(|e| e.unread).collect();
    let expected: Vec<i64> = (start + 1..=start + events.len() as i64).collect();
    assert_eq!(counts, expected, "{what}: unread counts");
}

/// Every title exactly once, and nothing else.
fn assert_exactly_once(what: &str, events: &[Seen], expected: &[String]) {
    let mut got: Vec<&str> = events.iter().map(|e| e.title.as_str()).collect();
    let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{what}: every accepted publish exactly once");
}

fn unread_of(connected: &SseEvent) -> i64 {
    connected.json()["unread"].as_i64().expect("unread")
}

/// Who a publish is for.
#[derive(Clone, Copy, Debug)]
enum To {
    Everyone,
    User(i64),
}

/// What a publisher sends, through the JSON API as an admin's client would.
#[derive(Clone)]
struct Publisher {
    http: reqwest::Client,
    base: String,
    admin: String,
}

impl Publisher {
    fn of(server: &TestServer, admin: &str) -> Publisher {
        Publisher {
            http: server.http.clone(),
            base: server.base.clone(),
            admin: admin.to_string(),
        }
    }

    /// Sends one announcement; it must be accepted.
    async fn send(&self, to: To, title: &str) {
        let (path, body) = match to {
            To::Everyone => (
                "/api/sse/broadcast",
                json!({ "event": "notification", "data": { "title": title } }),
            ),
            To::User(user_id) => (
                "/api/sse/send-to-user",
                json!({ "user_id": user_id, "event": "notification", "data": { "title": title } }),
            ),
        };
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "{title}: {answer}");
    }
}

/// A server whose limits stay out of the way: publishing as fast as it can,
/// and queues deep enough that a stream read a little late never lags
/// (a `resync` here would be a test failure, not a slow reader).
async fn roomy_server() -> TestServer {
    TestServer::start_with(&[
        ("HERALD_PUBLISH_PER_MINUTE", "1000000"),
        ("HERALD_CLIENT_QUEUE", "4096"),
    ])
    .await
}

// ---- ordering under concurrent publishers ---------------------------------

/// Sized to catch a missing publishing lock every time: without
/// the `Publisher`'s ordering lock, 8 × 25 failed 14 runs of 15 and 8 × 60 failed 30 of 30,
/// in about 1.5 s a run (debug build, 2 cores).
const PUBLISHERS: usize = 8;
const PER_PUBLISHER: usize = 60;

/// Publisher `p`'s `n`-th announcement: a broadcast, or one for alice or bob.
fn plan(p: usize, n: usize, alice: i64, bob: i64) -> To {
    match (p + n) % 3 {
        0 => To::Everyone,
        1 => To::User(alice),
        _ => To::User(bob),
    }
}

fn title(p: usize, n: usize) -> String {
    format!("p{p}n{n:03}")
}

/// Each publisher sends in turn, so its own announcements commit in the
/// order it sent them; every stream must show them in that order.
fn assert_each_publisher_in_order(what: &str, events: &[Seen]) {
    let mut last: BTreeMap<&str, &str> = BTreeMap::new();
    for event in events {
        let (publisher, n) = event.title.split_at(event.title.find('n').unwrap());
        if let Some(before) = last.insert(publisher, n) {
            assert!(
                before < n,
                "{what}: {publisher}{before} shown after {publisher}{n}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishers_reach_every_stream_in_commit_order_exactly_once() {
    let server = roomy_server().await;
    let admin = server.token("admin").await;
    let mut users = Vec::new();
    for name in ["alice", "bob"] {
        let token = server.token(name).await;
        let id = server.user_id(&token).await;
        users.push((name, token, id));
    }
    let (alice, bob) = (users[0].2, users[1].2);

    // Every user's streams, on both paths, read as the publishers run.
    let mut readers = Vec::new();
    for (name, token, id) in &users {
        let expected: Vec<String> = (0..PUBLISHERS)
            .flat_map(|p| (0..PER_PUBLISHER).map(move |n| (p, n)))
            .filter(|&(p, n)| match plan(p, n, alice, bob) {
                To::Everyone => true,
                To::User(user) => user == *id,
            })
            .map(|(p, n)| title(p, n))
            .collect();
        for path in [Path::Direct, Path::Routed] {
            let (mut stream, connected) = open_on(&server, path, token, "", &[]).await;
            let what = format!("{name}'s {path:?} stream");
            let count = expected.len();
            let reading = tokio::spawn(async move { take(&mut stream, count).await });
            readers.push((
                what,
                *name,
                unread_of(&connected),
                expected.clone(),
                reading,
            ));
        }
    }

    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let publisher = Publisher::of(&server, &admin);
            tokio::spawn(async move {
                for n in 0..PER_PUBLISHER {
                    publisher.send(plan(p, n, alice, bob), &title(p, n)).await;
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }

    let mut by_user: BTreeMap<&str, Vec<Seen>> = BTreeMap::new();
    for (what, name, unread, expected, reading) in readers {
        let events = reading.await.unwrap();
        assert_increasing(&what, &events);
        assert_gapless(&what, None, &events);
        assert_counts_climb(&what, unread, &events);
        assert_exactly_once(&what, &events, &expected);
        assert_each_publisher_in_order(&what, &events);
        // Every stream of one user shows the same sequence.
        if let Some(other) = by_user.insert(name, events.clone()) {
            assert_eq!(other, events, "{what}: same as the user's other stream");
        }
    }
}

// ---- resume by the Last-Event-ID header ------------------------------------

/// How a reconnecting client says where it left off.
#[derive(Clone, Copy, Debug)]
enum Resume {
    /// `Last-Event-ID`, as a browser's EventSource sends it.
    Header,
    /// `?last_event_id=`, as Herald's own page reopens its stream.
    Query,
    /// Both, the query pointing at the start: the header wins.
    HeaderOverQuery,
}

async fn reopen(
    server: &TestServer,
    path: Path,
    token: &str,
    how: Resume,
    last: i64,
) -> (SseReader, SseEvent) {
    let last = last.to_string();
    let header = [("Last-Event-ID", last.as_str())];
    match how {
        Resume::Header => open_on(server, path, token, "", &header).await,
        Resume::Query => open_on(server, path, token, &format!("?last_event_id={last}"), &[]).await,
        Resume::HeaderOverQuery => open_on(server, path, token, "?last_event_id=0", &header).await,
    }
}

/// Disconnect, miss a few, reconnect: exactly the missed ones in order,
/// then live ones, no duplicate.
async fn resume_on(path: Path) {
    const MISSED: usize = 5;
    let server = roomy_server().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let publisher = Publisher::of(&server, &admin);

    for how in [Resume::Header, Resume::Query, Resume::HeaderOverQuery] {
        let what = format!("{path:?} stream resumed by {how:?}");
        let (mut stream, _) = open_on(&server, path, &alice, "", &[]).await;
        publisher
            .send(To::User(alice_id), &format!("{how:?} seen"))
            .await;
        let last = take(&mut stream, 1).await.remove(0);
        drop(stream);

        let missed: Vec<String> = (0..MISSED).map(|n| format!("{how:?} missed {n}")).collect();
        for (n, title) in missed.iter().enumerate() {
            // Broadcasts and personal ones alike are replayed.
            let to = if n % 2 == 0 {
                To::Everyone
            } else {
                To::User(alice_id)
            };
            publisher.send(to, title).await;
        }
        let (mut resumed, connected) = reopen(&server, path, &alice, how, last.id).await;
        let replayed = take(&mut resumed, MISSED).await;
        let titles: Vec<&str> = replayed.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, missed, "{what}: the missed ones, in order");
        assert_increasing(&what, &replayed);
        assert_gapless(&what, Some(std::slice::from_ref(&last)), &replayed);
        assert!(
            replayed.iter().all(|e| e.unread == unread_of(&connected)),
            "{what}: a replay carries the count at connection"
        );

        publisher
            .send(To::User(alice_id), &format!("{how:?} live"))
            .await;
        let live = take(&mut resumed, 1).await.remove(0);
        assert_eq!(
            live.title,
            format!("{how:?} live"),
            "{what}: then live, no duplicate"
        );
        assert_eq!(
            live.id,
            replayed[MISSED - 1].id + 1,
            "{what}: no gap before live"
        );
    }
}

#[tokio::test]
async fn resume_by_header_or_query_on_the_direct_path() {
    resume_on(Path::Direct).await;
}

#[tokio::test]
async fn resume_by_header_or_query_through_the_router() {
    resume_on(Path::Routed).await;
}

/// A `Last-Event-ID` that is no position Herald gave out must not break the
/// stream. One that is not a position at all means "no resume" today
/// (`sse::resume_point`), the header winning over the query even then; the
/// event log answers `resync` instead, so either is accepted. One beyond
/// the stream's end (another database's) gets `resync`: the client must be
/// able to tell. Always: nothing replayed, and the events that follow arrive.
#[tokio::test]
async fn a_garbage_last_event_id_never_breaks_the_stream() {
    let server = roomy_server().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let publisher = Publisher::of(&server, &admin);
    for n in 0..3 {
        publisher
            .send(To::User(alice_id), &format!("history {n}"))
            .await;
    }

    // (header, query, must the client be told to resync)
    let garbage = [
        ("abc", "", false),
        ("-1", "", false),
        ("-9223372036854775808", "", false),
        ("99999999999999999999999", "", false),
        ("1 2", "", false),
        ("abc", "?last_event_id=0", false),
        ("1000", "", true),
        ("9223372036854775807", "", true),
    ];
    for path in [Path::Direct, Path::Routed] {
        for (header, query, must_resync) in garbage {
            let what = format!("{path:?} stream, Last-Event-ID {header:?}{query}");
            let (mut stream, _) =
                open_on(&server, path, &alice, query, &[("Last-Event-ID", header)]).await;
            let title = format!("live after {what}");
            publisher.send(To::User(alice_id), &title).await;
            let mut event = stream.next_non_ping().await.expect("the stream ended");
            let resynced = event.event == "resync";
            if resynced {
                event = stream.next_non_ping().await.expect("the stream ended");
            }
            assert!(resynced || !must_resync, "{what}: told to resync");
            assert_eq!(
                seen(&event).title,
                title,
                "{what}: nothing replayed, live kept"
            );
        }
    }
}

/// A resume replays at most 500 entries (`REPLAY_LIMIT` in `sse`): from
/// exactly 500 behind, all 500 in order and then live; from 501 behind,
/// `resync` right after `connected` (the client refetches) and nothing
/// replayed — the next event is a live one. Both sides of the limit, on
/// both paths, since an off-by-one moves it.
#[tokio::test]
async fn a_resume_more_than_500_behind_gets_resync_right_after_connected() {
    const LIMIT: usize = 500;
    let server = roomy_server().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let publisher = Publisher::of(&server, &admin);

    // LIMIT + 1 entries for alice after the first one, each of her channels.
    let (mut stream, _) = open_on(&server, Path::Direct, &alice, "", &[]).await;
    for n in 0..=LIMIT + 1 {
        let to = if n % 2 == 0 {
            To::Everyone
        } else {
            To::User(alice_id)
        };
        publisher.send(to, &format!("entry {n}")).await;
    }
    // Everything alice's stream has carried, in order; each live event
    // below joins it, so the resume points move with the head.
    let mut log = take(&mut stream, LIMIT + 2).await;
    drop(stream);
    // A replayed event carries the count at its reconnection: compare the rest.
    let key = |e: &Seen| (e.id, e.title.clone(), e.ch.clone(), e.off);

    for (round, path) in [Path::Direct, Path::Routed].into_iter().enumerate() {
        let what = format!("{path:?} resume {LIMIT} behind");
        let exactly_limit = log[log.len() - 1 - LIMIT].id;
        let (mut resumed, _) = reopen(&server, path, &alice, Resume::Header, exactly_limit).await;
        let replayed = take(&mut resumed, LIMIT).await;
        let expected = &log[log.len() - LIMIT..];
        assert_eq!(
            replayed.iter().map(key).collect::<Vec<_>>(),
            expected.iter().map(key).collect::<Vec<_>>(),
            "{what}: all of them, in order"
        );
        let live = format!("live after the replay {round}");
        publisher.send(To::User(alice_id), &live).await;
        let next = take(&mut resumed, 1).await.remove(0);
        assert_eq!(next.title, live, "{what}: then live");
        log.push(next);
        drop(resumed);

        let what = format!("{path:?} resume {} behind", LIMIT + 1);
        let one_more = log[log.len() - 2 - LIMIT].id;
        let (mut resumed, connected) =
            reopen(&server, path, &alice, Resume::Header, one_more).await;
        assert_eq!(connected.event, "connected", "{what}");
        let next = resumed.next_non_ping().await.expect("an event");
        assert_eq!(
            next.event, "resync",
            "{what}: right after connected: {next:?}"
        );
        let live = format!("live after the resync {round}");
        publisher.send(To::User(alice_id), &live).await;
        let next = seen(&resumed.next_non_ping().await.expect("an event"));
        assert_eq!(next.title, live, "{what}: nothing replayed");
        log.push(next);
    }
}

// ---- resume under concurrent publishing ------------------------------------

/// Clients of one user that keep dropping their streams and resuming with
/// the last id they saw, on either path in turn, while publishers keep
/// going: the subscribe-then-replay race in `sse::open` must lose nothing
/// and repeat nothing. Several clients at once, each near the head of the
/// stream when it resumes, so that resumes meet publishes in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_while_publishers_keep_going_loses_and_repeats_nothing() {
    // A client must be caught up when it resumes for a resume to meet a
    // publish in flight: one client taking 7 events a connection caught a
    // missing `skip_through` check in 5 runs of 10, one taking 1 (always
    // behind) in none; six clients at once catch it 10 of 10.
    const RESUME_PUBLISHERS: usize = 8;
    const EACH: usize = 40;
    const CLIENTS: usize = 6;
    const PER_CONNECTION: usize = 7;
    const TOTAL: usize = RESUME_PUBLISHERS * EACH;
    let server = Arc::new(roomy_server().await);
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;

    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (mut stream, _) = open_on(&server, Path::Direct, &alice, "", &[]).await;
        let (server, alice) = (server.clone(), alice.clone());
        clients.push(tokio::spawn(async move {
            let mut events: Vec<Seen> = Vec::new();
            let mut reconnects = 0;
            loop {
                let left = TOTAL - events.len();
                events.extend(take(&mut stream, left.min(PER_CONNECTION)).await);
                if events.len() == TOTAL {
                    return (client, reconnects, events);
                }
                drop(stream);
                reconnects += 1;
                let path = if (client + reconnects) % 2 == 0 {
                    Path::Direct
                } else {
                    Path::Routed
                };
                let last = events.last().unwrap().id.to_string();
                (stream, _) =
                    open_path(&server, path, &alice, "", &[("Last-Event-ID", &last)]).await;
            }
        }));
    }
    let publishers: Vec<_> = (0..RESUME_PUBLISHERS)
        .map(|p| {
            let publisher = Publisher::of(&server, &admin);
            tokio::spawn(async move {
                for n in 0..EACH {
                    let to = if (p + n) % 2 == 0 {
                        To::Everyone
                    } else {
                        To::User(alice_id)
                    };
                    publisher.send(to, &title(p, n)).await;
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }

    let expected: Vec<String> = (0..RESUME_PUBLISHERS)
        .flat_map(|p| (0..EACH).map(move |n| title(p, n)))
        .collect();
    for client in clients {
        let (client, reconnects, events) = client.await.unwrap();
        let what = format!("alice's client {client} over {reconnects} reconnects");
        assert!(reconnects > 10, "{what}: the test resumed often");
        assert_increasing(&what, &events);
        assert_gapless(&what, None, &events);
        assert_exactly_once(&what, &events, &expected);
        assert_each_publisher_in_order(&what, &events);
    }
    // A replayed event carries the count at its reconnection, not its own,
    // so counts along the way are not checked here; the end count is exact.
    let (_, connected) = open_on(&server, Path::Direct, &alice, "", &[]).await;
    assert_eq!(unread_of(&connected), TOTAL as i64, "alice's unread count");
}
