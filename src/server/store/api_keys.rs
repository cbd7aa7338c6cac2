//! Service API keys: a row per key, found by its public id; the key itself
//! is never stored, only its SHA-256 (`auth::service_key` says why that is
//! enough). Creation and revocation write their audit row in the same
//! transaction.

use crate::model::{KeyView, Scope};
use crate::server::store::{
    audit::{self, Actor},
    begin_write, commit,
    dialect::{execute, fetch},
    now_ms, rfc3339, sessions, Pool, StoreError,
};

/// What a request's key is checked against: a live (unrevoked) key.
#[derive(Debug, Clone)]
pub struct LiveKey {
    pub id: i64,
    pub name: String,
    /// SHA-256 of the whole key, hex.
    pub secret_hash: String,
    pub scopes: Vec<Scope>,
    pub last_used_at: Option<i64>,
}

/// A new key's row.
pub struct NewKey<'a> {
    pub name: &'a str,
    pub public_id: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a [Scope],
}

pub fn scopes_to_row(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Unknown words grant nothing.
fn scopes_from_row(raw: &str) -> Vec<Scope> {
    raw.split(',').filter_map(Scope::parse).collect()
}

/// Stores the key; `None` when a live key already has that name.
pub async fn insert(
    pool: &Pool,
    new: &NewKey<'_>,
    actor: Actor<'_>,
) -> Result<Option<KeyView>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let now = now_ms();
    let scopes = scopes_to_row(new.scopes);
    // Any unique index may refuse it: the live name (the answer is None) or
    // the random public id (48 bits; the caller retries with another one).
    let created: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "INSERT INTO api_keys (name, public_id, secret_hash, scopes, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        new.name,
        new.public_id,
        new.secret_hash,
        &scopes,
        actor.name,
        now
    )?;
    if created.is_none() {
        return Ok(None);
    }
    audit::record(
        &mut tx,
        actor,
        "key.created",
        &format!("key:{}", new.name),
        &format!("scopes {scopes}"),
    )
    .await?;
    commit(tx).await?;
    Ok(Some(KeyView {
        name: new.name.to_string(),
        scopes: new.scopes.to_vec(),
        prefix: format!("hrld_{}", new.public_id),
        created_by: actor.name.to_string(),
        created_at: rfc3339(now),
        last_used_at: None,
        revoked_at: None,
    }))
}

/// Whether a live key has this name.
pub async fn name_is_live(pool: &Pool, name: &str) -> Result<bool, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(i64,)> = fetch!(
        conn,
        fetch_optional,
        (i64,),
        "SELECT id FROM api_keys WHERE name = ? AND revoked_at IS NULL",
        name
    )?;
    Ok(row.is_some())
}

/// The live key with this public id: one lookup on a unique index, on every
/// key-authenticated request (no cache, so a revocation holds at once on
/// every instance that shares the database).
pub async fn find_live(pool: &Pool, public_id: &str) -> Result<Option<LiveKey>, StoreError> {
    let mut conn = pool.acquire().await?;
    let row: Option<(i64, String, String, String, Option<i64>)> = fetch!(
        conn,
        fetch_optional,
        (i64, String, String, String, Option<i64>),
        "SELECT id, name, secret_hash, scopes, last_used_at FROM api_keys
         WHERE public_id = ? AND revoked_at IS NULL",
        public_id
    )?;
    Ok(
        row.map(|(id, name, secret_hash, scopes, last_used_at)| LiveKey {
            id,
            name,
            secret_hash,
            scopes: scopes_from_row(&scopes),
            last_used_at,
        }),
    )
}

/// Sets `last_used_at` unless another request (on any instance) did within
/// the last `every_ms`.
pub async fn touch(pool: &Pool, id: i64, every_ms: i64) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let now = now_ms();
    execute!(
        conn,
        "UPDATE api_keys SET last_used_at = ?
         WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        now,
        id,
        now - every_ms
    )?;
    Ok(())
}

/// Every key, live ones first, newest first.
pub async fn list(pool: &Pool) -> Result<Vec<KeyView>, StoreError> {
    let mut conn = pool.acquire().await?;
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = fetch!(
        conn,
        fetch_all,
        Row,
        "SELECT name, public_id, scopes, created_by, created_at, last_used_at, revoked_at
         FROM api_keys ORDER BY revoked_at IS NOT NULL, id DESC"
    )?;
    Ok(rows
        .into_iter()
        .map(
            |(name, public_id, scopes, created_by, created_at, last_used, revoked)| KeyView {
                name,
                scopes: scopes_from_row(&scopes),
                prefix: format!("hrld_{public_id}"),
                created_by,
                created_at: rfc3339(created_at),
                last_used_at: last_used.map(rfc3339),
                revoked_at: revoked.map(rfc3339),
            },
        )
        .collect())
}

/// Revokes the live key of that name and the user tokens issued to it, in
/// one transaction; `None` when there is no such key, else the ids of the
/// sessions it ended.
pub async fn revoke(
    pool: &Pool,
    name: &str,
    actor: Actor<'_>,
) -> Result<Option<Vec<String>>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let revoked: Option<(i64,)> = fetch!(
        tx,
        fetch_optional,
        (i64,),
        "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING id",
        now_ms(),
        name
    )?;
    let Some((id,)) = revoked else {
        return Ok(None);
    };
    let ended = sessions::revoke_all_for_key_in(&mut tx, id).await?;
    audit::record(&mut tx, actor, "key.revoked", &format!("key:{name}"), "").await?;
    commit(tx).await?;
    Ok(Some(ended))
}
