#!/usr/bin/env python3
"""Customer import benchmark: `plaster customers import` of N customers
(default 1,000,000) and their subscriptions, on SQLite and on PostgreSQL.

References in the same run, on the same files, into tables of the same
shape: the sqlite3 shell's `.import` (SQLite's own bulk CSV loader, no
checks, no upsert) and psql's `\\copy` (PostgreSQL's COPY, the fastest way
in). Plaster does more than either: it checks every row as the engine does
(ids, currencies, e-mail addresses, duplicates), upserts, and refuses the
whole file on any bad row.

Both sides are timed the same way: this script's clock (time.perf_counter)
around the whole command, with the tables made beforehand, untimed, on both
sides (plaster's migrations, the reference's CREATE TABLE). The side that
goes first alternates per database and per round (--rounds N).

Usage: python3 bench/customers/bench.py [--count 1000000] [--rounds 1]
Needs target/release/plaster (make build-release), sqlite3 and psql on
PATH, and PostgreSQL on 127.0.0.1:5432 (trust auth) for the second half.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "plaster")
PG = os.environ.get("PLASTER_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432")

FIRST = ["Anna", "Erik", "Maria", "Johan", "Kari", "Ola", "Ingrid", "Liisa"]
LAST = ["Svensson", "Nilsson", "Nordmann", "Hansen", "Berg", "Virtanen"]
MARKETS = [("sv", "SEK", "se"), ("nb", "NOK", "no"), ("en", "EUR", "fi")]

TABLES = """
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, email TEXT NOT NULL,
  name TEXT NOT NULL, locale TEXT NOT NULL, currency TEXT NOT NULL);
CREATE INDEX customers_email ON customers (email);
CREATE TABLE customer_subscriptions (customer_id TEXT NOT NULL, plan TEXT NOT NULL,
  monthly_fee_minor BIGINT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,
  PRIMARY KEY (customer_id, plan));
"""


def write_files(folder, count):
    rng = random.Random(1)
    customers = os.path.join(folder, "customers.csv")
    subscriptions = os.path.join(folder, "subscriptions.csv")
    subs = 0
    with open(customers, "w") as c, open(subscriptions, "w") as s:
        c.write("customer_id,email,name,locale,currency\n")
        s.write("customer_id,plan,monthly_fee_minor,currency,status\n")
        for i in range(count):
            locale, currency, tld = MARKETS[i % 3]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            name = f'"{last}, {first}"' if i % 17 == 3 else f"{first} {last}"
            c.write(f"c-{i:07},{first.lower()}.{last.lower()}{i}@example.{tld},{name},{locale},{currency}\n")
            if i % 10 < 7:
                status = "cancelled" if i % 50 == 0 else "active"
                s.write(f"c-{i:07},sport,39900,{currency},{status}\n")
                subs += 1
    return customers, subscriptions, subs


def timed(cmd, env=None, stdin=None):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def plaster_import(database_url, customers, subscriptions):
    env = dict(os.environ, DATABASE_URL=database_url, RUST_LOG="warn")
    env.pop("PLASTER_CONFIG", None)
    # Migrations first, so the timing is the import alone.
    timed([BIN, "migrate"], env)
    seconds, out = timed(
        [BIN, "customers", "import", "--customers", customers, "--subscriptions", subscriptions],
        env,
    )
    return seconds, json.loads(out)


def sqlite_reference(db, customers, subscriptions):
    # The tables first, untimed, as plaster's migrations are: both timings are
    # the load alone.
    timed(["sqlite3", db], stdin=TABLES)
    script = f""".mode csv
.import --skip 1 {customers} customers
.import --skip 1 {subscriptions} customer_subscriptions
"""
    return timed(["sqlite3", db], stdin=script)[0]


def pg_database(name):
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True)
    return f"{PG}/{name}"


def pg_drop(name):
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"],
                   capture_output=True)


def pg_reference(url, customers, subscriptions):
    subprocess.run(["psql", url, "-qc", TABLES], check=True, capture_output=True)
    script = (f"\\copy customers FROM '{customers}' CSV HEADER\n"
              f"\\copy customer_subscriptions FROM '{subscriptions}' CSV HEADER\n")
    return timed(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], stdin=script)[0]


def pair(first_is_reference, ours, reference):
    """Runs both sides, in the order given; returns (ours, reference)."""
    if first_is_reference:
        r = reference()
        return ours(), r
    return ours(), reference()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per database, each on fresh databases; the order alternates")
    args = parser.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `make build-release` first")
    with tempfile.TemporaryDirectory() as folder:
        customers, subscriptions, subs = write_files(folder, args.count)
        want = {"customers": args.count, "subscriptions": subs}
        size = (os.path.getsize(customers) + os.path.getsize(subscriptions)) / 1e6
        print(f"{args.count} customers, {subs} subscriptions, {size:.0f} MB of CSV")
        rows = []
        for rnd in range(args.rounds):
            # Which side goes first alternates per round and per database, so
            # neither always meets the machine the other just left.

            def ours_sqlite():
                seconds, report = plaster_import(f"sqlite://{folder}/plaster-{rnd}.db", customers, subscriptions)
                assert report == want, report
                return seconds

            s_plaster, s_ref = pair(rnd % 2 == 1, ours_sqlite,
                                    lambda: sqlite_reference(f"{folder}/reference-{rnd}.db", customers, subscriptions))
            rows.append(("SQLite", rnd + 1, s_plaster, "sqlite3 .import", s_ref))
            names = [f"plaster_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            try:
                def ours_pg():
                    seconds, report = plaster_import(pg_database(names[0]), customers, subscriptions)
                    assert report == want, report
                    return seconds

                s_plaster, s_ref = pair(rnd % 2 == 0, ours_pg,
                                        lambda: pg_reference(pg_database(names[1]), customers, subscriptions))
                rows.append(("PostgreSQL", rnd + 1, s_plaster, "psql \\copy", s_ref))
            finally:
                for n in names:
                    pg_drop(n)
        print(f"{'database':<11} {'round':>5} {'plaster import':>15} {'reference':>22} {'ratio':>7}")
        for db, rnd, mine, ref_name, ref in rows:
            print(f"{db:<11} {rnd:>5} {mine:>13.2f} s {ref_name:>16} {ref:>5.2f} s {mine / ref:>6.2f}x")
        if args.rounds > 1:
            for db in ("SQLite", "PostgreSQL"):
                ratios = sorted(mine / ref for d, _, mine, _, ref in rows if d == db)
                print(f"{db}: ratio over {len(ratios)} rounds {ratios[0]:.2f}x–{ratios[-1]:.2f}x")


if __name__ == "__main__":
    main()
