use std::{env, fs, path::Path};

// sqlx::migrate! embeds the migration files at compile time, but on stable
// Rust it cannot tell Cargo to watch the directory: a migration added or
// edited would otherwise leave a stale binary (sqlx's documented remedy).
//
// The JS client (`make js-build` → clients/js/dist) is embedded too, for
// `/sdk` (src/server/http/sdk.rs): copied into OUT_DIR, or empty when it was
// not built (the route then answers 404 saying so), with its package version.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let dist = Path::new("clients/js/dist");
    // Watched as a directory, so it must exist (Cargo reruns a build script
    // every time for a path that does not); it is ignored by git.
    let _ = fs::create_dir_all(dist);
    println!("cargo:rerun-if-changed=clients/js/dist");
    println!("cargo:rerun-if-changed=clients/js/package.json");
    let out = env::var("OUT_DIR").expect("OUT_DIR is set by Cargo");
    for name in ["herald.js", "herald-inbox.js"] {
        let bytes = fs::read(dist.join(name)).unwrap_or_default();
        fs::write(Path::new(&out).join(name), bytes).expect("OUT_DIR is writable");
    }
    let version = fs::read_to_string("clients/js/package.json")
        .ok()
        .and_then(|json| package_version(&json))
        .unwrap_or_else(|| "0.0.0".to_string());
    println!("cargo:rustc-env=HERALD_JS_VERSION={version}");
}

/// `"version": "1.2.3"` from package.json, without a JSON parser (a build
/// script has no dependencies here): only digits and dots are taken.
fn package_version(json: &str) -> Option<String> {
    let after = &json[json.find("\"version\"")? + "\"version\"".len()..];
    let start = after.find('"')? + 1;
    let end = start + after[start..].find('"')?;
    let version = &after[start..end];
    (!version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .then(|| version.to_string())
}
