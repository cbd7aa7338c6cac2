mod attention;
mod bell;
mod category_tabs;
mod header;
mod inbox_bulk;
mod inbox_list;
mod layout;

pub use attention::AttentionArea;
pub use bell::Bell;
pub use category_tabs::{inbox_href, CategoriesResource, CategoryTabs, SelectedCategory};
pub use header::Header;
pub use inbox_bulk::{BulkButtons, SelectBox, SnoozeMenu};
pub use inbox_list::{InboxList, MarkAllReadButton, NotificationItem, NotificationPreview};
pub use layout::{InboxActions, InboxResource, SignedInLayout, UnreadCount, UserResource};
