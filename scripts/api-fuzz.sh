#!/usr/bin/env bash
# Fuzzes the public API from its own description (#15.9): schemathesis
# reads /api/v2/openapi.json from a release build on a fresh SQLite database
# and sends what the document allows and what it does not. It fails on any
# server error and on any response that the document does not describe.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/demo-server.sh
demo_server api-fuzz "${FUZZ_PORT:-3108}"

# A fixed seed: the same cases every run, so a red run can be repeated.
st run "$base_url/api/v2/openapi.json" \
  --checks all --max-examples "${FUZZ_EXAMPLES:-50}" --seed 1524 \
  --generation-deterministic "$@"
