//! The load besides the streams: publishing, reading, signing in and out.
//! Each actor is one task with its own keep-alive connection, closed-loop at
//! its rate (it waits for each answer before its next tick).

use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

use herald_bench::{
    http::HttpConn,
    soak::{Kind, Rng},
};
use serde_json::json;
use tokio::{sync::watch, task::JoinSet, time::MissedTickBehavior};

use crate::{
    ctx::{login_body, Ctx, Phase, SignedIn, Vu},
    BAD_SIGNINS_PER_SEC, BROADCASTS_PER_SEC, GOOD_SIGNINS_PER_SEC, INBOX_READS_PER_SEC,
    MARK_READ_PER_SEC, READ_ALL_PER_SEC, SENDS_TO_USER_PER_SEC, SOURCE_BAD_SIGNIN,
    SOURCE_GOOD_SIGNIN, SOURCE_MAIN,
};

/// The pace of one actor: `per_sec` ticks a second while the load lasts.
struct Pace {
    ticker: tokio::time::Interval,
    phase: watch::Receiver<Phase>,
    n: u64,
}

impl Pace {
    fn new(per_sec: f64, phase: &watch::Receiver<Phase>) -> Pace {
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Pace {
            ticker,
            phase: phase.clone(),
            n: 0,
        }
    }

    /// Waits for the next tick; `None` once the load phase is over.
    async fn next(&mut self) -> Option<u64> {
        tokio::select! {
            _ = self.ticker.tick() => {}
            _ = self.phase.wait_for(|p| *p != Phase::Load) => return None,
        }
        if *self.phase.borrow() != Phase::Load {
            return None;
        }
        self.n += 1;
        Some(self.n - 1)
    }
}

fn random_user(ctx: &Ctx, rng: &mut Rng) -> Arc<Vu> {
    ctx.users[rng.below(ctx.users.len() as u64) as usize].clone()
}

/// An actor that sends the same bodiless request, `(method, path)`, as a
/// random user (drawn from `seed`) on every tick.
async fn random_user_requests(
    c: Arc<Ctx>,
    mut pace: Pace,
    seed: u64,
    kind: Kind,
    (method, path): (&'static str, &'static str),
) {
    let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
    let mut rng = Rng::seeded(seed);
    while pace.next().await.is_some() {
        let vu = random_user(&c, &mut rng);
        c.request(&mut conn, kind, method, path, Some(&vu.token()), None)
            .await;
    }
}

pub fn spawn_actors(ctx: &Arc<Ctx>, phase: &watch::Receiver<Phase>, set: &mut JoinSet<()>) {
    const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

    let (c, mut pace) = (ctx.clone(), Pace::new(BROADCASTS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        while let Some(n) = pace.next().await {
            let body = json!({"event": "notification", "data": {
                "title": format!("soak broadcast {n}"),
                "body": "mixed-load soak test",
                "severity": SEVERITIES[(n % 3) as usize],
            }})
            .to_string();
            if c.publish(&mut conn, Kind::Broadcast, "/api/sse/broadcast", &body)
                .await
            {
                c.broadcasts_ok.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(SENDS_TO_USER_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(1);
        while let Some(n) = pace.next().await {
            let vu = random_user(&c, &mut rng);
            let event = if n % 2 == 0 {
                "notification"
            } else {
                "soak.direct"
            };
            let body = json!({"user_id": vu.id, "event": event, "data": {
                "title": format!("soak direct {n}"), "body": "for you", "link": "/"
            }})
            .to_string();
            if c.publish(&mut conn, Kind::SendToUser, "/api/sse/send-to-user", &body)
                .await
            {
                vu.sends_ok.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(MARK_READ_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(2);
        while pace.next().await.is_some() {
            let vu = random_user(&c, &mut rng);
            let id = vu
                .recent_ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_back();
            if let Some(id) = id {
                let path = format!("/api/notifications/{id}/read");
                c.request(
                    &mut conn,
                    Kind::MarkRead,
                    "POST",
                    &path,
                    Some(&vu.token()),
                    None,
                )
                .await;
            }
        }
    });

    // Requests with no body and nothing to remember: the same actor.
    for (per_sec, seed, kind, request) in [
        (
            READ_ALL_PER_SEC,
            3,
            Kind::ReadAll,
            ("POST", "/api/notifications/read-all"),
        ),
        (
            INBOX_READS_PER_SEC,
            4,
            Kind::Inbox,
            ("GET", "/api/notifications?limit=20"),
        ),
    ] {
        let pace = Pace::new(per_sec, phase);
        set.spawn(random_user_requests(ctx.clone(), pace, seed, kind, request));
    }

    let (c, mut pace) = (ctx.clone(), Pace::new(GOOD_SIGNINS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_GOOD_SIGNIN));
        let mut out = HttpConn::new(c.server, Some(SOURCE_MAIN));
        let mut rng = Rng::seeded(5);
        while pace.next().await.is_some() {
            let vu = random_user(&c, &mut rng);
            let body = login_body(&vu.name, &c.password);
            let Some(reply) = c
                .request(
                    &mut conn,
                    Kind::SignIn,
                    "POST",
                    "/api/auth/login",
                    None,
                    Some(&body),
                )
                .await
            else {
                continue;
            };
            let Ok(signed_in) = serde_json::from_slice::<SignedIn>(&reply.body) else {
                continue;
            };
            // Move the user's streams to the new session, then end the old
            // one: the server closes its streams and they resume on the new token.
            let old = std::mem::replace(
                &mut *vu.token.lock().unwrap_or_else(|e| e.into_inner()),
                signed_in.token,
            );
            c.request(
                &mut out,
                Kind::SignOut,
                "POST",
                "/api/auth/logout",
                Some(&old),
                None,
            )
            .await;
        }
    });

    let (c, mut pace) = (ctx.clone(), Pace::new(BAD_SIGNINS_PER_SEC, phase));
    set.spawn(async move {
        let mut conn = HttpConn::new(c.server, Some(SOURCE_BAD_SIGNIN));
        while let Some(n) = pace.next().await {
            let body = login_body(&c.decoy, &format!("not-the-password-{n}"));
            c.request(
                &mut conn,
                Kind::SignInBad,
                "POST",
                "/api/auth/login",
                None,
                Some(&body),
            )
            .await;
        }
    });
}
