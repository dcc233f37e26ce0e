#!/usr/bin/env python3
"""Ledger benchmark: executing a compensation run of N lines (default
1,000,000) on SQLite and on PostgreSQL, through the real commands, then
delivering its payouts to a local receiver and counting the notices queued.

Per backend: `plaster migrate`, the demo incidents (`plaster demo reset`),
N customers, one login failure each inside a plan's window (so the plan's
goodwill rule gives exactly one line per customer), preview, approval by a
second finance member, and then the timed part:

  * `plaster compensation run execute`: posting N lines (each a transaction
    of two postings under its key), then N payouts and N notices;
  * a second execute: N keys found already posted, nothing written;
  * `plaster serve` with the payout endpoint set to a local receiver (a
    Python http.server thread that verifies nothing and answers 200): the
    time until `plaster payouts export` shows every payout settled.

References in the same run: the same N transactions and 2N postings loaded
with the database's own bulk loader into tables of the same shape (psql
`\\copy` and the sqlite3 shell's `.import`, which check no key and no
balance), the tables made beforehand, untimed. Not like for like: plaster's
posting time is its own phase timer (printed on its stderr), the reference's
the wall clock of the whole command; the whole `execute` is printed on the
wall clock too, but it includes settling. Far anchor: TigerBeetle, a
database built only for this, batches up to 8,190 transfers per request;
its Node.js client benchmark's baseline is 310,000 transfers/s.

Usage: python3 bench/ledger/bench.py [--lines 1000000] [--only sqlite|postgres]
Needs target/release/plaster (make build-release), sqlite3 and psql on PATH,
and PostgreSQL on 127.0.0.1:5432 (trust auth) for the second half.
"""
import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "plaster")
PG = os.environ.get("PLASTER_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432")
INCIDENT = "atg-2024-08-24-v75"
RUN = "bench-ledger"
PLAN = """id = "bench-ledger"
components = ["login"]
started_at = "2024-08-24T16:06:00+02:00"
resolved_at = "2024-08-24T20:41:00+02:00"

[title]
en = "Ledger benchmark"

[[rules]]
kind = "goodwill_credit"
amount_minor = { SEK = 5000, NOK = 5000, EUR = 500 }
"""
MARKETS = [("sv", "SEK", "se"), ("nb", "NOK", "no"), ("en", "EUR", "fi")]
REFERENCE_TABLES = """
CREATE TABLE ref_transactions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, run_id TEXT NOT NULL,
  position BIGINT NOT NULL, rule TEXT NOT NULL, customer_id TEXT NOT NULL, reference TEXT NOT NULL,
  amount_minor BIGINT NOT NULL, currency TEXT NOT NULL);
CREATE TABLE ref_postings (transaction_id TEXT NOT NULL, n BIGINT NOT NULL, account TEXT NOT NULL,
  currency TEXT NOT NULL, debit_minor BIGINT NOT NULL, credit_minor BIGINT NOT NULL,
  PRIMARY KEY (transaction_id, n));
"""


def write_inputs(folder, n):
    customers = os.path.join(folder, "customers.csv")
    events = os.path.join(folder, "events.jsonl")
    txs = os.path.join(folder, "transactions.csv")
    postings = os.path.join(folder, "postings.csv")
    with open(customers, "w") as c, open(events, "w") as e, open(txs, "w") as t, open(postings, "w") as p:
        c.write("customer_id,email,name,locale,currency\n")
        for i in range(n):
            locale, currency, tld = MARKETS[i % 3]
            cid = f"c-{i:07}"
            c.write(f"{cid},kund{i}@example.{tld},Kund {i},{locale},{currency}\n")
            minute = 10 + i % 200
            e.write('{"ts":"2024-08-24T%02d:%02d:00+02:00","kind":"login","customer_id":"%s","outcome":"failure"}\n'
                    % (16 + minute // 60, minute % 60, cid))
            amount = 500 if currency == "EUR" else 5000
            key = f'["{RUN}",0,"{cid}",""]'.replace('"', '""')
            t.write(f'"{key}",line,{RUN},0,goodwill_credit,{cid},,{amount},{currency}\n')
            p.write(f'"{key}",0,compensation:goodwill_credit,{currency},{amount},0\n')
            p.write(f'"{key}",1,customer:{cid},{currency},0,{amount}\n')
    return customers, events, txs, postings


def run(cmd, env, check=True):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout, proc.stderr


class Receiver(http.server.BaseHTTPRequestHandler):
    batches = 0
    payouts = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Receiver.batches += 1
        Receiver.payouts += body.count(b'"customer_id"')
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def bench(name, database_url, inputs, n, reference):
    customers, events, txs, postings = inputs
    env = dict(os.environ, DATABASE_URL=database_url, RUST_LOG="warn", PLASTER_OUTGOING_ALLOW="127.0.0.0/8")
    env.pop("PLASTER_CONFIG", None)
    run([BIN, "migrate"], env)
    run([BIN, "demo", "reset"], env)
    for who in ("drafter", "approver"):
        run([BIN, "staff", "add", "--email", f"{who}@bench.local", "--role", "finance"], env)
    run([BIN, "customers", "import", "--customers", customers], env)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(PLAN)
    run([BIN, "compensation", "run", "create", "--incident", INCIDENT, "--plan", f.name, "--by", "drafter@bench.local"], env)
    run([BIN, "compensation", "run", "add-logs", RUN, events, "--by", "drafter@bench.local"], env)
    _, out, _ = run([BIN, "compensation", "run", "preview", RUN, "--by", "drafter@bench.local"], env)
    report = json.loads(out)
    run([BIN, "compensation", "run", "approve", RUN, "--digest", report["digest"], "--by", "approver@bench.local"], env)

    seconds, out, err = run([BIN, "compensation", "run", "execute", RUN, "--by", "approver@bench.local"], env)
    first = json.loads(out)
    assert first == {"posted": n, "already_posted": 0, "discrepancies": 0}, first
    timing = err.strip().splitlines()[-1]
    posting = float(timing.split(" in ")[1].split(" s")[0])
    settling = float(timing.split(" in ")[2].split(" s")[0])
    again, out, _ = run([BIN, "compensation", "run", "execute", RUN, "--by", "approver@bench.local"], env)
    assert json.loads(out) == {"posted": 0, "already_posted": n, "discrepancies": 0}, out
    _, out, _ = run([BIN, "ledger", "balance"], env)
    totals = {}
    for line in out.splitlines()[1:]:
        account, currency, d, c = line.split(",")
        t = totals.setdefault(currency, [0, 0])
        t[0] += int(d)
        t[1] += int(c)
    assert all(d == c for d, c in totals.values()), totals

    # Delivery: the server's payout sender against a local receiver.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/payouts"
    set_endpoint = (
        "INSERT INTO payout_endpoint (id, url, secret, updated_by, updated_at) "
        f"VALUES (1, '{url}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'bench', 0)"
    )
    if database_url.startswith("sqlite"):
        subprocess.run(["sqlite3", database_url.split("://", 1)[1], set_endpoint], check=True)
    else:
        subprocess.run(["psql", "-q", database_url, "-c", set_endpoint], check=True, capture_output=True)
    Receiver.batches = Receiver.payouts = 0
    port = 20000 + os.getpid() % 20000
    serve_env = dict(env, PLASTER_LISTEN=f"127.0.0.1:{port}")
    start = time.perf_counter()
    proc = subprocess.Popen([BIN, "serve"], env=serve_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while Receiver.payouts < n and time.perf_counter() - start < 1800:
            time.sleep(0.2)
        delivered = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait()
        server.shutdown()
    _, out, _ = run([BIN, "payouts", "export", "--run", RUN], env)
    rows = out.splitlines()[1:]
    settled = sum(1 for r in rows if r.split(",")[4] == "settled")
    ref = reference(txs, postings)
    # `posting` and `settling` are plaster's own phase timers (its stderr);
    # the reference is the wall clock of a whole sqlite3/psql command. The
    # whole `execute` on the same wall clock is `seconds`: posting, settling
    # and the process around them.
    print(f"{name}: {n:,} lines posted in {posting:.1f} s ({n / posting:,.0f} lines/s, plaster's phase timer), "
          f"payouts and notices made in {settling:.1f} s; the whole execute command {seconds:.1f} s wall; "
          f"execute again (all keys found) {again:.1f} s; "
          f"{Receiver.payouts:,} payouts in {Receiver.batches:,} batches received in {delivered:.1f} s "
          f"({Receiver.payouts / delivered:,.0f}/s, {settled:,} settled when stopped); "
          f"bulk load of the same rows {ref:.1f} s ({n / ref:,.0f} rows/s)")
    return {"backend": name, "lines": n, "posting_s": posting, "settling_s": settling,
            "execute_wall_s": seconds,
            "again_s": again, "delivery_s": delivered, "received": Receiver.payouts,
            "settled": settled, "reference_s": ref}


def sqlite_reference(folder):
    def load(txs, postings):
        db = os.path.join(folder, "reference.db")
        if os.path.exists(db):
            os.remove(db)
        # The tables first, untimed, as plaster's are made by its migrations.
        subprocess.run(["sqlite3", db], input=REFERENCE_TABLES, text=True, check=True)
        script = f".mode csv\n.import {txs} ref_transactions\n.import {postings} ref_postings\n"
        start = time.perf_counter()
        subprocess.run(["sqlite3", db], input=script, text=True, check=True)
        return time.perf_counter() - start
    return load


def pg_reference(url):
    def load(txs, postings):
        subprocess.run(["psql", "-q", url], input=REFERENCE_TABLES, text=True, check=True, capture_output=True)
        script = f"\\copy ref_transactions FROM '{txs}' CSV\n\\copy ref_postings FROM '{postings}' CSV\n"
        start = time.perf_counter()
        subprocess.run(["psql", "-q", url], input=script, text=True, check=True, capture_output=True)
        return time.perf_counter() - start
    return load


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `make build-release` first")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        inputs = write_inputs(folder, args.lines)
        if args.only in (None, "sqlite"):
            db = os.path.join(folder, "bench.db")
            results.append(bench("SQLite", f"sqlite://{db}", inputs, args.lines, sqlite_reference(folder)))
        if args.only in (None, "postgres"):
            name = f"plaster_ledger_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"CREATE DATABASE {name}"], check=True)
            try:
                url = f"{PG}/{name}"
                ref_name = name + "_ref"
                subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"CREATE DATABASE {ref_name}"], check=True)
                try:
                    results.append(bench("PostgreSQL", url, inputs, args.lines, pg_reference(f"{PG}/{ref_name}")))
                finally:
                    subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"DROP DATABASE {ref_name}"])
            finally:
                subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"DROP DATABASE {name} WITH (FORCE)"])
    print(json.dumps(results))


if __name__ == "__main__":
    main()
