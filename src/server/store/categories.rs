//! Categories (issue 19): the list admins manage, and the one a send
//! names, created on first use with its slug as its label. The slug is
//! checked at the edge (`domain::announcement::parse_category`).

use crate::model::{Category, Escalation};
use crate::server::store::{
    dialect::{execute, fetch},
    now_ms, Pool, StoreError, Tx,
};

/// Every category, by slug.
pub async fn list(pool: &Pool) -> Result<Vec<Category>, StoreError> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<(String, String, bool, Option<i64>)> = fetch!(
        conn,
        fetch_all,
        (String, String, bool, Option<i64>),
        "SELECT slug, label, escalate, escalate_after_secs FROM categories ORDER BY slug"
    )?;
    Ok(rows
        .into_iter()
        .map(|(slug, label, enabled, after)| Category {
            slug,
            label,
            escalation: Escalation {
                enabled,
                after_secs: after.and_then(|a| u32::try_from(a).ok()),
            },
        })
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

/// Creates the category or renames it; with `escalation`, sets that too
/// (without, a new category escalates after the default delay and an
/// existing one keeps its setting). Returns the category as it now is.
pub async fn set_label(
    pool: &Pool,
    slug: &str,
    label: &str,
    escalation: Option<Escalation>,
) -> Result<Category, StoreError> {
    let mut conn = pool.acquire().await?;
    let keep = escalation.is_none();
    let wanted = escalation.unwrap_or_default();
    let (enabled, after): (bool, Option<i64>) = fetch!(
        conn,
        fetch_one,
        (bool, Option<i64>),
        "INSERT INTO categories (slug, label, created_at, escalate, escalate_after_secs)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (slug) DO UPDATE SET label = excluded.label,
             escalate = CASE WHEN ?6 THEN categories.escalate ELSE excluded.escalate END,
             escalate_after_secs = CASE WHEN ?6 THEN categories.escalate_after_secs
                                        ELSE excluded.escalate_after_secs END
         RETURNING escalate, escalate_after_secs",
        slug,
        label,
        now_ms(),
        wanted.enabled,
        wanted.after_secs.map(i64::from),
        keep
    )?;
    Ok(Category {
        slug: slug.to_string(),
        label: label.to_string(),
        escalation: Escalation {
            enabled,
            after_secs: after.and_then(|a| u32::try_from(a).ok()),
        },
    })
}
