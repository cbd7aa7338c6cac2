//! Configuration, read once from the environment (and `.env`). A bad value
//! fails start-up with one line naming the variable.

use std::{
    net::SocketAddr,
    num::{NonZeroU32, NonZeroU64, NonZeroUsize},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use secrecy::{SecretSlice, SecretString};

use crate::server::{auth::AllowedOrigins, guard::client_addr::TrustedProxies};

#[derive(Clone, Debug)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub database_url: DatabaseUrl,
    /// HS256 signing secret. `None` means "generate one and keep it in the data dir".
    pub jwt_secret: Option<SecretSlice<u8>>,
    pub ping_interval: Duration,
    pub demo: bool,
    /// In demo mode, a week of example notifications in an empty log
    /// (`HERALD_DEMO_SEED`, default on; the tests turn it off).
    pub demo_seed: bool,
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    /// Per-client queue length before the client is told to `resync`.
    pub client_queue: NonZeroUsize,
    /// How often open streams are checked against revoked or expired sessions.
    pub session_sweep: Duration,
    /// Bearer token for `/metrics`; without it only loopback callers may scrape.
    pub metrics_token: Option<SecretString>,
    /// Pace of the demo export's progress steps (ten of them).
    pub export_step: Duration,
    /// How often scheduled and expiring announcements are checked.
    pub scheduler_tick: Duration,
    /// Announcements one admin may send per minute (429 beyond).
    pub publish_per_minute: u32,
    /// Failed sign-ins allowed per minute for one account from one client
    /// address (or one known browser).
    pub login_failures_per_minute: NonZeroU32,
    /// Export files older than this are deleted by the sweeper.
    pub export_retention: Duration,
    /// Failed sign-ins allowed per minute from one client address across all
    /// accounts (password spraying; an office behind one NAT shares it).
    pub login_failures_per_address_per_minute: NonZeroU32,
    /// Failed sign-ins allowed per minute for one account from browsers that
    /// never signed in to it (distributed guessing; known browsers are exempt).
    pub login_failures_per_account_per_minute: NonZeroU32,
    /// Peers whose `X-Forwarded-For` names the client (`HERALD_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Password hashes run at once (`HERALD_PASSWORD_HASHERS`; default: cores).
    pub password_hashers: NonZeroUsize,
    /// Connection limits (first byte, head, writes, caps): `net/listener` says how each is used.
    pub connections: ConnectionLimits,
    /// Webhook endpoints on loopback or private addresses are allowed
    /// (`HERALD_WEBHOOK_ALLOW_PRIVATE=1`; tests, a receiver on the same host).
    pub webhook_allow_private: bool,
    /// The first retry's delay of a failed webhook; it doubles each time
    /// (`HERALD_WEBHOOK_RETRY_BASE_MS`, default 5000).
    pub webhook_retry_base: Duration,
    /// Origins whose pages may use user tokens and get CORS answers on the
    /// user routes (`HERALD_ALLOWED_ORIGINS`, comma-separated, exact).
    pub allowed_origins: AllowedOrigins,
    /// How long a user token a host app asks for lives (`HERALD_USER_TOKEN_SECS`, default 600).
    pub user_token_ttl: Duration,
    /// User tokens one key may ask for per minute (`HERALD_USER_TOKENS_PER_MINUTE`,
    /// default 6000: 60,000 users' pages each renewing every ten minutes).
    pub user_tokens_per_minute: u32,
    /// Escalation (docs/escalation.md): on when `HERALD_SMTP_URL` is set
    /// (email) or Web Push can be (`push`: a VAPID key configured, or
    /// SQLite, where one is generated).
    pub escalation: Option<EscalationConfig>,
    /// Web Push's VAPID key and contact.
    pub push: PushConfig,
    /// The shortest escalation delay a category or a user may set
    /// (`HERALD_ESCALATE_MIN_SECS`, default 60; tests lower it).
    pub escalate_min_secs: u32,
}

/// Escalation's settings: email when `smtp` is set, Web Push when the
/// server has a VAPID key (`AppState::push`).
#[derive(Clone, Debug)]
pub struct EscalationConfig {
    pub smtp: Option<SmtpConfig>,
    /// `HERALD_ESCALATE_AFTER_SECS` (default 900): the delay when neither
    /// the category nor the user set one.
    pub after: Duration,
    /// `HERALD_ESCALATE_TICK_MS` (default 5000): how often a pass runs.
    pub tick: Duration,
    /// `HERALD_ESCALATE_RETRY_BASE_MS` (default 30000): a failed send's
    /// first retry; it doubles each time, up to an hour.
    pub retry_base: Duration,
    /// `HERALD_PUBLIC_URL` (default `http://` + `LEPTOS_SITE_ADDR`): where
    /// the emails' inbox link and relative links point, no trailing `/`.
    pub public_url: String,
}

/// Where escalation emails go out. The SMTP URL may carry credentials: it
/// is a secret, never logged.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// `HERALD_SMTP_URL`: `smtp://host:port` (STARTTLS with `?tls=required`)
    /// or `smtps://host:port`, optionally `user:password@`.
    pub url: SecretString,
    /// `HERALD_SMTP_FROM`: a mailbox (`Herald <herald@example.com>`).
    pub from: String,
}

/// Web Push (RFC 8292 VAPID). Without `HERALD_VAPID_PRIVATE_KEY`, SQLite
/// generates a key once and keeps it in the data dir; PostgreSQL (several
/// instances) has no push unless it is set, since every instance must sign
/// with the key the browsers subscribed with.
#[derive(Clone, Debug)]
pub struct PushConfig {
    /// `HERALD_VAPID_PRIVATE_KEY`: base64url of a 32-byte P-256 scalar
    /// (checked at start-up). A secret, never logged.
    pub private_key: Option<SecretString>,
    /// `HERALD_VAPID_SUBJECT`: `mailto:…` or `https://…`, the contact push
    /// services may use (Apple's requires one).
    pub subject: Option<String>,
}

impl PushConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<PushConfig, ConfigError> {
        let private_key = get("HERALD_VAPID_PRIVATE_KEY")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(key) = &private_key {
            // Never echo the value. (The same check as `push::Vapid`'s, here
            // so that config stays below the subsystems it configures.)
            use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
            let scalar = URL_SAFE_NO_PAD.decode(key.trim_end_matches('=')).ok();
            if scalar.is_none_or(|s| p256::SecretKey::from_slice(&s).is_err() || s.len() != 32) {
                return Err(ConfigError {
                    var: "HERALD_VAPID_PRIVATE_KEY",
                    reason: "must be the base64url of a 32-byte P-256 private key".into(),
                });
            }
        }
        let subject = get("HERALD_VAPID_SUBJECT")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(sub) = &subject {
            let ok = (sub.starts_with("mailto:") && sub.len() > 7 && sub.contains('@'))
                || (sub.starts_with("https://") && reqwest::Url::parse(sub).is_ok());
            if !ok || sub.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ConfigError {
                    var: "HERALD_VAPID_SUBJECT",
                    reason: format!(
                        "{sub:?}: expected mailto:someone@example.com or an https:// URL"
                    ),
                });
            }
        }
        Ok(PushConfig {
            private_key: private_key.map(SecretString::from),
            subject,
        })
    }
}

/// What one client may hold or take: see the top of `src/server/net/listener/mod.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From accepting a connection (or finishing a response on it) to having
    /// a whole request head: idle, slow and half-sent heads end here.
    pub header_timeout: Duration,
    /// How long one write to a client may wait for it to read.
    pub write_timeout: Duration,
    /// Open streams one user may hold at once (429 beyond).
    pub max_streams_per_user: NonZeroUsize,
    /// Open connections in all, on both paths (503 beyond).
    pub max_connections: NonZeroUsize,
    /// Whether a connection's first stream request is served on the socket.
    pub direct_streams: bool,
    /// Threads the direct streams are written from (`net::stream_workers`).
    pub stream_threads: NonZeroUsize,
}

/// `DATABASE_URL`, whose `Debug` hides a password in it (`postgres://u:***@h/db`):
/// with the secrets held as `secrecy` types, `Config`'s derived `Debug` is
/// safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for DatabaseUrl {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_ref()
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // scheme://user:password@host… → scheme://user:***@host…
        let url = &self.0;
        let masked = url.split_once("://").and_then(|(scheme, rest)| {
            let (userinfo, host) = rest.split_once('@')?;
            let (user, _) = userinfo.split_once(':')?;
            Some(format!("{scheme}://{user}:***@{host}"))
        });
        f.write_str(masked.as_deref().unwrap_or(url))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads from any lookup function, so tests need not touch the process env.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let site_addr = parse_or(
            &get,
            "LEPTOS_SITE_ADDR",
            "127.0.0.1:3000".parse().expect("valid literal"),
        )?;
        let database_url = get("DATABASE_URL")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "sqlite://data/herald.db".into());
        let database_url = DatabaseUrl(database_url);
        let postgres =
            database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
        if !database_url.starts_with("sqlite:") && !postgres {
            return Err(ConfigError {
                var: "DATABASE_URL",
                reason: "must be a sqlite: or postgres:// URL".into(),
            });
        }

        let jwt_secret = match get("HERALD_JWT_SECRET") {
            Some(s) if s.len() < 32 => {
                return Err(ConfigError {
                    var: "HERALD_JWT_SECRET",
                    reason: "must be at least 32 characters".into(),
                })
            }
            Some(s) => Some(SecretSlice::from(s.into_bytes())),
            None => None,
        };
        let ping_secs = at_least_one(
            &get,
            "HERALD_PING_SECS",
            const { NonZeroU64::new(15).unwrap() },
        )?
        .get();
        let session_hours: u64 = parse_or(&get, "HERALD_SESSION_HOURS", 24 * 7)?;
        let client_queue = at_least_one(
            &get,
            "HERALD_CLIENT_QUEUE",
            const { NonZeroUsize::new(256).unwrap() },
        )?;
        // With several instances, a session revoked on one is closed on the
        // others by this sweep: every second, so within a second.
        let sweep_default = if postgres {
            NonZeroU64::MIN
        } else {
            const { NonZeroU64::new(30).unwrap() }
        };
        let sweep_secs = at_least_one(&get, "HERALD_SESSION_SWEEP_SECS", sweep_default)?.get();
        let export_retention_hours: u64 = parse_or(&get, "HERALD_EXPORT_RETENTION_HOURS", 24)?;
        if !(1..=24 * 365).contains(&export_retention_hours) {
            return Err(ConfigError {
                var: "HERALD_EXPORT_RETENTION_HOURS",
                reason: "must be 1 to 8760 (hours)".into(),
            });
        }
        let password_hashers = at_least_one(
            &get,
            "HERALD_PASSWORD_HASHERS",
            crate::server::auth::password::Hashers::default_concurrency(),
        )?;
        // Minutes, as the issue asks: long enough for a page's life between
        // two fetches of a new one, short enough that a leaked one soon dies.
        let user_token_secs: u64 = parse_or(&get, "HERALD_USER_TOKEN_SECS", 600)?;
        if !(1..=86_400).contains(&user_token_secs) {
            return Err(ConfigError {
                var: "HERALD_USER_TOKEN_SECS",
                reason: "must be 1 to 86400 (seconds)".into(),
            });
        }
        let escalate_min_secs: u32 = parse_or(
            &get,
            "HERALD_ESCALATE_MIN_SECS",
            crate::model::category::ESCALATE_AFTER_MIN_SECS,
        )?;
        if !(1..=crate::model::category::ESCALATE_AFTER_MAX_SECS).contains(&escalate_min_secs) {
            return Err(ConfigError {
                var: "HERALD_ESCALATE_MIN_SECS",
                reason: "must be 1 to 604800 (seconds)".into(),
            });
        }
        let push = PushConfig::from_lookup(&get)?;
        let push_possible = push.private_key.is_some() || !postgres;
        let escalation =
            EscalationConfig::from_lookup(&get, site_addr, escalate_min_secs, push_possible)?;
        Ok(Config {
            site_addr,
            database_url,
            jwt_secret,
            ping_interval: Duration::from_secs(ping_secs),
            demo: parse_flag(&get, "HERALD_DEMO")?,
            demo_seed: parse_flag_or(&get, "HERALD_DEMO_SEED", true)?,
            secure_cookies: parse_flag(&get, "HERALD_SECURE_COOKIES")?,
            session_ttl: Duration::from_secs(session_hours * 3600),
            client_queue,
            session_sweep: Duration::from_secs(sweep_secs),
            metrics_token: get("HERALD_METRICS_TOKEN")
                .filter(|t| !t.trim().is_empty())
                .map(SecretString::from),
            export_step: Duration::from_millis(parse_or(&get, "HERALD_EXPORT_STEP_MS", 300)?),
            scheduler_tick: Duration::from_millis(
                parse_or(&get, "HERALD_SCHEDULER_MS", 1000)?.max(10),
            ),
            publish_per_minute: parse_or(&get, "HERALD_PUBLISH_PER_MINUTE", 1200)?,
            export_retention: Duration::from_secs(export_retention_hours * 3600),
            login_failures_per_minute: at_least_one(
                &get,
                "HERALD_LOGIN_FAILURES_PER_MINUTE",
                const { NonZeroU32::new(10).unwrap() },
            )?,
            login_failures_per_address_per_minute: at_least_one(
                &get,
                "HERALD_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE",
                const { NonZeroU32::new(100).unwrap() },
            )?,
            login_failures_per_account_per_minute: at_least_one(
                &get,
                "HERALD_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE",
                const { NonZeroU32::new(50).unwrap() },
            )?,
            trusted_proxies: parse_or(&get, "HERALD_TRUSTED_PROXIES", TrustedProxies::default())?,
            password_hashers,
            connections: ConnectionLimits::from_lookup(&get)?,
            webhook_allow_private: parse_flag(&get, "HERALD_WEBHOOK_ALLOW_PRIVATE")?,
            webhook_retry_base: Duration::from_millis(
                parse_or(&get, "HERALD_WEBHOOK_RETRY_BASE_MS", 5000)?.max(10),
            ),
            allowed_origins: parse_or(&get, "HERALD_ALLOWED_ORIGINS", AllowedOrigins::default())?,
            user_token_ttl: Duration::from_secs(user_token_secs),
            user_tokens_per_minute: parse_or(&get, "HERALD_USER_TOKENS_PER_MINUTE", 6000)?,
            escalation,
            push,
            escalate_min_secs,
        })
    }

    /// What serving needs beyond what any command does. Several instances
    /// share one PostgreSQL: a secret generated by each would make every
    /// session valid on one instance only. (The CLI signs nothing.)
    pub fn check_for_serving(&self) -> Result<(), ConfigError> {
        let postgres = !self.database_url.starts_with("sqlite:");
        if postgres && self.jwt_secret.is_none() {
            return Err(ConfigError {
                var: "HERALD_JWT_SECRET",
                reason: "is required with PostgreSQL (every instance must sign sessions with the same secret)".into(),
            });
        }
        Ok(())
    }

    /// Where export files live (0700).
    pub fn exports_dir(&self) -> PathBuf {
        self.data_dir().join("exports")
    }

    /// Directory that holds the SQLite file (and the generated JWT secret).
    pub fn data_dir(&self) -> PathBuf {
        if !self.database_url.starts_with("sqlite:") {
            // PostgreSQL: files of this instance (exports) stay local.
            return PathBuf::from("data");
        }
        let path = self
            .database_url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        PathBuf::from(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

impl EscalationConfig {
    /// `None` unless `HERALD_SMTP_URL` is set or Web Push is possible
    /// (`push_possible`); every value is checked here, so a typo fails
    /// start-up instead of the first email.
    fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        site_addr: SocketAddr,
        min_secs: u32,
        push_possible: bool,
    ) -> Result<Option<Self>, ConfigError> {
        let smtp = SmtpConfig::from_lookup(get)?;
        if smtp.is_none() && !push_possible {
            return Ok(None);
        }
        let max = crate::model::category::ESCALATE_AFTER_MAX_SECS;
        let after: u32 = parse_or(get, "HERALD_ESCALATE_AFTER_SECS", 900)?;
        if !(min_secs..=max).contains(&after) {
            return Err(ConfigError {
                var: "HERALD_ESCALATE_AFTER_SECS",
                reason: format!("must be {min_secs} to {max} (seconds)"),
            });
        }
        let tick_ms: u64 = parse_or(get, "HERALD_ESCALATE_TICK_MS", 5000)?;
        if !(10..=600_000).contains(&tick_ms) {
            return Err(ConfigError {
                var: "HERALD_ESCALATE_TICK_MS",
                reason: "must be 10 to 600000 (milliseconds)".into(),
            });
        }
        let retry_ms: u64 = parse_or(get, "HERALD_ESCALATE_RETRY_BASE_MS", 30_000)?;
        if !(10..=3_600_000).contains(&retry_ms) {
            return Err(ConfigError {
                var: "HERALD_ESCALATE_RETRY_BASE_MS",
                reason: "must be 10 to 3600000 (milliseconds)".into(),
            });
        }
        let public_url = get("HERALD_PUBLIC_URL")
            .map(|v| v.trim().trim_end_matches('/').to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| format!("http://{site_addr}"));
        let public_ok = (public_url.starts_with("http://") || public_url.starts_with("https://"))
            && !public_url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if !public_ok {
            return Err(ConfigError {
                var: "HERALD_PUBLIC_URL",
                reason: format!("{public_url:?}: expected an http:// or https:// URL"),
            });
        }
        Ok(Some(EscalationConfig {
            smtp,
            after: Duration::from_secs(after.into()),
            tick: Duration::from_millis(tick_ms),
            retry_base: Duration::from_millis(retry_ms),
            public_url,
        }))
    }
}

impl SmtpConfig {
    /// `None` unless `HERALD_SMTP_URL` is set; then `HERALD_SMTP_FROM` is required.
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let Some(url) = get("HERALD_SMTP_URL").filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let url = url.trim().to_string();
        let scheme_ok = url.starts_with("smtp://") || url.starts_with("smtps://");
        // Never echo the value: it may hold a password.
        if !scheme_ok
            || lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url).is_err()
        {
            return Err(ConfigError {
                var: "HERALD_SMTP_URL",
                reason: "must be smtp://host:port or smtps://host:port".into(),
            });
        }
        let from = get("HERALD_SMTP_FROM")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ConfigError {
                var: "HERALD_SMTP_FROM",
                reason: "is required with HERALD_SMTP_URL".into(),
            })?;
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError {
                var: "HERALD_SMTP_FROM",
                reason: format!("{from:?}: expected an address like Herald <herald@example.com>"),
            });
        }
        Ok(Some(SmtpConfig {
            url: SecretString::from(url),
            from,
        }))
    }
}

fn parse_or<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(var) {
        None => Ok(default),
        Some(v) if v.trim().is_empty() => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError {
            var,
            reason: format!("{v:?}: {e}"),
        }),
    }
}

/// A count or period where 0 makes no sense (a queue of none, a ping every
/// 0 s, no sign-in allowed): parsed as a `NonZero*`, so the rest of the
/// code cannot hold a zero, with a clear line naming the variable.
fn at_least_one<N>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: N,
) -> Result<N, ConfigError>
where
    N: FromStr,
{
    let Some(raw) = get(var).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    let raw = raw.trim();
    raw.parse::<N>().map_err(|_| ConfigError {
        var,
        reason: match raw.parse::<u64>() {
            Ok(0) => "must be at least 1".into(),
            _ => format!("{raw:?}: expected a whole number, at least 1"),
        },
    })
}

/// The machine's cores, as the runtime counts them (1 when unknown).
fn cores() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

impl ConnectionLimits {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let max_streams_per_user = at_least_one(
            get,
            "HERALD_MAX_STREAMS_PER_USER",
            const { NonZeroUsize::new(16).unwrap() },
        )?;
        let max_connections = at_least_one(
            get,
            "HERALD_MAX_CONNECTIONS",
            default_max_connections(open_files_limit()),
        )?;
        Ok(ConnectionLimits {
            header_timeout: parse_secs(get, "HERALD_HEADER_TIMEOUT_SECS", 10.0)?,
            write_timeout: parse_secs(get, "HERALD_WRITE_TIMEOUT_SECS", 30.0)?,
            max_streams_per_user,
            max_connections,
            direct_streams: parse_flag_or(get, "HERALD_DIRECT_STREAMS", true)?,
            stream_threads: at_least_one(get, "HERALD_STREAM_THREADS", cores())?,
        })
    }
}

/// File descriptors the process keeps for itself beyond client sockets: the
/// listener, SQLite's files, the blocking pool's files, logs, exports.
const FD_HEADROOM: u64 = 256;
/// Past this, memory (not descriptors) is what runs out first.
const MAX_CONNECTIONS_CEILING: u64 = 50_000;

/// The connection cap when none is set: the open-files limit minus headroom,
/// so the cap answers 503 before `accept` starts failing with EMFILE.
fn default_max_connections(open_files: Option<u64>) -> NonZeroUsize {
    let limit = open_files.unwrap_or(1024);
    let cap = limit
        .saturating_sub(FD_HEADROOM)
        .clamp(1, MAX_CONNECTIONS_CEILING) as usize;
    NonZeroUsize::new(cap).unwrap_or(NonZeroUsize::MIN)
}

/// The soft `RLIMIT_NOFILE`, if the platform tells.
fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct we pass, which outlives the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every unix
            return Some(limit.rlim_cur as u64);
        }
    }
    None
}

/// A duration in seconds, fractions allowed ("0.5"), greater than zero.
fn parse_secs(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: f64,
) -> Result<Duration, ConfigError> {
    let secs: f64 = parse_or(get, var, default)?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| ConfigError {
            var,
            reason: format!("{secs}: expected a number of seconds above 0"),
        })
}

fn parse_flag(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, ConfigError> {
    parse_flag_or(get, var, false)
}

fn parse_flag_or(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(var).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ConfigError {
            var,
            reason: format!("{other:?}: expected 1 or 0"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_demo_layout() {
        let c = config(&[]).unwrap();
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url.as_str(), "sqlite://data/herald.db");
        assert_eq!(c.data_dir(), PathBuf::from("data"));
        assert_eq!(c.ping_interval, Duration::from_secs(15));
        assert!(!c.demo);
    }

    #[test]
    fn postgres_needs_a_shared_secret() {
        let url = ("DATABASE_URL", "postgres://h@127.0.0.1/herald");
        let without = config(&[url]).expect("the CLI needs no secret");
        assert_eq!(
            without.check_for_serving().unwrap_err().var,
            "HERALD_JWT_SECRET"
        );
        let secret = ("HERALD_JWT_SECRET", "0123456789abcdef0123456789abcdef");
        assert!(config(&[url, secret]).unwrap().check_for_serving().is_ok());
        assert!(
            config(&[]).unwrap().check_for_serving().is_ok(),
            "SQLite keeps its own"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            config(&[("HERALD_PING_SECS", "soon")]).unwrap_err().var,
            "HERALD_PING_SECS"
        );
        assert_eq!(
            config(&[("HERALD_DEMO", "yes")]).unwrap_err().var,
            "HERALD_DEMO"
        );
        assert_eq!(
            config(&[("LEPTOS_SITE_ADDR", "nowhere")]).unwrap_err().var,
            "LEPTOS_SITE_ADDR"
        );
        assert_eq!(
            config(&[("HERALD_JWT_SECRET", "short")]).unwrap_err().var,
            "HERALD_JWT_SECRET"
        );
        assert_eq!(
            config(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var,
            "DATABASE_URL"
        );
        for (var, bad) in [
            ("HERALD_TRUSTED_PROXIES", "10.0.0.1, nginx"),
            ("HERALD_PASSWORD_HASHERS", "0"),
            ("HERALD_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE", "-1"),
            ("HERALD_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE", "many"),
            ("HERALD_LOGIN_FAILURES_PER_MINUTE", "0"),
        ] {
            let err = config(&[(var, bad)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(
                err.to_string().starts_with(&format!("invalid {var}:")),
                "{err}"
            );
        }
    }

    #[test]
    fn trusted_proxies_default_to_none() {
        assert!(config(&[]).unwrap().trusted_proxies.is_empty());
        let c = config(&[("HERALD_TRUSTED_PROXIES", "127.0.0.1, ::1, 10.0.0.0/8")]).unwrap();
        assert!(c.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
        assert!(!c.trusted_proxies.contains("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn export_retention_is_whole_hours_with_a_day_by_default() {
        assert_eq!(
            config(&[]).unwrap().export_retention,
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            config(&[("HERALD_EXPORT_RETENTION_HOURS", "2")])
                .unwrap()
                .export_retention,
            Duration::from_secs(7200)
        );
        for bad in ["0", "-1", "a day", "9999"] {
            assert_eq!(
                config(&[("HERALD_EXPORT_RETENTION_HOURS", bad)])
                    .unwrap_err()
                    .var,
                "HERALD_EXPORT_RETENTION_HOURS"
            );
        }
    }

    #[test]
    fn connection_limits_have_safe_defaults_and_name_bad_values() {
        let c = config(&[]).unwrap().connections;
        assert_eq!(c.header_timeout, Duration::from_secs(10));
        assert_eq!(c.write_timeout, Duration::from_secs(30));
        assert_eq!(c.max_streams_per_user.get(), 16);
        assert!(c.max_connections.get() >= 1);
        assert!(c.direct_streams);

        let c = config(&[
            ("HERALD_HEADER_TIMEOUT_SECS", "0.25"),
            ("HERALD_MAX_CONNECTIONS", "7"),
            ("HERALD_DIRECT_STREAMS", "0"),
        ])
        .unwrap()
        .connections;
        assert_eq!(c.header_timeout, Duration::from_millis(250));
        assert_eq!(c.max_connections.get(), 7);
        assert!(!c.direct_streams);

        for (var, value) in [
            ("HERALD_HEADER_TIMEOUT_SECS", "0"),
            ("HERALD_HEADER_TIMEOUT_SECS", "-1"),
            ("HERALD_WRITE_TIMEOUT_SECS", "soon"),
            ("HERALD_MAX_STREAMS_PER_USER", "0"),
            ("HERALD_MAX_CONNECTIONS", "0"),
            ("HERALD_MAX_CONNECTIONS", "many"),
            ("HERALD_DIRECT_STREAMS", "off"),
        ] {
            assert_eq!(
                config(&[(var, value)]).unwrap_err().var,
                var,
                "{var}={value}"
            );
        }
    }

    #[test]
    fn the_default_connection_cap_leaves_descriptors_for_the_process() {
        assert_eq!(default_max_connections(Some(1024)).get(), 768);
        assert_eq!(default_max_connections(Some(1_048_576)).get(), 50_000);
        assert_eq!(default_max_connections(Some(100)).get(), 1);
        assert_eq!(default_max_connections(None).get(), 768);
    }

    #[test]
    fn escalation_is_off_without_an_smtp_url_and_checked_with_one() {
        assert!(config(&[]).unwrap().escalation.unwrap().smtp.is_none());
        let url = ("HERALD_SMTP_URL", "smtp://user:hunter2@127.0.0.1:2525");
        let from = ("HERALD_SMTP_FROM", "Herald <herald@example.com>");
        let on = config(&[url, from]).unwrap().escalation.expect("on");
        assert!(on.smtp.is_some());
        assert_eq!(on.after, Duration::from_secs(900));
        assert!(
            !format!("{on:?}").contains("hunter2"),
            "the URL is a secret"
        );
        assert_eq!(config(&[url]).unwrap_err().var, "HERALD_SMTP_FROM");
        for (var, bad) in [
            ("HERALD_SMTP_URL", "http://mail.example.com"),
            ("HERALD_SMTP_URL", "smtp://"),
            ("HERALD_SMTP_FROM", "not an address"),
            ("HERALD_ESCALATE_AFTER_SECS", "5"),
            ("HERALD_ESCALATE_AFTER_SECS", "9999999"),
            ("HERALD_ESCALATE_TICK_MS", "0"),
            ("HERALD_PUBLIC_URL", "ftp://x"),
        ] {
            let err = config(&[url, from, (var, bad)]).unwrap_err();
            assert_eq!(err.var, var, "{var}={bad}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let fast = [
            url,
            from,
            ("HERALD_ESCALATE_MIN_SECS", "1"),
            ("HERALD_ESCALATE_AFTER_SECS", "2"),
        ];
        assert_eq!(
            config(&fast).unwrap().escalation.unwrap().after,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn the_vapid_key_and_subject_are_checked_and_the_key_never_shown() {
        let key = crate::server::push::Vapid::generate().unwrap();
        let c = config(&[
            ("HERALD_VAPID_PRIVATE_KEY", &key),
            ("HERALD_VAPID_SUBJECT", "mailto:ops@example.com"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains(&key), "the key is a secret");
        assert_eq!(c.push.subject.as_deref(), Some("mailto:ops@example.com"));
        for (var, bad) in [
            ("HERALD_VAPID_PRIVATE_KEY", "not-a-key"),
            (
                "HERALD_VAPID_PRIVATE_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
            ("HERALD_VAPID_SUBJECT", "ops@example.com"),
            ("HERALD_VAPID_SUBJECT", "http://example.com"),
        ] {
            let err = config(&[(var, bad)]).unwrap_err();
            assert_eq!(err.var, var, "{var}={bad}");
            assert!(!err.to_string().contains("not-a-key"), "{err}");
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let c = config(&[(
            "HERALD_JWT_SECRET",
            "0123456789abcdef0123456789abcdef-secret",
        )])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }
}
