//! One store, two databases: the SQL is written once, in the subset SQLite
//! and PostgreSQL agree on, and adjusted here where they spell it apart.
//!
//! Written as: `?` or `?N` placeholders (SQLite's), `GREATEST(a, b)` and
//! `LEAST(a, b)` (PostgreSQL's; SQLite's scalar `MAX`/`MIN` are the same),
//! `{int_list}` / `{text_list}` for "one of these values", bound as a
//! single JSON array (no per-value placeholders, no parameter limit), and
//! `{now_ms}` for the database's clock in Unix milliseconds (what due
//! times are compared with, so that an instance with a skewed clock fires
//! nothing early).
//! Where the backends differ in meaning rather than spelling (allocating a
//! log position, taking the publishing lock) the store matches on
//! [`Backend`] itself.
//!
//! Not sqlx's `Any` driver: it passes SQL through untranslated and decodes
//! few types. Queries run through [`fetch!`] and [`execute!`], which expand
//! to one typed sqlx call per backend.

use std::borrow::Cow;

use sqlx::{PgConnection, SqliteConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection of either backend (a transaction's or a pooled one).
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// A shorter borrow, for one query.
    pub fn re(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

/// The SQL for SQLite.
pub fn sqlite(sql: &str) -> Cow<'_, str> {
    if !sql.contains("GREATEST(") && !sql.contains("LEAST(") && !sql.contains('{') {
        return Cow::Borrowed(sql);
    }
    Cow::Owned(
        sql.replace("GREATEST(", "MAX(")
            .replace("LEAST(", "MIN(")
            .replace(
                "{now_ms}",
                "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            )
            .replace("{int_list}", "(SELECT value FROM json_each(?))")
            .replace("{text_list}", "(SELECT value FROM json_each(?))"),
    )
}

/// The SQL for PostgreSQL: `$N` placeholders, JSON arrays unpacked.
pub fn postgres(sql: &str) -> String {
    let sql = sql
        .replace(
            "{now_ms}",
            "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint",
        )
        .replace(
            "{int_list}",
            "(SELECT value::bigint FROM jsonb_array_elements_text(?::jsonb) AS t(value))",
        )
        .replace(
            "{text_list}",
            "(SELECT value FROM jsonb_array_elements_text(?::jsonb) AS t(value))",
        );
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
        } else {
            next += 1;
            out.push_str(&next.to_string());
        }
    }
    out
}

/// A list bound as one parameter (see `{int_list}`).
pub fn json_list<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// `fetch!(conn, fetch_one, (i64,), "SELECT … ?", a, b)`: one typed query on
/// either backend; evaluates to the sqlx result.
macro_rules! fetch {
    ($conn:expr, $method:ident, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &str = $sql;
        match $conn.re() {
            $crate::server::store::dialect::Conn::Sqlite(c) => {
                let sql = $crate::server::store::dialect::sqlite(sql);
                sqlx::query_as::<_, $ty>(&sql)$(.bind($arg))*.$method(c).await
            }
            $crate::server::store::dialect::Conn::Postgres(c) => {
                let sql = $crate::server::store::dialect::postgres(sql);
                sqlx::query_as::<_, $ty>(&sql)$(.bind($arg))*.$method(c).await
            }
        }
    }};
}

/// `execute!(conn, "UPDATE … ?", a)`: rows affected, on either backend.
macro_rules! execute {
    ($conn:expr, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &str = $sql;
        match $conn.re() {
            $crate::server::store::dialect::Conn::Sqlite(c) => {
                let sql = $crate::server::store::dialect::sqlite(sql);
                sqlx::query(&sql)$(.bind($arg))*.execute(c).await.map(|r| r.rows_affected())
            }
            $crate::server::store::dialect::Conn::Postgres(c) => {
                let sql = $crate::server::store::dialect::postgres(sql);
                sqlx::query(&sql)$(.bind($arg))*.execute(c).await.map(|r| r.rows_affected())
            }
        }
    }};
}

pub(crate) use {execute, fetch};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            postgres("SELECT a FROM t WHERE b = ? AND c > GREATEST(?, 1)"),
            "SELECT a FROM t WHERE b = $1 AND c > GREATEST($2, 1)"
        );
        assert_eq!(
            postgres("x = ?2 OR y = ?1 OR z = ?12"),
            "x = $2 OR y = $1 OR z = $12"
        );
        assert!(postgres("id IN {int_list}").contains("jsonb_array_elements_text($1::jsonb)"));
    }

    #[test]
    fn sqlite_gets_its_scalar_max_and_min() {
        assert_eq!(
            sqlite("GREATEST(a, ?) + LEAST(b, c)"),
            "MAX(a, ?) + MIN(b, c)"
        );
        assert_eq!(
            sqlite("id IN {text_list}"),
            "id IN (SELECT value FROM json_each(?))"
        );
        assert!(matches!(sqlite("SELECT 1"), Cow::Borrowed(_)));
    }
}
