#!/usr/bin/env python3
"""Fault program for executions and payouts (not a test: it takes minutes).

An approved run of N lines (default 20,000) is executed while `plaster`
processes are killed with SIGKILL at random moments and started again:
on SQLite one node (`plaster serve`) plus the `run execute` command, on
PostgreSQL two nodes plus the command. Payouts go to a local receiver that
records every request. After the last kill, everything is left to finish,
and the program checks:

  * the ledger's line transactions equal the approved revision's lines, key
    for key and amount for amount (`plaster ledger lines` against the
    revision's `--details` CSV);
  * every payout is settled exactly once in the ledger;
  * the receiver saw every payout id, and every time it saw one, it came in
    the same batch (`webhook-id`) with the same body;
  * each customer got exactly one notice;
  * the trial balance balances.

Usage: python3 bench/ledger/faults.py [--lines 20000] [--kills 24] [--only sqlite|postgres]
Needs target/release/plaster and, for PostgreSQL, psql and 127.0.0.1:5432.
"""
import argparse
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, INCIDENT, PG, PLAN, RUN, run, write_inputs  # noqa: E402


class Receiver(http.server.BaseHTTPRequestHandler):
    seen = {}  # payout id -> set of (webhook-id, body)
    requests = 0
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        wid = self.headers.get("webhook-id", "")
        doc = json.loads(body)
        with Receiver.lock:
            Receiver.requests += 1
            for p in doc["data"]["payouts"]:
                Receiver.seen.setdefault(p["id"], set()).add((wid, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def sql(database_url, statement):
    if database_url.startswith("sqlite"):
        out = subprocess.run(["sqlite3", database_url.split("://", 1)[1], statement],
                             capture_output=True, text=True, check=True)
    else:
        out = subprocess.run(["psql", "-qAt", database_url, "-c", statement],
                             capture_output=True, text=True, check=True)
    return out.stdout.strip()


def scenario(name, database_url, nodes, folder, n, kills, rng):
    customers, events, _, _ = write_inputs(folder, n)
    env = dict(os.environ, DATABASE_URL=database_url, RUST_LOG="warn", PLASTER_OUTGOING_ALLOW="127.0.0.0/8")
    env.pop("PLASTER_CONFIG", None)
    run([BIN, "migrate"], env)
    run([BIN, "demo", "reset"], env)
    for who in ("drafter", "approver"):
        run([BIN, "staff", "add", "--email", f"{who}@faults.local", "--role", "finance"], env)
    run([BIN, "customers", "import", "--customers", customers], env)
    plan = os.path.join(folder, "plan.toml")
    with open(plan, "w") as f:
        f.write(PLAN)
    details = os.path.join(folder, "approved.csv")
    run([BIN, "compensation", "run", "create", "--incident", INCIDENT, "--plan", plan, "--by", "drafter@faults.local"], env)
    run([BIN, "compensation", "run", "add-logs", RUN, events, "--by", "drafter@faults.local"], env)
    _, out, _ = run([BIN, "compensation", "run", "preview", RUN, "--by", "drafter@faults.local", "--details", details], env)
    run([BIN, "compensation", "run", "approve", RUN, "--digest", json.loads(out)["digest"], "--by", "approver@faults.local"], env)

    Receiver.seen, Receiver.requests = {}, 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sql(database_url, "INSERT INTO payout_endpoint (id, url, secret, updated_by, updated_at) VALUES "
        f"(1, 'http://127.0.0.1:{server.server_address[1]}/payouts', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'faults', 0)")

    base_port = 21000 + os.getpid() % 10000
    def start(i):
        if i == nodes:  # the command line is a node too
            return subprocess.Popen([BIN, "compensation", "run", "execute", RUN, "--by", "approver@faults.local"],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        node_env = dict(env, PLASTER_LISTEN=f"127.0.0.1:{base_port + i}")
        return subprocess.Popen([BIN, "serve", "--no-demo"], env=node_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    procs = [start(i) for i in range(nodes + 1)]
    killed = 0
    points = set()
    try:
        while killed < kills:
            time.sleep(rng.uniform(0.3, 2.5))
            i = rng.randrange(len(procs))
            posted = sql(database_url, "SELECT COALESCE(MAX(next_seq), 0) || '/' || COALESCE(MAX(stage), '-') "
                         f"FROM compensation_executions WHERE run_id = '{RUN}'")
            settled = sql(database_url, "SELECT COUNT(*) FROM payouts WHERE state = 'settled'")
            points.add((posted, settled))
            procs[i].send_signal(signal.SIGKILL)
            procs[i].wait()
            killed += 1
            print(f"{name}: kill {killed} of process {i} at line {posted}, {settled} payouts settled", flush=True)
            procs[i] = start(i)
        # Let it finish: the command exits when its execution is done.
        deadline = time.time() + 600
        while time.time() < deadline:
            state = sql(database_url, f"SELECT state FROM compensation_runs WHERE id = '{RUN}'")
            waiting = int(sql(database_url, f"SELECT COUNT(*) FROM payouts WHERE run_id = '{RUN}' AND state <> 'settled'"))
            if state == "executed" and waiting == 0 and procs[nodes].poll() is not None:
                break
            if procs[nodes].poll() is not None and state != "executed":
                procs[nodes] = start(nodes)
            time.sleep(0.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        server.shutdown()

    problems = []
    _, posted, _ = run([BIN, "ledger", "lines", "--run", RUN], env)
    if posted != open(details).read():
        problems.append("the ledger's lines differ from the approved revision's")
    payouts = int(sql(database_url, f"SELECT COUNT(*) FROM payouts WHERE run_id = '{RUN}'"))
    settled_tx = int(sql(database_url, f"SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'payout' AND run_id = '{RUN}'"))
    settled = int(sql(database_url, f"SELECT COUNT(*) FROM payouts WHERE run_id = '{RUN}' AND state = 'settled'"))
    if not (payouts == settled_tx == settled == n):
        problems.append(f"{n} customers, {payouts} payouts, {settled} settled, {settled_tx} settlement transactions")
    ids = set(sql(database_url, f"SELECT id FROM payouts WHERE run_id = '{RUN}'").split())
    if set(Receiver.seen) != ids:
        problems.append(f"the receiver saw {len(Receiver.seen)} payout ids of {len(ids)}")
    twice = [p for p, s in Receiver.seen.items() if len(s) > 1]
    if twice:
        problems.append(f"{len(twice)} payout ids came in different batches or bodies")
    # This run's notices only: the demo's executed runs told their own customers.
    notices = sql(database_url, "SELECT COUNT(*), COUNT(DISTINCT recipient) FROM outbox "
                  "WHERE kind = 'compensation_notice' AND EXISTS (SELECT 1 FROM compensation_executions e "
                  f"WHERE e.run_id = '{RUN}' AND outbox.id LIKE 'notice-' || e.id || '-%')")
    count, distinct = (int(x) for x in notices.split("|"))
    if count != n or distinct != n:
        problems.append(f"{count} notices to {distinct} customers, expected {n}")
    _, balance, _ = run([BIN, "ledger", "balance"], env)
    totals = {}
    for line in balance.splitlines()[1:]:
        _, currency, d, c = line.split(",")
        t = totals.setdefault(currency, [0, 0])
        t[0] += int(d)
        t[1] += int(c)
    if any(d != c for d, c in totals.values()):
        problems.append(f"the trial balance does not balance: {totals}")
    print(f"{name}: {kills} kills at {len(points)} distinct points, {nodes} node(s) + the command; "
          f"{Receiver.requests} requests for {len(Receiver.seen)} payout ids; "
          f"{'OK' if not problems else 'PROBLEMS: ' + '; '.join(problems)}", flush=True)
    return not problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        if args.only in (None, "sqlite"):
            ok &= scenario("SQLite", f"sqlite://{folder}/faults.db", 1, folder, args.lines, args.kills, rng)
        if args.only in (None, "postgres"):
            name = f"plaster_faults_{uuid.uuid4().hex[:8]}"
            subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"CREATE DATABASE {name}"], check=True)
            try:
                ok &= scenario("PostgreSQL", f"{PG}/{name}", 2, folder, args.lines, args.kills, rng)
            finally:
                subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"DROP DATABASE {name} WITH (FORCE)"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
