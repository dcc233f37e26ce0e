#!/usr/bin/env bash
# Runs the Playwright suite against a running release build on a fresh
# SQLite database, then stops the server. Exit status is Playwright's.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${E2E_PORT:-3107}
work=$(mktemp -d)
log="$work/server.log"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="sqlite://$work/plaster.db" PLASTER_LISTEN="127.0.0.1:$port" \
  LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  ./target/release/plaster serve >"$log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "e2e: the server died:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done

# The live-update specs write through the CLI into the same database.
export PLASTER_E2E_BIN="$PWD/target/release/plaster" PLASTER_E2E_DATABASE_URL="sqlite://$work/plaster.db"
cd end2end
PLASTER_BASE_URL="http://127.0.0.1:$port" npx playwright test "$@"
