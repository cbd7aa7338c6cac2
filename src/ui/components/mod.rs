mod bell;
mod header;
mod inbox_list;
mod layout;

pub use bell::Bell;
pub use header::Header;
pub use inbox_list::{InboxList, NotificationItem};
pub use layout::{InboxResource, SignedInLayout, UserResource};
