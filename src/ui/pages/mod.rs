mod admin;
mod admin_keys;
mod admin_webhooks;
mod home;
mod login;
mod not_found;
mod preferences;

pub use admin::AdminPage;
pub use home::HomePage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use preferences::PreferencesPage;
