# Sourced by scripts that test a release build: starts `plaster serve --demo`
# on a fresh SQLite database in a temporary directory (seeded with the demo,
# which the Playwright and API-fuzz runs read), waits until it answers,
# and stops it (and removes the directory) however the sourcing script ends:
# normally, on an error, or on Ctrl-C, SIGTERM or SIGHUP. Neither the start
# nor the stop can hang `make test`: each has a deadline.
#   demo_server NAME PORT   sets $work (the directory) and $base_url

# Seconds the server has to answer /healthz after it was started.
DEMO_SERVER_START_TIMEOUT=${DEMO_SERVER_START_TIMEOUT:-60}
# Seconds it has to exit after SIGTERM (it waits for open connections, such
# as a live stream a browser left open) before it is killed.
DEMO_SERVER_STOP_TIMEOUT=${DEMO_SERVER_STOP_TIMEOUT:-10}

demo_server() {
  local name=$1 port=$2
  demo_server_name=$name
  work=$(mktemp -d)
  demo_server_dir=$work
  base_url="http://127.0.0.1:$port"
  demo_server_log="$work/server.log"
  trap 'demo_server_stop $?' EXIT
  # A signal ends the script through `exit`, which runs the EXIT trap.
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Something else answering there would pass the wait below for us.
  if curl -fs --max-time 2 "$base_url/healthz" >/dev/null 2>&1; then
    echo "$name: something already answers on $base_url; stop it or choose another port" >&2
    exit 1
  fi
  DATABASE_URL="sqlite://$work/plaster.db" PLASTER_LISTEN="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    ./target/release/plaster serve --demo >"$demo_server_log" 2>&1 &
  demo_server_pid=$!
  local deadline=$((SECONDS + DEMO_SERVER_START_TIMEOUT))
  until curl -fs --max-time 2 "$base_url/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$demo_server_pid" 2>/dev/null; then
      echo "$name: the server exited before it answered; the end of its log:" >&2
      demo_server_log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "$name: the server did not answer $base_url/healthz within $DEMO_SERVER_START_TIMEOUT s; the end of its log:" >&2
      demo_server_log_tail
      exit 1
    fi
    sleep 0.2
  done
}

demo_server_log_tail() {
  tail -n 50 "$demo_server_log" >&2 || true
}

# SIGTERM, up to DEMO_SERVER_STOP_TIMEOUT s to exit, then SIGKILL; then the
# directory goes, after a failed run (status $1 not 0) has printed the
# server's warnings and errors, which the directory would take with it.
# Safe to call twice; never fails (it runs under `set -e`).
demo_server_stop() {
  local status=${1:-0}
  if [ "$status" != 0 ] && [ -n "${demo_server_log:-}" ] && [ -s "$demo_server_log" ]; then
    echo "${demo_server_name:-demo server}: the run failed; the server's last warnings and errors:" >&2
    demo_server_log_tail
  fi
  local pid=${demo_server_pid:-}
  demo_server_pid=
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + DEMO_SERVER_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "${demo_server_name:-demo server}: the server did not stop within $DEMO_SERVER_STOP_TIMEOUT s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "${demo_server_dir:-}" ]; then
    rm -rf "$demo_server_dir" || true
    demo_server_dir=
  fi
}
