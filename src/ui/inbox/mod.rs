//! The inbox as the browser sees it, as plain data: what each stream event
//! does to it, and which links it lets the user open.
//!
//! Nothing here touches the DOM, signals or the network, so the rules run
//! in native unit tests and compile for both halves. `ui::live` wraps this
//! state in signals and feeds it from the stream.

mod connection;
mod cursor;
mod event;
mod overlay;
mod state;
mod tabs;

pub use connection::Connection;
pub use cursor::{Cursor, Step};
pub use event::{names_to_listen, Event, STREAMED_EVENTS};
pub use overlay::Overlay;
pub use state::{Inbox, Toast};
pub use tabs::TabMessage;

#[cfg(test)]
mod tests;
