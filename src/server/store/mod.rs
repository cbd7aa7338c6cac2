//! Persistence through sqlx, on SQLite (the embedded default) or PostgreSQL,
//! chosen by `DATABASE_URL`. The SQL is shared; `dialect` adjusts its
//! spelling, and the few places where the backends differ in meaning match
//! on [`Backend`].

pub mod announcements;
pub mod api_keys;
pub mod audit;
pub mod categories;
pub mod clicks;
mod columns;
pub mod control;
pub mod demo;
pub mod dialect;
pub mod escalations;
pub mod funnel;
pub mod idempotency;
pub mod instances;
pub mod log;
pub mod notifications;
pub mod preferences;
pub mod push;
pub mod sessions;
pub mod snoozes;
pub mod stream_tickets;
pub mod users;
pub mod webhooks;

use sqlx::postgres::PgPool;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};
use std::{path::Path, str::FromStr, time::Duration};

pub use dialect::{Backend, Conn};

use crate::server::private_files;

/// A pool of either backend.
#[derive(Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction of either backend; see [`begin_write`] and [`begin_read`].
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Its connection, for one query (see `dialect::fetch!`).
    pub fn re(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// A pooled connection of either backend.
pub enum PoolConn {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl PoolConn {
    pub fn re(&mut self) -> Conn<'_> {
        match self {
            PoolConn::Sqlite(c) => Conn::Sqlite(&mut *c),
            PoolConn::Postgres(c) => Conn::Postgres(&mut *c),
        }
    }
}

impl Pool {
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn acquire(&self) -> Result<PoolConn, StoreError> {
        Ok(match self {
            Pool::Sqlite(p) => PoolConn::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => PoolConn::Postgres(p.acquire().await?),
        })
    }

    /// The SQLite pool, for what only SQLite has (tests, and the backup taken
    /// before the event-log migration converts an older database).
    pub fn as_sqlite(&self) -> Option<&SqlitePool> {
        match self {
            Pool::Sqlite(p) => Some(p),
            Pool::Postgres(_) => None,
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A group commit failed: every turn in the group gets the one error
    /// (`delivery::publisher`).
    #[error("{0}")]
    Group(std::sync::Arc<StoreError>),
}

impl StoreError {
    /// The database could not be reached or refused work for now (down,
    /// restarting, every connection busy): a clear 503, not a 500.
    pub fn is_unavailable(&self) -> bool {
        let err = match self {
            StoreError::Sqlx(err) => err,
            StoreError::Group(shared) => return shared.is_unavailable(),
            _ => return false,
        };
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // PostgreSQL: connection exceptions (08…), shutting down or
                // starting up (57P01–57P03). SQLite: busy or locked (5, 6).
                code.starts_with("08")
                    || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "5" | "6")
            }
            _ => false,
        }
    }
}

/// Opens the database `DATABASE_URL` names and migrates it: PostgreSQL for
/// `postgres://` or `postgresql://`, SQLite otherwise.
pub async fn open(database_url: &str) -> Result<Pool, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        open_postgres(database_url).await
    } else {
        open_sqlite(database_url).await.map(Pool::Sqlite)
    }
}

/// Several instances may start together on an empty database: sqlx's
/// migrator takes an advisory lock on PostgreSQL, so one applies them and
/// the others find them applied.
async fn open_postgres(database_url: &str) -> Result<Pool, StoreError> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect(database_url)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(Pool::Postgres(pool))
}

/// Creates the file and its directory if needed. The database and its
/// `-wal`/`-shm` are made 0600 (see `private_files`).
async fn open_sqlite(database_url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        // WAL lets readers (inbox pages, stream replays) run while a broadcast writes.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let file = options.get_filename().to_path_buf();
    let on_disk = !(database_url.contains(":memory:") || database_url.contains("mode=memory"));
    if on_disk {
        if let Some(parent) = file.parent() {
            if !parent.as_os_str().is_empty() {
                private_files::create_dir_all(parent)?;
            }
        }
        // Created here, 0600, before SQLite would create it 0644.
        private_files::create_if_missing(&file)?;
        secure_files(&file)?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    if on_disk {
        backup_before_conversion(&pool, &file).await?;
    }
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    if on_disk {
        // The -wal and -shm SQLite just made (it copies the database's mode).
        secure_files(&file)?;
    }
    Ok(pool)
}

/// The event-log conversion (`migrations/sqlite/*_event_log_convert.sql`) drops the
/// per-recipient copies, so while it is pending (`notifications` still
/// exists) the database is first copied, whole and consistent, next to
/// itself as `<db>.pre-event-log` (0600). An existing non-empty copy is kept:
/// it is the one made before the first attempt.
async fn backup_before_conversion(pool: &SqlitePool, db: &Path) -> Result<(), StoreError> {
    let pending: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'notifications'",
    )
    .fetch_optional(pool)
    .await?;
    if pending.is_none() {
        return Ok(());
    }
    let (copies,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notifications")
        .fetch_one(pool)
        .await?;
    let mut backup = db.as_os_str().to_owned();
    backup.push(".pre-event-log");
    let backup = std::path::PathBuf::from(backup);
    if std::fs::metadata(&backup).map_or(true, |m| m.len() == 0) {
        // Created empty and 0600 first: VACUUM INTO fills an empty file and
        // would otherwise create it with the default mode.
        private_files::create_if_missing(&backup)?;
        private_files::restrict_file(&backup)?;
        sqlx::query("VACUUM INTO ?")
            .bind(backup.to_string_lossy().into_owned())
            .execute(pool)
            .await?;
        private_files::restrict_file(&backup)?;
    }
    tracing::info!(
        "converting {copies} notifications into the event log (backup at {})",
        backup.display()
    );
    Ok(())
}

/// The database file and its WAL companions: 0600 at every start.
fn secure_files(db: &Path) -> std::io::Result<()> {
    private_files::restrict_file(db)?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = db.as_os_str().to_owned();
        companion.push(suffix);
        private_files::restrict_file(Path::new(&companion))?;
    }
    Ok(())
}

/// Starts a transaction that will write. `BEGIN IMMEDIATE` takes SQLite's
/// write lock up front, waiting for it up to the busy timeout. A DEFERRED
/// transaction that reads first and writes later fails at once with
/// `SQLITE_BUSY_SNAPSHOT` when another writer committed in between (no busy
/// timeout can help: its snapshot is stale), which under broadcasts turned
/// mark-read into 500s. Every transaction that writes starts here.
///
/// On PostgreSQL writers run concurrently under read committed; what must
/// be serial (appending to the log) takes the publishing lock itself.
pub async fn begin_write(pool: &Pool) -> Result<Tx, StoreError> {
    Ok(match pool {
        Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
    })
}

/// A read-only transaction: every query in it sees one snapshot (an inbox
/// page, its count and the head it resumes after must agree). SQLite's
/// deferred transaction takes its WAL snapshot at the first read;
/// PostgreSQL needs repeatable read for one snapshot across statements.
pub async fn begin_read(pool: &Pool) -> Result<Tx, StoreError> {
    Ok(match pool {
        Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
        Pool::Postgres(p) => Tx::Postgres(
            p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?,
        ),
    })
}

pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    tx.commit().await
}

/// Milliseconds since the Unix epoch: how times are stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 (UTC, millisecond precision) for a stored time.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_formats_milliseconds() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
