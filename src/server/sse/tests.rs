//! The order a stream's frames are taken in, one at a time or in batches.

use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use serde_json::json;

use crate::server::sse::ClientStream;
use crate::{
    model::Role,
    server::delivery::hub::{ClientInfo, EventName, Frame, Hub, Target},
};

pub(super) fn frame(n: i64) -> Frame {
    Frame::new(&EventName::NOTIFICATION, Some(n), &json!({ "n": n }))
}

/// A stream for user 1 whose start-up queue holds `pending`, having replayed
/// everything through `skip_through`.
pub(super) fn client(hub: &Hub, pending: Vec<Frame>, skip_through: i64) -> ClientStream {
    let subscription = hub
        .subscribe(ClientInfo {
            user_id: 1,
            role: Role::User,
            session_id: "s".into(),
            page_events: false,
        })
        .expect("under the cap");
    ClientStream {
        pending: pending.into(),
        subscription,
        hub: hub.clone(),
        skip_through,
    }
}

/// One batch taken without waiting.
fn batch(client: &mut ClientStream, max_frames: usize) -> Poll<Option<Vec<Bytes>>> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut batch = Vec::new();
    client
        .poll_batch(&mut cx, &mut batch, max_frames, usize::MAX)
        .map(|ended| ended.map(|()| batch))
}

fn one_by_one(client: &mut ClientStream) -> Vec<Bytes> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut frames = Vec::new();
    while let Poll::Ready(Some(frame)) = client.poll_frame(&mut cx) {
        frames.push(frame);
    }
    frames
}

#[tokio::test]
async fn a_batch_is_every_ready_frame_in_stream_order_without_replayed_ones() {
    let hub = Hub::new(16, 16);
    let start = vec![frame(100), frame(101)];
    let mut batched = client(&hub, start.clone(), 2);
    let mut single = client(&hub, start, 2);
    for n in 1..=5 {
        hub.publish(&Target::User(1), &frame(n));
    }
    let expected: Vec<Bytes> = [100, 101, 3, 4, 5].map(|n| frame(n).bytes()).into();
    assert_eq!(batch(&mut batched, 64), Poll::Ready(Some(expected.clone())));
    assert_eq!(
        one_by_one(&mut single),
        expected,
        "the same order, one by one"
    );
    assert_eq!(batch(&mut batched, 64), Poll::Pending, "nothing left");
}

#[tokio::test]
async fn a_batch_stops_at_its_bound_and_the_rest_follows() {
    let hub = Hub::new(16, 16);
    let mut stream = client(&hub, vec![], 0);
    for n in 1..=10 {
        hub.publish(&Target::User(1), &frame(n));
    }
    let positions = |frames: Vec<Bytes>| -> Vec<i64> {
        (1..=10)
            .filter(|n| frames.contains(&frame(*n).bytes()))
            .collect()
    };
    let Poll::Ready(Some(first)) = batch(&mut stream, 4) else {
        panic!("frames were ready")
    };
    assert_eq!(first.len(), 4);
    assert_eq!(positions(first), [1, 2, 3, 4]);
    let Poll::Ready(Some(rest)) = batch(&mut stream, 64) else {
        panic!("frames were ready")
    };
    assert_eq!(positions(rest), (5..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_lagged_stream_gets_resync_before_what_is_still_queued() {
    let hub = Hub::new(2, 16);
    let mut stream = client(&hub, vec![], 0);
    for n in 1..=4 {
        hub.publish(&Target::User(1), &frame(n));
    }
    let Poll::Ready(Some(frames)) = batch(&mut stream, 64) else {
        panic!("frames were ready")
    };
    assert_eq!(frames.len(), 3, "{frames:?}");
    assert!(frames[0].starts_with(b"event: resync\n"), "{frames:?}");
    assert_eq!(frames[1..], [frame(1).bytes(), frame(2).bytes()]);
}

#[tokio::test]
async fn an_ended_stream_hands_over_what_it_holds_then_ends() {
    let hub = Hub::new(16, 16);
    let mut stream = client(&hub, vec![frame(7)], 0);
    hub.publish(&Target::User(1), &frame(8));
    hub.disconnect_user(1);
    assert_eq!(
        batch(&mut stream, 64),
        Poll::Ready(Some(vec![frame(7).bytes(), frame(8).bytes()]))
    );
    assert_eq!(batch(&mut stream, 64), Poll::Ready(None));
    assert_eq!(batch(&mut stream, 64), Poll::Ready(None), "and stays ended");
}
