#!/usr/bin/env bash
# Installs whatever Plaster's build and tests need and is missing; a second run
# skips what is there. Versions are pinned here and in Cargo.lock.
#   scripts/bootstrap.sh build   - toolchain for building and running
#   scripts/bootstrap.sh test    - also Chromium, Playwright's node modules, PostgreSQL check
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.6
mode=${1:-build}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "bootstrap: need root to run: $*" >&2; exit 1; fi
}

apt_updated=0
apt_install() {
  # $@: debian packages; installs only the missing ones
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- build toolchain -------------------------------------------------------
command -v cargo >/dev/null || { echo "bootstrap: cargo (rustup) is required" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$wbg_version" ]; then echo "bootstrap: no wasm-bindgen in Cargo.lock" >&2; exit 1; fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg_version\b"; then
  say "installing wasm-bindgen-cli $wbg_version"
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi

# wasm-opt: Debian's binaryen 108 breaks the reference-types wasm that rustc
# 1.95 emits (browsers then reject the bindgen function table), so binaryen 132
# comes from the npm registry into tools/ (the Makefile puts it first on PATH).
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
if [ ! -x tools/node_modules/.bin/wasm-opt ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
  say "installing binaryen's wasm-opt from npm into tools/"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
fi

[ "$mode" = build ] && exit 0

# --- test tools ------------------------------------------------------------
apt_install chromium postgresql-client sqlite3
# The W3C HTML validator (vnu-jar, from npm) runs on Java.
command -v java >/dev/null || apt_install default-jre-headless

# A real SMTP server for the notification tests (python3 -m aiosmtpd).
if ! python3 -c "import aiosmtpd" 2>/dev/null; then
  say "installing Python's aiosmtpd (the test SMTP server)"
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages aiosmtpd==1.4.6
fi

# schemathesis fuzzes the public API from its OpenAPI document (scripts/api-fuzz.sh).
if ! st --version 2>/dev/null | grep -q "4.32.5"; then
  say "installing schemathesis (the API fuzzer)"
  python3 -m pip install --quiet --disable-pip-version-check schemathesis==4.32.5 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages schemathesis==4.32.5
fi

if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing the end2end node modules (npm ci)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# PostgreSQL: make test uses PLASTER_TEST_PG_URL or 127.0.0.1:5432 when
# reachable, and otherwise starts a private server from Debian's package
# (scripts/lib/private-postgres.sh); the database-gone test always starts its own.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
