//! Accounts: the `herald user …` CLI and what changing access does to open streams.

use std::{io::Write, process::Command};

use herald::{model::Role, server::usecases::accounts};
use reqwest::StatusCode;

use crate::harness::TestServer;

fn herald(server: &TestServer, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("DATABASE_URL", &server.state.config.database_url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run herald");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn the_cli_adds_lists_and_refuses_bad_accounts() {
    let server = TestServer::start().await;
    let (ok, out) = herald(
        &server,
        &["user", "add", "carol", "--password-stdin"],
        "carol-password\n",
    );
    assert!(ok, "{out}");
    assert!(out.contains("added carol (user"), "{out}");
    let res = server.login_response("carol", "carol-password").await;
    assert_eq!(res.status(), StatusCode::OK, "the new account signs in");

    let (ok, out) = herald(
        &server,
        &["user", "add", "dave", "--admin", "--password-stdin"],
        "dave-password",
    );
    assert!(ok, "{out}");
    let (ok, out) = herald(&server, &["user", "list"], "");
    assert!(ok, "{out}");
    assert!(
        out.contains("admin   dave") && out.contains("user    carol"),
        "{out}"
    );
    assert!(!out.contains("argon2"), "no hash is printed");

    let (ok, out) = herald(
        &server,
        &["user", "add", "carol", "--password-stdin"],
        "another-password",
    );
    assert!(!ok && out.contains("taken"), "{out}");
    let (ok, out) = herald(
        &server,
        &["user", "add", "erin", "--password-stdin"],
        "short",
    );
    assert!(!ok && out.contains("password"), "{out}");
    let (ok, out) = herald(
        &server,
        &["user", "passwd", "carol", "--password-stdin"],
        "new-carol-password",
    );
    assert!(ok, "{out}");
    let old = server.login_response("carol", "carol-password").await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let new = server.login_response("carol", "new-carol-password").await;
    assert_eq!(new.status(), StatusCode::OK);
    let (ok, out) = herald(&server, &["user", "set-role", "carol", "admin"], "");
    assert!(ok && out.contains("carol is now admin"), "{out}");

    let (ok, out) = herald(&server, &["user", "set-role", "nobody", "admin"], "");
    assert!(!ok && out.contains("not found"), "{out}");
}

#[tokio::test]
async fn serving_on_postgresql_without_a_shared_secret_stops_with_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .env("DATABASE_URL", "postgres://herald@127.0.0.1:1/herald")
        .env_remove("HERALD_JWT_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("HERALD_JWT_SECRET"), "{err}");
}

#[tokio::test]
async fn a_bad_setting_fails_start_up_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .env("HERALD_PING_SECS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("HERALD_PING_SECS"), "{err}");
}

#[tokio::test]
async fn changing_a_role_in_the_server_closes_that_users_streams_at_once() {
    let server = TestServer::start().await;
    let bob = server.token("bob").await;
    let alice = server.token("alice").await;
    let (mut bob_stream, _) = server.open_stream(&bob, "").await;
    let (mut alice_stream, _) = server.open_stream(&alice, "").await;

    accounts::set_role(
        &server.state.pool,
        Some(&server.state.hub),
        "bob",
        Role::Admin,
    )
    .await
    .unwrap();
    bob_stream.expect_end().await;
    let me = server.get("/api/me", &bob).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "old token revoked");

    // Alice is untouched.
    let admin = server.token("admin").await;
    server.broadcast(&admin, "still here").await;
    assert_eq!(
        alice_stream.next_non_ping().await.unwrap().json()["title"],
        "still here"
    );
}

#[tokio::test]
async fn deleting_a_user_from_another_process_closes_their_streams_by_the_sweep() {
    let server = TestServer::start_with(&[("HERALD_SESSION_SWEEP_SECS", "1")]).await;
    let bob = server.token("bob").await;
    let (mut stream, _) = server.open_stream(&bob, "").await;
    let (ok, out) = herald(&server, &["user", "delete", "bob"], "");
    assert!(ok, "{out}");
    // The CLI cannot reach the server's hub: the sweep notices within a period.
    stream.expect_end().await;
}
