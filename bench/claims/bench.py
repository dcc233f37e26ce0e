#!/usr/bin/env python3
"""Benchmark: a customer's evidence and the support queue, on 10 million events.

For each database (SQLite, and PostgreSQL when reachable):
  1. `run add-logs` of the logs (stored in chunks and indexed by customer);
  2. `plaster serve` on that database; for 20 random customers: sign in through
     the mailed link (read from Plaster's own mailbox table) and GET `/me`,
     which reads their records from every run's logs, their lines, ledger
     entries, payouts and claims, and renders the page;
  3. 10,000 open claims; a support agent GETs the queue page and 20 claim
     pages (each the customer's every record in the incident's logs).
Reference, on the same files: finding one customer's records without an
index, with `grep -F` over the uncompressed files and `zcat | grep -F` over
the compressed one (what a person does today).

usage: bench/claims/bench.py [--plaster target/release/plaster] [--events 10000000]
                             [--dir /tmp/plaster-runs-bench] [--postgres postgres://127.0.0.1:5432]
"""
import argparse
import http.cookiejar
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

INCIDENT = "atg-2024-08-24-v75"
RUN = "atg-2024-08-24"
FILES = ["events.jsonl", "events-archive.jsonl.gz", "events-export.csv"]
PASSWORD = "a bench password, long enough"


def timed(cmd, env):
    start = time.monotonic()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} failed:\n{res.stderr[-2000:]}")
    return time.monotonic() - start, res.stdout


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())


def call(opener, url, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(url, data=data, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def csrf(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


class Db:
    """Just enough SQL on either database for the bench's own reads and writes."""

    def __init__(self, url):
        self.url = url

    def rows(self, sql, *params):
        if self.url.startswith("sqlite://"):
            c = sqlite3.connect(self.url[len("sqlite://"):], timeout=30)
            try:
                out = c.execute(sql, params).fetchall()
                c.commit()
                return out
            finally:
                c.close()
        q = sql
        for p in params:
            q = q.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
        # Fields and records split by control characters: mail bodies hold newlines.
        res = subprocess.run(["psql", self.url, "-At", "-F", "\x1f", "-R", "\x1e", "-f", "-"],
                             input=q, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"psql: {res.stderr}")
        return [tuple(r.split("\x1f")) for r in res.stdout.rstrip("\n").split("\x1e") if r]


def sign_in_customer(base, db, email):
    c = client()
    status, _ = call(c, base + "/me/sign-in", {"email": email, "lang": "en"})
    assert status == 303, status
    for _ in range(1200):
        rows = db.rows("SELECT body_text FROM mailbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", email)
        m = rows and re.search(r"/me/link\?token=([\w-]+)", rows[0][0])
        if m:
            break
        time.sleep(0.05)
    else:
        sys.exit(f"no sign-in mail for {email}")
    status, _ = call(c, base + "/me/link", {"token": m.group(1)})
    assert status == 303, status
    return c


def sign_in_staff(a, env, base, email):
    out = subprocess.run([a.plaster, "staff", "add", "--email", email, "--role", "support"],
                         env=env, capture_output=True, text=True, check=True).stdout
    one_time = re.search(r"one-time password, shown only now: (\S+)", out).group(1)
    c = client()
    _, page = call(c, base + "/staff/login")
    status, _ = call(c, base + "/staff/login", {"email": email, "password": one_time,
                                                "csrf": csrf(page), "next": "/staff"})
    assert status == 303, status
    _, page = call(c, base + "/staff/password")
    call(c, base + "/staff/password", {"current": one_time, "new": PASSWORD, "confirm": PASSWORD,
                                       "csrf": csrf(page)})
    return c


def pct(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[-1]


def bench_backend(a, name, url, scen, events, rows):
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn")
    db = Db(url)
    subprocess.run([a.plaster, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([a.plaster, "demo", "reset"], env=env, check=True, capture_output=True)
    subprocess.run([a.plaster, "customers", "import", "--customers", os.path.join(scen, "customers.csv")],
                   env=env, check=True, capture_output=True)
    subprocess.run([a.plaster, "staff", "add", "--email", "drafter@bench.example", "--role", "finance"],
                   env=env, check=True, capture_output=True)
    subprocess.run([a.plaster, "compensation", "run", "create", "--incident", INCIDENT, "--plan",
                    os.path.join(scen, "plan.toml"), "--by", "drafter@bench.example"],
                   env=env, check=True, capture_output=True)
    wall, _ = timed([a.plaster, "compensation", "run", "add-logs", RUN, *events,
                     "--by", "drafter@bench.example"], env)
    indexed = db.rows("SELECT COUNT(*) FROM log_records")[0][0]
    rows.append((name, f"run add-logs: store and index {int(indexed):,} records", wall))

    port = a.port
    server = subprocess.Popen([a.plaster, "serve"], env=dict(env, PLASTER_LISTEN=f"127.0.0.1:{port}",
                              LEPTOS_SITE_ROOT="target/site", PLASTER_PUBLIC_URL=f"http://127.0.0.1:{port}"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if call(client(), base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        customers = [r[0] for r in db.rows("SELECT email FROM customers ORDER BY customer_id")]
        random.seed(7)
        times = []
        for email in random.sample(customers, 20):
            c = sign_in_customer(base, db, email)
            start = time.monotonic()
            status, page = call(c, base + "/me")
            times.append(time.monotonic() - start)
            assert status == 200 and "me-name" in page, status
        med, worst = pct(times)
        rows.append((name, "GET /me (a customer's records, lines, payouts, claims), median of 20", med))
        rows.append((name, "GET /me, slowest of 20", worst))

        # 10,000 open claims by random customers.
        now = int(time.time() * 1000)
        ids = [r[0] for r in db.rows("SELECT customer_id FROM customers ORDER BY customer_id")]
        values = ", ".join(
            f"('bench{i:06d}', '{random.choice(ids)}', '{INCIDENT}', 'missed_bet', 'b-{i}', NULL, "
            f"'bench claim', 'open', {now - i * 1000}, {now - i * 1000})" for i in range(10_000))
        db.rows("INSERT INTO claims (id, customer_id, incident_id, kind, bet_id, happened_at, description, "
                "state, created_at, updated_at) VALUES " + values)
        agent = sign_in_staff(a, env, base, f"agent-{name.lower()}@bench.example")
        times = []
        for _ in range(5):
            start = time.monotonic()
            status, page = call(agent, base + "/staff/claims")
            times.append(time.monotonic() - start)
            assert status == 200 and "10000 claims" in page, (status, page[:300])
        rows.append((name, "GET /staff/claims with 10,000 open claims, median of 5", pct(times)[0]))
        times = []
        for i in random.sample(range(10_000), 20):
            start = time.monotonic()
            status, page = call(agent, base + f"/staff/claims/bench{i:06d}")
            times.append(time.monotonic() - start)
            assert status == 200, status
        med, worst = pct(times)
        rows.append((name, "GET /staff/claims/{id} (every record of the customer), median of 20", med))
        rows.append((name, "GET /staff/claims/{id}, slowest of 20", worst))
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plaster", default="target/release/plaster")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", default="/tmp/plaster-runs-bench")
    ap.add_argument("--port", type=int, default=3391)
    ap.add_argument("--postgres", default="postgres://127.0.0.1:5432",
                    help="server URL; a database plaster_claims_bench is (re)created there ('' skips)")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    scen = os.path.join(a.dir, "v75-2024")
    events = [os.path.join(scen, f) for f in FILES]
    if not all(os.path.exists(p) for p in events):
        subprocess.run([a.plaster, "demo", "generate-logs", "--out", a.dir, "--scenario", "v75-2024",
                        "--events", str(a.events), "--seed", str(a.seed), "--gzip-percent", "15",
                        "--csv-percent", "15"], check=True, stdout=subprocess.DEVNULL)
    total = sum(os.path.getsize(p) for p in events)
    print(f"{a.events} events, {total / 1e6:.0f} MB in {len(events)} files")

    rows = []
    # Reference: one customer's records found without an index.
    who = None
    with open(events[0]) as f:
        for line in f:
            m = re.search(r'"customer_id":"([^"]+)"', line)
            if m:
                who = m.group(1)
                break
    # Same machine state as plaster's side, whose database pages are warm by
    # the time it is asked: the files are read once, untimed, so the grep
    # does not pay for cold reads.
    for path in events:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    start = time.monotonic()
    subprocess.run(["grep", "-F", who, events[0], events[2]], stdout=subprocess.DEVNULL)
    subprocess.run(f"zcat {events[1]} | grep -F {who}", shell=True, stdout=subprocess.DEVNULL)
    rows.append(("files", "reference: grep -F (and zcat | grep -F) for one customer", time.monotonic() - start))

    backends = [("SQLite", "sqlite://" + os.path.join(a.dir, "claims-bench.db"))]
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(os.path.join(a.dir, "claims-bench.db") + suffix)
        except FileNotFoundError:
            pass
    if a.postgres:
        base = a.postgres.rstrip("/")
        subprocess.run(["psql", base + "/postgres", "-qc", "DROP DATABASE IF EXISTS plaster_claims_bench"],
                       capture_output=True)
        if subprocess.run(["psql", base + "/postgres", "-qc", "CREATE DATABASE plaster_claims_bench"],
                          capture_output=True).returncode == 0:
            backends.append(("PostgreSQL", base + "/plaster_claims_bench"))
        else:
            print(f"PostgreSQL at {base} not reachable: skipped")
    for name, url in backends:
        bench_backend(a, name, url, scen, events, rows)
    print()
    print("| database | step | seconds |")
    print("|---|---|---:|")
    for db, step, wall in rows:
        print(f"| {db} | {step} | {wall:.3f} |")


if __name__ == "__main__":
    main()
