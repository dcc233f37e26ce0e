#!/usr/bin/env python3
"""Benchmark: 10,000 concurrent Server-Sent Events clients on one plaster node.

Starts plaster on a fresh SQLite database (seeded with the demo) with a raised
open-file limit, opens N `GET /api/live` streams from raw asyncio sockets
(split over --procs worker processes, connected in batches so the listen
backlog never overflows), waits until every client has its initial `status`
event, then changes a component's status with the plaster CLI against the same
database and measures when each client receives the new version: relative to
the moment the CLI was started (t0) and to the moment it exited. Also reads
plaster's RSS before the clients, with all connected, after the update and
after the clients left.

On SQLite the CLI's write reaches the server through its 250 ms poll of
MAX(status_changes.id), so the figures include up to 250 ms of waiting:
that is what a CLI write costs on SQLite (PostgreSQL nodes get a NOTIFY).

The clients are Python on the same cores as the server; the per-worker
"spread" (first to last client of a worker) shows how much of the fan-out time
is Python reading sockets. Compare --procs 1 with --procs 2.

usage: bench/http/sse_herd.py [--clients 10000] [--procs 2] [--batch 500]
                              [--component login] [--out-dir /tmp/plaster-bench-http]
Needs: a release build (`cargo leptos build --release`). Linux, stdlib only.
"""
import argparse
import asyncio
import datetime
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


# ---------------------------------------------------------------- the clients

class Client:
    __slots__ = ("seen", "ready", "error", "headers_ok")

    def __init__(self, loop):
        self.seen = {}  # event id -> monotonic receive time of its first arrival
        self.ready = loop.create_future()  # set when the first event arrives
        self.error = None
        self.headers_ok = False


def _parse_events(buf, now, client):
    """Consumes complete events (ending in a blank line) from buf; returns the rest."""
    while True:
        end = buf.find(b"\n\n")
        if end < 0:
            return buf
        block, buf = buf[:end], buf[end + 2:]
        ev_id = None
        for line in block.split(b"\n"):
            line = line.rstrip(b"\r")
            if line.startswith(b"id:"):
                ev_id = int(line[3:].strip())
            # `event:` and `data:` are read but not needed for the timing;
            # lines starting with ':' are keep-alive comments.
        if ev_id is not None:
            if ev_id not in client.seen:
                client.seen[ev_id] = now
            if not client.ready.done():
                client.ready.set_result(True)


async def run_client(port, client, on_event):
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                     b"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n" % port)
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"status line {status!r}")
        chunked = False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"content-type" and b"text/event-stream" not in value:
                raise RuntimeError(f"content-type {value.strip()!r}")
        client.headers_ok = True
        buf = b""
        loop_time = time.monotonic
        while True:
            if chunked:
                size_line = await reader.readline()
                if not size_line:
                    break
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    break
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    break
            now = loop_time()
            before = len(client.seen)
            buf = _parse_events(buf + data, now, client)
            if len(client.seen) != before:
                on_event(client)
        raise RuntimeError("stream ended")
    except asyncio.CancelledError:
        raise
    except Exception as e:  # noqa: BLE001 - every failure is counted and reported
        client.error = f"{type(e).__name__}: {e}"
        if not client.ready.done():
            client.ready.set_result(False)
    finally:
        if writer is not None:
            writer.close()


async def worker_main(conn, port, n, batch, wid):
    loop = asyncio.get_running_loop()
    recv = lambda: loop.run_in_executor(None, conn.recv)  # noqa: E731
    msg = await recv()
    assert msg[0] == "start"
    clients = [Client(loop) for _ in range(n)]
    state = {"baseline": None, "updated": 0, "all_updated": asyncio.Event()}

    done_ids = set()

    def on_event_tracked(client):
        base = state["baseline"]
        if base is None or id(client) in done_ids:
            return
        if any(i > base for i in client.seen):
            done_ids.add(id(client))
            state["updated"] += 1
            if state["updated"] >= state["alive"]:
                state["all_updated"].set()

    tasks = []
    t_start = time.monotonic()
    failed = 0
    for lo in range(0, n, batch):
        group = clients[lo:lo + batch]
        tasks += [asyncio.ensure_future(run_client(port, c, on_event_tracked)) for c in group]
        done, pending = await asyncio.wait([c.ready for c in group], timeout=60)
        failed += len(pending) + sum(1 for f in done if f.result() is False)
    t_ready = time.monotonic()
    initial = {}
    for c in clients:
        if c.seen:
            first = min(c.seen, key=c.seen.get)
            initial[first] = initial.get(first, 0) + 1
    errors = {}
    for c in clients:
        if c.error:
            errors[c.error] = errors.get(c.error, 0) + 1
    conn.send(("ready", {"worker": wid, "clients": n, "failed": failed, "t_start": t_start,
                         "t_ready": t_ready, "initial_ids": initial, "errors": errors}))

    msg = await recv()
    assert msg[0] == "watch"
    baseline, timeout = msg[1], msg[2]
    alive = [c for c in clients if c.seen and not c.error]
    state["alive"] = len(alive)
    state["baseline"] = baseline
    for c in alive:
        on_event_tracked(c)  # an update may already have arrived
    if state["updated"] < state["alive"]:
        try:
            await asyncio.wait_for(state["all_updated"].wait(), timeout)
        except asyncio.TimeoutError:
            pass
    got = []
    new_ids = {}
    for c in alive:
        newer = [(t, i) for i, t in c.seen.items() if i > baseline]
        if newer:
            t, i = min(newer)
            got.append(t)
            new_ids[i] = new_ids.get(i, 0) + 1
        else:
            got.append(None)
    errors = {}
    for c in clients:
        if c.error:
            errors[c.error] = errors.get(c.error, 0) + 1
    conn.send(("done", {"worker": wid, "times": got, "new_ids": new_ids, "errors": errors}))

    msg = await recv()
    assert msg[0] == "close"
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(("closed", wid))


def worker(conn, port, n, batch, wid, nofile):
    common.raise_nofile(nofile)
    try:
        asyncio.run(worker_main(conn, port, n, batch, wid))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass


# ------------------------------------------------------------------- the main

def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def get_json(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.load(r)


class VersionWatcher(threading.Thread):
    """Polls /api/live/state.json every few ms to see when the server's own
    snapshot moves past the baseline (splits 'server noticed' from 'fan-out')."""

    def __init__(self, port, baseline):
        super().__init__(daemon=True)
        self.port, self.baseline, self.seen_at, self.stop = port, baseline, None, False

    def run(self):
        while not self.stop and self.seen_at is None:
            try:
                if get_json(self.port, "/api/live/state.json")["version"] > self.baseline:
                    self.seen_at = time.monotonic()
            except OSError:
                pass
            time.sleep(0.005)


def recv_all(conns, kind, timeout):
    out = []
    deadline = time.monotonic() + timeout
    for c in conns:
        if not c.poll(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"a worker did not report '{kind}' within {timeout} s")
        msg = c.recv()
        if msg[0] != kind:
            raise RuntimeError(f"expected '{kind}' from a worker, got {msg[0]!r}")
        out.append(msg[1])
    return out


def fmt(v, unit="ms"):
    if v is None:
        return "-"
    return f"{v * 1000:.0f} ms" if unit == "ms" else f"{v:.2f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plaster", default=common.DEFAULT_PLASTER)
    ap.add_argument("--site-root", default=common.DEFAULT_SITE)
    ap.add_argument("--port", type=int, default=3200)
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--procs", type=int, default=2, help="client worker processes")
    ap.add_argument("--batch", type=int, default=500,
                    help="connections in flight at once, over all workers (listen backlog is 1024)")
    ap.add_argument("--component", default="login", help="the component whose status the CLI changes")
    ap.add_argument("--status", default=None,
                    help="the new status (default: major_outage, or operational if already so)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for the update")
    ap.add_argument("--out-dir", default="/tmp/plaster-bench-http", help="where sse_herd.json goes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()

    common.install_cleanup()
    cores = os.cpu_count()
    per_proc = [a.clients // a.procs + (1 if i < a.clients % a.procs else 0) for i in range(a.procs)]
    want_fds = max(per_proc) + 1024
    soft, hard = common.raise_nofile(want_fds)
    shell_ulimit = subprocess.run(["sh", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip()
    print(f"open-file limit: this script {soft} (hard {hard}); `ulimit -n` in a child shell: {shell_ulimit}")
    if soft < want_fds:
        sys.exit(f"need {want_fds} open files per client process; raise the hard limit (ulimit -Hn)")
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    if a.clients > hi - lo - 1000:
        sys.exit(f"{a.clients} clients need more local ports than {lo}-{hi} leaves")

    os.makedirs(a.out_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="plaster-sse-herd-")
    workers, conns = [], []
    ctx = mp.get_context("spawn")
    try:
        plaster = common.start_plaster(a.plaster, workdir, a.port, nofile=a.clients + 4096,
                                       site_root=a.site_root)
        server_nofile = common.nofile_limit(plaster.pid)
        print(f"plaster pid {plaster.pid}, open-file limit {server_nofile}; {cores} cores; "
              f"{a.clients} clients over {a.procs} process(es), {a.batch} connecting at a time")
        if server_nofile < a.clients + 100:
            sys.exit("plaster's open-file limit is below the client count")
        time.sleep(1)
        rss_before = common.rss_mib(plaster.pid)

        live = get_json(a.port, "/api/live/state.json")
        baseline = live["version"]
        current = live["components"].get(a.component)
        if current is None:
            sys.exit(f"no visible component {a.component!r}; have {sorted(live['components'])}")
        new_status = a.status or ("operational" if current == "major_outage" else "major_outage")

        for i, n in enumerate(per_proc):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker, args=(child, a.port, n, max(1, a.batch // a.procs), i,
                                                 n + 1024), daemon=True)
            p.start()
            workers.append(p)
            conns.append(parent)
        t_start = time.monotonic()
        for c in conns:
            c.send(("start",))
        ready = recv_all(conns, "ready", 600)
        t_connected = max(r["t_ready"] for r in ready)
        connect_s = t_connected - t_start
        failed = sum(r["failed"] for r in ready)
        initial_ids = {}
        for r in ready:
            for k, v in r["initial_ids"].items():
                initial_ids[k] = initial_ids.get(k, 0) + v
        time.sleep(1)
        rss_connected = common.rss_mib(plaster.pid)
        server_fds = len(os.listdir(f"/proc/{plaster.pid}/fd"))
        print(f"connected {a.clients - failed}/{a.clients} clients in {connect_s:.2f} s "
              f"({(a.clients - failed) / connect_s:.0f}/s); initial event ids {initial_ids}; "
              f"plaster has {server_fds} open fds")
        if failed:
            errs = {}
            for r in ready:
                for k, v in r["errors"].items():
                    errs[k] = errs.get(k, 0) + v
            print(f"WARNING: {failed} clients failed to connect: {errs}")

        # The write.
        for c in conns:
            c.send(("watch", baseline, a.timeout))
        watcher = VersionWatcher(a.port, baseline)
        watcher.start()
        cli = ["component", "set-status", a.component, new_status]
        t0 = time.monotonic()
        cli_out = common.run_cli(a.plaster, workdir, cli)
        t_write = time.monotonic()
        print(f"t0: `plaster {' '.join(cli)}` ({a.component}: {current} -> {new_status}); "
              f"the CLI took {fmt(t_write - t0)}")
        done = recv_all(conns, "done", a.timeout + 60)
        watcher.stop = True
        rss_updated = common.rss_mib(plaster.pid)
        times = [t for d in done for t in d["times"]]
        alive_clients = len(times)
        missing = sum(1 for t in times if t is None)
        got = sorted(t for t in times if t is not None)
        new_ids = {}
        for d in done:
            for k, v in d["new_ids"].items():
                new_ids[k] = new_ids.get(k, 0) + v
        spreads = []
        for d in done:
            ts = sorted(t for t in d["times"] if t is not None)
            if ts:
                spreads.append(ts[-1] - ts[0])

        for c in conns:
            c.send(("close",))
        recv_all(conns, "closed", 60)
        for p in workers:
            p.join(10)
        # plaster notices a closed stream when it next writes to it (at the
        # latest the 15 s keep-alive comment), so wait for the fds to go.
        t_closed = time.monotonic()
        while True:
            server_fds_after = len(os.listdir(f"/proc/{plaster.pid}/fd"))
            if server_fds_after < server_fds - alive_clients + 50 or time.monotonic() - t_closed > 30:
                break
            time.sleep(0.2)
        released_s = time.monotonic() - t_closed
        time.sleep(1)
        rss_after = common.rss_mib(plaster.pid)
        plaster_version = subprocess.run([a.plaster, "--version"], capture_output=True,
                                         text=True).stdout.strip()
    finally:
        for p in workers:
            if p.is_alive():
                p.terminate()
                p.join(5)
        common.stop_all()

    alive = len(times)
    rel = lambda ref: {  # noqa: E731
        "min": got[0] - ref if got else None,
        "p50": pct(got, 50) - ref if got else None,
        "p99": pct(got, 99) - ref if got else None,
        "max": got[-1] - ref if got else None,
    }
    r_t0, r_write = rel(t0), rel(t_write)
    snap_t0 = watcher.seen_at - t0 if watcher.seen_at else None
    snap_w = watcher.seen_at - t_write if watcher.seen_at else None
    fanout = (got[-1] - watcher.seen_at) if got and watcher.seen_at else None
    all_got = missing == 0 and alive == a.clients
    within_1s = all_got and r_t0["max"] is not None and r_t0["max"] <= 1.0

    print()
    print(f"{a.clients} SSE clients on one plaster node (SQLite), {cores} cores shared by plaster "
          f"and {a.procs} Python client process(es)")
    print()
    print("| measure | from t0 (CLI started) | from the CLI's exit |")
    print("|---|---:|---:|")
    print(f"| CLI `component set-status` ran | {fmt(t_write - t0)} | |")
    print(f"| server's snapshot shows the new version (state.json poll) | {fmt(snap_t0)} | {fmt(snap_w)} |")
    for k in ("min", "p50", "p99", "max"):
        print(f"| client received the new version, {k} | {fmt(r_t0[k])} | {fmt(r_write[k])} |")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| clients connected / asked | {alive} / {a.clients} |")
    print(f"| time to connect all (batches of {a.batch}) | {connect_s:.2f} s |")
    print(f"| clients that got the update / missing after {a.timeout:.0f} s | {len(got)} / {missing} |")
    print(f"| new event id(s) received | {new_ids} |")
    print(f"| fan-out: server snapshot -> last client | {fmt(fanout)} |")
    print(f"| per-worker spread, first -> last client | "
          f"{', '.join(fmt(s) for s in spreads)} |")
    print(f"| plaster RSS before clients | {rss_before:.1f} MiB |")
    print(f"| plaster RSS, all clients connected | {rss_connected:.1f} MiB "
          f"(+{(rss_connected - rss_before) * 1024 / max(1, alive):.1f} KiB per client) |")
    print(f"| plaster RSS after the update | {rss_updated:.1f} MiB |")
    print(f"| plaster RSS after the clients left | {rss_after:.1f} MiB |")
    print(f"| plaster open fds: connected / after the clients left | {server_fds} / "
          f"{server_fds_after} (released within {released_s:.1f} s) |")
    print()
    print("The times include the SQLite node's 250 ms poll for changes made by another process "
          "(the CLI): that is what a CLI write costs on SQLite.")
    print(f"Python clients share the {cores} cores with plaster; the per-worker spread is mostly "
          "Python reading its sockets, so the client-side figures are an upper bound.")
    print(f"All {a.clients} clients got the update within 1 s of t0: "
          f"{'yes' if within_1s else 'NO'} (max {fmt(r_t0['max'])})")

    out = os.path.join(a.out_dir, "sse_herd.json")
    with open(out, "w") as f:
        json.dump({
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cores": cores, "plaster": plaster_version,
            "settings": {k: getattr(a, k) for k in ("clients", "procs", "batch", "component", "timeout")},
            "write": {"cli": cli, "from": current, "to": new_status, "output": cli_out,
                      "seconds": t_write - t0},
            "open_files": {"script": soft, "plaster": server_nofile},
            "connect_seconds": connect_s, "connect_failed": failed,
            "initial_ids": initial_ids, "new_ids": new_ids,
            "clients_updated": len(got), "clients_missing": missing,
            "snapshot_seen_from_t0": snap_t0, "snapshot_seen_from_write": snap_w,
            "fanout_seconds": fanout, "worker_spread_seconds": spreads,
            "received_from_t0": r_t0, "received_from_write": r_write,
            "all_within_1s": within_1s,
            "rss_mib": {"before": rss_before, "connected": rss_connected,
                        "after_update": rss_updated, "after_close": rss_after},
            "plaster_fds": {"connected": server_fds, "after_close": server_fds_after,
                            "released_seconds": released_s},
        }, f, indent=2)
    print(f"wrote {out}")
    if not a.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept {workdir}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        common.stop_all()
        sys.exit("interrupted; children stopped")
