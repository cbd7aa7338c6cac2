//! Field limits, shared so the form and the server agree.

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 5_000;
pub const LINK_MAX: usize = 2_000;
pub const EVENT_NAME_MAX: usize = 64;
