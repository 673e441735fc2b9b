# Shared by scripts/run and scripts/test: install what is missing, nothing more.
# Versions are pinned here and in ../shared/TOOLCHAIN.md; each step is skipped when already satisfied.
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
  rustup target list --installed | grep -qx wasm32-unknown-unknown || {
    log "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown
  }
}

ensure_cargo_leptos() {
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    # Without LTO the install takes about half as long; the tool's speed is not what we ship.
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one time, ~10 min)"
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
}

ensure_wasm_bindgen() {
  # Must equal the wasm-bindgen pinned in Cargo.toml; cargo-leptos would otherwise download it.
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (one time, ~2 min)"
    # Not --locked: its lock file names a withdrawn webpki-roots.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

ensure_npm_packages() {
  # end2end/ holds Playwright and binaryen's wasm-opt (Debian's wasm-opt 108 breaks hydration).
  if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ ! -x "$ROOT/end2end/node_modules/.bin/playwright" ] \
     || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    log "installing npm packages (end2end/)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 retry npm ci --no-audit --no-fund)
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    as_root env DEBIAN_FRONTEND=noninteractive bash -c 'apt-get update -q && apt-get install -y -q chromium' \
      || { sleep 5; as_root env DEBIAN_FRONTEND=noninteractive bash -c 'apt-get update -q && apt-get install -y -q chromium'; }
  fi
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_npm_packages
  ensure_wasm_bindgen
  ensure_cargo_leptos
}

# Builds the server binary and the browser bundle (target/site) in release mode.
build_release() {
  log "building (cargo leptos build --release)"
  (cd "$ROOT" && cargo leptos build --release)
}

# Waits until $1 answers with HTTP 200, at most $2 seconds.
wait_for_http() {
  local url=$1 timeout=${2:-60} start=$SECONDS
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if [ $((SECONDS - start)) -ge "$timeout" ]; then echo "no answer from $url after ${timeout}s" >&2; return 1; fi
    sleep 0.3
  done
}
