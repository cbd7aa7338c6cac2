//! A throwaway PostgreSQL for the tests, and the tests of the PostgreSQL
//! schema (`migrations/postgres/`).
//!
//! [`PgCluster::shared`] starts one cluster per test process, on first use:
//! `initdb` into `$TMPDIR/herald-test-pg-<pid>-<n>` (as the `postgres` user when
//! the tests run as root: PostgreSQL refuses to run as root), trust
//! authentication, a free loopback port, no fsync. [`PgCluster::database`]
//! hands each test a fresh database on it. A test that stops or restarts the
//! server takes a [`PgCluster::start_private`] one instead, so it does not
//! pull the database from under the others.
//!
//! Cleanup, whatever the way out: a private cluster stops on drop; the shared
//! one, which is a static and never dropped, stops in an `atexit` handler;
//! and every cluster has a watchdog process (in its own process group, so a
//! Ctrl-C does not take it along) that stops the server and removes the
//! directory once the test process is gone, which also covers a panic that
//! aborts, a SIGKILL and a timeout. A start also sweeps directories left by
//! dead test processes.
//!
//! PostgreSQL missing (no `initdb`/`pg_ctl` under `/usr/lib/postgresql/*/bin`
//! or on `PATH`, or in `HERALD_PG_BINDIR` when that is set, or running as
//! root without a `postgres` user): every test that needs it FAILS, with one
//! line saying what is missing — a test that returned early would be counted
//! as passed and say nothing. `HERALD_SKIP_POSTGRES=1` is the developer's
//! explicit opt-out: each such test then prints
//! `SKIPPED (no PostgreSQL): <test>` on stderr (past the test harness's
//! capture, so it shows in a plain `cargo test`) and returns. It does not
//! apply under `CI=true`, nor to a `HERALD_TEST_BACKEND=postgres` pass,
//! which asks for PostgreSQL by name. `make test` installs PostgreSQL first
//! (`scripts/install-tools.sh --test`), so it never skips.

use std::{
    collections::BTreeSet,
    ffi::CString,
    io::Write,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    str::FromStr,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Mutex, OnceLock,
    },
    time::Instant,
};

use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
    Connection, PgConnection, PgPool, SqlitePool,
};

/// Next cluster directory and next database name, process-wide.
static NEXT_CLUSTER: AtomicU64 = AtomicU64::new(0);
static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);
/// Tests skipped under `HERALD_SKIP_POSTGRES=1`, for the count at exit.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);
/// The cluster, or why PostgreSQL is missing.
static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();

pub struct PgCluster {
    bin: PathBuf,
    /// Holds `data/`, the server's `log` and its Unix socket.
    dir: PathBuf,
    port: u16,
    /// The `postgres` user's (uid, gid) when running as root.
    owner: Option<(u32, u32)>,
    watchdog: Mutex<Option<Child>>,
}

/// Why there is no cluster: PostgreSQL is not installed (a failure, or a
/// visible skip under `HERALD_SKIP_POSTGRES=1`), or it is and would not
/// start (always a failure).
enum StartError {
    Missing(String),
    Failed(String),
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The developer's opt-out for a machine without PostgreSQL (see the top
/// of this file); never under CI.
fn skip_allowed() -> bool {
    std::env::var("HERALD_SKIP_POSTGRES").is_ok_and(|v| v == "1") && !in_ci()
}

/// PostgreSQL is missing: fails the calling test, or, under the opt-out,
/// says the test was skipped. Written to the stderr handle itself: the test
/// harness captures `eprintln!` of passing tests, and a skip nobody sees is
/// what this replaces. The test's name is its thread's (libtest names each
/// test thread after its test; `#[tokio::test]` runs the body on it).
fn missing(why: &str, skippable: bool) {
    if !(skippable && skip_allowed()) {
        panic!(
            "PostgreSQL is missing: {why}. scripts/install-tools.sh --test installs it; \
             HERALD_SKIP_POSTGRES=1 skips the tests that need it (not under CI=true, \
             nor with HERALD_TEST_BACKEND=postgres)"
        );
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("(unnamed test)");
    let _ = writeln!(std::io::stderr(), "SKIPPED (no PostgreSQL): {test} ({why})");
    // libtest counts each of them as passed: a count after its summary line
    // says how many of those checked nothing.
    if SKIPPED.fetch_add(1, Ordering::Relaxed) == 0 {
        extern "C" fn count_skipped() {
            let n = SKIPPED.load(Ordering::Relaxed);
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED (no PostgreSQL): {n} test(s) counted as passed above checked nothing"
            );
        }
        // SAFETY: registers a plain function that only writes to stderr.
        unsafe { libc::atexit(count_skipped) };
    }
}

impl PgCluster {
    /// The process's cluster, started on first use. `None` only under
    /// `HERALD_SKIP_POSTGRES=1` when PostgreSQL is missing, after the
    /// `SKIPPED` line; the caller's test then returns.
    pub fn shared() -> Option<&'static PgCluster> {
        Self::shared_or_missing(true)
    }

    /// The shared cluster for a caller that cannot be skipped: a
    /// `HERALD_TEST_BACKEND=postgres` pass asked for PostgreSQL by name.
    pub fn required() -> &'static PgCluster {
        Self::shared_or_missing(false).expect("missing() panics when not skippable")
    }

    fn shared_or_missing(skippable: bool) -> Option<&'static PgCluster> {
        let started = SHARED.get_or_init(|| match Self::start() {
            Ok(cluster) => {
                extern "C" fn stop_shared() {
                    if let Some(Ok(cluster)) = SHARED.get() {
                        cluster.remove();
                    }
                }
                // SAFETY: registers a plain function; it only runs
                // processes and removes files.
                unsafe { libc::atexit(stop_shared) };
                Ok(cluster)
            }
            Err(StartError::Missing(why)) => Err(why),
            Err(StartError::Failed(why)) => panic!("PostgreSQL would not start: {why}"),
        });
        match started {
            Ok(cluster) => Some(cluster),
            Err(why) => {
                missing(why, skippable);
                None
            }
        }
    }

    /// A cluster of the caller's own, for a test that stops or restarts it;
    /// stopped and removed on drop. `None` as for [`Self::shared`].
    pub fn start_private() -> Option<PgCluster> {
        Self::shared()?;
        match Self::start() {
            Ok(cluster) => Some(cluster),
            Err(StartError::Missing(why) | StartError::Failed(why)) => {
                panic!("PostgreSQL would not start: {why}")
            }
        }
    }

    /// Its loopback port (`url` gives whole URLs).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name`, as the `postgres` superuser (trust).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A fresh, empty database (`t_<n>`); returns its URL.
    pub async fn database(&self) -> String {
        let name = format!("t_{}", NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
        let mut conn = PgConnection::connect(&self.url("postgres"))
            .await
            .expect("connect to the test cluster");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
        self.url(&name)
    }

    /// `pg_ctl stop -m <mode>` (`smart`, `fast` or `immediate`), waiting
    /// until it is down. Only on a private cluster.
    pub fn stop(&self, mode: &str) {
        let out = self
            .tool("pg_ctl")
            .arg("stop")
            .args(["-D", &self.data(), "-m", mode, "-w"])
            .output()
            .expect("run pg_ctl stop");
        assert!(out.status.success(), "pg_ctl stop: {}", text(&out.stderr));
    }

    /// Starts the server again on the same port and data (after [`Self::stop`]).
    pub fn restart(&self) {
        if let Err(e) = self.pg_ctl_start() {
            panic!("PostgreSQL would not restart: {e}");
        }
    }

    fn start() -> Result<PgCluster, StartError> {
        let began = Instant::now();
        let bin = find_bin().ok_or_else(|| {
            StartError::Missing(match std::env::var("HERALD_PG_BINDIR") {
                Ok(dir) => format!("no initdb and pg_ctl in HERALD_PG_BINDIR={dir}"),
                Err(_) => "no initdb and pg_ctl under /usr/lib/postgresql/*/bin or on PATH".into(),
            })
        })?;
        let owner = if unsafe { libc::geteuid() } == 0 {
            Some(postgres_user().ok_or_else(|| {
                StartError::Missing("running as root and there is no `postgres` user".into())
            })?)
        } else {
            None
        };
        sweep_stale(&bin, owner);
        let dir = std::env::temp_dir().join(format!(
            "herald-test-pg-{}-{}",
            std::process::id(),
            NEXT_CLUSTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir)
            .map_err(|e| StartError::Failed(format!("{}: {e}", dir.display())))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| StartError::Failed(format!("chown {}: {e}", dir.display())))?;
        }
        let mut cluster = PgCluster {
            bin,
            dir,
            port: 0,
            owner,
            watchdog: Mutex::new(None),
        };
        cluster.spawn_watchdog();
        // C locale: text sorts by bytes, as SQLite's default BINARY collation
        // does, so ORDER BY on text agrees across the two backends.
        let out = cluster
            .tool("initdb")
            .args(["-D", &cluster.data()])
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .args(["--no-sync", "--no-instructions"])
            .output()
            .map_err(|e| StartError::Failed(format!("initdb: {e}")))?;
        if !out.status.success() {
            return Err(StartError::Failed(format!("initdb: {}", text(&out.stderr))));
        }
        // A port found free can be taken before the server binds it: retry.
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port();
            match cluster.pg_ctl_start() {
                Ok(()) => {
                    eprintln!(
                        "[pg] cluster on 127.0.0.1:{} ({}) up in {} ms",
                        cluster.port,
                        cluster.dir.display(),
                        began.elapsed().as_millis()
                    );
                    return Ok(cluster);
                }
                Err(e) => last = e,
            }
        }
        Err(StartError::Failed(last))
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        let out = self
            .tool("pg_ctl")
            .arg("start")
            .args(["-D", &self.data(), "-w", "-t", "60", "-o", &options])
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        Err(format!(
            "pg_ctl start on port {}: {} | {}",
            self.port,
            text(&out.stderr),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ))
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// One of PostgreSQL's programs, run as the cluster's owner.
    fn tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(name));
        // The owner may not be allowed into the test's working directory.
        cmd.current_dir(&self.dir).env_remove("PGDATA");
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid).env("HOME", &self.dir);
        }
        cmd
    }

    /// A shell, in its own process group and as the cluster's owner, that
    /// waits for this process to end and then stops the server and removes
    /// its directory.
    fn spawn_watchdog(&mut self) {
        let script = r#"while [ -d "/proc/$1" ]; do sleep 1; done
"$2/pg_ctl" stop -D "$3/data" -m immediate >/dev/null 2>&1
rm -rf "$3""#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg("herald-pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(&self.bin)
            .arg(&self.dir)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        *self.watchdog.get_mut().unwrap() = cmd.spawn().ok();
    }

    /// Stops the server at once and removes everything; errors are ignored
    /// (it may already be down).
    fn remove(&self) {
        let _ = self
            .tool("pg_ctl")
            .arg("stop")
            .args(["-D", &self.data(), "-m", "immediate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Ok(mut watchdog) = self.watchdog.lock() {
            if let Some(mut child) = watchdog.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A fresh database on the shared cluster; `None` only when PostgreSQL is
/// missing and the developer opted out (`HERALD_SKIP_POSTGRES=1`, after the
/// `SKIPPED` line); the test then returns.
pub async fn fresh_database() -> Option<String> {
    Some(PgCluster::shared()?.database().await)
}

/// `HERALD_PG_BINDIR` if set (only there), else Debian's newest
/// `/usr/lib/postgresql/<n>/bin`, else the directory on `PATH` that has
/// both programs.
fn find_bin() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("HERALD_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return has_tools(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|d| has_tools(d))
}

fn postgres_user() -> Option<(u32, u32)> {
    let name = CString::new("postgres").unwrap();
    // SAFETY: getpwnam's result is read at once, before any other call that
    // could overwrite it; the tests do not call getpwnam elsewhere.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

/// Directories of test processes that are gone (a watchdog that was killed
/// too, a reboot): stops what may still run there and removes them.
fn sweep_stale(bin: &Path, owner: Option<(u32, u32)>) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        // Only names this file makes, `herald-test-pg-<pid>-<n>`.
        let Some((pid, n)) = name
            .to_str()
            .and_then(|n| n.strip_prefix("herald-test-pg-"))
            .and_then(|rest| rest.split_once('-'))
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if n.parse::<u64>().is_err()
            || !entry.file_type().is_ok_and(|t| t.is_dir())
            || Path::new(&format!("/proc/{pid}")).exists()
        {
            continue;
        }
        let dir = entry.path();
        if dir.join("data/postmaster.pid").exists() {
            let mut cmd = Command::new(bin.join("pg_ctl"));
            cmd.args(["stop", "-m", "immediate", "-D"])
                .arg(dir.join("data"))
                .current_dir(std::env::temp_dir())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some((uid, gid)) = owner {
                cmd.uid(uid).gid(gid);
            }
            let _ = cmd.status();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().replace('\n', " | ")
}

// ---------------------------------------------------------------------------
// The PostgreSQL schema.

async fn pg_pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .expect("connect to the test database")
}

/// A SQLite database after every migration in `migrations/sqlite/`, as
/// `store::open` leaves a new one.
async fn migrated_sqlite(dir: &Path) -> SqlitePool {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("herald.db").display()))
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .expect("SQLite migrations");
    pool
}

async fn applied_versions(pool: &PgPool) -> Vec<(i64, bool)> {
    sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn expected_versions() -> Vec<(i64, bool)> {
    sqlx::migrate!("./migrations/postgres")
        .iter()
        .map(|m| (m.version, true))
        .collect()
}

#[tokio::test]
async fn postgres_migrations_apply_to_a_fresh_database_and_again() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let pool = pg_pool(&url).await;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .expect("first run");
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .expect("second run: nothing to do");
    assert_eq!(applied_versions(&pool).await, expected_versions());
    // The log's positions come from the sequence, starting at 1 (above the
    // resume floor, as on a fresh SQLite database).
    let (first,): (i64,) = sqlx::query_as("SELECT nextval('events_position')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(first, 1);
}

/// Three instances started together on an empty database (issue 10 item 8):
/// sqlx's PostgreSQL migrator takes a session advisory lock (per database
/// name) before it even creates `_sqlx_migrations`, so one applies and the
/// others, once they hold the lock, find nothing to do. With the lock off
/// (`set_locking(false)`) this fails every time: two `CREATE TABLE IF NOT
/// EXISTS _sqlx_migrations` race ("duplicate key … pg_type_typname_nsp_index").
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn three_concurrent_migrators_on_one_empty_database() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let pools = [
        pg_pool(&url).await,
        pg_pool(&url).await,
        pg_pool(&url).await,
    ];
    let runs = pools.iter().map(|pool| {
        let pool = pool.clone();
        tokio::spawn(async move { sqlx::migrate!("./migrations/postgres").run(&pool).await })
    });
    for (i, run) in futures_util::future::join_all(runs)
        .await
        .into_iter()
        .enumerate()
    {
        run.expect("task")
            .unwrap_or_else(|e| panic!("migrator {i}: {e}"));
    }
    assert_eq!(applied_versions(&pools[0]).await, expected_versions());
    let (channels,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM channels")
        .fetch_one(&pools[0])
        .await
        .unwrap();
    assert_eq!(channels, 3, "the seed rows once, not thrice");
}

/// Tables, columns (in order, with nullability), keys, unique constraints,
/// indexes, foreign keys and seed rows: the same on both backends. Types are
/// not compared, except that PostgreSQL has no INT4 (the store reads i64).
/// `control_entries` and `instances` are PostgreSQL's alone (what followers on other
/// instances learn; one SQLite instance applies in process).
#[tokio::test]
async fn postgres_schema_matches_the_migrated_sqlite_schema() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let pg = pg_pool(&url).await;
    sqlx::migrate!("./migrations/postgres")
        .run(&pg)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lite = migrated_sqlite(dir.path()).await;

    // Tables and their columns: (table, column, nullable).
    let lite_columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT m.name, c.name, c.\"notnull\" = 0 AND c.pk = 0
         FROM sqlite_master m JOIN pragma_table_info(m.name) c
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'
         ORDER BY m.name, c.cid",
    )
    .fetch_all(&lite)
    .await
    .unwrap();
    let pg_columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.is_nullable::text = 'YES'
         FROM information_schema.columns c
         JOIN information_schema.tables t USING (table_schema, table_name)
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           AND c.table_name NOT IN ('_sqlx_migrations', 'control_entries', 'instances')
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&pg)
    .await
    .unwrap();
    assert!(lite_columns.len() > 50, "{lite_columns:?}");
    assert_eq!(pg_columns, lite_columns, "tables and columns");

    let narrow: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND data_type IN ('integer', 'smallint', 'numeric')",
    )
    .fetch_all(&pg)
    .await
    .unwrap();
    assert!(narrow.is_empty(), "not BIGINT: {narrow:?}");

    // Primary keys: (table, columns in key order).
    let lite_pks = sqlite_keys(&lite, "pk").await;
    let pg_pks = pg_keys(&pg, 'p').await;
    assert_eq!(pg_pks, lite_pks, "primary keys");
    let lite_unique = sqlite_keys(&lite, "u").await;
    assert_eq!(pg_keys(&pg, 'u').await, lite_unique, "unique constraints");

    // Indexes made by CREATE INDEX: (name, table, columns, partial).
    let lite_indexes: BTreeSet<(String, String, String, bool)> = sqlx::query_as(
        "SELECT l.name, m.name,
                (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno)),
                l.partial = 1
         FROM sqlite_master m JOIN pragma_index_list(m.name) l
         WHERE m.type = 'table' AND l.origin = 'c'",
    )
    .fetch_all(&lite)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let pg_indexes: BTreeSet<(String, String, String, bool)> = sqlx::query_as(
        "SELECT ic.relname::text, t.relname::text,
                string_agg(a.attname::text, ',' ORDER BY k.ord), i.indpred IS NOT NULL
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE t.relnamespace = 'public'::regnamespace
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           AND t.relname NOT IN ('_sqlx_migrations', 'control_entries', 'instances')
         GROUP BY ic.relname, t.relname, i.indpred IS NOT NULL",
    )
    .fetch_all(&pg)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(pg_indexes, lite_indexes, "indexes");

    // Foreign keys: (table, column, referenced table, column, on delete).
    let lite_fks: BTreeSet<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT m.name, f.\"from\", f.\"table\", f.\"to\", f.on_delete
         FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
    )
    .fetch_all(&lite)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let pg_fks: BTreeSet<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, a.attname::text, ft.relname::text, fa.attname::text,
                CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                     WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class ft ON ft.oid = c.confrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND t.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(&pg)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(pg_fks, lite_fks, "foreign keys");

    // CHECKs, all of the form `column IN ('a', 'b')`: (table, column, values).
    let lite_sql: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL",
    )
    .fetch_all(&lite)
    .await
    .unwrap();
    let lite_checks: BTreeSet<(String, String, String)> = lite_sql
        .iter()
        .flat_map(|(table, sql)| {
            sql.split("CHECK (").skip(1).map(move |check| {
                let column = check.split_whitespace().next().unwrap_or_default();
                let list = &check[..check.find(')').unwrap_or(check.len())];
                (table.clone(), column.to_string(), quoted(list))
            })
        })
        .collect();
    assert_eq!(lite_checks.len(), 5, "{lite_checks:?}");
    let pg_checks: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, a.attname::text, pg_get_constraintdef(c.oid)
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'c' AND t.relnamespace = 'public'::regnamespace
           AND t.relname NOT IN ('control_entries', 'instances')",
    )
    .fetch_all(&pg)
    .await
    .unwrap();
    let pg_checks: BTreeSet<(String, String, String)> = pg_checks
        .into_iter()
        .map(|(table, column, def)| (table, column, quoted(&def)))
        .collect();
    assert_eq!(pg_checks, lite_checks, "checks");

    // The rows a fresh database starts with.
    let seeds = "SELECT 'log_meta:' || key || '=' || value FROM log_meta
                 UNION ALL SELECT 'channel:' || name || '=' || head_offset || '/' || last_position
                                  || '/' || members FROM channels";
    let lite_seeds: BTreeSet<(String,)> = sqlx::query_as(seeds)
        .fetch_all(&lite)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let pg_seeds: BTreeSet<(String,)> = sqlx::query_as(seeds)
        .fetch_all(&pg)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(pg_seeds, lite_seeds, "seed rows");
}

/// The '…' literals in a piece of SQL, in order, comma-separated.
fn quoted(sql: &str) -> String {
    sql.split('\'')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .join(",")
}

/// Primary keys (`kind` "pk") or unique constraints ("u") of the SQLite
/// schema: (table, columns in key order).
async fn sqlite_keys(lite: &SqlitePool, kind: &str) -> BTreeSet<(String, String)> {
    let sql = if kind == "pk" {
        "SELECT m.name, (SELECT group_concat(name, ',') FROM
                 (SELECT name FROM pragma_table_info(m.name) WHERE pk > 0 ORDER BY pk))
         FROM sqlite_master m
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
    } else {
        "SELECT m.name, (SELECT group_concat(name, ',') FROM
                 (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
         FROM sqlite_master m JOIN pragma_index_list(m.name) l
         WHERE m.type = 'table' AND l.origin = 'u'"
    };
    sqlx::query_as(sql)
        .fetch_all(lite)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn pg_keys(pg: &PgPool, contype: char) -> BTreeSet<(String, String)> {
    sqlx::query_as(
        "SELECT t.relname::text, string_agg(a.attname::text, ',' ORDER BY k.ord)
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         WHERE c.contype::text = $1 AND t.relnamespace = 'public'::regnamespace
           AND t.relname NOT IN ('_sqlx_migrations', 'control_entries', 'instances')
         GROUP BY c.oid, t.relname",
    )
    .bind(contype.to_string())
    .fetch_all(pg)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// What later tests rely on: a private cluster stops (either way) and
/// starts again on the same port with its data, and is gone after drop.
#[tokio::test]
async fn a_private_cluster_restarts_with_its_data_and_is_removed_on_drop() {
    let Some(cluster) = PgCluster::start_private() else {
        return;
    };
    let url = cluster.database().await;
    assert!(url.contains(&format!(":{}/", cluster.port())), "{url}");
    let pool = pg_pool(&url).await;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .unwrap();
    pool.close().await;
    for mode in ["fast", "immediate"] {
        cluster.stop(mode);
        assert!(
            PgConnection::connect(&url).await.is_err(),
            "down after -m {mode}"
        );
        cluster.restart();
        let mut conn = PgConnection::connect(&url).await.expect("up again");
        let (floor,): (i64,) =
            sqlx::query_as("SELECT value FROM log_meta WHERE key = 'resume_floor'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(floor, 1);
        conn.close().await.ok();
    }
    let dir = cluster.dir.clone();
    drop(cluster);
    assert!(!dir.exists(), "{} removed", dir.display());
}
