#!/usr/bin/env bash
# Fuzzes the public API from its own description (#15.9): schemathesis
# reads /api/v2/openapi.json from a release build on a fresh SQLite database
# and sends what the document allows and what it does not. It fails on any
# server error and on any response that the document does not describe.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${FUZZ_PORT:-3108}
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
  kill -0 "$pid" 2>/dev/null || { echo "api-fuzz: the server died:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done

# A fixed seed: the same cases every run, so a red run can be repeated.
st run "http://127.0.0.1:$port/api/v2/openapi.json" \
  --checks all --max-examples "${FUZZ_EXAMPLES:-50}" --seed 1524 \
  --generation-deterministic "$@"
