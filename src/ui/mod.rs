//! Components and pages (rendered on the server, hydrated in the browser).

pub mod components;
pub mod live;
pub mod pages;
