# Shared set-up for scripts/run.sh and scripts/test.sh: installs what a fresh Debian/Ubuntu
# machine lacks. Sourced, not run. Every step is skipped when its tool is already there.

log() { printf '\033[1m[lapak]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG...: installs the Debian packages that are missing.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# ensure_rust: a cargo on PATH; rustup then installs the toolchain pinned in rust-toolchain.toml.
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    ensure_packages curl ca-certificates
    log "installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain none
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
}

# ensure_build_deps: what the workspace's crates need to compile (C compiler for bundled SQLite).
ensure_build_deps() {
  ensure_packages build-essential pkg-config
  ensure_rust
}

# ensure_desktop_deps: the desktop POS (Tauri 2) links WebKitGTK; its page needs Node.js
# 20.19+ and npm.
ensure_desktop_deps() {
  ensure_packages libwebkit2gtk-4.1-dev
  ensure_node
}

# The tauri-driver the window tests use: pinned, as its WebDriver mapping changes between
# releases.
TAURI_DRIVER_VERSION=2.1.0

# ensure_window_test_deps: what the POS window tests (desktop-app/tests/window) drive the real
# window with: an X server (Xvfb), WebKitGTK's WebDriver and tauri-driver in front of it, and
# ImageMagick for their screenshots.
ensure_window_test_deps() {
  ensure_packages xvfb webkit2gtk-driver imagemagick
  # tauri-driver has no --version: ask cargo what it installed.
  if ! cargo install --list | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
    log "installing tauri-driver $TAURI_DRIVER_VERSION"
    cargo install --locked --quiet tauri-driver --version "$TAURI_DRIVER_VERSION"
  fi
}

# ensure_browser_test_deps: what the admin web's browser tests (sync-server/tests/browser.rs)
# drive: Debian's Chromium and its ChromeDriver, never a browser downloaded by a test tool.
ensure_browser_test_deps() {
  ensure_packages chromium chromium-driver
}

# ensure_node: a Node.js of at least 20.19 (Vite's floor), with npm. Installs Debian's when
# there is none; says what to do when the one there is too old.
ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    log "Node.js $(node --version) is too old for the POS page: install Node.js 20.19 or newer (https://nodejs.org) and run this again"
    return 1
  fi
}

# ensure_python_tests: a virtual environment in target/pyvenv with pytest, for the tests of the
# generated Python bindings (mobile-bindings/tests/python). Prints the venv's python.
PYTEST_VERSION=8.3.5
# moto's S3 server, for the photo store's tests against a real S3 API.
MOTO_VERSION=5.1.22
ensure_python_tests() {
  if ! command -v python3 >/dev/null 2>&1; then ensure_packages python3; fi
  local venv=target/pyvenv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >/dev/null 2>&1 || { ensure_packages python3-venv; python3 -m venv "$venv"; }
  fi
  if ! "$venv/bin/python" -m pytest --version 2>/dev/null | grep -q "$PYTEST_VERSION"; then
    log "installing pytest $PYTEST_VERSION for the Python bindings' tests"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pytest==$PYTEST_VERSION"
  fi
  if ! "$venv/bin/python" -m pip show moto 2>/dev/null | grep -q "^Version: $MOTO_VERSION$"; then
    log "installing moto $MOTO_VERSION (an S3 server for the photo store's tests)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  echo "$venv/bin/python"
}

# ensure_kotlin_tests: Java 17, Debian's JNA and the Kotlin compiler (npm `kotlin-compiler`,
# locked in mobile-bindings/tests/kotlin) for the Kotlin bindings' tests.
ensure_kotlin_tests() {
  ensure_packages openjdk-17-jdk-headless libjna-java
  ensure_node
  (cd mobile-bindings/tests/kotlin && npm ci --no-audit --no-fund --loglevel=error)
}

# build_ui: installs the pages' locked packages and builds the POS page (ui/pos/dist), which
# the desktop app embeds, and the admin web (ui/admin/dist), which lapak-server embeds.
build_ui() {
  log "ui: npm ci and build"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
}

# ensure_postgres: exports DATABASE_URL for tests. Uses a server already listening on
# 127.0.0.1:5432; otherwise starts a throwaway cluster under target/pg (the first free port from
# 15432), installing Debian's postgresql when needed, and stops it when the script exits.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  if [ -z "${LAPAK_THROWAWAY_PG:-}" ] && command -v pg_isready >/dev/null 2>&1 \
      && pg_isready -q -h 127.0.0.1 -p 5432; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
    return 0
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then
    ensure_packages postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  local dir port owner=postgres
  dir="$(pwd)/target/pg"
  id -u "$owner" >/dev/null 2>&1 || owner=nobody
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "creating a throwaway Postgres cluster in $dir"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown "$owner" "$dir"; fi
    run_as_pg "$owner" "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  fi
  if "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    port=$(cat "$dir/lapak-port" 2>/dev/null || echo 15432)
  else
    # The first free port from 15432 (another checkout's cluster may hold one).
    port=15432
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    log "starting the throwaway Postgres on 127.0.0.1:$port"
    run_as_pg "$owner" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    echo "$port" > "$dir/lapak-port"
    # Stopped again when the calling script ends.
    LAPAK_PG_STOP="$(printf '%q ' run_as_pg "$owner" "$bin/pg_ctl" -D "$dir" -m fast stop)"
    trap 'eval "$LAPAK_PG_STOP" >/dev/null 2>&1 || true' EXIT
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# ensure_brokers: nats-server and redis-server (the relay and mirror tests start their own, on
# free ports) and a RabbitMQ answering on 127.0.0.1:5672 (started when installed but not
# running); LAPAK_TEST_AMQP_URL points the tests at it.
ensure_brokers() {
  ensure_packages nats-server rabbitmq-server redis-server
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    log "starting RabbitMQ"
    as_root service rabbitmq-server start >/dev/null 2>&1 || as_root rabbitmq-server -detached
    for _ in $(seq 1 120); do
      (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break
      sleep 0.5
    done
  fi
  export LAPAK_TEST_AMQP_URL="${LAPAK_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
}

# ensure_mariadb: a MariaDB answering on 127.0.0.1:3306 (installed and started when missing),
# standing in for the ERP's database in the import tests, with a user `lapak` (password
# `lapak`) owning the database `lapak_test`; LAPAK_TEST_MYSQL_URL points the tests at it.
ensure_mariadb() {
  if [ -z "${LAPAK_TEST_MYSQL_URL:-}" ]; then
    ensure_packages mariadb-server mariadb-client
    if ! (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
      log "starting MariaDB"
      as_root service mariadb start >/dev/null 2>&1 \
        || as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
      for _ in $(seq 1 120); do
        (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null && break
        sleep 0.5
      done
    fi
    as_root mariadb -u root -e "CREATE DATABASE IF NOT EXISTS lapak_test; \
      CREATE USER IF NOT EXISTS 'lapak'@'127.0.0.1' IDENTIFIED BY 'lapak'; \
      CREATE USER IF NOT EXISTS 'lapak'@'localhost' IDENTIFIED BY 'lapak'; \
      GRANT ALL ON lapak_test.* TO 'lapak'@'127.0.0.1'; GRANT ALL ON lapak_test.* TO 'lapak'@'localhost';"
    export LAPAK_TEST_MYSQL_URL="mysql://lapak:lapak@127.0.0.1:3306/lapak_test"
  fi
}

run_as_pg() {
  local owner=$1; shift
  if [ "$(id -u)" -eq 0 ]; then
    su -s /bin/sh "$owner" -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}
