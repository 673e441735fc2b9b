# Shared by scripts/run, scripts/test and scripts/bench: install what is missing, nothing more.
# Every script that sources this runs in strict mode (set -euo pipefail below).
# Versions are pinned here; each step is skipped when already satisfied. docs/BENCHMARKS.md has the times.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_VERSION="0.2.130"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

retry() {
  local n=0
  until "$@"; do
    n=$((n + 1))
    if [ "$n" -ge 3 ]; then return 1; fi
    log "retrying ($n): $*"; sleep 5
  done
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_wasm_target() {
  # rust-toolchain.toml names the target too; this covers a toolchain installed without it.
  rustup target list --installed | grep -qx wasm32-unknown-unknown || {
    log "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown
  }
}

# Build tools are installed unoptimised: they only drive cargo and run for seconds, so their own speed is
# not what we ship, and skipping optimisation and LTO cuts the one-time install to a fraction.
cargo_install_quick() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=false cargo install "$@"
}

ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one time, see docs/BENCHMARKS.md for the time)"
    cargo_install_quick cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
}

ensure_wasm_bindgen() {
  # Must equal the wasm-bindgen pinned in Cargo.toml; cargo-leptos would otherwise download it.
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (one time)"
    # Not --locked: its lock file names a withdrawn webpki-roots.
    cargo_install_quick wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

ensure_npm_packages() {
  # end2end/ holds Playwright and binaryen's wasm-opt (Debian's wasm-opt 108 breaks hydration).
  # It also holds maildev, the SMTP server with a web inbox that scripts/run and the tests send mail to.
  if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ ! -x "$ROOT/end2end/node_modules/.bin/playwright" ] \
     || [ ! -x "$ROOT/end2end/node_modules/.bin/maildev" ] \
     || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    log "installing npm packages (end2end/)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 retry npm ci --no-audit --no-fund)
  fi
}

# Installs Debian packages (apt downloads fail transiently now and then, hence the retry).
apt_install() {
  log "installing Debian packages: $*"
  retry as_root env DEBIAN_FRONTEND=noninteractive bash -c "apt-get update -q && apt-get install -y -q $*"
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# What `cargo leptos build --release` needs beyond the toolchain and the npm packages (wasm-opt).
ensure_release_tools() {
  ensure_wasm_bindgen
  ensure_cargo_leptos
}

# Everything scripts/run and scripts/bench need before they build (scripts/test installs each tool
# just before the step that needs it).
ensure_build_tools() {
  ensure_wasm_target
  ensure_npm_packages
  ensure_release_tools
}

# Builds the server binary and the browser bundle (target/site) in release mode, the bundle's files
# named by their hash with .br and .gz beside them (served as they are: server/assets.rs).
build_release() {
  log "building (cargo leptos build --release --precompress)"
  (cd "$ROOT" && cargo leptos build --release --precompress)
}

# Prints N distinct free ports on 127.0.0.1 (all held open together while chosen, so they differ).
free_ports() {
  python3 -c 'import socket,sys
socks=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Starts storefront (STACK_APP_BIN) and a stripe-sim (STACK_SIM_BIN), by default their release builds
# in target/release (scripts/test passes the debug ones its test build wrote), on free ports, with a fresh SQLite
# database in $1, and a maildev (SMTP and its web inbox) that the app sends mail to, and waits for them. Sets
# APP_BASE, SIM_BASE, STACK_PIDS (the sim's first, the app's last) and exports MAIL_API_BASE (maildev's
# REST API, which the Playwright specs read receipts from); logs go to $1/sim.log, $1/maildev.log and
# $1/server.log; `stop_stack` ends them all. With STACK_MAIL=off no maildev is started and the app runs
# with MAIL_DISABLED=1 (the benchmark: no node process beside what is measured). Extra environment for
# the app can be passed as "NAME=value" arguments after $1. A port picked as free can be taken by
# another process before our server binds it (other tests on the machine), so a start whose process
# exits is retried on new ports.
start_stack() {
  local dir=$1; shift
  local attempt
  for attempt in 1 2 3; do
    start_stack_once "$dir" "$@" && return 0
    stop_stack
    echo "the stack did not start (attempt $attempt of 3); trying other ports" >&2
  done
  return 1
}

start_stack_once() {
  local dir=$1; shift
  local port sim_port smtp_port inbox_port sim_pid app_pid mail_pid="" mail_env
  read -r port sim_port smtp_port inbox_port < <(free_ports 4)
  rm -f "$dir"/app.db*
  APP_BASE="http://127.0.0.1:$port"; SIM_BASE="http://127.0.0.1:$sim_port"
  STRIPE_SIM_WEBHOOK_URL="$APP_BASE/api/webhooks/stripe" STRIPE_SIM_WEBHOOK_SECRET=whsec_stack \
    "${STACK_SIM_BIN:-$ROOT/target/release/stripe-sim}" --port "$sim_port" >"$dir/sim.log" 2>&1 &
  sim_pid=$!
  STACK_PIDS="$sim_pid"
  if [ "${STACK_MAIL:-}" = off ]; then
    export MAIL_API_BASE=""
    mail_env=(MAIL_DISABLED=1)
  else
    rm -rf "$dir/maildev"
    maildev --ip 127.0.0.1 --smtp "$smtp_port" --web "$inbox_port" --mail-directory "$dir/maildev" \
      >"$dir/maildev.log" 2>&1 &
    mail_pid=$!
    STACK_PIDS="$STACK_PIDS $mail_pid"
    export MAIL_API_BASE="http://127.0.0.1:$inbox_port"
    mail_env=(SMTP_URL="smtp://127.0.0.1:$smtp_port")
  fi
  env APP_URL="$APP_BASE" BIND_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$ROOT/target/site" \
    DATABASE_URL="sqlite://$dir/app.db" STRIPE_SECRET_KEY=sk_test_stack STRIPE_WEBHOOK_SECRET=whsec_stack \
    STRIPE_PUBLISHABLE_KEY=pk_test_stack STRIPE_API_BASE="$SIM_BASE" STRIPE_TAX=on TRUSTED_PROXIES=127.0.0.1/32 "${mail_env[@]}" "$@" \
    "${STACK_APP_BIN:-$ROOT/target/release/storefront}" >"$dir/server.log" 2>&1 &
  app_pid=$!
  STACK_PIDS="$STACK_PIDS $app_pid"
  wait_for_http "$SIM_BASE/_sim/health" 60 "$sim_pid" || { cat "$dir/sim.log"; return 1; }
  if [ -n "$mail_pid" ]; then
    wait_for_http "$MAIL_API_BASE/email" 60 "$mail_pid" || { cat "$dir/maildev.log"; return 1; }
  fi
  wait_for_http "$APP_BASE/healthz" 60 "$app_pid" || { cat "$dir/server.log"; return 1; }
}

stop_stack() {
  # shellcheck disable=SC2086 # a list of pids
  kill $STACK_PIDS 2>/dev/null || true
  wait $STACK_PIDS 2>/dev/null || true
}

# Whether process $1 is running (an exited child that was not waited for yet is a zombie: not running).
is_running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# Waits until $1 answers with HTTP 200, at most $2 seconds; gives up at once if process $3 (optional)
# has exited.
wait_for_http() {
  local url=$1 timeout=${2:-60} pid=${3:-} start=$SECONDS
  until curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    if [ -n "$pid" ] && ! is_running "$pid"; then echo "the server for $url exited" >&2; return 1; fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then echo "no answer from $url after ${timeout}s" >&2; return 1; fi
    sleep 0.3
  done
}
