#!/usr/bin/env python3
"""Benchmark: plaster's public page and API vs nginx serving the same bytes, same run.

Starts plaster on a fresh SQLite database (seeded with the demo), fetches the
exact response bodies of each path with the headers wrk will send
(`Accept-Encoding: gzip`), writes them where nginx serves them (the identity
body as the file, and the gzip body as FILE.gz for `gzip_static` when plaster
answers gzip), checks that nginx sends byte-for-byte what plaster sends, then
runs wrk against both servers, path by path, alternating which goes first each
round. Prints a table and writes JSON.

nginx gets its best shape for static files: 2 worker processes (plaster's tokio
runtime has 2 worker threads), sendfile, open_file_cache, no access log,
keep-alive without a request cap (nginx's default closes a connection after
1000 requests; hyper does not).

usage: bench/http/bench.py [--threads 2] [--connections 64] [--duration 15]
                           [--rounds 2] [--warmup 2] [--out-dir /tmp/plaster-bench-http]
Needs: wrk, nginx (`apt-get install -y wrk nginx`), a release build
(`cargo leptos build --release`: target/release/plaster and target/site).
"""
import argparse
import datetime
import gzip
import http.client
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

ACCEPT_ENCODING = "gzip"
# Copied from plaster's answer into nginx's, so both send alike headers.
# Whatever plaster sends that a static server would not by default, nginx
# is configured to send too: the same bytes on the wire for both (#15.6).
COPY_HEADERS = ("cache-control", "access-control-allow-origin", "content-security-policy",
                "x-content-type-options", "referrer-policy", "x-frame-options",
                "strict-transport-security")


def fetch(port, path, accept_encoding):
    """GET with exactly the request headers wrk sends: Host and, if given,
    Accept-Encoding. Returns (status, headers dict (lower-case), body, header bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        if accept_encoding:
            conn.putheader("Accept-Encoding", accept_encoding)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        headers = {k.lower(): v for k, v in r.getheaders()}
        head_len = len(f"HTTP/1.1 {r.status} {r.reason}\r\n") + sum(
            len(k) + len(v) + 4 for k, v in r.getheaders()) + 2
        return r.status, headers, body, head_len
    finally:
        conn.close()


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b)) if len(a) != len(b) else None


def nginx_conf(workdir, port, paths, reuseport=False):
    tmp = os.path.join(workdir, "nginx-tmp")
    os.makedirs(tmp, exist_ok=True)
    locations = []
    for path, info in paths.items():
        extra = "".join(f'        add_header {k} "{v}";\n' for k, v in info["copy_headers"].items())
        locations.append(
            f"    location = {path} {{\n"
            f"        default_type \"{info['content_type']}\";\n{extra}"
            f"    }}\n")
    return f"""# written by bench/http/bench.py
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    open_file_cache max=64 inactive=600s;
    open_file_cache_valid 600s;
    client_body_temp_path {tmp}/client;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ }}
    server {{
        listen 127.0.0.1:{port}{" reuseport" if reuseport else ""};
        root {workdir}/www;
        gzip off;
        gzip_static on;
        gzip_vary on;
{"".join(locations)}    }}
}}
"""


def start_nginx(nginx, workdir, port, path):
    conf = os.path.join(workdir, "nginx.conf")
    proc = common.track(subprocess.Popen(
        [nginx, "-e", os.path.join(workdir, "nginx-error.log"), "-p", workdir, "-c", conf,
         "-g", "daemon off;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True))
    deadline = time.monotonic() + 15
    while True:
        if proc.poll() is not None:
            sys.exit(f"nginx exited with {proc.returncode}: {proc.stderr.read().decode()}")
        try:
            if fetch(port, path, None)[0] == 200:
                return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("nginx did not answer within 15 s")
        time.sleep(0.05)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out):
    res = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", out)
    res["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Transfer/sec:\s+(\S+)", out)
    res["transfer_per_sec"] = m.group(1) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    # wrk prints the line only when there were errors.
    res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                    map(int, m.groups()) if m else (0, 0, 0, 0)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx_3xx"] = int(m.group(1)) if m else 0
    return res


def run_wrk(wrk, url, a, duration, server_pids):
    cmd = [wrk, f"-t{a.threads}", f"-c{a.connections}", f"-d{duration}s", "--latency",
           "-H", f"Accept-Encoding: {ACCEPT_ENCODING}", url]
    cpu0 = common.cpu_seconds(server_pids)
    busy0 = common.busy_cpu_seconds()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = common.cpu_seconds(server_pids)
    busy1 = common.busy_cpu_seconds()
    if res.returncode != 0:
        raise RuntimeError(f"wrk failed ({res.returncode}): {res.stderr}{res.stdout}")
    r = parse_wrk(res.stdout)
    r["server_cpu_pct"] = 100 * (cpu1 - cpu0) / wall
    r["wrk_cpu_pct"] = 100 * ((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)) / wall
    # Whatever else ran on the machine meanwhile (other processes, the kernel
    # outside these processes' accounts): it took CPU from both sides.
    r["other_cpu_pct"] = max(0.0, 100 * (busy1 - busy0) / wall - r["server_cpu_pct"] - r["wrk_cpu_pct"])
    r["wrk_output"] = res.stdout
    r["command"] = " ".join(cmd[:-3] + [f"-H 'Accept-Encoding: {ACCEPT_ENCODING}'", url])
    return r


def fmt_ms(v):
    return "-" if v is None else (f"{v * 1000:.0f} µs" if v < 1 else f"{v:.2f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plaster", default=common.DEFAULT_PLASTER)
    ap.add_argument("--site-root", default=common.DEFAULT_SITE)
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--plaster-port", type=int, default=3200)
    ap.add_argument("--nginx-port", type=int, default=3201)
    ap.add_argument("--paths", default="/sv,/api/v2/summary.json",
                    help="comma-separated paths to compare")
    ap.add_argument("-t", "--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("-c", "--connections", type=int, default=64, help="wrk connections")
    ap.add_argument("-d", "--duration", type=int, default=15, help="seconds per measured run")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured wrk per server and path")
    ap.add_argument("--rounds", type=int, default=2,
                    help="measured runs per server and path; the order alternates each round")
    ap.add_argument("--out-dir", default="/tmp/plaster-bench-http", help="where bench.json goes")
    ap.add_argument("--nginx-reuseport", action="store_true",
                    help="`listen ... reuseport`: one accept queue per nginx worker")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()

    for tool in (a.wrk, a.nginx):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install -y wrk nginx")
    common.install_cleanup()
    paths = [p.strip() for p in a.paths.split(",") if p.strip()]
    os.makedirs(a.out_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="plaster-bench-http-")
    os.chmod(workdir, 0o755)  # nginx's workers run as nobody when we are root
    cores = os.cpu_count()
    nginx_version = subprocess.run([a.nginx, "-v"], capture_output=True, text=True).stderr.strip()
    wrk_version = subprocess.run([a.wrk, "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    load0 = os.getloadavg()
    print(f"{nginx_version}; {wrk_version}; {cores} cores; load average {load0[0]:.2f} "
          f"(anything else running skews both servers); temp dir {workdir}")
    print(f"NOTE: wrk ({a.threads} threads) runs on the same {cores} cores as the server under "
          "test, so each server gets what wrk leaves; compare the two, not the absolute figures.")

    try:
        plaster = common.start_plaster(a.plaster, workdir, a.plaster_port, site_root=a.site_root)
        plaster_version = subprocess.run([a.plaster, "--version"], capture_output=True,
                                         text=True).stdout.strip()

        # 1. The bytes plaster sends, written where nginx finds them.
        info = {}
        www = os.path.join(workdir, "www")
        for path in paths:
            st, h, body, head_len = fetch(a.plaster_port, path, ACCEPT_ENCODING)
            if st != 200:
                sys.exit(f"plaster answered {st} for {path}")
            enc = h.get("content-encoding")
            st2, h2, plain, _ = fetch(a.plaster_port, path, None)
            if st2 != 200 or h2.get("content-encoding"):
                sys.exit(f"plaster's identity answer for {path}: {st2} {h2.get('content-encoding')}")
            if enc not in (None, "gzip"):
                sys.exit(f"plaster answered {path} with Content-Encoding {enc}, not gzip or identity")
            if enc == "gzip" and gzip.decompress(body) != plain:
                sys.exit(f"plaster's gzip and identity bodies of {path} differ")
            if enc is None and body != plain:
                print(f"NOTE: two identity fetches of {path} from plaster differ "
                      f"(at byte {first_difference(body, plain)}); the page varies per request")
            file = os.path.join(www, path.lstrip("/"))
            os.makedirs(os.path.dirname(file), exist_ok=True)
            with open(file, "wb") as f:
                f.write(plain if enc == "gzip" else body)
            if enc == "gzip":
                with open(file + ".gz", "wb") as f:
                    f.write(body)
            for p in (file, file + ".gz"):
                if os.path.exists(p):
                    os.chmod(p, 0o644)
            d = os.path.dirname(file)
            while len(d) >= len(www):
                os.chmod(d, 0o755)
                d = os.path.dirname(d)
            info[path] = {
                "content_type": h.get("content-type", "application/octet-stream"),
                "content_encoding": enc or "identity",
                "body_bytes": len(body),
                "identity_bytes": len(plain),
                "transfer_encoding": h.get("transfer-encoding"),
                "copy_headers": {k: h[k] for k in COPY_HEADERS if k in h},
                "plaster_header_bytes": head_len,
                "plaster_headers": h,
            }
            print(f"{path}: plaster sends {len(body)} bytes "
                  f"({enc or 'uncompressed'}; identity {len(plain)} bytes), "
                  f"{h.get('content-type')}"
                  + (f", Transfer-Encoding: {h['transfer-encoding']}" if "transfer-encoding" in h else ""))
            if enc is None:
                print(f"NOTE: plaster does not compress {path} for `Accept-Encoding: {ACCEPT_ENCODING}`; "
                      "nginx gets no .gz file for it either, so both send the same uncompressed bytes")
        conf_text = nginx_conf(workdir, a.nginx_port, info, a.nginx_reuseport)
        with open(os.path.join(workdir, "nginx.conf"), "w") as f:
            f.write(conf_text)
        nginx = start_nginx(a.nginx, workdir, a.nginx_port, paths[0])
        nginx_pids = [nginx.pid] + common.child_pids(nginx.pid)

        # 2. Same bytes from both?
        same_all = True
        for path in paths:
            _, hp, bp, _ = fetch(a.plaster_port, path, ACCEPT_ENCODING)
            _, hn, bn, head_n = fetch(a.nginx_port, path, ACCEPT_ENCODING)
            want = open(os.path.join(www, path.lstrip("/")) + (
                ".gz" if info[path]["content_encoding"] == "gzip" else ""), "rb").read()
            same = bn == want and hn.get("content-encoding") == hp.get("content-encoding")
            still = bp == want
            same_all &= same and still
            info[path].update(nginx_header_bytes=head_n, nginx_headers=hn,
                              nginx_sends_same_bytes=same, plaster_still_sends_same_bytes=still)
            print(f"{path}: nginx sends the same bytes as plaster: {'yes' if same else 'NO'}"
                  + ("" if still else f"; plaster's body changed since the copy was taken "
                     f"(now {len(bp)} bytes, first difference at byte {first_difference(bp, want)})")
                  + f"; response headers: plaster {info[path]['plaster_header_bytes']} B, "
                  f"nginx {head_n} B")
        if not same_all:
            print("WARNING: the servers do not send identical bytes; see above")

        # 3. wrk, alternating.
        servers = {"plaster": (a.plaster_port, [plaster.pid]),
                   "nginx": (a.nginx_port, nginx_pids)}
        if a.warmup:
            for path in paths:
                for name, (port, pids) in servers.items():
                    run_wrk(a.wrk, f"http://127.0.0.1:{port}{path}", a, a.warmup, pids)
        runs = []
        for rnd in range(a.rounds):
            order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
            for path in paths:
                for name in order:
                    port, pids = servers[name]
                    r = run_wrk(a.wrk, f"http://127.0.0.1:{port}{path}", a, a.duration, pids)
                    r.update(round=rnd + 1, path=path, server=name)
                    runs.append(r)
                    errs = r["socket_errors"]
                    bad = (errs and any(errs.values())) or r["non_2xx_3xx"]
                    print(f"  round {rnd + 1} {path:<24} {name:<8} {r['rps']:>10.0f} req/s  "
                          f"p99 {fmt_ms(r['p99_ms']):>9}  server CPU {r['server_cpu_pct']:.0f}%  "
                          f"wrk CPU {r['wrk_cpu_pct']:.0f}%  other {r['other_cpu_pct']:.0f}%"
                          + (f"  ERRORS {errs} non-2xx/3xx {r['non_2xx_3xx']}" if bad else ""),
                          flush=True)
        plaster_rss = common.rss_mib(plaster.pid)
        # The snapshot is rebuilt every 60 s; the page can change with the clock.
        for path in paths:
            _, _, bp, _ = fetch(a.plaster_port, path, ACCEPT_ENCODING)
            want = open(os.path.join(www, path.lstrip("/")) + (
                ".gz" if info[path]["content_encoding"] == "gzip" else ""), "rb").read()
            info[path]["plaster_same_bytes_at_end"] = bp == want
            if bp != want:
                print(f"NOTE: by the end plaster's {path} had changed ({len(want)} -> {len(bp)} bytes; "
                      "the 60 s snapshot refresh); nginx kept serving the copy")
    finally:
        common.stop_all()
        if a.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    # 4. Summary: mean over rounds.
    summary = []
    for path in paths:
        row = {"path": path}
        for name in ("plaster", "nginx"):
            rs = [r for r in runs if r["path"] == path and r["server"] == name]
            row[name] = {
                "rps": sum(r["rps"] for r in rs) / len(rs),
                "p50_ms": sum(r["p50_ms"] for r in rs) / len(rs),
                "p99_ms": sum(r["p99_ms"] for r in rs) / len(rs),
                "server_cpu_pct": sum(r["server_cpu_pct"] for r in rs) / len(rs),
                "rounds_rps": [r["rps"] for r in rs],
            }
        row["ratio_rps"] = row["plaster"]["rps"] / row["nginx"]["rps"]
        # Each round's own ratio (the two servers' wrk runs of that round, back
        # to back): the spread a reader needs beside the mean, worst included.
        row["ratio_rps_rounds"] = [p / n for p, n in zip(row["plaster"]["rounds_rps"],
                                                           row["nginx"]["rounds_rps"])]
        row["ratio_p99"] = row["plaster"]["p99_ms"] / row["nginx"]["p99_ms"]
        summary.append(row)

    print()
    print(f"wrk -t{a.threads} -c{a.connections} -d{a.duration}s --latency "
          f"-H 'Accept-Encoding: {ACCEPT_ENCODING}', mean of {a.rounds} round(s); "
          f"wrk and the server share {cores} cores")
    print()
    print(f"| path | server | bytes/response | req/s | p50 | p99 | server CPU ({cores * 100}% = {cores} cores) "
          "| plaster/nginx req/s | plaster/nginx p99 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in summary:
        for name in ("plaster", "nginx"):
            s = row[name]
            ratio = (f"{row['ratio_rps']:.2f}", f"{row['ratio_p99']:.2f}") if name == "plaster" else ("", "")
            print(f"| `{row['path']}` | {name} | {info[row['path']]['body_bytes']} | {s['rps']:.0f} | "
                  f"{fmt_ms(s['p50_ms'])} | {fmt_ms(s['p99_ms'])} | {s['server_cpu_pct']:.0f}% | "
                  f"{ratio[0]} | {ratio[1]} |")
    print()
    for row in summary:
        verdict = "reached" if row["ratio_rps"] >= 0.9 else "did NOT reach"
        rounds = row["ratio_rps_rounds"]
        print(f"{row['path']}: plaster {verdict} 0.9x nginx's req/s ({row['ratio_rps']:.2f}x; "
              f"rounds {min(rounds):.2f}x–{max(rounds):.2f}x: "
              + ", ".join(f"{r:.2f}x" for r in rounds) + ")")
    disturbed = [r for r in runs if r["other_cpu_pct"] > 15]
    if disturbed:
        print(f"WARNING: {len(disturbed)} run(s) shared the machine with other work "
              f"(other CPU up to {max(r['other_cpu_pct'] for r in disturbed):.0f}%); rerun on a quiet machine")
    errors = [r for r in runs if (r["socket_errors"] and any(r["socket_errors"].values()))
              or r["non_2xx_3xx"]]
    print(f"wrk errors: {'none' if not errors else f'{len(errors)} run(s) with errors, see JSON'}")
    print(f"plaster RSS at the end: {plaster_rss:.0f} MiB")

    out = os.path.join(a.out_dir, "bench.json")
    with open(out, "w") as f:
        json.dump({
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cores": cores, "load_average_at_start": load0, "nginx": nginx_version, "wrk": wrk_version, "plaster": plaster_version,
            "settings": {k: getattr(a, k) for k in ("threads", "connections", "duration", "warmup",
                                                    "rounds", "nginx_reuseport")},
            "accept_encoding": ACCEPT_ENCODING, "same_bytes": same_all, "paths": info,
            "summary": summary, "runs": runs, "plaster_rss_mib": plaster_rss,
            "nginx_conf": conf_text,
        }, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        common.stop_all()
        sys.exit("interrupted; children stopped")
