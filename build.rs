// sqlx::migrate! embeds the migration files at compile time, but on stable
// Rust it cannot tell Cargo to watch the directory: a migration added or
// edited would otherwise leave a stale binary (sqlx's documented remedy).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
