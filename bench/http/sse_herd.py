#!/usr/bin/env python3
"""Benchmark: 10,000 concurrent Server-Sent Events clients on one plaster node.

Starts plaster on a fresh SQLite database (seeded with the demo) with a raised
open-file limit, opens N `GET /api/live` streams from raw asyncio sockets
(split over --procs worker processes, connected in batches so the listen
backlog never overflows), waits until every client has its initial `status`
event, then changes a component's status with the plaster CLI against the same
database (--writes times, flipping it back and forth, each once all clients
have the previous one) and measures when each client receives the new version:
relative to the moment the CLI was started (t0) and to the moment it exited.
Also reads plaster's RSS before the clients, with all connected, after the
updates and after the clients left, and counts the kernel's accept-queue
overflows while connecting (plaster's listen backlog is what `ss` shows; the
default batch stays under it, since an overflow costs a client a 1 s SYN retry).

On SQLite the CLI's write reaches the server through its 250 ms poll of
MAX(status_changes.id), so the figures include up to 250 ms of waiting:
that is what a CLI write costs on SQLite (PostgreSQL nodes get a NOTIFY).

Each client is a raw non-blocking socket read from an add_reader callback.
It records two times per event: when the bytes arrived in its socket (the
kernel's receive timestamp, SO_TIMESTAMPNS: when plaster's write reached the
client) and when Python read them. The clients run on the same cores as the
server, so the difference is the harness, not plaster; the verdict ("all
clients within 1 s") uses the arrival. Compare --procs 1 with --procs 2.

usage: bench/http/sse_herd.py [--clients 10000] [--procs 2] [--writes 3] [--batch N]
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
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


# ---------------------------------------------------------------- the clients

# Linux: ask TCP for the time each segment arrived in the client's socket
# (SO_TIMESTAMPNS; the kernel's CLOCK_REALTIME, returned with recvmsg). That
# is when plaster's write reached the client, however late Python reads it.
SO_TIMESTAMPNS = 35
ANC_SPACE = socket.CMSG_SPACE(16)


class SseClient:
    """One `GET /api/live` stream on a raw non-blocking socket, read from a
    loop.add_reader callback (no coroutine per read): parses the status line
    and headers, chunked transfer coding, and SSE events (`id:`, `event:`,
    `data:`, blank line; `:` comments are keep-alives)."""

    __slots__ = ("loop", "port", "sock", "buf", "body", "chunked", "need", "headers_done",
                 "seen", "ready", "error", "on_event", "kernel_ts")

    def __init__(self, loop, port, on_event):
        self.loop, self.port, self.on_event = loop, port, on_event
        self.sock = None
        self.buf = b""        # raw bytes not yet decoded
        self.body = b""       # decoded body bytes not yet parsed into events
        self.chunked = False
        self.need = None      # bytes left in the current chunk (None: read a size line)
        self.headers_done = False
        self.seen = {}        # event id -> (kernel arrival, Python read), both time.time() seconds
        self.ready = loop.create_future()  # True once the first event arrived, False on failure
        self.error = None
        self.kernel_ts = False  # did the kernel give us arrival timestamps?

    async def connect(self):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock = s
            s.setblocking(False)
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass
            await self.loop.sock_connect(s, ("127.0.0.1", self.port))
            await self.loop.sock_sendall(
                s, b"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   b"Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n" % self.port)
            self.loop.add_reader(s.fileno(), self._readable)
        except Exception as e:  # noqa: BLE001 - counted and reported
            self._fail(e)

    def close(self):
        if self.sock is not None:
            try:
                self.loop.remove_reader(self.sock.fileno())
            except (ValueError, OSError):
                pass
            self.sock.close()
            self.sock = None

    def _fail(self, e):
        self.error = f"{type(e).__name__}: {e}" if isinstance(e, BaseException) else str(e)
        if not self.ready.done():
            self.ready.set_result(False)
        self.close()

    def _readable(self):
        sock = self.sock
        while sock is not None:
            try:
                data, anc, _flags, _addr = sock.recvmsg(65536, ANC_SPACE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                return self._fail(e)
            if not data:
                return self._fail("stream ended")
            now = time.time()
            kts = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    kts = sec + nsec / 1e9
                    self.kernel_ts = True
            try:
                self._feed(data, kts, now)
            except Exception as e:  # noqa: BLE001
                return self._fail(e)

    def _feed(self, data, kts, now):
        buf = self.buf + data
        if not self.headers_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head, buf = buf[:end].decode("latin-1").split("\r\n"), buf[end + 4:]
            if " 200 " not in head[0] + " ":
                raise RuntimeError(f"status line {head[0]!r}")
            for line in head[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
                elif name == "content-type" and "text/event-stream" not in value:
                    raise RuntimeError(f"content-type {value!r}")
            self.headers_done = True
        if self.chunked:
            out = []
            while True:
                if self.need is None:
                    end = buf.find(b"\r\n")
                    if end < 0:
                        break
                    size = int(buf[:end].split(b";")[0].strip() or b"0", 16)
                    buf = buf[end + 2:]
                    if size == 0:
                        raise RuntimeError("stream ended (last chunk)")
                    self.need = size
                if len(buf) < self.need + 2:
                    break
                out.append(buf[:self.need])
                buf = buf[self.need + 2:]
                self.need = None
            self.buf = buf
            self.body += b"".join(out)
        else:
            self.buf = b""
            self.body += buf
        self._events(kts, now)

    def _events(self, kts, now):
        body = self.body
        new = False
        while True:
            end = body.find(b"\n\n")
            if end < 0:
                break
            block, body = body[:end], body[end + 2:]
            ev_id = None
            for line in block.split(b"\n"):
                if line.startswith(b"id:"):
                    ev_id = int(line[3:].strip())
            if ev_id is not None and ev_id not in self.seen:
                self.seen[ev_id] = (kts, now)
                new = True
        self.body = body
        if new:
            if not self.ready.done():
                self.ready.set_result(True)
            self.on_event(self)


async def worker_main(conn, port, n, batch, wid):
    loop = asyncio.get_running_loop()
    recv = lambda: loop.run_in_executor(None, conn.recv)  # noqa: E731
    msg = await recv()
    assert msg[0] == "start"
    state = {"baseline": None, "updated": 0, "alive": n, "all_updated": asyncio.Event()}
    done_ids = set()

    def on_event(client):
        base = state["baseline"]
        if base is None or id(client) in done_ids:
            return
        if any(i > base for i in client.seen):
            done_ids.add(id(client))
            state["updated"] += 1
            if state["updated"] >= state["alive"]:
                state["all_updated"].set()

    clients = [SseClient(loop, port, on_event) for _ in range(n)]
    t_start = time.monotonic()
    failed = 0
    for lo in range(0, n, batch):
        group = clients[lo:lo + batch]
        await asyncio.gather(*(c.connect() for c in group))
        done, pending = await asyncio.wait([c.ready for c in group], timeout=60)
        failed += len(pending) + sum(1 for f in done if f.result() is False)
    t_ready = time.monotonic()

    def summary():
        initial, errors = {}, {}
        for c in clients:
            if c.seen:
                first = min(c.seen, key=lambda i: c.seen[i][1])
                initial[first] = initial.get(first, 0) + 1
            if c.error:
                errors[c.error] = errors.get(c.error, 0) + 1
        return initial, errors

    initial, errors = summary()
    conn.send(("ready", {"worker": wid, "clients": n, "failed": failed, "t_start": t_start,
                         "t_ready": t_ready, "initial_ids": initial, "errors": errors,
                         "kernel_ts": any(c.kernel_ts for c in clients)}))

    while True:
        msg = await recv()
        if msg[0] == "close":
            break
        assert msg[0] == "watch"
        baseline, timeout = msg[1], msg[2]
        alive = [c for c in clients if c.seen and not c.error]
        done_ids.clear()
        state.update(alive=len(alive), updated=0, all_updated=asyncio.Event(), baseline=baseline)
        for c in alive:
            on_event(c)  # an update may already have arrived
        if state["updated"] < state["alive"]:
            try:
                await asyncio.wait_for(state["all_updated"].wait(), timeout)
            except asyncio.TimeoutError:
                pass
        state["baseline"] = None
        got, new_ids = [], {}
        for c in alive:
            newer = [(t, i) for i, t in c.seen.items() if i > baseline]
            if newer:
                t, i = min(newer, key=lambda x: x[0][1])
                got.append(t)  # (kernel arrival, Python read)
                new_ids[i] = new_ids.get(i, 0) + 1
            else:
                got.append(None)
        _, errors = summary()
        conn.send(("done", {"worker": wid, "times": got, "new_ids": new_ids, "errors": errors}))

    for c in clients:
        c.close()
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


def analyse(done, t0, t_write):
    """Per-write figures from the workers' (kernel arrival, Python read) pairs."""
    times = [t for d in done for t in d["times"]]
    new_ids = {}
    for d in done:
        for k, v in d["new_ids"].items():
            new_ids[k] = new_ids.get(k, 0) + v
    arrived = sorted(t[0] for t in times if t is not None and t[0] is not None)
    read = sorted(t[1] for t in times if t is not None)
    lag = sorted(t[1] - t[0] for t in times if t is not None and t[0] is not None)

    def stats(vals, ref):
        if not vals:
            return {k: None for k in ("min", "p50", "p99", "max")}
        return {"min": vals[0] - ref, "p50": pct(vals, 50) - ref, "p99": pct(vals, 99) - ref,
                "max": vals[-1] - ref}

    return {
        "cli_seconds": t_write - t0, "alive": len(times), "updated": len(read),
        "missing": sum(1 for t in times if t is None), "new_ids": new_ids,
        "arrived_from_t0": stats(arrived, t0), "arrived_from_write": stats(arrived, t_write),
        "read_from_t0": stats(read, t0), "read_from_write": stats(read, t_write),
        "fanout_seconds": arrived[-1] - arrived[0] if arrived else None,
        "python_lag_seconds": {"p50": pct(lag, 50), "p99": pct(lag, 99),
                               "max": lag[-1] if lag else None},
        "worker_read_spread_seconds": [
            max(t[1] for t in d["times"] if t) - min(t[1] for t in d["times"] if t)
            for d in done if any(d["times"])],
    }


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


def listen_backlog(port):
    """The accept-queue size of the socket listening on port (`ss`'s Send-Q), or None."""
    try:
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                             text=True).stdout.split()
        return int(out[2])
    except (OSError, IndexError, ValueError):
        return None


def listen_overflows():
    """The kernel's count of connections dropped because an accept queue was full."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return dict(zip(names.split()[1:], map(int, values.split()[1:]))).get("ListenOverflows")
    return None


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
    ap.add_argument("--batch", type=int, default=None,
                    help="connections in flight at once, over all workers "
                         "(default: 3/4 of plaster's listen backlog, as `ss` shows it)")
    ap.add_argument("--component", default="login", help="the component whose status the CLI changes")
    ap.add_argument("--status", default=None,
                    help="the new status (default: major_outage, or operational if already so)")
    ap.add_argument("--writes", type=int, default=3,
                    help="CLI writes, one after another (the status flips back and forth); "
                         "each lands at a different point of the 250 ms poll")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for each update")
    ap.add_argument("--out-dir", default="/tmp/plaster-bench-http", help="where sse_herd.json goes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()

    common.install_cleanup()
    cores = os.cpu_count()
    per_proc = [a.clients // a.procs + (1 if i < a.clients % a.procs else 0) for i in range(a.procs)]
    want_fds = max(per_proc) + 1024
    soft, hard = common.raise_nofile(want_fds)
    shell_ulimit = subprocess.run(["sh", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip()
    load0 = os.getloadavg()
    print(f"open-file limit: this script {soft} (hard {hard}); `ulimit -n` in a child shell: "
          f"{shell_ulimit}; load average {load0[0]:.2f}")
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
        backlog = listen_backlog(a.port)
        if a.batch is None:
            a.batch = max(a.procs, min(1000, (backlog or 128) * 3 // 4))
        print(f"plaster pid {plaster.pid}, open-file limit {server_nofile}, listen backlog {backlog}; "
              f"{cores} cores; {a.clients} clients over {a.procs} process(es), "
              f"{a.batch} connecting at a time")
        if server_nofile < a.clients + 100:
            sys.exit("plaster's open-file limit is below the client count")
        time.sleep(1)
        rss_before = common.rss_mib(plaster.pid)

        live = get_json(a.port, "/api/live/state.json")
        baseline = live["version"]
        current = live["components"].get(a.component)
        if current is None:
            sys.exit(f"no visible component {a.component!r}; have {sorted(live['components'])}")

        for i, n in enumerate(per_proc):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker, args=(child, a.port, n, max(1, a.batch // a.procs), i,
                                                 n + 1024), daemon=True)
            p.start()
            workers.append(p)
            conns.append(parent)
        overflows0 = listen_overflows()
        t_start = time.monotonic()
        for c in conns:
            c.send(("start",))
        ready = recv_all(conns, "ready", 600)
        overflows = listen_overflows() - overflows0 if overflows0 is not None else None
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
              f"plaster has {server_fds} open fds; accept-queue overflows meanwhile: {overflows}")
        if overflows:
            print("WARNING: the kernel dropped connection attempts on a full accept queue; "
                  "each costs a 1 s SYN retry (lower --batch)")
        if failed:
            errs = {}
            for r in ready:
                for k, v in r["errors"].items():
                    errs[k] = errs.get(k, 0) + v
            print(f"WARNING: {failed} clients failed to connect: {errs}")

        # The writes. Times from here on are time.time() (CLOCK_REALTIME), the
        # clock of the kernel's receive timestamps.
        writes = []
        status_now = current
        for w in range(a.writes):
            to = (a.status or ("operational" if status_now == "major_outage" else "major_outage")) \
                if w == 0 else (current if w % 2 else first_status)
            if w == 0:
                first_status = to
            cli = ["component", "set-status", a.component, to]
            for c in conns:
                c.send(("watch", baseline, a.timeout))
            time.sleep(0.5)  # the workers are waiting; the server is idle
            t0 = time.time()
            cli_out = common.run_cli(a.plaster, workdir, cli)
            t_write = time.time()
            done = recv_all(conns, "done", a.timeout + 60)
            res = analyse(done, t0, t_write)
            res.update(cli=cli, status_from=status_now, status_to=to, cli_output=cli_out)
            writes.append(res)
            status_now = to
            if res["new_ids"]:
                baseline = max(res["new_ids"])
            print(f"write {w + 1}: `plaster {' '.join(cli)}`: CLI {fmt(t_write - t0)}, "
                  f"{res['updated']}/{res['alive']} clients updated (ids {res['new_ids']}), "
                  f"last arrival {fmt(res['arrived_from_t0']['max'])} after t0", flush=True)
            if w + 1 < a.writes:
                time.sleep(1)
        rss_updated = common.rss_mib(plaster.pid)
        alive_clients = writes[0]["alive"]

        for c in conns:
            c.send(("close",))
        recv_all(conns, "closed", 60)
        for p in workers:
            p.join(10)
        # plaster notices a closed stream when it next reads or writes it,
        # so wait (up to 30 s) for the fds to go.
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
        if a.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    kernel_ts = all(r["kernel_ts"] for r in ready)
    key = "arrived_from_t0" if kernel_ts else "read_from_t0"
    worst = max(writes, key=lambda r: (r["missing"], r[key]["max"] or 0))
    all_got = all(r["missing"] == 0 and r["alive"] == a.clients for r in writes)
    within_1s = all_got and all(r[key]["max"] is not None and r[key]["max"] <= 1.0 for r in writes)

    print()
    print(f"{a.clients} SSE clients on one plaster node (SQLite), {cores} cores shared by plaster "
          f"and {a.procs} Python client process(es); {a.writes} write(s) by the CLI")
    print()
    print("Time from t0 (the CLI started) until the new version ... (`arrived`: in the client's "
          "socket, kernel timestamp; `read`: by the Python client)")
    print()
    print("| write | CLI ran | arrived first | arrived p50 | arrived p99 | arrived last "
          "| last, from the CLI's exit | read p50 | read last | server fan-out first -> last |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, r in enumerate(writes):
        at, aw, rt = r["arrived_from_t0"], r["arrived_from_write"], r["read_from_t0"]
        print(f"| {i + 1}: {r['status_from']} -> {r['status_to']} | {fmt(r['cli_seconds'])} | "
              f"{fmt(at['min'])} | {fmt(at['p50'])} | {fmt(at['p99'])} | {fmt(at['max'])} | "
              f"{fmt(aw['max'])} | {fmt(rt['p50'])} | {fmt(rt['max'])} | {fmt(r['fanout_seconds'])} |")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| clients connected / asked | {alive_clients} / {a.clients} |")
    print(f"| time to connect all ({a.batch} in flight; listen backlog {backlog}) | {connect_s:.2f} s "
          f"({alive_clients / connect_s:.0f}/s) |")
    print(f"| accept-queue overflows while connecting (kernel ListenOverflows) | {overflows} |")
    print(f"| clients missing an update after {a.timeout:.0f} s, over all writes | "
          f"{sum(r['missing'] for r in writes)} |")
    print(f"| Python lag, arrival -> read, worst write: p50 / max | "
          f"{fmt(worst['python_lag_seconds']['p50'])} / {fmt(worst['python_lag_seconds']['max'])} |")
    print(f"| plaster RSS before clients | {rss_before:.1f} MiB |")
    print(f"| plaster RSS, all clients connected | {rss_connected:.1f} MiB "
          f"(+{(rss_connected - rss_before) * 1024 / max(1, alive_clients):.1f} KiB per client) |")
    print(f"| plaster RSS after the update(s) | {rss_updated:.1f} MiB |")
    print(f"| plaster RSS after the clients left | {rss_after:.1f} MiB |")
    print(f"| plaster open fds: connected / after the clients left | {server_fds} / "
          f"{server_fds_after} (released within {released_s:.1f} s) |")
    print()
    print("The times include the SQLite node's 250 ms poll for changes made by another process "
          "(the CLI), so they vary by up to 250 ms from write to write: that is what a CLI write "
          "costs on SQLite.")
    print(f"The Python clients share the {cores} cores with plaster. `arrived` is the kernel's "
          "receive timestamp (SO_TIMESTAMPNS): when plaster's write reached the client socket, "
          "however late Python got to it; `read` adds the harness's own delay.")
    if not kernel_ts:
        print("WARNING: no kernel receive timestamps; the verdict uses Python's read times")
    print(f"All {a.clients} clients got every update within 1 s of t0: "
          f"{'yes' if within_1s else 'NO'} (worst last {'arrival' if kernel_ts else 'read'} "
          f"{fmt(worst[key]['max'])}; worst last Python read "
          f"{fmt(max(r['read_from_t0']['max'] or 0 for r in writes))})")

    out = os.path.join(a.out_dir, "sse_herd.json")
    with open(out, "w") as f:
        json.dump({
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cores": cores, "load_average_at_start": load0, "plaster": plaster_version,
            "settings": {k: getattr(a, k) for k in
                         ("clients", "procs", "batch", "component", "writes", "timeout")},
            "open_files": {"script": soft, "plaster": server_nofile},
            "listen_backlog": backlog, "listen_overflows_while_connecting": overflows,
            "connect_seconds": connect_s, "connect_failed": failed, "clients_connected": alive_clients,
            "initial_ids": initial_ids, "kernel_timestamps": kernel_ts,
            "writes": writes, "all_within_1s": within_1s,
            "rss_mib": {"before": rss_before, "connected": rss_connected,
                        "after_updates": rss_updated, "after_close": rss_after},
            "plaster_fds": {"connected": server_fds, "after_close": server_fds_after,
                            "released_seconds": released_s},
        }, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        common.stop_all()
        sys.exit("interrupted; children stopped")
