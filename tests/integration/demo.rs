//! Demo mode's first look (issue 19, item 8): categories and a week of a
//! team's notifications, seeded once; the demo-only export card only in
//! demo mode.

use std::time::Duration;

use herald::{
    model::Role,
    server::{auth::password::Hashers, usecases::accounts},
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::TestServer;

async fn home_html(server: &TestServer, cookie: &str) -> String {
    let res = server
        .http
        .get(server.url("/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_demo_seeds_a_week_of_categorised_notifications_once() {
    let server = TestServer::start_with(&[("HERALD_DEMO_SEED", "1")]).await;
    let alice = server.token("alice").await;
    let categories = server.get_json("/api/categories", &alice).await;
    assert_eq!(
        categories,
        json!([
            {"slug": "billing", "label": "Billing"},
            {"slug": "deploys", "label": "Deploys"},
            {"slug": "security", "label": "Security"}
        ])
    );
    let page = server.get_json("/api/notifications", &alice).await;
    let items = page["items"].as_array().unwrap();
    assert!(items.len() >= 8, "{page}");
    // Newest first, spread over a week, oldest first in the log.
    let times: Vec<&str> = items
        .iter()
        .map(|n| n["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
    assert!(times.first() > times.last());
    assert_ne!(
        times.first().unwrap().get(..10),
        times.last().unwrap().get(..10)
    );
    // A security notice with an action button, an invoice, deploys.
    let with_actions: Vec<&Value> = items
        .iter()
        .filter(|n| n["category"] == "security" && n["actions"].is_array())
        .collect();
    assert!(!with_actions.is_empty(), "{page}");
    assert!(items.iter().any(|n| n["category"] == "billing"));
    assert!(items
        .iter()
        .any(|n| n["category"] == "deploys" && n["data"].is_object()));
    assert_eq!(page["unread"].as_i64().unwrap(), items.len() as i64);
    // Bob does not get alice's own notices.
    let bob = server.token("bob").await;
    let bobs = server.get_json("/api/notifications", &bob).await;
    assert!(bobs["items"].as_array().unwrap().len() < items.len());

    // A restart on the same data seeds nothing more.
    let again = server.start_sharing_db(&[("HERALD_DEMO_SEED", "1")]).await;
    let page2 = again.get_json("/api/notifications", &alice).await;
    assert_eq!(page2["items"].as_array().unwrap().len(), items.len());
}

#[tokio::test]
async fn the_export_card_shows_only_in_demo_mode() {
    let demo = TestServer::start().await;
    let cookie = demo.cookie("alice").await;
    assert!(home_html(&demo, &cookie)
        .await
        .contains("data-testid=\"start-export\""));

    let plain = TestServer::start_with(&[("HERALD_DEMO", "0")]).await;
    let hashers = Hashers::new(1, Duration::from_secs(5)).unwrap();
    accounts::add_user(
        &plain.state.pool,
        &hashers,
        "carol",
        "password-123",
        Role::User,
    )
    .await
    .unwrap();
    let res = plain.login_response("carol", "password-123").await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("herald_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let html = home_html(&plain, &cookie).await;
    assert!(html.contains("data-testid=\"inbox"), "the inbox renders");
    assert!(!html.contains("data-testid=\"start-export\""));
}
