#!/usr/bin/env bash
# Installs, once, what building Herald needs on a fresh machine of this kind:
# the wasm target, cargo-leptos, the wasm-bindgen CLI (matching the crate pin),
# wasm-opt from npm's binaryen (Debian's 108 breaks hydration, see TOOLCHAIN.md),
# Node, which precompresses the bundle (scripts/precompress.mjs), and esbuild
# from npm, which minifies the JS client (clients/js).
# Every step checks first, so a second run only prints "ok" lines.
# With --test it also installs what the test suite needs: Chromium, Playwright
# and PostgreSQL (the tests run their own throwaway server with its binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=123
export PATH="$HOME/.cargo/bin:$PWD/tools/node_modules/.bin:$PATH"

say() { printf '[install] %s\n' "$*"; }
apt_install() { # package…
  say "installing $* from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "ok wasm32-unknown-unknown"
else
  say "adding wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "ok cargo-leptos $CARGO_LEPTOS_VERSION"
else
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "ok wasm-bindgen $WASM_BINDGEN_VERSION"
else
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # --locked fails: a crate version pinned in its lock file is gone from the index.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# Node: npm installs binaryen below, and scripts/precompress.mjs (make build)
# compresses the bundle with Node's own zlib (brotli since Node 11.7).
if command -v node >/dev/null && node -e 'process.exit(require("zlib").brotliCompressSync ? 0 : 1)'; then
  say "ok node $(node --version)"
else
  apt_install nodejs npm
fi

if [ -x tools/node_modules/.bin/wasm-opt ] && tools/node_modules/.bin/wasm-opt --version | grep -q "version $BINARYEN_VERSION"; then
  say "ok wasm-opt (binaryen $BINARYEN_VERSION)"
else
  say "installing binaryen $BINARYEN_VERSION into ./tools (npm ci)"
  (cd tools && npm ci --no-audit --no-fund)
fi

# esbuild (npm) minifies the JS client (clients/js, `make js-build`).
if [ -x clients/js/node_modules/.bin/esbuild ]; then
  say "ok esbuild"
else
  say "installing esbuild into ./clients/js (npm ci)"
  (cd clients/js && npm ci --no-audit --no-fund)
fi

if [ "${1:-}" = "--test" ]; then
  if [ -x /usr/bin/chromium ]; then
    say "ok chromium"
  else
    apt_install chromium
  fi
  # The OpenAPI validator came after Playwright: a checkout installed before
  # it needs the npm ci again.
  if [ -x end2end/node_modules/.bin/playwright ] && [ -d end2end/node_modules/@apidevtools/swagger-parser ] && [ -d end2end/node_modules/http_ece ]; then
    say "ok playwright, swagger-parser, http_ece"
  else
    say "installing playwright, swagger-parser and http_ece (npm ci in end2end/)"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  # tests/integration/pg.rs runs initdb and pg_ctl from Debian's versioned
  # directory (they are not on PATH), as the `postgres` user the package
  # creates. The packaged cluster (port 5432) is left alone: the tests start
  # their own on a free port and remove it at exit.
  pg_version() {
    for bin in /usr/lib/postgresql/*/bin; do
      if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then basename "$(dirname "$bin")"; fi
    done | sort -n | tail -n 1
  }
  if [ -n "$(pg_version)" ] && id postgres >/dev/null 2>&1; then
    say "ok postgresql $(pg_version)"
  else
    apt_install postgresql
    say "ok postgresql $(pg_version)"
  fi
fi
