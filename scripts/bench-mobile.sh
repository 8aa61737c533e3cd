#!/usr/bin/env bash
# The phone bindings' figures for docs/benchmarks.md, in one run on this machine: starts a
# release lapak-server with the full demo (200 territories of 500 outlets, 20,000 items and
# their prices) in a temporary directory, then
#   - the Rust side (mobile-bindings/benches/field.rs): a salesperson's bootstrap through
#     lapak-client, 100 photos of 2 MB uploaded beside a plain HTTP upload of the bytes, and
#     the Kotlin side's local writes made offline through lapak-mobile's Rust API (the same
#     code without the FFI, to tell the engine's time from the binding's);
#   - the Kotlin side (mobile-bindings/tests/kotlin/Bench.kt, on the release library): the same
#     bootstrap through the binding (the median of three fresh phones), then, with the server
#     stopped (a phone in the field), check-ins and activities with five lines written locally,
#     and memory over three rounds of 10,000 calls (the JVM's heap fixed at 256 MiB, so the
#     resident size follows native memory).
# Prints every figure and the ratios the issue sets.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/setup.sh
ensure_build_deps
ensure_kotlin_tests
cargo build --quiet --release -p lapak-server
scripts/bindings.sh target/bindings-release --release >/dev/null
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

log "starting a release server with the full demo (a minute or two)"
LAPAK_DEMO_PASSWORD=bench-pass-1 RUST_LOG=warn target/release/lapak-server serve --demo \
  --listen 127.0.0.1:0 --data-dir "$work/server" > "$work/server.log" 2>&1 &
server_pid=$!
url=
for _ in $(seq 1 600); do
  url=$(sed -nE 's#.*Health: (http://[^/ ]+)/healthz.*#\1#p' "$work/server.log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { log "the server did not start"; exit 1; }
export LAPAK_BENCH_SERVER=$url LAPAK_BENCH_PASSWORD=bench-pass-1

log "Rust: bootstrap, photo upload, local writes"
cargo bench --quiet -p lapak-mobile --bench field | tee "$work/rust.out"

log "Kotlin: bootstrap, local writes, memory"
kotlin=mobile-bindings/tests/kotlin
lib=$kotlin/node_modules/kotlin-compiler/lib
cp="/usr/share/java/jna.jar:$lib/kotlinx-coroutines-core-jvm.jar:$lib/kotlin-stdlib.jar"
"$kotlin/node_modules/kotlin-compiler/bin/kotlinc" -nowarn -cp "$cp" -d "$work/bench.jar" \
  target/bindings-release/kotlin/lapak/mobile/lapak_mobile.kt "$kotlin/Day.kt" "$kotlin/Bench.kt" 2>/dev/null
coproc JAVA { java -Xms256m -Xmx256m -Djna.library.path=target/bindings-release/python -cp "$work/bench.jar:$cp" \
  DayKt bench "$url" "$work/devices" bench-pass-1 2>&1; }
# The coprocess's variables go when it ends: keep its pid to wait for.
java_pid=$JAVA_PID
while IFS= read -r line <&"${JAVA[0]}"; do
  case "$line" in
    OFFLINE) kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; echo ok >&"${JAVA[1]}" ;;
    *) echo "$line" | tee -a "$work/kotlin.out" ;;
  esac
done
wait "$java_pid"

rust=$(sed -nE 's/^RESULT rust_bootstrap_ms ([0-9]+).*/\1/p' "$work/rust.out")
kt=$(sed -nE 's/^RESULT bootstrap_ms ([0-9]+).*/\1/p' "$work/kotlin.out")
echo "RESULT bootstrap_ratio_kotlin_to_rust $(awk -v a="$kt" -v b="$rust" 'BEGIN { printf "%.2f", a / b }')"
