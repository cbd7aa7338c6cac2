# Herald's two commands:
#   make run   — install what is missing, build a release, serve the demo on 127.0.0.1:3000
#   make test  — install what is missing, lint, unit + integration tests, release build, Playwright
# (and `make bench`, the load benchmark quoted in the README, and `make soak`)
# Installs are checked first, so a second run skips them.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/tools/node_modules/.bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

.PHONY: run test bench bench-broadcast soak tools tools-test build fmt-check lint unit e2e

run: tools build
	HERALD_DEMO=1 ./target/release/herald

test: tools-test fmt-check lint unit build e2e
	@echo "make test: all green"

tools:
	./scripts/install-tools.sh

tools-test:
	./scripts/install-tools.sh --test

build:
	cargo leptos build --release

fmt-check:
	cargo fmt --check

lint:
	cargo clippy --features ssr --all-targets -- -D warnings
	cargo clippy --lib --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --features ssr

e2e:
	cd end2end && npx playwright test

# Not part of `make test`: a load test of 10,000 streams against Herald and a
# plain axum SSE baseline, printing a table of figures and ratios (~1 min),
# then the broadcast cost by registered users (~10 s, below).
bench: tools build
	bash scripts/bench.sh
	bash scripts/bench-broadcast.sh

# Broadcast cost at 1k / 10k / 100k registered users (request time, database
# growth, bytes and rows written) against a one-row-transaction floor, ~10 s.
# SIZES="1000 10000 100000 1000000" make bench-broadcast adds 1M (~350 MB a broadcast).
bench-broadcast: tools build
	bash scripts/bench-broadcast.sh

# Not part of `make test`: 30 minutes of mixed load on loopback (streams
# churning and resuming, reconnect storms, sign-ins good and bad, broadcasts,
# mark-read), printing RSS over time, requests by status and lost
# notifications; fails on a loss, an unexpected 5xx or RSS growth after
# warm-up. SOAK_SECS=120 make soak for a quick try.
soak: tools build
	bash scripts/soak.sh
