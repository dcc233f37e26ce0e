#!/usr/bin/env bash
# Runs the Playwright suite against a running release build on a fresh
# SQLite database, then stops the server. Exit status is Playwright's.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/demo-server.sh
demo_server e2e "${E2E_PORT:-3107}"

# The live-update specs write through the CLI into the same database.
export PLASTER_E2E_BIN="$PWD/target/release/plaster" PLASTER_E2E_DATABASE_URL="sqlite://$work/plaster.db"
cd end2end
PLASTER_BASE_URL="$base_url" npx playwright test "$@"
