//! Herald's bell on a host app's pages (issue 18): user tokens a `users` key
//! asks for, which open the user's own routes and nothing else, from the
//! allowed origins only; single-use stream tickets; CORS for those origins
//! on those routes only; and a revoked key ending its tokens' streams.

use herald::{api::admin::RevokeKey, model::Scope};
use leptos::server_fn::ServerFn;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    harness::{SseReader, TestServer},
    service_keys::{key, one_i64, refusal},
};

const HOST: &str = "http://127.0.0.1:5999";

/// A server that lets pages on [`HOST`] in.
async fn server_for_host(extra: &[(&str, &str)]) -> TestServer {
    let mut env = vec![("HERALD_ALLOWED_ORIGINS", HOST)];
    env.extend_from_slice(extra);
    TestServer::start_with(&env).await
}

/// `POST /api/users/{username}/tokens` with `key`.
async fn ask_token(server: &TestServer, key: &str, username: &str) -> reqwest::Response {
    server
        .http
        .post(server.url(&format!("/api/users/{username}/tokens")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// A user token for `username`, as a host app's backend gets one.
async fn user_token(server: &TestServer, username: &str) -> String {
    let users = key(server, "host-app", &[Scope::Users]).await;
    token_from(server, &users, username).await
}

async fn token_from(server: &TestServer, key: &str, username: &str) -> String {
    let res = ask_token(server, key, username).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], true, "{body}");
    body["data"]["token"].as_str().unwrap().to_string()
}

/// `POST /api/stream-tickets` as a page on `origin` would send it.
async fn ask_ticket(server: &TestServer, bearer: &str, origin: Option<&str>) -> reqwest::Response {
    let mut req = server
        .http
        .post(server.url("/api/stream-tickets"))
        .bearer_auth(bearer);
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    req.send().await.unwrap()
}

async fn ticket(server: &TestServer, bearer: &str) -> String {
    let res = ask_ticket(server, bearer, Some(HOST)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert!(body["expires_at"].is_string(), "{body}");
    body["ticket"].as_str().unwrap().to_string()
}

/// `GET /sse/stream?ticket=…` from a page on [`HOST`]: no bearer, no cookie.
async fn open_with_ticket(server: &TestServer, ticket: &str) -> reqwest::Response {
    server
        .streams
        .get(server.url(&format!("/sse/stream?ticket={ticket}")))
        .header(header::ORIGIN, HOST)
        .send()
        .await
        .unwrap()
}

async fn connected(res: reqwest::Response) -> (SseReader, Value) {
    assert_eq!(res.status(), StatusCode::OK);
    let mut reader = SseReader::new(res);
    let first = reader.next_event().await.expect("connected");
    assert_eq!(first.event, "connected");
    (reader, first.json())
}

#[tokio::test]
async fn only_a_users_key_gets_user_tokens() {
    let server = TestServer::start().await;
    let users = key(&server, "host-app", &[Scope::Users]).await;
    let publish = key(&server, "publisher", &[Scope::Publish]).await;

    let res = ask_token(&server, &users, "alice").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let expires = body["data"]["expires_at"].as_str().unwrap();
    assert!(expires.ends_with('Z'), "{expires}");
    let token = body["data"]["token"].as_str().unwrap();
    assert_eq!(server.get_json("/api/me", token).await["username"], "alice");

    let (status, error) = refusal(ask_token(&server, &publish, "alice").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(error.contains("\"users\" scope"), "{error}");
    // An admin signs in for themselves; a user token is for another's page.
    let admin = server.token("admin").await;
    let (status, _) = refusal(ask_token(&server, &admin, "alice").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A user token cannot mint more of them.
    let (status, _) = refusal(ask_token(&server, token, "bob").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = refusal(ask_token(&server, &users, "nobody").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = refusal(ask_token(&server, "hrld_nope", "alice").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_token_opens_the_users_own_routes_and_no_other() {
    let server = TestServer::start().await;
    let admin_session = server.token("admin").await;
    server.broadcast(&admin_session, "for everyone").await;
    // Even an admin's user token is no admin: a host app embeds a bell.
    let token = user_token(&server, "admin").await;

    let page = server.get_json("/api/notifications", &token).await;
    let id = page["items"][0]["id"].as_i64().unwrap();
    assert_eq!(page["unread"], 1);
    let res = server
        .post_json(&format!("/api/notifications/{id}/read"), &token, &json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = server
        .post_json("/api/notifications/read-all", &token, &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .post_json(
            &format!("/api/notifications/{id}/archive"),
            &token,
            &json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        ask_ticket(&server, &token, None).await.status(),
        StatusCode::CREATED
    );

    for path in ["/api/preferences", "/api/categories"] {
        assert_eq!(
            server.get(path, &token).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let renamed = server
        .put_json(
            "/api/categories/deploys",
            &token,
            &json!({"label": "Deploys"}),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::FORBIDDEN);

    for path in [
        "/api/sse/stats",
        "/api/announcements",
        "/api/audit",
        "/api/users/alice",
    ] {
        let (status, _) = refusal(server.get(path, &token).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let sent = server
        .post_json(
            "/api/sse/broadcast",
            &token,
            &json!({"event": "notification", "data": {"title": "t", "body": "b"}}),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::FORBIDDEN);
    let exported = server.post_json("/api/exports", &token, &json!({})).await;
    assert_eq!(exported.status(), StatusCode::FORBIDDEN);
    // The console's server functions are Herald's own pages' doors.
    let res = server
        .http
        .post(server.url(RevokeKey::PATH))
        .bearer_auth(&token)
        .header(header::ACCEPT, "application/json")
        .form(&[("name", "host-app")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        one_i64(
            &server,
            "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL"
        )
        .await,
        1
    );
    // The admin's own session still is one.
    assert_eq!(
        server.get("/api/sse/stats", &admin_session).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_user_token_works_from_the_allowed_origins_only() {
    let server = server_for_host(&[]).await;
    let token = user_token(&server, "alice").await;
    let me = |origin: Option<&'static str>, bearer: String| {
        let mut req = server.http.get(server.url("/api/me")).bearer_auth(bearer);
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        req.send()
    };
    assert_eq!(
        me(Some(HOST), token.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    // No Origin: the host app's backend, a script.
    assert_eq!(
        me(None, token.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    for other in ["http://127.0.0.1:5998", "https://127.0.0.1:5999", "null"] {
        let res = me(Some(other), token.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{other}");
        let (status, _) = refusal(ask_ticket(&server, &token, Some(other)).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{other}");
    }
    // A signed-in session's bearer is not a user token: unchanged.
    let session = server.token("alice").await;
    assert_eq!(
        me(Some("http://127.0.0.1:5998"), session)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn cors_answers_the_allowed_origins_on_the_user_routes_only() {
    let server = server_for_host(&[]).await;
    let preflight = |path: &'static str, origin: &'static str| {
        server
            .http
            .request(Method::OPTIONS, server.url(path))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .send()
    };
    for path in [
        "/api/notifications/read-all",
        "/api/stream-tickets",
        "/api/notifications/7/read",
    ] {
        let res = preflight(path, HOST).await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let h = res.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], HOST, "{path}");
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "600", "{path}");
        let allowed = h[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap();
        assert!(allowed.contains("authorization"), "{allowed}");
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    }
    // Another origin, or an admin or service route: nothing.
    for (path, origin) in [
        ("/api/stream-tickets", "http://127.0.0.1:5998"),
        ("/api/sse/broadcast", HOST),
        ("/api/users/alice/tokens", HOST),
        ("/api/auth/login", HOST),
    ] {
        let res = preflight(path, origin).await.unwrap();
        assert!(
            res.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none(),
            "{path} from {origin}"
        );
    }
    // The actual request's answer names the origin too.
    let token = user_token(&server, "alice").await;
    let res = server
        .http
        .get(server.url("/api/notifications"))
        .bearer_auth(&token)
        .header(header::ORIGIN, HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], HOST);

    // Without HERALD_ALLOWED_ORIGINS, no route answers CORS at all.
    let closed = TestServer::start().await;
    let res = closed
        .http
        .request(Method::OPTIONS, closed.url("/api/stream-tickets"))
        .header(header::ORIGIN, HOST)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .unwrap();
    assert!(res
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

/// On both paths a stream is served by: the direct one (a fresh
/// connection's first request) and the router.
#[tokio::test]
async fn a_ticket_opens_its_users_stream_exactly_once() {
    for direct in ["1", "0"] {
        let server = server_for_host(&[("HERALD_DIRECT_STREAMS", direct)]).await;
        let token = user_token(&server, "alice").await;
        let alice = server.user_id(&token).await;
        let ticket = ticket(&server, &token).await;
        assert!(ticket.starts_with("htk_"), "{ticket}");

        let res = open_with_ticket(&server, &ticket).await;
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            HOST,
            "direct={direct}"
        );
        let (_stream, hello) = connected(res).await;
        assert_eq!(hello["user_id"], alice, "direct={direct}");

        // Used; forged in the right shape; malformed; empty.
        let forged = format!("htk_{}", "0".repeat(64));
        for bad in [ticket.as_str(), &forged, "htk_short", ""] {
            let res = open_with_ticket(&server, bad).await;
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{bad:?} direct={direct}"
            );
        }
        // A bad ticket is never made good by a bearer beside it.
        let res = server
            .streams
            .get(server.url(&format!("/sse/stream?ticket={ticket}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "direct={direct}");

        // Expired (moved into the past rather than waited for).
        let stale = self::ticket(&server, &token).await;
        let sql = "UPDATE stream_tickets SET expires_at = 0";
        match &server.state.pool {
            herald::server::store::Pool::Sqlite(p) => {
                sqlx::query(sql).execute(p).await.unwrap();
            }
            herald::server::store::Pool::Postgres(p) => {
                sqlx::query(sql).execute(p).await.unwrap();
            }
        }
        let res = open_with_ticket(&server, &stale).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "direct={direct}");
        assert_eq!(
            one_i64(&server, "SELECT COUNT(*) FROM stream_tickets").await,
            0
        );
    }
}

#[tokio::test]
async fn tickets_are_kept_as_hashes_and_capped_per_user() {
    let server = server_for_host(&[]).await;
    let token = user_token(&server, "alice").await;
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(ticket(&server, &token).await);
    }
    let (status, _) = refusal(ask_ticket(&server, &token, Some(HOST)).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another user is not held back by alice's.
    let bob = server.token("bob").await;
    assert_eq!(
        ask_ticket(&server, &bob, None).await.status(),
        StatusCode::CREATED
    );
    // The store never holds a ticket itself.
    let stored = one_i64(
        &server,
        &format!(
            "SELECT COUNT(*) FROM stream_tickets WHERE hash = '{}'",
            held[0]
        ),
    )
    .await;
    assert_eq!(stored, 0);
    // Using one gives its place back.
    let (_stream, _) = connected(open_with_ticket(&server, &held[0]).await).await;
    assert_eq!(
        ask_ticket(&server, &token, Some(HOST)).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn revoking_the_key_ends_its_tokens_and_their_streams_at_once() {
    let server = server_for_host(&[]).await;
    let users = key(&server, "host-app", &[Scope::Users]).await;
    let token = token_from(&server, &users, "alice").await;
    let other_key = key(&server, "other-app", &[Scope::Users]).await;
    let other = token_from(&server, &other_key, "alice").await;
    let (mut stream, _) =
        connected(open_with_ticket(&server, &ticket(&server, &token).await).await).await;
    let (mut kept, _) =
        connected(open_with_ticket(&server, &ticket(&server, &other).await).await).await;
    let unused = ticket(&server, &token).await;

    let admin = server.cookie("admin").await;
    let res = server
        .http
        .post(server.url(RevokeKey::PATH))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, &server.base)
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, admin)
        .form(&[("name", "host-app")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    stream.expect_end().await;
    assert_eq!(
        server.get("/api/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = open_with_ticket(&server, &unused).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Another key's token, for the same user, lives on.
    assert_eq!(server.get("/api/me", &other).await.status(), StatusCode::OK);
    let admin_token = server.token("admin").await;
    server.broadcast(&admin_token, "still here").await;
    let next = kept.next_non_ping().await.expect("the other stream lives");
    assert_eq!(next.event, "notification");
}

/// A user token lives `HERALD_USER_TOKEN_SECS`; its stream is closed with
/// it by the session sweep, like a sign-in's.
#[tokio::test]
async fn a_user_token_expires() {
    let server = server_for_host(&[("HERALD_SESSION_SWEEP_SECS", "1")]).await;
    let signed_in = server.token("alice").await;
    let token = user_token(&server, "alice").await;
    let (mut stream, _) =
        connected(open_with_ticket(&server, &ticket(&server, &token).await).await).await;
    // Its expiry moved into the past, as the clock would.
    let sql = "UPDATE sessions SET expires_at = 0 WHERE key_id IS NOT NULL";
    match &server.state.pool {
        herald::server::store::Pool::Sqlite(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
        herald::server::store::Pool::Postgres(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
    }
    assert_eq!(
        server.get("/api/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The sweep (every second here) closes its stream, and deletes the
    // row once it is an hour past its expiry (it is, at 0).
    stream.expect_end().await;
    crate::harness::eventually("the expired user token's row to be deleted", async || {
        one_i64(
            &server,
            "SELECT COUNT(*) FROM sessions WHERE key_id IS NOT NULL",
        )
        .await
            == 0
    })
    .await;
    // Sign-ins that have not expired are kept.
    assert_eq!(
        server.get("/api/me", &signed_in).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_key_asks_for_user_tokens_within_its_rate_limit() {
    let server = TestServer::start_with(&[("HERALD_USER_TOKENS_PER_MINUTE", "3")]).await;
    let users = key(&server, "host-app", &[Scope::Users]).await;
    let other = key(&server, "other-app", &[Scope::Users]).await;
    for _ in 0..3 {
        token_from(&server, &users, "alice").await;
    }
    let (status, _) = refusal(ask_token(&server, &users, "alice").await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        one_i64(
            &server,
            "SELECT COUNT(*) FROM sessions WHERE key_id IS NOT NULL"
        )
        .await,
        3
    );
    // Each key has its own allowance.
    token_from(&server, &other, "alice").await;
}
