//! Reading one's own inbox.

use crate::{
    model::{AppError, InboxPage},
    server::{auth::Session, state::AppState, store::notifications},
};

pub const FIRST_PAGE: i64 = 20;

pub async fn first_page(state: &AppState, session: &Session) -> Result<InboxPage, AppError> {
    let user_id = session.user.id;
    // last_seq first: anything stored after it is replayed by the stream.
    let last_seq = notifications::last_seq(&state.pool, user_id).await?;
    let items = notifications::latest(&state.pool, user_id, FIRST_PAGE).await?;
    let unread = notifications::unread_count(&state.pool, user_id).await?;
    Ok(InboxPage {
        items,
        unread,
        last_seq,
    })
}
