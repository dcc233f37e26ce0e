#!/usr/bin/env bash
# Exactly once through SIGKILL, short and deterministic (`make test-faults`):
# bench/ledger/faults.py --short executes a run of 3,000 lines on SQLite and
# on PostgreSQL at once, kills the execution's holder when 30 % and 80 % of
# the lines are posted and every node when 20 % and 70 % of the payouts are
# settled, lets it finish, and checks the ledger, the payouts (each settled
# once, each sent in one batch with one body), the notices and the balance.
# Fails when any check fails or a kill point is not reached. About two
# minutes, most of it waiting out the leases of what was killed.
#
# Needs target/release/plaster (make build-release), sqlite3, psql, and
# PostgreSQL at PLASTER_TEST_PG_URL (as `make test` exports it; default
# postgres://postgres@127.0.0.1:5432). Extra arguments go to faults.py
# (e.g. --only sqlite).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "faults-short: $*" >&2; exit 1; }

[ -x target/release/plaster ] || die "target/release/plaster is missing: run make build-release first"
for tool in python3 sqlite3 psql; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (scripts/bootstrap.sh test installs it)"
done
export PLASTER_TEST_PG_URL="${PLASTER_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"

# A bound: a run that hangs fails by name instead of holding `make test`.
# SIGINT first, so faults.py kills its plaster processes and drops its database.
limit="${FAULTS_TIMEOUT:-300}"
start=$(date +%s)
status=0
timeout --signal=INT --kill-after=20 "$limit" python3 bench/ledger/faults.py --short "$@" || status=$?
elapsed=$(( $(date +%s) - start ))

if [ "$status" -eq 0 ]; then
  echo "faults-short: OK in ${elapsed} s"
elif [ "$status" -eq 124 ]; then
  die "stopped after ${limit} s (FAULTS_TIMEOUT): it did not finish"
else
  die "FAILED (exit ${status}) after ${elapsed} s"
fi
