//! Provisioning (issue 17): `/api/users` with a `users` key or an admin
//! session, with the CLI's effects on open streams, clear refusals,
//! `Idempotency-Key`; and send-to-user by username.

use herald::model::Scope;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{harness::TestServer, service_keys::key};

async fn users_key(server: &TestServer) -> String {
    key(server, "host-app", &[Scope::Users]).await
}

async fn patch(server: &TestServer, path: &str, token: &str, body: &Value) -> reqwest::Response {
    server
        .http
        .patch(server.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn error_of(res: reqwest::Response) -> String {
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    body["error"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_host_app_creates_reads_changes_and_deletes_an_account() {
    let server = TestServer::start().await;
    let host = users_key(&server).await;
    let body = json!({
        "username": "erin", "role": "user", "password": "erin-password", "email": "erin@example.com"
    });
    let res = server.post_json("/api/users", &host, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("password") && !text.contains("argon2"),
        "{text}"
    );
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["success"], true);
    let data = &created["data"];
    assert_eq!(
        (data["username"].as_str(), data["role"].as_str()),
        (Some("erin"), Some("user"))
    );
    assert_eq!(data["email"], "erin@example.com");
    let login = server.login_response("erin", "erin-password").await;
    assert_eq!(login.status(), StatusCode::OK, "the password works");

    let got = server.get_json("/api/users/erin", &host).await;
    assert_eq!(got["data"], *data);
    let res = patch(&server, "/api/users/erin", &host, &json!({"role": "admin"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["data"]["role"], "admin");
    assert_eq!(
        server.get_json("/api/users/erin", &host).await["data"]["role"],
        "admin"
    );

    let res = server.delete("/api/users/erin", &host).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = server.get("/api/users/erin", &host).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(error_of(res).await.contains("erin"));
    assert_eq!(
        server.delete("/api/users/erin", &host).await.status(),
        StatusCode::NOT_FOUND
    );
    let login = server.login_response("erin", "erin-password").await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refusals_are_clear_and_nothing_half_made() {
    let server = TestServer::start().await;
    let host = users_key(&server).await;
    let cases = [
        (
            json!({"username": "alice", "role": "user"}),
            StatusCode::CONFLICT,
            "taken",
        ),
        (
            json!({"username": "new", "role": "root"}),
            StatusCode::BAD_REQUEST,
            "role",
        ),
        (
            json!({"username": "no spaces", "role": "user"}),
            StatusCode::BAD_REQUEST,
            "username",
        ),
        (
            json!({"username": "new", "role": "user", "password": "short"}),
            StatusCode::BAD_REQUEST,
            "password",
        ),
        (
            json!({"username": "new", "role": "user", "email": "nope"}),
            StatusCode::BAD_REQUEST,
            "email",
        ),
        (
            json!({"username": "new", "role": "user", "passwd": "typo-typo"}),
            StatusCode::BAD_REQUEST,
            "passwd",
        ),
        (json!({"role": "user"}), StatusCode::BAD_REQUEST, "username"),
    ];
    for (body, status, named) in cases {
        let res = server.post_json("/api/users", &host, &body).await;
        assert_eq!(res.status(), status, "{body}");
        let error = error_of(res).await;
        assert!(error.contains(named), "{body}: {error}");
    }
    assert_eq!(
        server.get("/api/users/new", &host).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = patch(
        &server,
        "/api/users/nobody",
        &host,
        &json!({"role": "user"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = patch(&server, "/api/users/alice", &host, &json!({"role": "king"})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = patch(&server, "/api/users/alice", &host, &json!({})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(res).await.contains("role"));

    // No password: the account exists and cannot sign in with any.
    let res = server
        .post_json(
            "/api/users",
            &host,
            &json!({"username": "sso", "role": "user"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for guess in ["!", "herald-demo", "a-long-guess"] {
        assert_eq!(
            server.login_response("sso", guess).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn an_admin_session_may_provision_and_a_user_may_not() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let res = server
        .post_json(
            "/api/users",
            &admin,
            &json!({"username": "fay", "role": "user"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = server
        .post_json(
            "/api/users",
            &alice,
            &json!({"username": "gus", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for res in [
        server.get("/api/users/fay", &alice).await,
        server.delete("/api/users/fay", &alice).await,
        patch(
            &server,
            "/api/users/alice",
            &alice,
            &json!({"role": "admin"}),
        )
        .await,
    ] {
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        server.get("/api/users/fay", &admin).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.get_json("/api/users/alice", &admin).await["data"]["role"],
        "user"
    );
}

#[tokio::test]
async fn demoting_or_deleting_a_user_closes_their_open_streams() {
    let server = TestServer::start().await;
    let host = users_key(&server).await;
    let body = json!({"username": "hal", "role": "admin", "password": "hal-password"});
    assert_eq!(
        server.post_json("/api/users", &host, &body).await.status(),
        StatusCode::CREATED
    );
    let login: Value = server
        .login_response("hal", "hal-password")
        .await
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let (mut stream, _) = server.open_stream(&token, "").await;
    let alice = server.token("alice").await;
    let (mut bystander, _) = server.open_stream(&alice, "").await;

    // The same role again changes nothing; another one closes the stream.
    let res = patch(&server, "/api/users/hal", &host, &json!({"role": "admin"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(server.get("/api/me", &token).await.status(), StatusCode::OK);
    let res = patch(&server, "/api/users/hal", &host, &json!({"role": "user"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    stream.expect_end().await;
    assert_eq!(
        server.get("/api/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let stats = server
        .get_json("/api/sse/stats", &server.token("admin").await)
        .await;
    assert_eq!(
        stats["data"]["user_clients"].get(login["user"]["id"].to_string()),
        None
    );

    let login: Value = server
        .login_response("hal", "hal-password")
        .await
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let (mut stream, _) = server.open_stream(&token, "").await;
    assert_eq!(
        server.delete("/api/users/hal", &host).await.status(),
        StatusCode::NO_CONTENT
    );
    stream.expect_end().await;

    // Alice's stream is untouched.
    let admin = server.token("admin").await;
    server.broadcast(&admin, "still here").await;
    assert_eq!(
        bystander.next_non_ping().await.unwrap().json()["title"],
        "still here"
    );
}

#[tokio::test]
async fn provisioning_honours_idempotency_keys() {
    let server = TestServer::start().await;
    let host = users_key(&server).await;
    let send = |method: reqwest::Method, path: &str, key: &str, body: Option<Value>| {
        let mut req = server
            .http
            .request(method, server.url(path))
            .bearer_auth(&host)
            .header("Idempotency-Key", key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let body = json!({"username": "ida", "role": "user", "password": "ida-password"});
    let first = send(
        reqwest::Method::POST,
        "/api/users",
        "create-ida",
        Some(body.clone()),
    )
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send(
        reqwest::Method::POST,
        "/api/users",
        "create-ida",
        Some(body),
    )
    .await
    .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "the retry gets the first result"
    );
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = json!({"username": "ida", "role": "admin"});
    let res = send(
        reqwest::Method::POST,
        "/api/users",
        "create-ida",
        Some(other),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = server
        .post_json(
            "/api/users",
            &host,
            &json!({"username": "ida", "role": "user"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "without the key: a second create"
    );

    let role = json!({"role": "admin"});
    for _ in 0..2 {
        let res = send(
            reqwest::Method::PATCH,
            "/api/users/ida",
            "promote-ida",
            Some(role.clone()),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    for _ in 0..2 {
        let res = send(
            reqwest::Method::DELETE,
            "/api/users/ida",
            "delete-ida",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::NO_CONTENT,
            "a retried delete is not a 404"
        );
    }
    assert_eq!(
        server.delete("/api/users/ida", &host).await.status(),
        StatusCode::NOT_FOUND
    );
    // Only the work done is audited: one create, one role change, one delete.
    let admin = server.token("admin").await;
    let audit = server.get_json("/api/audit", &admin).await;
    let ida: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "ida")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(ida, ["user.deleted", "user.role", "user.created"]);
}

#[tokio::test]
async fn send_to_user_takes_a_username() {
    let server = TestServer::start().await;
    let publish = key(&server, "notifier", &[Scope::Publish]).await;
    let bob = server.token("bob").await;
    let (mut stream, _) = server.open_stream(&bob, "").await;
    let body = json!({"username": "bob", "event": "notification", "data": {"title": "by name"}});
    let res = server
        .post_json("/api/sse/send-to-user", &publish, &body)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        stream.next_non_ping().await.unwrap().json()["title"],
        "by name"
    );

    let unknown = json!({"username": "nobody", "data": {"title": "x"}});
    let res = server
        .post_json("/api/sse/send-to-user", &publish, &unknown)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(error_of(res).await.contains("nobody"));
    for body in [
        json!({"data": {"title": "x"}}),
        json!({"user_id": 2, "username": "bob", "data": {"title": "x"}}),
    ] {
        let res = server
            .post_json("/api/sse/send-to-user", &publish, &body)
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // A key without `publish` learns nothing about the name.
    let reader = key(&server, "reader", &[Scope::Read]).await;
    let res = server
        .post_json("/api/sse/send-to-user", &reader, &unknown)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// On a cluster, the instance that deletes or demotes a user closes their
/// streams at once; every other instance within its session sweep (every
/// second on PostgreSQL), since their sessions went in the same commit.
#[tokio::test]
async fn provisioning_closes_streams_on_every_instance_of_a_cluster() {
    let Some(url) = crate::pg::fresh_database().await else {
        return;
    };
    let (a, b) = tokio::join!(
        TestServer::start_on(&url, &[]),
        TestServer::start_on(&url, &[])
    );
    let host = users_key(&a).await;
    for name in ["ivy", "jon"] {
        let body = json!({"username": name, "role": "admin", "password": "long-enough-1"});
        assert_eq!(
            a.post_json("/api/users", &host, &body).await.status(),
            StatusCode::CREATED
        );
    }
    let ivy = b
        .login_response("ivy", "long-enough-1")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let jon = b
        .login_response("jon", "long-enough-1")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let (mut ivy_stream, _) = b.open_stream(ivy["token"].as_str().unwrap(), "").await;
    let (mut jon_stream, _) = b.open_stream(jon["token"].as_str().unwrap(), "").await;

    let res = patch(&a, "/api/users/ivy", &host, &json!({"role": "user"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    ivy_stream.expect_end().await;
    assert_eq!(
        a.delete("/api/users/jon", &host).await.status(),
        StatusCode::NO_CONTENT
    );
    jon_stream.expect_end().await;
}

/// The SPEC writes the service doors' objects bare (`201 {"token",
/// "expires_at"}`, `{"id","secret"}`, "the user"); the envelope rule wraps
/// them in `data`. Both readings hold: every field of `data` is also at
/// the top level, with the same value.
#[tokio::test]
async fn the_spec_s_bare_objects_are_read_at_the_top_level_too() {
    let server = TestServer::start_with(&[("HERALD_WEBHOOK_ALLOW_PRIVATE", "1")]).await;
    let host = users_key(&server).await;
    let admin = server.token("admin").await;

    fn both_readings(body: &Value) -> &serde_json::Map<String, Value> {
        assert_eq!(body["success"], true, "{body}");
        let data = body["data"].as_object().expect("an object in data");
        for (field, value) in data {
            assert_eq!(&body[field], value, "{field} at the top level: {body}");
        }
        data
    }

    let res = server
        .post_json(
            "/api/users",
            &host,
            &json!({"username": "frank", "role": "user", "email": "frank@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(both_readings(&created)["username"], "frank");
    assert_eq!(created["role"], "user");

    let got = server.get_json("/api/users/frank", &host).await;
    assert_eq!(both_readings(&got)["username"], "frank");
    let res = patch(
        &server,
        "/api/users/frank",
        &host,
        &json!({"role": "admin"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(both_readings(&changed)["role"], "admin");

    let res = server
        .http
        .post(server.url("/api/users/frank/tokens"))
        .bearer_auth(&host)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token: Value = res.json().await.unwrap();
    assert!(both_readings(&token).contains_key("expires_at"));
    assert!(token["token"].is_string(), "{token}");

    let res = server
        .post_json(
            "/api/webhooks",
            &admin,
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["announcement.sent"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let webhook: Value = res.json().await.unwrap();
    assert!(both_readings(&webhook).contains_key("id"));
    assert!(webhook["secret"].as_str().unwrap().starts_with("whsec_"));
}
