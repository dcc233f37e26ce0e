#!/usr/bin/env python3
"""Fault program for executions and payouts (not a test: it takes minutes).

An approved run of N lines (default 20,000) is executed while `plaster`
processes are killed with SIGKILL and started again: on SQLite one node
(`plaster serve`) plus the `run execute` command, on PostgreSQL two nodes
plus the command. Payouts go to a local receiver that records every
request. After the last kill, everything is left to finish, and the
program checks:

  * the ledger's line transactions equal the approved revision's lines, key
    for key and amount for amount (`plaster ledger lines` against the
    revision's `--details` CSV);
  * every payout is settled exactly once in the ledger;
  * the receiver saw every payout id, and every time it saw one, it came in
    the same batch (`webhook-id`) with the same body;
  * each customer got exactly one notice;
  * the trial balance balances;
  * with --at-progress: every kill point was reached.

When to kill:

  * by default, at random moments (--kills of them, --seed): the benchmark;
  * --at-progress KIND:FRACTION,... : when the run's progress first reaches
    each point, polled in the database every 50 ms. `posted:0.3` kills the
    process whose attempt holds the execution (read from its log's
    "execution started" line) once 30 % of the lines are posted; each
    later `posted` point waits for a newer attempt (the lease of the killed
    one runs out first: 15 s). `settled:0.2` kills every node (each runs
    payout senders) once 20 % of the payouts are settled; each later
    `settled` point waits for more to be settled. Lines are posted 2,000
    per transaction, so with few lines a point fires at the next batch's
    end (3,000 lines: posted:0.3 fires at 2,000 posted);
  * --short: 3,000 lines, posted:0.3,posted:0.8,settled:0.2,settled:0.7,
    both backends at once (each waits out the leases of what it killed:
    15 s per posting kill, 60 s for the payout batches a node held), about
    two minutes in all. `scripts/faults-short.sh` runs it for `make test`.

Usage: python3 bench/ledger/faults.py [--lines 20000] [--kills 24] [--seed 7]
           [--at-progress posted:0.3,settled:0.5] [--short] [--parallel]
           [--only sqlite|postgres]
Needs target/release/plaster, sqlite3 and, for PostgreSQL, psql and
PLASTER_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432).
"""
import argparse
import http.server
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, INCIDENT, PG, PLAN, RUN, run, write_inputs  # noqa: E402

SHORT_LINES = 3_000
SHORT_POINTS = "posted:0.3,posted:0.8,settled:0.2,settled:0.7"
POLL = 0.05
# How long a kill point may wait for its moment (leases included).
POINT_TIMEOUT = 300
# The execution job says which attempt it is when it claims an execution.
LOG_FILTER = "warn,plaster_server::compensation::execution_job=info"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STARTED = re.compile(r"execution started.*\bexecution=(\S+).*\battempt=(\d+)")

# Every plaster process started and not yet reaped, and every PostgreSQL
# database made, so that an interrupted run leaves nothing behind.
LIVE = set()
DATABASES = set()
REGISTRY = threading.Lock()


class Received:
    """What one scenario's receiver got."""

    def __init__(self):
        self.seen = {}  # payout id -> set of (webhook-id, body)
        self.requests = 0
        self.lock = threading.Lock()


def receiver_for(got):
    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            wid = self.headers.get("webhook-id", "")
            doc = json.loads(body)
            with got.lock:
                got.requests += 1
                for p in doc["data"]["payouts"]:
                    got.seen.setdefault(p["id"], set()).add((wid, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receiver


def sql(database_url, statement):
    if database_url.startswith("sqlite"):
        # A busy timeout: the nodes hold the write lock in turns.
        out = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", database_url.split("://", 1)[1], statement],
                             capture_output=True, text=True, check=True)
    else:
        out = subprocess.run(["psql", "-qAt", database_url, "-c", statement],
                             capture_output=True, text=True, check=True)
    return out.stdout.strip()


def poll(database_url, statement):
    """`sql` for polling: `None` when the database did not answer this time."""
    try:
        return sql(database_url, statement)
    except subprocess.CalledProcessError:
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_points(text):
    points = []
    for part in text.split(","):
        kind, _, fraction = part.strip().partition(":")
        try:
            x = float(fraction)
        except ValueError:
            x = -1.0
        if kind not in ("posted", "settled") or not 0 < x <= 1:
            raise argparse.ArgumentTypeError(
                f"{part!r}: a kill point is posted:FRACTION or settled:FRACTION, 0 < FRACTION <= 1")
        points.append((kind, x))
    # Posting comes before payouts; within a kind, in order of progress.
    return sorted(points, key=lambda p: (p[0] != "posted", p[1]))


def scenario(name, database_url, nodes, folder, n, kills, rng, points=None):
    began = time.time()
    os.makedirs(folder, exist_ok=True)
    customers, events, _, _ = write_inputs(folder, n)
    env = dict(os.environ, DATABASE_URL=database_url, RUST_LOG=LOG_FILTER, NO_COLOR="1",
               PLASTER_OUTGOING_ALLOW="127.0.0.0/8")
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

    got = Received()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), receiver_for(got))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sql(database_url, "INSERT INTO payout_endpoint (id, url, secret, updated_by, updated_at) VALUES "
        f"(1, 'http://127.0.0.1:{server.server_address[1]}/payouts', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'faults', 0)")
    prepared = time.time()

    # Each process writes its log (stderr) to a file of its own.
    logs = os.path.join(folder, "logs")
    os.makedirs(logs, exist_ok=True)
    started = [0] * (nodes + 1)
    log_of = [""] * (nodes + 1)

    def start(i):
        started[i] += 1
        who = "command" if i == nodes else f"node{i}"
        log_of[i] = os.path.join(logs, f"{who}-{started[i]}.log")
        if i == nodes:  # the command line is a node too
            cmd, cmd_env = [BIN, "compensation", "run", "execute", RUN, "--by", "approver@faults.local"], env
        else:
            cmd, cmd_env = [BIN, "serve"], dict(env, PLASTER_LISTEN=f"127.0.0.1:{free_port()}")
        with open(log_of[i], "w") as err:
            p = subprocess.Popen(cmd, env=cmd_env, stdout=subprocess.DEVNULL, stderr=err)
        with REGISTRY:
            LIVE.add(p)
        return p

    def kill(i):
        procs[i].send_signal(signal.SIGKILL)
        procs[i].wait()
        with REGISTRY:
            LIVE.discard(procs[i])

    def label(i):
        return "the command" if i == nodes else f"node {i}"

    def progress():
        """(lines posted, payouts settled, the run's state), or None."""
        row = poll(database_url,
                   f"SELECT (SELECT COALESCE(MAX(next_seq), 0) FROM compensation_executions WHERE run_id = '{RUN}'), "
                   f"(SELECT COUNT(*) FROM payouts WHERE run_id = '{RUN}' AND state = 'settled'), "
                   f"(SELECT state FROM compensation_runs WHERE id = '{RUN}')")
        if not row:
            return None
        posted, settled, state = row.split("|")
        return int(posted), int(settled), state

    def holder():
        """(attempt, index of the live process that claimed it, or None) of
        the running execution; None when none is running."""
        row = poll(database_url, "SELECT id, attempts FROM compensation_executions "
                                 f"WHERE run_id = '{RUN}' AND state = 'running'")
        if not row:
            return None
        execution, attempt = row.splitlines()[0].split("|")
        for i, p in enumerate(procs):
            if p.poll() is not None:
                continue
            try:
                with open(log_of[i], errors="replace") as f:
                    text = ANSI.sub("", f.read())
            except OSError:
                continue
            if any(m.group(1) == execution and m.group(2) == attempt for m in STARTED.finditer(text)):
                return int(attempt), i
        return int(attempt), None

    def at_progress():
        """Kills at each point; returns the points missed."""
        missed = []
        last_attempt = 0  # of the last posting kill
        last_settled = -1  # payouts settled at the last settling kill
        for kind, x in points:
            point = f"{kind}:{x:g}"
            deadline = time.time() + POINT_TIMEOUT
            unknown_since = None
            while True:
                if time.time() > deadline:
                    missed.append(f"{point} (not reached in {POINT_TIMEOUT} s)")
                    break
                now = progress()
                if now is None:
                    time.sleep(POLL)
                    continue
                posted, settled, state = now
                victims = None
                if kind == "posted":
                    if state == "executed":
                        missed.append(f"{point} (the execution was done first)")
                        break
                    held = holder() if posted >= x * n else None
                    if held is not None and held[0] > last_attempt:
                        attempt, index = held
                        if index is not None:
                            victims, how = [index], f"{label(index)}, which held attempt {attempt}"
                        else:
                            unknown_since = unknown_since or time.time()
                            if time.time() - unknown_since > 2:
                                # Its log line never showed: kill them all.
                                victims, how = list(range(nodes + 1)), f"every process (attempt {attempt}'s holder not found)"
                        if victims:
                            last_attempt = attempt
                    value = posted
                else:
                    if settled >= n:
                        missed.append(f"{point} (every payout was settled first)")
                        break
                    if settled >= x * n and settled > last_settled:
                        victims, how = list(range(nodes)), "every node (each runs payout senders)"
                        last_settled = settled
                    value = settled
                if victims:
                    for i in victims:
                        kill(i)
                    for i in victims:
                        procs[i] = start(i)
                    print(f"{name}: kill at {point}: {value} of {n} {kind} ({value / n:.2f}); killed {how}",
                          flush=True)
                    break
                time.sleep(POLL)
        return missed

    procs = [start(i) for i in range(nodes + 1)]
    killed = 0
    points_seen = set()
    missed = []
    try:
        if points:
            missed = at_progress()
            killed = len(points) - len(missed)
        else:
            while killed < kills:
                time.sleep(rng.uniform(0.3, 2.5))
                i = rng.randrange(len(procs))
                posted = sql(database_url, "SELECT COALESCE(MAX(next_seq), 0) || '/' || COALESCE(MAX(stage), '-') "
                             f"FROM compensation_executions WHERE run_id = '{RUN}'")
                settled = sql(database_url, "SELECT COUNT(*) FROM payouts WHERE state = 'settled'")
                points_seen.add((posted, settled))
                kill(i)
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
        for i in range(len(procs)):
            kill(i)
        server.shutdown()

    problems = list(f"kill point {m} missed" for m in missed)
    _, posted, _ = run([BIN, "ledger", "lines", "--run", RUN], env)
    if posted != open(details).read():
        problems.append("the ledger's lines differ from the approved revision's")
    payouts = int(sql(database_url, f"SELECT COUNT(*) FROM payouts WHERE run_id = '{RUN}'"))
    settled_tx = int(sql(database_url, f"SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'payout' AND run_id = '{RUN}'"))
    settled = int(sql(database_url, f"SELECT COUNT(*) FROM payouts WHERE run_id = '{RUN}' AND state = 'settled'"))
    if not (payouts == settled_tx == settled == n):
        problems.append(f"{n} customers, {payouts} payouts, {settled} settled, {settled_tx} settlement transactions")
    ids = set(sql(database_url, f"SELECT id FROM payouts WHERE run_id = '{RUN}'").split())
    if set(got.seen) != ids:
        problems.append(f"the receiver saw {len(got.seen)} payout ids of {len(ids)}")
    twice = [p for p, s in got.seen.items() if len(s) > 1]
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
    where = (f"at {killed} of {len(points)} progress points" if points
             else f"at {len(points_seen)} distinct points")
    print(f"{name}: {killed} kills {where}, {nodes} node(s) + the command; "
          f"{got.requests} requests for {len(got.seen)} payout ids; "
          f"{prepared - began:.0f} s to prepare, {time.time() - prepared:.0f} s under faults and checks; "
          f"{'OK' if not problems else 'PROBLEMS: ' + '; '.join(problems)}", flush=True)
    return not problems


def drop_database(name):
    subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                   capture_output=True)
    with REGISTRY:
        DATABASES.discard(name)


def main():
    parser = argparse.ArgumentParser(description="Kills plaster while it executes a run and pays it out; "
                                                 "then checks that everything happened exactly once.")
    parser.add_argument("--lines", type=int, help="lines (= customers) of the run; default 20,000 (--short: 3,000)")
    parser.add_argument("--kills", type=int, default=24, help="random kills (without --at-progress)")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--at-progress", type=parse_points, metavar="KIND:FRACTION,...",
                        help="kill at these points of progress instead of at random: "
                             "posted:X (the execution's holder) and settled:X (the nodes)")
    parser.add_argument("--short", action="store_true",
                        help=f"{SHORT_LINES} lines, --at-progress {SHORT_POINTS}, backends at once")
    parser.add_argument("--parallel", action="store_true", help="run both backends at the same time")
    args = parser.parse_args()
    points = args.at_progress
    lines = args.lines
    parallel = args.parallel
    if args.short:
        points = points or parse_points(SHORT_POINTS)
        lines = lines or SHORT_LINES
        parallel = True
    lines = lines or 20_000
    rng = random.Random(args.seed)

    def sqlite_job(folder, rng):
        return scenario("SQLite", f"sqlite://{folder}/faults.db", 1, folder, lines, args.kills, rng, points)

    def postgres_job(folder, rng):
        name = f"plaster_faults_{uuid.uuid4().hex[:8]}"
        subprocess.run(["psql", "-q", PG + "/postgres", "-c", f"CREATE DATABASE {name}"], check=True)
        with REGISTRY:
            DATABASES.add(name)
        try:
            return scenario("PostgreSQL", f"{PG}/{name}", 2, folder, lines, args.kills, rng, points)
        finally:
            drop_database(name)

    jobs = []
    if args.only in (None, "sqlite"):
        jobs.append(("SQLite", sqlite_job))
    if args.only in (None, "postgres"):
        jobs.append(("PostgreSQL", postgres_job))

    results = {}

    def attempt(label, job, folder, rng):
        try:
            results[label] = job(folder, rng)
        except (Exception, SystemExit) as e:  # bench.run exits on a failed command
            print(f"{label}: stopped: {type(e).__name__}: {e}", flush=True)
            results[label] = False

    began = time.time()
    try:
        with tempfile.TemporaryDirectory() as folder:
            if parallel and len(jobs) > 1:
                threads = [threading.Thread(target=attempt, daemon=True,
                                            args=(label, job, os.path.join(folder, label.lower()),
                                                  random.Random(args.seed + k)))
                           for k, (label, job) in enumerate(jobs)]
                for t in threads:
                    t.start()
                for t in threads:
                    while t.is_alive():
                        t.join(1)
            else:
                for label, job in jobs:
                    attempt(label, job, os.path.join(folder, label.lower()), rng)
    finally:
        with REGISTRY:
            left = list(LIVE)
        for p in left:
            p.send_signal(signal.SIGKILL)
            p.wait()
        with REGISTRY:
            databases = list(DATABASES)
        for name in databases:
            drop_database(name)
    ok = len(results) == len(jobs) and all(results.values())
    print(f"faults: {'OK' if ok else 'FAILED'} in {time.time() - began:.0f} s "
          f"({', '.join(f'{k}: ' + ('OK' if v else 'failed') for k, v in results.items())})", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
