#!/usr/bin/env bash
# Runs Lapak's main job on a fresh Debian/Ubuntu machine, installing what is missing first: the
# sync server with its admin web (http://127.0.0.1:8080/admin/), on an embedded SQLite database in
# ./data (nothing to install). Without arguments
# its first start seeds the demo business (20 branches, 60 terminals, 200 salespeople, 100,000
# outlets, 20,000 items; about 10 s) and prints the demo users' password once (set
# LAPAK_DEMO_PASSWORD beforehand to choose it); it also creates the administrator `admin` and
# prints that password once (LAPAK_ADMIN_PASSWORD). Arguments replace the default `serve --demo`:
# `./scripts/run.sh serve` (no demo), `./scripts/run.sh serve --demo --outlets 1000`,
# `./scripts/run.sh serve --database-url postgres://...`, `./scripts/run.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh
ensure_build_deps
# The admin web's pages are embedded in the server binary: build them first.
build_ui
if [ "$#" -eq 0 ]; then
  # With no arguments: serve, seeding the demo business on the first start (docs/domain.md).
  set -- serve --demo
fi
exec cargo run --quiet --release -p lapak-server -- "$@"
