#!/usr/bin/env python3
"""Customer import benchmark: `plaster customers import` of N customers
(default 1,000,000) and their subscriptions, on SQLite and on PostgreSQL.

References in the same run, on the same files, into tables of the same
shape: the sqlite3 shell's `.import` (SQLite's own bulk CSV loader, no
checks, no upsert) and psql's `\\copy` (PostgreSQL's COPY, the fastest way
in). Plaster does more than either: it checks every row as the engine does
(ids, currencies, e-mail addresses, duplicates), upserts, and refuses the
whole file on any bad row.

Usage: python3 bench/customers/bench.py [--count 1000000]
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
    script = f"""{TABLES}
.mode csv
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `make build-release` first")
    with tempfile.TemporaryDirectory() as folder:
        customers, subscriptions, subs = write_files(folder, args.count)
        size = (os.path.getsize(customers) + os.path.getsize(subscriptions)) / 1e6
        print(f"{args.count} customers, {subs} subscriptions, {size:.0f} MB of CSV")
        rows = []
        s_plaster, report = plaster_import(f"sqlite://{folder}/plaster.db", customers, subscriptions)
        assert report == {"customers": args.count, "subscriptions": subs}, report
        s_ref = sqlite_reference(f"{folder}/reference.db", customers, subscriptions)
        rows.append(("SQLite", s_plaster, "sqlite3 .import", s_ref))
        names = [f"plaster_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        try:
            s_plaster, report = plaster_import(pg_database(names[0]), customers, subscriptions)
            assert report == {"customers": args.count, "subscriptions": subs}, report
            s_ref = pg_reference(pg_database(names[1]), customers, subscriptions)
            rows.append(("PostgreSQL", s_plaster, "psql \\copy", s_ref))
        finally:
            for n in names:
                pg_drop(n)
        print(f"{'database':<11} {'plaster import':>15} {'reference':>22} {'ratio':>7}")
        for db, mine, ref_name, ref in rows:
            print(f"{db:<11} {mine:>13.2f} s {ref_name:>16} {ref:>5.2f} s {mine / ref:>6.2f}x")


if __name__ == "__main__":
    main()
