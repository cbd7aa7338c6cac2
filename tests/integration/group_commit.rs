//! Group commit (`delivery::publisher`): turns that queue behind one another
//! share one transaction and one commit, and each keeps its own fate — a
//! turn that ends without committing takes back its own writes and nobody
//! else's, and every turn returns only once its group is committed.
//!
//! The queue is built by hand: the test holds a turn, lets publishes queue
//! behind it (watching `Publisher::queued`, a state the server reaches), then
//! lets go. tokio's mutex is fair, so the queued turns take the group in the
//! order they queued.

use std::sync::atomic::Ordering;

use herald::{
    model::{Channel, Severity},
    server::{
        delivery::hub::EventName,
        domain::announcement::AnnouncementDraft,
        store::{
            announcements::{self, Timing},
            notifications::NewAnnouncement,
        },
        usecases::send::send,
    },
};
use tokio::task::JoinHandle;

use crate::harness::{eventually, TestServer};

fn admin() -> herald::server::auth::Caller {
    herald::server::auth::Caller::User(herald::server::auth::Session {
        user: herald::model::UserView {
            id: 1,
            username: "admin".into(),
            role: herald::model::Role::Admin,
        },
        session_id: "in-process".into(),
        host_key: None,
    })
}

/// A broadcast through the use case, in a task: it queues for the group.
fn send_in_task(server: &TestServer, title: &str) -> JoinHandle<i64> {
    let state = server.state.clone();
    let draft = AnnouncementDraft {
        title: title.into(),
        body: "b".into(),
        ..AnnouncementDraft::default()
    };
    tokio::spawn(async move {
        let sent = send(&state, &admin(), draft.parse().unwrap(), Channel::All)
            .await
            .expect("sent");
        sent.id
    })
}

async fn queued_to(server: &TestServer, n: usize) {
    let publisher = &server.state.publisher;
    eventually(&format!("{n} turn(s) queued"), async || {
        publisher.queued() == n
    })
    .await;
}

fn counts(server: &TestServer) -> (u64, u64) {
    let counts = server.state.publisher.counts();
    (
        counts.turns.load(Ordering::Relaxed),
        counts.commits.load(Ordering::Relaxed),
    )
}

async fn stored_titles(server: &TestServer) -> Vec<String> {
    let admin = server.token("admin").await;
    let history = server.get_json("/api/announcements", &admin).await;
    let mut titles: Vec<String> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    titles.reverse();
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turns_queued_behind_one_another_share_one_commit_and_each_keeps_its_fate() {
    let server = TestServer::start_with(&[("HERALD_PUBLISH_PER_MINUTE", "1000000")]).await;
    let alice = server.token("alice").await;
    let (mut stream, connected) = server.open_stream(&alice, "").await;
    let unread_before = connected.json()["unread"].as_i64().unwrap();
    let (turns_before, commits_before) = counts(&server);
    let publisher = server.state.publisher.clone();

    // The test's own turn holds the group while the others queue.
    let first = publisher.begin().await.unwrap();
    let one = send_in_task(&server, "one");
    queued_to(&server, 1).await;
    // A turn that writes, then ends without committing (an error, a request gone).
    let abandoned = {
        let publisher = publisher.clone();
        tokio::spawn(async move {
            let mut turn = publisher.begin().await.unwrap();
            let new = NewAnnouncement {
                category: None,
                data: None,
                actions: Vec::new(),
                sender_id: Some(1),
                sender_key_id: None,
                event: EventName::NOTIFICATION,
                title: "never committed".into(),
                body: "b".into(),
                severity: Severity::Info,
                link: None,
            };
            let timing = Timing {
                send_at: None,
                expires_at: None,
            };
            announcements::insert(turn.tx(), &new, &Channel::All, timing)
                .await
                .unwrap();
            drop(turn);
        })
    };
    queued_to(&server, 2).await;
    let two = send_in_task(&server, "two");
    queued_to(&server, 3).await;

    // Let go: the turns run one after the other in the one transaction.
    first.commit([]).await.unwrap();
    abandoned.await.unwrap();
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    assert!(one < two, "ids in turn order: {one} then {two}");

    let (turns, commits) = counts(&server);
    assert_eq!(
        (turns - turns_before, commits - commits_before),
        (3, 1),
        "three turns committed (the test's, one, two) in one transaction"
    );
    // Committed before the sends returned; the abandoned turn's row is not.
    assert_eq!(stored_titles(&server).await, ["one", "two"]);

    // The stream sees both, in order, gapless, each counted once.
    let mut offsets = Vec::new();
    for (title, n) in [("one", 1), ("two", 2)] {
        let event = stream.next_non_ping().await.unwrap();
        let data = event.json();
        assert_eq!(data["title"], title);
        assert_eq!(data["unread"].as_i64().unwrap(), unread_before + n);
        offsets.push(data["off"].as_i64().unwrap());
    }
    assert_eq!(
        offsets[1],
        offsets[0] + 1,
        "no gap in the channel: {offsets:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_turn_commits_at_once() {
    let server = TestServer::start_with(&[("HERALD_PUBLISH_PER_MINUTE", "1000000")]).await;
    let (turns_before, commits_before) = counts(&server);
    for title in ["a", "b", "c"] {
        send_in_task(&server, title).await.unwrap();
    }
    let (turns, commits) = counts(&server);
    assert_eq!((turns - turns_before, commits - commits_before), (3, 3));
    assert_eq!(server.state.publisher.queued(), 0);
}
