//! Everything a request handler needs, built once at start-up and handed to
//! axum and to Leptos (as context) — no globals.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::{path::Path, sync::Arc};

use super::{
    auth::{jwt::JwtKeys, password},
    config::Config,
    connections::Connections,
    hub::Hub,
    ratelimit::Limits,
    store::{self, users, Pool},
};
use crate::model::Role;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub pool: Pool,
    pub hub: Hub,
    pub keys: JwtKeys,
    /// Serialises "commit, then publish" so every user's stream sees its
    /// notifications in `seq` order (SQLite has a single writer anyway).
    pub publish_order: Arc<tokio::sync::Mutex<()>>,
    pub limits: Arc<Limits>,
    /// Open connections against `HERALD_MAX_CONNECTIONS` (both paths).
    pub connections: Arc<Connections>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] store::StoreError),
    #[error("JWT secret file {path}: {source}")]
    Secret {
        path: String,
        source: std::io::Error,
    },
    #[error("hashing demo passwords: {0}")]
    Hash(String),
}

pub const DEMO_PASSWORD: &str = "herald-demo";
pub const DEMO_USERS: [(&str, Role); 3] = [
    ("admin", Role::Admin),
    ("alice", Role::User),
    ("bob", Role::User),
];

impl AppState {
    pub async fn new(
        config: Config,
        leptos_options: LeptosOptions,
    ) -> Result<AppState, StartError> {
        let pool = store::open(&config.database_url).await?;
        let secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => load_or_create_secret(&config.data_dir().join("jwt-secret"))?,
        };
        if config.demo {
            seed_demo_users(&pool).await?;
        }
        Ok(AppState {
            leptos_options,
            hub: Hub::new(config.client_queue, config.connections.max_streams_per_user),
            keys: JwtKeys::new(&secret),
            pool,
            publish_order: Arc::default(),
            limits: Arc::new(Limits::new(
                config.login_failures_per_minute,
                config.publish_per_minute,
            )),
            connections: Connections::new(config.connections.max_connections),
            config: Arc::new(config),
        })
    }
}

/// Demo accounts, created once; existing ones are left alone.
async fn seed_demo_users(pool: &Pool) -> Result<(), StartError> {
    for (name, role) in DEMO_USERS {
        if users::find_by_name(pool, name).await?.is_none() {
            let hash =
                password::hash(DEMO_PASSWORD).map_err(|e| StartError::Hash(e.to_string()))?;
            users::insert_if_absent(pool, name, &hash, role).await?;
        }
    }
    Ok(())
}

/// Without `HERALD_JWT_SECRET`, a random secret is generated once and kept
/// next to the database (mode 0600), so sessions survive restarts.
fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, StartError> {
    let err = |source| StartError::Secret {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() >= 32 => return Ok(bytes),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let secret: Vec<u8> = raw
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    write_private(path, &secret).map_err(err)?;
    tracing::info!(path = %path.display(), "generated a JWT signing secret");
    Ok(secret)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
