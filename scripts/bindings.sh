#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings of lapak-mobile from its built library, with
# the in-workspace uniffi-bindgen (the same uniffi version as the library).
#   scripts/bindings.sh [out-dir] [--release]
# Writes <out-dir>/{kotlin,swift,python} (default target/bindings) and copies the library next
# to the Python module, so `PYTHONPATH=<out-dir>/python python3 -c "import lapak_mobile"` works.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/bindings}
profile=debug
flags=()
if [ "${2:-}" = "--release" ]; then profile=release; flags=(--release); fi
cargo build --quiet "${flags[@]}" -p lapak-mobile -p lapak-uniffi-bindgen
target=${CARGO_TARGET_DIR:-target}
lib="$target/$profile/liblapak_mobile.so"
for language in kotlin swift python; do
  rm -rf "$out/$language"
  "$target/$profile/uniffi-bindgen" generate --library "$lib" --language "$language" \
    --out-dir "$out/$language" >/dev/null
done
cp "$lib" "$out/python/"
echo "bindings in $out (kotlin, swift, python)"
