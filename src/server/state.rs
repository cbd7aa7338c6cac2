//! Everything a request handler needs, built once at start-up and handed to
//! axum and to Leptos (as context) — no globals.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::{path::Path, sync::Arc};

use secrecy::ExposeSecret;

use crate::model::Role;
use crate::server::{
    auth::{
        device::DeviceCookies,
        jwt::JwtKeys,
        password::{self, Hashers},
    },
    config::Config,
    delivery::backplane::Backplane,
    delivery::hub::Hub,
    delivery::publisher::Publisher,
    guard::{
        connections::Connections, login_throttle::LoginLimits, per_user::PerUserSlots,
        ratelimit::Limits,
    },
    net::stream_workers::StreamWorkers,
    private_files,
    push::Vapid,
    store::{self, users, Pool},
};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub pool: Pool,
    pub hub: Hub,
    pub keys: JwtKeys,
    /// The one publishing path: write, commit, apply to the hub, in order.
    pub publisher: Arc<Publisher>,
    /// This process among a cluster's instances (random at each start).
    pub instance_id: Arc<str>,
    pub limits: Arc<Limits>,
    /// Exports running now, per user (capped).
    pub exports: Arc<PerUserSlots>,
    /// The one gate every password hash and check on the server goes through.
    pub hashers: Arc<Hashers>,
    /// Signs the cookies that make a browser "known" to an account at sign-in.
    pub devices: DeviceCookies,
    /// Open connections against `HERALD_MAX_CONNECTIONS` (both paths).
    pub connections: Arc<Connections>,
    /// The threads direct streams are written from (the data path).
    pub stream_workers: Arc<StreamWorkers>,
    /// Web Push's VAPID key; `None`: push is off (PostgreSQL without
    /// `HERALD_VAPID_PRIVATE_KEY`).
    pub push: Option<Arc<Vapid>>,
}

impl crate::server::auth::SessionCheck for AppState {
    fn keys(&self) -> &JwtKeys {
        &self.keys
    }
    fn pool(&self) -> &Pool {
        &self.pool
    }
    fn allowed_origins(&self) -> &crate::server::auth::AllowedOrigins {
        &self.config.allowed_origins
    }
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
    #[error("VAPID key file {path}: {reason}")]
    Vapid { path: String, reason: String },
    #[error("password hashing: {0}")]
    Hash(String),
    #[error("exports directory {path}: {source}")]
    Exports {
        path: String,
        source: std::io::Error,
    },
}

/// Exports one user may run at once (each holds a file and takes turns on
/// the publishing lock).
pub const EXPORTS_PER_USER: usize = 2;

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
            Some(secret) => secret.expose_secret().to_vec(),
            None => load_or_create_secret(&config.data_dir().join("jwt-secret"))?,
        };
        let push = vapid(&config)?.map(Arc::new);
        let hashers = Hashers::new(config.password_hashers.get(), password::HASH_WAIT)
            .map(Arc::new)
            .map_err(|e| StartError::Hash(format!("starting hashing threads: {e}")))?;
        if config.demo {
            seed_demo_users(&pool, &hashers).await?;
            if config.demo_seed {
                let n = crate::server::store::demo::seed(&pool).await?;
                if n > 0 {
                    tracing::info!(notifications = n, "demo: seeded a week of notifications");
                }
            }
        }
        // Export files written by an older version may be world-readable.
        let exports = config.exports_dir();
        private_files::restrict_dir_and_files(&exports).map_err(|source| StartError::Exports {
            path: exports.display().to_string(),
            source,
        })?;
        let hub = Hub::new(
            config.client_queue.get(),
            config.connections.max_streams_per_user.get(),
        );
        // The hub follows the log from its head: a counter is seeded from the
        // store at the first stream of each user.
        let instance_id: Arc<str> = instance_id().into();
        let backplane = Backplane::start(&pool, &hub, instance_id.clone()).await?;
        Ok(AppState {
            leptos_options,
            publisher: Arc::new(Publisher::new(pool.clone(), hub.clone(), backplane)),
            instance_id,
            hub,
            keys: JwtKeys::new(&secret),
            devices: DeviceCookies::new(&secret),
            hashers,
            pool,
            exports: Arc::new(PerUserSlots::new(EXPORTS_PER_USER)),
            limits: Arc::new(Limits::new(
                LoginLimits {
                    per_pair: config.login_failures_per_minute.get(),
                    per_address: config.login_failures_per_address_per_minute.get(),
                    per_account: config.login_failures_per_account_per_minute.get(),
                },
                config.publish_per_minute,
                config.user_tokens_per_minute,
            )),
            connections: Connections::new(config.connections.max_connections.get()),
            stream_workers: Arc::new(StreamWorkers::new(config.connections.stream_threads)),
            push,
            config: Arc::new(config),
        })
    }
}

fn instance_id() -> String {
    // Only a label: a failed draw still makes a usable, if less unique, one.
    let random = crate::server::random::hex_id(4).unwrap_or_default();
    format!("{}-{random}", std::process::id())
}

/// Demo accounts, created once; existing ones are left alone.
async fn seed_demo_users(pool: &Pool, hashers: &Hashers) -> Result<(), StartError> {
    for (name, role) in DEMO_USERS {
        if users::find_by_name(pool, name).await?.is_none() {
            let hash = hashers
                .hash(DEMO_PASSWORD)
                .await
                .map_err(|e| StartError::Hash(format!("demo passwords: {e}")))?;
            users::insert_if_absent(pool, name, &hash, role).await?;
        }
    }
    Ok(())
}

/// Without `HERALD_JWT_SECRET`, a random secret is generated once and kept
/// next to the database, so sessions survive restarts. The file is 0600,
/// and made so again at every start if someone loosened it.
fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, StartError> {
    let err = |source| StartError::Secret {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() >= 32 => {
            private_files::restrict_file(path).map_err(err)?;
            return Ok(bytes);
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let secret = crate::server::random::hex_id(32)
        .map_err(|e| err(std::io::Error::other(e.to_string())))?
        .into_bytes();
    if let Some(dir) = path.parent() {
        private_files::create_dir_all(dir).map_err(err)?;
    }
    private_files::write(path, &secret).map_err(err)?;
    tracing::info!(path = %path.display(), "generated a JWT signing secret");
    Ok(secret)
}

/// The VAPID key: `HERALD_VAPID_PRIVATE_KEY` (checked by the config), or
/// on SQLite one generated once and kept next to the database like the JWT
/// secret (0600), so subscriptions survive restarts. PostgreSQL without
/// the variable: no push (instances generating their own keys would sign
/// with keys the browsers never subscribed with).
fn vapid(config: &Config) -> Result<Option<Vapid>, StartError> {
    let subject = config.push.subject.clone();
    if let Some(key) = &config.push.private_key {
        let vapid =
            Vapid::from_base64(key.expose_secret(), subject).map_err(|e| StartError::Vapid {
                path: "HERALD_VAPID_PRIVATE_KEY".into(),
                reason: e.to_string(),
            })?;
        return Ok(Some(vapid));
    }
    if !config.database_url.as_str().starts_with("sqlite:") {
        return Ok(None);
    }
    let path = config.data_dir().join("vapid-private-key");
    let err = |reason: String| StartError::Vapid {
        path: path.display().to_string(),
        reason,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => {
            private_files::restrict_file(&path).map_err(|e| err(e.to_string()))?;
            text
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Vapid::generate().map_err(|e| err(e.to_string()))?;
            if let Some(dir) = path.parent() {
                private_files::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
            }
            private_files::write(&path, key.as_bytes()).map_err(|e| err(e.to_string()))?;
            tracing::info!(path = %path.display(), "generated a VAPID key for Web Push");
            key
        }
        Err(e) => return Err(err(e.to_string())),
    };
    Vapid::from_base64(&text, subject)
        .map(Some)
        .map_err(|e| err(e.to_string()))
}
