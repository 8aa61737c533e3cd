#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings of lapak-mobile from its built library, with
# the in-workspace uniffi-bindgen (the same uniffi version as the library).
#   scripts/bindings.sh [out-dir] [--release]
# Writes <out-dir>/{kotlin,swift,python} (default target/bindings) and copies the library next
# to the Python module, so `PYTHONPATH=<out-dir>/python python3 -c "import lapak_mobile"` works.
# The Kotlin file gets one addition to what uniffi generates: its future continuation callback
# keeps its threads attached to the JVM (see below).
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

# Kotlin: a future's wake reaches the JVM as a JNA callback from a native thread (a tokio
# blocking-pool thread), which JNA attaches to the JVM and detaches again on every call unless
# told otherwise; that attach is a measurable part of every async call (docs/benchmarks.md,
# "lapak-mobile"). Keep those threads attached, as daemons: JNA detaches each when it ends.
kotlin_file="$out/kotlin/lapak/mobile/lapak_mobile.kt"
continuation='internal object uniffiRustFutureContinuationCallbackImpl: UniffiRustFutureContinuationCallback {'
if ! grep -qF "$continuation" "$kotlin_file"; then
  echo "uniffi's Kotlin no longer declares its future continuation callback as scripts/bindings.sh expects: update the keep-attached step there" >&2
  exit 1
fi
awk -v line="$continuation" '
  { print }
  $0 == line {
    print "    // Added by scripts/bindings.sh: the native thread that wakes a future stays attached."
    print "    init {"
    print "        Native.setCallbackThreadInitializer("
    print "            this, com.sun.jna.CallbackThreadInitializer(true, false, \"lapak-wake\")"
    print "        )"
    print "    }"
  }' "$kotlin_file" > "$kotlin_file.new"
mv "$kotlin_file.new" "$kotlin_file"

cp "$lib" "$out/python/"
echo "bindings in $out (kotlin, swift, python)"
