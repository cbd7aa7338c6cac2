//! Delivery guarantees under pressure: slow consumers and resume races.

use std::{sync::atomic::Ordering, time::Duration};

use herald::{
    model::{Channel, Role, UserView},
    server::{
        auth::{Caller, Session},
        domain::announcement::AnnouncementDraft,
        usecases::send::send,
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
};

use crate::harness::TestServer;

fn admin_session() -> Caller {
    Caller::User(Session {
        user: UserView {
            id: 1,
            username: "admin".into(),
            role: Role::Admin,
        },
        session_id: "in-process".into(),
        host_key: None,
    })
}

async fn send_to(server: &TestServer, user_id: i64, title: String, body: String) {
    let draft = AnnouncementDraft {
        title,
        body,
        ..AnnouncementDraft::default()
    };
    send(
        &server.state,
        &admin_session(),
        draft.parse().expect("a valid draft"),
        Channel::User(user_id),
    )
    .await
    .expect("send");
}

/// A stream that is opened and then never read: its kernel buffers fill,
/// then its hub queue.
async fn stalled_stream(server: &TestServer, token: &str) -> tokio::net::TcpStream {
    let addr = server.base.trim_start_matches("http://").parse().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request =
        format!("GET /sse/stream HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn a_slow_consumer_gets_resync_and_does_not_hold_back_the_others() {
    let server = TestServer::start_with(&[
        ("HERALD_CLIENT_QUEUE", "4"),
        ("HERALD_PUBLISH_PER_MINUTE", "1000000"),
    ])
    .await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    let (mut fast, _) = server.open_stream(&alice, "").await;
    let mut slow = stalled_stream(&server, &alice).await;

    // Publish until the hub reports the stalled stream as lagged; the fast
    // stream must take every event, in order, meanwhile.
    let lagged = &server.state.hub.counters().lagged_events;
    let body = "x".repeat(4000);
    let mut sent = 0;
    while lagged.load(Ordering::Relaxed) == 0 {
        assert!(sent < 20_000, "the stalled stream never lagged");
        sent += 1;
        send_to(&server, alice_id, format!("n{sent}"), body.clone()).await;
        let event = fast.next_non_ping().await.unwrap();
        assert_eq!(event.event, "notification", "the fast stream never lags");
        assert_eq!(event.json()["title"], format!("n{sent}"));
    }

    // The stalled client, once it reads, is told to resync: nothing is
    // skipped silently.
    const RESYNC: &[u8] = b"event: resync\n";
    let mut window = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let n = slow.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream ended without resync");
            // Keep only a short tail so a frame split across reads still matches.
            let keep = window.len().min(RESYNC.len());
            window.drain(..window.len() - keep);
            window.extend_from_slice(&buf[..n]);
            if window.windows(RESYNC.len()).any(|w| w == RESYNC) {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no resync after {sent} events");
}

#[tokio::test]
async fn resuming_while_notifications_are_published_loses_and_repeats_nothing() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    const TOTAL: i64 = 150;

    // A publisher that keeps going while the client drops and resumes.
    let publisher = {
        let state = server.state.clone();
        tokio::spawn(async move {
            for n in 1..=TOTAL {
                let draft = AnnouncementDraft {
                    title: format!("n{n}"),
                    ..AnnouncementDraft::default()
                };
                let announcement = draft.parse().unwrap();
                send(
                    &state,
                    &admin_session(),
                    announcement,
                    Channel::User(alice_id),
                )
                .await
                .unwrap();
                tokio::task::yield_now().await;
            }
        })
    };

    let mut seqs: Vec<i64> = Vec::new();
    let mut rounds = 0;
    while seqs.last().copied().unwrap_or(0) < TOTAL {
        rounds += 1;
        assert!(rounds < 1000, "did not converge");
        let query = match seqs.last() {
            Some(last) => format!("?last_event_id={last}"),
            None => "?last_event_id=0".into(),
        };
        let (mut stream, _) = server.open_stream(&alice, &query).await;
        // Take a few events, then drop the connection mid-flow.
        for _ in 0..7 {
            if seqs.last().copied().unwrap_or(0) == TOTAL {
                break;
            }
            let event = stream.next_non_ping().await.unwrap();
            let seq: i64 = event.id.as_deref().unwrap().parse().unwrap();
            assert_eq!(event.json()["title"], format!("n{seq}"));
            seqs.push(seq);
        }
    }
    publisher.await.unwrap();
    let expected: Vec<i64> = (1..=TOTAL).collect();
    assert_eq!(seqs, expected, "every seq exactly once, in order");
    assert!(rounds > 5, "the test resumed several times ({rounds})");
}

/// The control path (accept, authenticate, commit, apply to the hub) runs
/// apart from the threads that write the streams (`net::stream_workers`):
/// with every stream worker wedged, a publish is still answered, and the
/// stream gets it once the workers run again. Were the streams written from
/// the server's own runtime, the wedge would hold the publish (and this
/// test's thread) until it gave up by itself, and the test would fail;
/// were they written from anywhere but the stream workers, the frame would
/// arrive while the workers are wedged.
#[tokio::test]
async fn a_publish_never_waits_for_the_stream_workers() {
    let server = TestServer::start_with(&[("HERALD_STREAM_THREADS", "1")]).await;
    let admin = server.token("admin").await;
    let (mut reader, _) = server.open_stream(&admin, "").await;

    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (wedged, is_wedged) = tokio::sync::oneshot::channel();
    let (ended, how_it_ended) = tokio::sync::oneshot::channel();
    server
        .state
        .stream_workers
        .spawn(async move {
            let _ = wedged.send(());
            // Blocks the only stream worker: nothing else runs on it.
            let released = wait.recv_timeout(Duration::from_secs(20)).is_ok();
            let _ = ended.send(released);
        })
        .unwrap();
    is_wedged.await.unwrap();

    let sent = server
        .broadcast(&admin, "while the workers are wedged")
        .await;
    // And the stream is indeed written from the wedged workers: nothing
    // reaches it meanwhile (were it on the server's runtime, it would have
    // the frame within a millisecond of the publish's answer).
    let early = tokio::time::timeout(Duration::from_millis(300), reader.next_non_ping()).await;
    assert!(
        early.is_err(),
        "written while the stream workers were wedged: {early:?}"
    );
    // Fails after the wedge's own 20 s when the publish had to wait for it.
    let _ = release.send(());
    assert!(
        how_it_ended.await.unwrap(),
        "the publish was answered only once the stream workers ran again"
    );
    assert_eq!(sent["data"]["recipients"], 3, "{sent}");

    let event = reader.next_non_ping().await.expect("the stream goes on");
    assert_eq!(event.event, "notification");
    assert_eq!(event.json()["title"], "while the workers are wedged");
}
