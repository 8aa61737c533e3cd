#!/usr/bin/env bash
# Runs Lapak's main job on a fresh Debian/Ubuntu machine, installing what is missing first: the
# sync server, on an embedded SQLite database in ./data (nothing to install). It prints its
# address and how to log in; the first start creates the administrator `admin` and prints its
# password once (set LAPAK_ADMIN_PASSWORD beforehand to choose it). Extra arguments go to the
# server: `./scripts/run.sh --listen 0.0.0.0:8080`, `./scripts/run.sh --database-url postgres://...`,
# `./scripts/run.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh
ensure_build_deps
exec cargo run --quiet --release -p lapak-server -- "$@"
