//! Components and pages (rendered on the server, hydrated in the browser).

pub mod components;
pub mod inbox;
pub mod live;
pub mod pages;
