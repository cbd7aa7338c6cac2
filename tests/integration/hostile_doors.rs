//! The small doors, tried as an attacker would: cross-site requests riding on
//! the cookie (login included), refusals of server functions, the admin check
//! and archive scoping in the use cases, event names with a bare `\r`, other
//! spellings of `/admin`, odd request targets, and the shared body limit.

use herald::{
    api::{
        admin::{AdminConsole, SendAnnouncement},
        auth::Login,
        inbox::{Archive, MarkAllRead},
    },
    model::{AppError, Channel},
    server::{
        auth::{authenticate, Caller},
        domain::announcement::AnnouncementDraft,
        usecases::send::{recipient_named, send},
    },
};
use leptos::server_fn::ServerFn;
use reqwest::{header, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::harness::{TestServer, PASSWORD};

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
const EVIL: &str = "https://evil.example";

/// A form post to a server function, as the page's own script sends it.
fn server_fn(server: &TestServer, path: &str, form: &[(&str, &str)]) -> RequestBuilder {
    server
        .http
        .post(server.url(path))
        .header(header::ACCEPT, "application/json")
        .form(form)
}

/// The same, from one of Herald's own pages in a current browser.
fn same_origin(server: &TestServer, req: RequestBuilder) -> RequestBuilder {
    req.header(header::ORIGIN, &server.base)
        .header("sec-fetch-site", "same-origin")
}

/// A server function called from one of Herald's own pages, signed in with
/// `cookie` (or signed out with `""`).
async fn call(server: &TestServer, path: &str, form: &[(&str, &str)], cookie: &str) -> Response {
    let mut req = same_origin(server, server_fn(server, path, form));
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    req.send().await.unwrap()
}

/// The typed error a server function answered with.
async fn app_error(res: Response) -> AppError {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an AppError ({e}): {text}"))
}

async fn unread(server: &TestServer, token: &str) -> i64 {
    server.get_json("/api/notifications", token).await["unread"]
        .as_i64()
        .unwrap()
}

async fn send_to_user(server: &TestServer, admin: &str, user_id: i64, title: &str) {
    let res = server
        .post_json(
            "/api/sse/send-to-user",
            admin,
            &json!({ "user_id": user_id, "data": { "title": title } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// ── CSRF ────────────────────────────────────────────────────────────────

#[tokio::test]
async fn cross_site_state_changes_on_the_cookie_are_refused() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    send_to_user(&server, &admin, alice_id, "unread").await;
    let cookie = server.cookie("alice").await;

    let cross_site: [&[(&str, &str)]; 4] = [
        &[("origin", EVIL)],
        &[("origin", "null")],
        &[("sec-fetch-site", "cross-site"), ("origin", EVIL)],
        // A sibling host of the same site is another trust domain.
        &[("sec-fetch-site", "same-site")],
    ];
    for headers in cross_site {
        let via_fn = server_fn(&server, MarkAllRead::PATH, &[]).header("cookie", &cookie);
        let via_json = server
            .http
            .post(server.url("/api/notifications/read-all"))
            .header("cookie", &cookie);
        for (door, mut req) in [("server fn", via_fn), ("JSON", via_json)] {
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{door} {headers:?}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["success"], false);
            assert!(body["error"].as_str().unwrap().contains("cross-site"));
        }
    }
    assert_eq!(unread(&server, &alice).await, 1, "nothing was marked read");

    // Her own page, and a client that sends neither header, still work.
    let res = call(&server, MarkAllRead::PATH, &[], &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = server
        .http
        .post(server.url("/api/notifications/read-all"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_csrf_is_refused_on_both_sign_in_doors() {
    let server = TestServer::start().await;
    let json = server
        .http
        .post(server.url("/api/auth/login"))
        .header(header::ORIGIN, EVIL)
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let form = server_fn(
        &server,
        Login::PATH,
        &[("username", "alice"), ("password", PASSWORD)],
    )
    .header("sec-fetch-site", "cross-site")
    .send()
    .await
    .unwrap();
    for res in [json, form] {
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(
            res.headers().get("set-cookie").is_none(),
            "no session planted"
        );
    }
}

#[tokio::test]
async fn bearer_requests_are_not_judged_by_origin() {
    let server = TestServer::start().await;
    let alice = server.token("alice").await;
    let res = server
        .http
        .post(server.url("/api/notifications/read-all"))
        .bearer_auth(&alice)
        .header(header::ORIGIN, EVIL)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_plain_same_origin_sign_in_form_works_without_js() {
    let server = TestServer::start().await;
    let res = same_origin(
        &server,
        server
            .http
            .post(server.url(Login::PATH))
            .form(&[("username", "alice"), ("password", PASSWORD)]),
    )
    .header(header::ACCEPT, "text/html")
    .header(header::REFERER, server.url("/login"))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()["location"], "/");
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("herald_session="));
}

// ── Server functions refuse with the JSON routes' statuses ──────────────

#[tokio::test]
async fn server_fns_answer_401_when_signed_out() {
    let server = TestServer::start().await;
    let res = call(&server, MarkAllRead::PATH, &[], "").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app_error(res).await, AppError::Unauthorized);
}

#[tokio::test]
async fn a_user_sending_an_announcement_gets_403_and_learns_no_names() {
    let server = TestServer::start().await;
    let cookie = server.cookie("alice").await;
    let mut answers = Vec::new();
    for username in ["bob", "nobody-by-this-name", ""] {
        let form = [
            ("title", "hi"),
            ("body", "b"),
            ("target", "user"),
            ("username", username),
        ];
        let res = call(&server, SendAnnouncement::PATH, &form, &cookie).await;
        let status = res.status();
        answers.push((status, res.text().await.unwrap()));
    }
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body, &answers[0].1, "the same answer for every name");
    }
    let err: AppError = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(err, AppError::Forbidden);
}

/// The console's data comes from one server function, and the page guard
/// on `/admin` does not stand in front of it: a signed-in user who posts
/// to it directly, from Herald's own origin with their cookie, is refused
/// there, and the answer carries nothing of the console. The admin's own
/// call, first, shows what "nothing" would have contained.
#[tokio::test]
async fn a_user_calling_the_admin_consoles_server_fn_gets_403_and_no_data() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let title = "console-only: the quarterly numbers";
    server.broadcast(&admin, title).await;

    let admin_cookie = server.cookie("admin").await;
    let res = call(&server, AdminConsole::PATH, &[], &admin_cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let console = res.text().await.unwrap();
    for shown in [title, "alice", "bob"] {
        assert!(
            console.contains(shown),
            "the admin sees {shown:?}: {console}"
        );
    }

    let cookie = server.cookie("alice").await;
    let res = call(&server, AdminConsole::PATH, &[], &cookie).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.unwrap();
    for hidden in [title, "bob", "history", "audit"] {
        assert!(!body.contains(hidden), "{hidden:?} leaked: {body}");
    }
    let err: AppError = serde_json::from_str(&body).unwrap();
    assert_eq!(err, AppError::Forbidden);
}

#[tokio::test]
async fn server_fns_answer_400_naming_the_field() {
    let server = TestServer::start().await;
    let cookie = server.cookie("admin").await;
    // Refused by the use case.
    let res = call(
        &server,
        SendAnnouncement::PATH,
        &[("title", "hi"), ("body", "b"), ("target", "user")],
        &cookie,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(app_error(res).await, AppError::Invalid { field, .. } if field == "username"));
    // Refused while decoding the form, before the function runs.
    let res = call(&server, Archive::PATH, &[("id", "x")], &cookie).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = call(
        &server,
        SendAnnouncement::PATH,
        &[("body", "no title")],
        &cookie,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(app_error(res).await, AppError::Invalid { field, .. } if field == "title"));
}

#[tokio::test]
async fn server_fns_answer_429_when_rate_limited() {
    let server = TestServer::start_with(&[("HERALD_PUBLISH_PER_MINUTE", "1")]).await;
    let cookie = server.cookie("admin").await;
    let form = [("title", "hi"), ("body", "b")];
    let first = call(&server, SendAnnouncement::PATH, &form, &cookie).await;
    assert_eq!(first.status(), StatusCode::OK);
    let second = call(&server, SendAnnouncement::PATH, &form, &cookie).await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app_error(second).await, AppError::RateLimited);
}

#[tokio::test]
async fn server_fns_and_json_routes_share_one_body_limit() {
    let server = TestServer::start().await;
    let huge = "a".repeat(herald::server::http::BODY_LIMIT + 1);
    let via_fn = same_origin(
        &server,
        server_fn(
            &server,
            Login::PATH,
            &[("username", huge.as_str()), ("password", "x")],
        ),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(via_fn.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app_error(via_fn).await, AppError::PayloadTooLarge);

    let via_json = server
        .http
        .post(server.url("/api/auth/login"))
        .json(&json!({ "username": huge, "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(via_json.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = via_json.json().await.unwrap();
    assert_eq!(body["error"], "request body is too large");
}

// ── Guarantees inside the use cases ─────────────────────────────────────

#[tokio::test]
async fn the_announce_use_case_refuses_a_user_by_itself() {
    let server = TestServer::start().await;
    let alice_token = server.token("alice").await;
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "authorization",
        format!("Bearer {alice_token}").parse().unwrap(),
    );
    let alice = Caller::User(authenticate(&server.state, &headers).await.unwrap());
    let draft = AnnouncementDraft {
        title: "not from an admin".into(),
        body: "b".into(),
        ..AnnouncementDraft::default()
    };
    let announcement = draft.parse().unwrap();
    let sent = send(&server.state, &alice, announcement, Channel::All).await;
    assert_eq!(sent.unwrap_err(), AppError::Forbidden);
    let looked_up = recipient_named(&server.state, &alice, Some("bob")).await;
    assert_eq!(looked_up.unwrap_err(), AppError::Forbidden);
    // Nothing reached any inbox.
    let bob = server.token("bob").await;
    let inbox = server.get_json("/api/notifications", &bob).await;
    assert_eq!(inbox["items"], json!([]));
}

#[tokio::test]
async fn nobody_archives_another_users_notification() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    let alice = server.token("alice").await;
    let alice_id = server.user_id(&alice).await;
    send_to_user(&server, &admin, alice_id, "for alice only").await;
    let inbox = server.get_json("/api/notifications", &alice).await;
    let id = inbox["items"][0]["id"].as_i64().unwrap();

    let bob = server.token("bob").await;
    let via_json = server
        .http
        .post(server.url(&format!("/api/notifications/{id}/archive")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(via_json.status(), StatusCode::NOT_FOUND);
    let bob_cookie = server.cookie("bob").await;
    let via_fn = call(
        &server,
        Archive::PATH,
        &[("id", &id.to_string())],
        &bob_cookie,
    )
    .await;
    assert_eq!(via_fn.status(), StatusCode::NOT_FOUND);
    assert!(matches!(app_error(via_fn).await, AppError::NotFound(_)));

    let after = server.get_json("/api/notifications", &alice).await;
    assert_eq!(after["items"][0]["id"].as_i64(), Some(id), "still hers");
    assert_eq!(after["unread"], 1);
}

#[tokio::test]
async fn a_bare_carriage_return_in_an_event_name_is_refused() {
    let server = TestServer::start().await;
    let admin = server.token("admin").await;
    // (Surrounding whitespace, a trailing `\r` included, is trimmed, never sent.)
    for event in ["a\rb", "a\r\nb", "a\r\rb"] {
        let res = server
            .post_json(
                "/api/sse/broadcast",
                &admin,
                &json!({ "event": event, "data": { "title": "t" } }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{event:?}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().starts_with("event:"),
            "{body}"
        );
    }
}

// ── Page gates and request targets, byte for byte ───────────────────────

/// Writes `request` on a fresh connection; returns the response head.
async fn raw_head(server: &TestServer, request: &str) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut more = [0u8; 4096];
            match tcp.read(&mut more).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&more[..n]),
            }
        }
    })
    .await
    .expect("a response head within the deadline");
    String::from_utf8_lossy(&buf).into_owned()
}

const ADMIN_SPELLINGS: [&str; 9] = [
    "/admin/",
    "/admin//",
    "//admin",
    "/Admin",
    "/%61dmin",
    "/admin%2F",
    "/./admin",
    "/x/../admin",
    "/admin/x",
];

#[tokio::test]
async fn every_spelling_of_admin_is_guarded_like_admin() {
    let server = TestServer::start().await;
    let alice = server.cookie("alice").await;
    for path in ADMIN_SPELLINGS {
        let signed_out = raw_head(
            &server,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(
            signed_out.starts_with("HTTP/1.1 30"),
            "{path}: {signed_out}"
        );
        assert!(
            signed_out
                .to_ascii_lowercase()
                .contains("location: /login\r\n"),
            "{path}: {signed_out}"
        );
        let user = raw_head(
            &server,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {alice}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert!(user.starts_with("HTTP/1.1 403"), "{path}: {user}");
    }
}

#[tokio::test]
async fn authority_and_asterisk_targets_get_400_and_the_server_lives_on() {
    let server = TestServer::start().await;
    for request in [
        "GET example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "POST example.com:80 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let head = raw_head(&server, request).await;
        assert!(head.starts_with("HTTP/1.1 400"), "{request:?}: {head:?}");
    }
    let head = raw_head(
        &server,
        "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 204"), "{head:?}");
    let res = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
