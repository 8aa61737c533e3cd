#!/usr/bin/env bash
# Runs Lapak's main job on a fresh Debian/Ubuntu machine, installing what is missing first.
# Until the sync server lands this is the engine demo: two devices' local SQLite stores edit
# offline, then sync through an in-memory sequencer, and it prints what happened.
# Data goes to ${LAPAK_DATA_DIR:-./data/demo}.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh
ensure_build_deps
exec cargo run --quiet --release -p lapak-core --features testkit --example demo -- "$@"
