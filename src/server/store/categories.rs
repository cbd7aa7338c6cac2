//! Categories (issue 19): the list admins manage, and the one a send
//! names, created on first use with its slug as its label. The slug is
//! checked at the edge (`domain::announcement::parse_category`).

use crate::model::Category;
use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, Pool, StoreError, Tx,
};

/// Every category, by slug.
pub async fn list(pool: &Pool) -> Result<Vec<Category>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(String, String)> = fetch!(
        conn,
        fetch_all,
        (String, String),
        "SELECT slug, label FROM categories ORDER BY slug"
    )?;
    Ok(rows
        .into_iter()
        .map(|(slug, label)| Category { slug, label })
        .collect())
}

/// Which of `slugs` exist (in the caller's transaction).
pub async fn known(tx: &mut Tx, slugs: &[String]) -> Result<Vec<String>, StoreError> {
    let list = crate::server::store::dialect::json_list(slugs);
    let rows: Vec<(String,)> = fetch!(
        tx,
        fetch_all,
        (String,),
        "SELECT slug FROM categories WHERE slug IN {text_list}",
        list
    )?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// Creates the category on first use (its slug as its label); one row per
/// category, never per recipient.
pub async fn ensure(tx: &mut Tx, slug: &str) -> Result<(), StoreError> {
    execute!(
        tx,
        "INSERT INTO categories (slug, label, created_at) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING",
        slug,
        slug,
        now_ms()
    )?;
    Ok(())
}

/// Creates the category or renames it.
pub async fn set_label(pool: &Pool, slug: &str, label: &str) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    execute!(
        conn,
        "INSERT INTO categories (slug, label, created_at) VALUES (?, ?, ?)
         ON CONFLICT (slug) DO UPDATE SET label = excluded.label",
        slug,
        label,
        now_ms()
    )?;
    Ok(())
}
