#!/usr/bin/env bash
# A private PostgreSQL server for tests: its own data directory and port,
# trust auth for user `postgres`, nothing shared with a server already running.
#
#   private-postgres.sh start DIR   initialise DIR if new, start, print the base URL
#                                   (postgres://postgres@127.0.0.1:PORT); the port
#                                   is kept in DIR/port, so a restart reuses it
#   private-postgres.sh stop DIR    stop it (fast shutdown, bounded wait)
#   private-postgres.sh run CMD...  the test run's server: use PLASTER_TEST_PG_URL
#                                   or a reachable 127.0.0.1:5432 as they are;
#                                   otherwise start a private one, export its URL
#                                   as PLASTER_TEST_PG_URL, run CMD, and stop the
#                                   server afterwards, also when CMD fails
set -euo pipefail

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { echo "private-postgres: $*" >&2; exit 1; }

bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql (Debian's postgresql package; scripts/bootstrap.sh test installs it)"
  echo "$dir"
}

# PostgreSQL refuses to run as root: as root the server runs as the `postgres`
# user that Debian's package creates.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1 bin port
  bin=$(bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    # Temporary folders are private to root (0700): let the server's user
    # through each of DIR's parents, and no further.
    local up=$dir
    while up=$(dirname "$up"); [ "$up" != / ]; do
      runuser -u postgres -- test -x "$up" && break
      chmod o+x "$up"
    done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed in $dir/data"; }
  fi
  [ -f "$dir/port" ] || free_port >"$dir/port"
  port=$(cat "$dir/port")
  if as_server_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "postgres://postgres@127.0.0.1:$port"
    return 0
  fi
  # A test server: durability off (fsync, synchronous_commit) for speed; the
  # socket lives in DIR, so nothing collides with the system's server.
  as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; die "the server in $dir did not start"; }
  echo "postgres://postgres@127.0.0.1:$port"
}

stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_server_user "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
    || as_server_user "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 \
    || true
}

reachable() {
  # pg_isready comes with postgresql-client; without it, a TCP connect says enough.
  if command -v pg_isready >/dev/null; then
    pg_isready -q -t 3 -d "$1/postgres"
  else
    python3 - "$1" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), 3).close()
PY
  fi
}

run() {
  if [ -n "${PLASTER_TEST_PG_URL:-}" ]; then
    reachable "$PLASTER_TEST_PG_URL" || die "PLASTER_TEST_PG_URL=$PLASTER_TEST_PG_URL is not reachable"
    say "PostgreSQL for the tests: $PLASTER_TEST_PG_URL (PLASTER_TEST_PG_URL)"
    exec "$@"
  fi
  local default=postgres://postgres@127.0.0.1:5432
  if reachable "$default"; then
    export PLASTER_TEST_PG_URL=$default
    say "PostgreSQL for the tests: $default"
    exec "$@"
  fi
  local status=0
  # Global, not local: the EXIT trap runs after this function has returned.
  private_dir=$(mktemp -d "${TMPDIR:-/tmp}/plaster-test-pg.XXXXXX")
  trap 'stop "$private_dir"; rm -rf "$private_dir"' EXIT
  trap 'exit 130' INT TERM
  say "no PostgreSQL on 127.0.0.1:5432: starting a private server in $private_dir"
  PLASTER_TEST_PG_URL=$(start "$private_dir")
  export PLASTER_TEST_PG_URL
  say "PostgreSQL for the tests: $PLASTER_TEST_PG_URL (private, stopped after the run)"
  "$@" || status=$?
  exit $status
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  run) shift; [ $# -ge 1 ] || die "usage: $0 run CMD..."; run "$@" ;;
  *) die "usage: $0 start DIR | stop DIR | run CMD..." ;;
esac
