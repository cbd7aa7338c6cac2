#!/usr/bin/env bash
# Starts the release build for Playwright on a fresh demo database.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf .e2e-data
mkdir -p .e2e-data
cd ..
export DATABASE_URL="sqlite://end2end/.e2e-data/herald.db"
export HERALD_DEMO=1
# The demo's week of notifications would be in every inbox the tests count.
export HERALD_DEMO_SEED="${HERALD_DEMO_SEED:-0}"
# The service walkthrough's webhook receiver listens on loopback (walkthrough.spec.ts).
export HERALD_WEBHOOK_ALLOW_PRIVATE=1
# The example host app (embed.spec.ts) shows the bell from a second loopback origin.
export HERALD_ALLOWED_ORIGINS="http://127.0.0.1:3101"
export LEPTOS_SITE_ADDR="127.0.0.1:${HERALD_E2E_PORT:-3100}"
export RUST_LOG="${RUST_LOG:-herald=info}"
# HERALD_E2E_BIN: a release binary built elsewhere (a CARGO_TARGET_DIR of
# one's own); the site is the checkout's target/site either way.
exec "${HERALD_E2E_BIN:-./target/release/herald}"
