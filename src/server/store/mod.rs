//! Persistence through sqlx. SQLite is the embedded default; every query here
//! is plain SQL that PostgreSQL also accepts, to keep that door open.

pub mod announcements;
pub mod audit;
pub mod funnel;
pub mod idempotency;
pub mod log;
pub mod notifications;
pub mod sessions;
pub mod users;

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};
use std::{path::Path, str::FromStr, time::Duration};

use super::private_files;

pub type Pool = SqlitePool;

/// A write transaction; see [`begin_write`].
pub type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Opens (creating the file and its directory if needed) and migrates. The
/// database and its `-wal`/`-shm` are made 0600 (see `private_files`).
pub async fn open(database_url: &str) -> Result<Pool, StoreError> {
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
async fn backup_before_conversion(pool: &Pool, db: &Path) -> Result<(), StoreError> {
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
pub async fn begin_write(pool: &Pool) -> Result<Tx, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    Ok(tx.commit().await?)
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
