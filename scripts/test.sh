#!/usr/bin/env bash
# Runs every test of the workspace on a fresh Debian/Ubuntu machine: installs what is missing,
# provides a Postgres for the database tests (DATABASE_URL), builds and tests the pages (ui/:
# the POS and the admin web: typecheck, lint, Vitest), then checks formatting, lints, runs the
# whole suite (nextest, doctests; the POS window tests under their own Xvfb; the admin web in
# headless Chromium; the S3 photo store against moto's S3 server; the outbox relay against NATS
# JetStream and RabbitMQ; the master data mirrored into redis-server; imports from MariaDB), the
# phone bindings' tests (pytest, and Kotlin compiled with kotlinc and run on Java 17 with JNA)
# and builds the fuzz targets. Exits non-zero when anything fails or no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh

# A fresh clone gains nothing from incremental compilation, and its caches cost gigabytes.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
log "free disk where target/ goes: $(df -h --output=avail . | tail -n 1 | tr -d ' ') (a cold build and the suite take about 15G)"

ensure_build_deps
ensure_desktop_deps
ensure_window_test_deps
ensure_browser_test_deps
ensure_kotlin_tests
python=$(ensure_python_tests)
export LAPAK_MOTO_SERVER="$PWD/target/pyvenv/bin/moto_server"
ensure_postgres
log "DATABASE_URL=$DATABASE_URL"
ensure_brokers
ensure_mariadb

build_ui
log "ui: typecheck, lint, component tests"
(cd ui && npm run --silent typecheck && npm run --silent lint && npm test --silent)

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

if ! command -v cargo-nextest >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi

log "doctests"
cargo test --workspace --all-features --doc --quiet

log "fuzz targets build"
cargo build --manifest-path fuzz/Cargo.toml --bins

log "tests"
out=$(mktemp)
set +e
cargo nextest run --workspace --all-features --no-fail-fast 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E 'Summary .* tests? run:' "$out" | tail -n 1)
passed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
skipped=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$summary")
rm -f "$out"
if [ "$status" -ne 0 ]; then
  log "tests failed"
  echo "tests: ${passed:-0} passed, ${failed:-1} failed"
  exit "$status"
fi
if [ -z "$passed" ] || [ "$passed" -eq 0 ]; then
  log "no test ran: treating that as a failure"
  exit 1
fi

log "mobile bindings: generate Kotlin, Swift and Python; pytest and Kotlin against a real server"
scripts/bindings.sh target/bindings
# The Swift bindings are committed (an iOS project takes them as they are): they must be what
# the library generates now.
if ! diff -r -q mobile-bindings/swift target/bindings/swift; then
  log "mobile-bindings/swift is stale: run scripts/bindings.sh and copy target/bindings/swift/* there"
  exit 1
fi
PYTHONPATH=target/bindings/python:mobile-bindings/tests/python \
  "$python" -m pytest -q -p no:cacheprovider mobile-bindings/tests/python
log "all tests passed"
echo "tests: $passed passed, 0 failed, ${skipped:-0} skipped"
