//! Everything that only runs on the server.

pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod guard;
pub mod http;
pub mod mail;
pub mod net;
pub mod observe;
mod periodic;
pub mod private_files;
pub mod push;
pub mod random;
mod sse;
pub mod state;
pub mod store;
mod tasks;
pub mod usecases;
pub mod webhook;

use axum::{extract::DefaultBodyLimit, middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

use crate::app::{shell, App};
use config::Config;
use state::{AppState, DEMO_PASSWORD, DEMO_USERS};

/// The whole application: JSON API, stream, pages and server functions.
/// Separate from [`serve`] so tests can run it on a port of their own.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let pages = Router::new()
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::guard_pages,
        ))
        // The server functions live here: the JSON routes' body limit and statuses.
        .layer(middleware::from_fn(http::server_fn_doors))
        .layer(DefaultBodyLimit::max(http::BODY_LIMIT))
        // A deploy must be seen at once: pages are revalidated, the bundle
        // they name is kept (`http::assets`).
        .layer(middleware::map_response(http::assets::revalidate_pages));
    http::routes(&state.config.allowed_origins)
        .merge(pages)
        // Pages and JSON are compressed as they go; tower-http's default
        // predicate never compresses text/event-stream, which would buffer
        // events. A layer wraps only the routes already added: the bundle,
        // merged below, was compressed at build time and is sent as it is.
        .layer(CompressionLayer::new())
        .merge(http::bundle_routes())
        // Outermost first: odd request targets never reach a route, and
        // cross-site state changes never reach a handler.
        .layer(middleware::from_fn(guard::csrf::refuse_cross_site))
        .layer(middleware::from_fn(http::refuse_odd_targets))
        .layer(TraceLayer::new_for_http().make_span_with(observe::request_span::for_router))
        .with_state(state)
}

/// Background work a running server needs besides answering requests.
pub fn start_background_tasks(state: &AppState) {
    tasks::sweeper::spawn(state.clone());
    tasks::scheduler::spawn(state.clone(), state.config.scheduler_tick);
    tasks::snoozes::spawn(state.clone(), state.config.scheduler_tick);
    tasks::pinger::spawn(state.hub.clone(), state.config.ping_interval);
    tasks::funnel_flush::spawn(state.clone());
    tasks::console_pulse::spawn(state.clone());
    tasks::linger::spawn(state.hub.clone());
    tasks::webhooks::spawn(state.clone());
    tasks::escalation::spawn(state.clone());
    state
        .publisher
        .backplane()
        .spawn(&state.config.database_url);
}

/// Leptos options for this process: cargo-leptos' build settings, with the
/// address taken from our own config.
pub fn leptos_options(config: &Config) -> Result<LeptosOptions, String> {
    let mut options = get_configuration(None)
        .map_err(|e| format!("leptos configuration: {e}"))?
        .leptos_options;
    options.site_addr = config.site_addr;
    // cargo-leptos tells the server build whether it named the bundle by
    // hash (LEPTOS_HASH_FILES, from Cargo.toml's `hash-files`), but leptos
    // reads that variable at run time only, where `make run` and
    // end2end/start-server.sh do not set it: the build's answer is the default.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = option_env!("LEPTOS_HASH_FILES") == Some("true");
    }
    Ok(options)
}

pub async fn serve(config: Config) -> Result<(), String> {
    let options = leptos_options(&config)?;
    http::assets::check_hash_file(&options)?;
    let addr = config.site_addr;
    let demo = config.demo;
    let state = AppState::new(config, options)
        .await
        .map_err(|e| e.to_string())?;
    let listener =
        listen(addr).map_err(|e| format!("cannot listen on {addr} (LEPTOS_SITE_ADDR): {e}"))?;
    if demo {
        print_demo_banner(addr);
    }
    tracing::info!("Herald listening on http://{addr}");
    start_background_tasks(&state);
    run(listener, state, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// Serves Herald on `listener` until `shutdown` resolves: streams that are a
/// connection's first request on the lean path (see `sse::direct`), all else
/// through the router, on hyper (see `net::listener` for the connection limits).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    let shared = std::sync::Arc::new(net::listener::Shared {
        router: router(state.clone()),
        limits: state.config.connections.clone(),
        state,
        stop: tokio_util::sync::CancellationToken::new(),
        routed: tokio_util::task::TaskTracker::new(),
        direct_streams: tokio_util::task::TaskTracker::new(),
        lingering_refusals: Default::default(),
    });
    let accepting = tokio::spawn(net::listener::accept_loop(listener, shared.clone()));
    shutdown.await;
    // Open streams never end by themselves; end them so shutdown can finish.
    let closed = hub.disconnect_all();
    tracing::info!(closed_streams = closed, "shutting down");
    shared.stop.cancel();
    let _ = accepting.await;
    // As axum::serve did: every router connection finishes its request.
    shared.routed.close();
    shared.routed.wait().await;
    // Their hub queues are closed: give them the moment it takes to write the last chunk.
    shared.direct_streams.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, shared.direct_streams.wait())
        .await
        .is_err()
    {
        tracing::warn!("some streams did not end within {SHUTDOWN_GRACE:?}");
    }
    Ok(())
}

/// How long shutdown waits for direct streams to end (a client that stopped
/// reading can hold a write forever).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Streams reconnect together after a restart or a network blip (every
/// browser waits the same `retry:`), so the accept queue must hold a burst:
/// tokio's default backlog of 128 drops SYNs past that, costing 1 s retries.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

fn print_demo_banner(addr: std::net::SocketAddr) {
    let names: Vec<String> = DEMO_USERS
        .iter()
        .map(|(name, role)| format!("{name} ({})", role.as_str()))
        .collect();
    println!("──────────────────────────────────────────────────────────────");
    println!(" Herald DEMO MODE — for trying Herald out, never for real use");
    println!(" Open http://{addr}");
    println!(" Accounts: {}", names.join(", "));
    println!(" Password for all of them: {DEMO_PASSWORD}");
    println!("──────────────────────────────────────────────────────────────");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
