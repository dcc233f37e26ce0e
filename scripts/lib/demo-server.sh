# Sourced by scripts that test a release build: starts `plaster serve` on a
# fresh SQLite database in a temporary directory, waits until it answers,
# and stops it (and removes the directory) when the sourcing script exits.
#   demo_server NAME PORT   sets $work (the directory) and $base_url
demo_server() {
  local name=$1 port=$2
  work=$(mktemp -d)
  base_url="http://127.0.0.1:$port"
  local log="$work/server.log"
  trap 'demo_server_stop' EXIT
  DATABASE_URL="sqlite://$work/plaster.db" PLASTER_LISTEN="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    ./target/release/plaster serve >"$log" 2>&1 &
  demo_server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "$base_url/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$demo_server_pid" 2>/dev/null || { echo "$name: the server died:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  echo "$name: the server did not answer $base_url/healthz within 20 s:" >&2
  cat "$log" >&2
  exit 1
}

demo_server_stop() {
  [ -n "${demo_server_pid:-}" ] && kill "$demo_server_pid" 2>/dev/null && wait "$demo_server_pid" 2>/dev/null
  rm -rf "${work:-/nonexistent-plaster-dir}"
}
