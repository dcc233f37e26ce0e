#!/usr/bin/env python3
"""Notification benchmark: queueing and delivering personalised notices.

1. Render and queue N personalised compensation notices (default 1,000,000)
   into the outbox of a fresh SQLite database with `plaster notify
   bench-queue`: wall time and peak RSS. Reference in the same run: Python
   formatting rows of the same size with f-strings (no template engine) and
   inserting them with the stdlib sqlite3 module in the same batch size.
2. Deliver M queued messages (default 20,000) to a local SMTP server
   (aiosmtpd's Sink handler) with `plaster serve`: messages per second.
   SQLite runs one delivery worker, PostgreSQL four; both send over a pool
   of up to 16 connections. Reference in the same run: Python's smtplib
   sending M messages of similar size over 16 connections (threads) to the
   same server.

Usage: python3 bench/notify/bench.py [--count 1000000] [--deliver 20000]
Needs target/release/plaster (make build-release), aiosmtpd, and for the
PostgreSQL delivery run a server on 127.0.0.1:5432.
"""
import argparse
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release", "plaster")
# plaster's SMTP pool size (server/src/notify/mod.rs, SEND_CONCURRENCY).
CONNECTIONS = 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_timed(cmd, env):
    """Runs cmd; returns (seconds, peak RSS MiB of the child, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak, proc.stdout.strip()


def python_reference(count, path):
    """Same rows, f-strings and stdlib sqlite3, 10,000 per transaction. Run
    in its own process (`--reference-queue PATH`) and timed from outside,
    like plaster's command: interpreter start, the database and its table
    included on both sides."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("""CREATE TABLE outbox (id TEXT PRIMARY KEY, message_id TEXT UNIQUE, kind TEXT,
        recipient TEXT, subject TEXT, body_text TEXT, body_html TEXT, state TEXT,
        next_attempt_at INTEGER, created_at INTEGER)""")
    now = int(time.time() * 1000)
    batch = []
    for i in range(count):
        amount = 2500 + (i % 400) * 25
        text = (f"Driftstatus\n\nYou are being compensated\nSpelstopp inför V75\n\nHello Kund {i},\n\n"
                f"Your V75 coupon #{1000000 + i} could not be submitted at 15:{40 + i % 20:02}.\n\n"
                f"You get **SEK {amount // 100}.{amount % 100:02}** as a refund – within 3 days.\n")
        html = f"<!DOCTYPE html><html><body><h1>Spelstopp inför V75</h1><p>{text}</p></body></html>" * 3
        batch.append((f"bench-{i}", f"<bench-{i}@plaster.bench>", "compensation", f"kund{i}@example.se",
                      "You are being compensated: Spelstopp inför V75", text, html, "queued", now, now))
        if len(batch) == 10000:
            con.executemany("INSERT INTO outbox VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
            con.commit()
            batch.clear()
    if batch:
        con.executemany("INSERT INTO outbox VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
        con.commit()
    con.close()


def start_sink(port):
    proc = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                             "-c", "aiosmtpd.handlers.Sink"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    sys.exit("aiosmtpd did not start")


def plaster_delivery(db_url, count, port, env):
    env = dict(env, DATABASE_URL=db_url)
    run_timed([BIN, "notify", "bench-queue", "--count", str(count)], env)
    serve_env = dict(env, PLASTER_LISTEN=f"127.0.0.1:{free_port()}", PLASTER_SMTP_HOST="127.0.0.1",
                     PLASTER_SMTP_PORT=str(port), PLASTER_SMTP_TLS="none",
                     PLASTER_SMTP_FROM="Bench <bench@plaster.bench>", RUST_LOG="warn")
    start = time.perf_counter()
    server = subprocess.Popen([BIN, "serve"], env=serve_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            out = subprocess.run([BIN, "notify", "status"], env=env, capture_output=True, text=True).stdout
            sent = int(out.split()[3]) if out.startswith("queued") else 0
            if sent >= count:
                return time.perf_counter() - start
            if server.poll() is not None:
                sys.exit("plaster serve died")
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait()


def python_delivery(count, port, connections):
    import smtplib
    from email.message import EmailMessage
    per = [count // connections + (1 if i < count % connections else 0) for i in range(connections)]

    def worker(n, offset):
        s = smtplib.SMTP("127.0.0.1", port)
        for i in range(offset, offset + n):
            m = EmailMessage()
            m["From"], m["To"], m["Subject"] = "bench@plaster.bench", f"kund{i}@example.se", "You are being compensated"
            m["Message-ID"] = f"<py-{i}@plaster.bench>"
            m.set_content("Hello " * 60)
            m.add_alternative("<p>" + "Hello " * 200 + "</p>", subtype="html")
            s.send_message(m)
        s.quit()

    start = time.perf_counter()
    threads, offset = [], 0
    for n in per:
        threads.append(threading.Thread(target=worker, args=(n, offset)))
        offset += n
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--deliver", type=int, default=20_000)
    ap.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--reference-queue", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference_queue:
        python_reference(args.count, args.reference_queue)
        return
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `make build-release` first")
    work = tempfile.mkdtemp(prefix="plaster-notify-bench-")
    env = dict(os.environ, RUST_LOG="warn")
    try:
        print(f"== render and queue {args.count:,} personalised compensation notices (SQLite) ==")
        seconds, peak, out = run_timed([BIN, "notify", "bench-queue", "--count", str(args.count)],
                                       dict(env, DATABASE_URL=f"sqlite://{work}/queue.db"))
        print(f"plaster       {seconds:8.2f} s  {args.count / seconds:10,.0f}/s  peak RSS {peak:,.0f} MiB   ({out})")
        # The reference on the same clock as plaster: the whole process.
        ref, _, _ = run_timed([sys.executable, os.path.abspath(__file__), "--count", str(args.count),
                               "--reference-queue", f"{work}/python.db"], env)
        print(f"python+sqlite3 {ref:7.2f} s  {args.count / ref:10,.0f}/s  (f-strings, no template engine, no escaping)")

        print(f"\n== deliver {args.deliver:,} messages to a local SMTP server (aiosmtpd Sink) ==")
        port = free_port()
        sink = start_sink(port)
        try:
            # (backend, database, plaster's delivery workers); every run uses
            # a pool of up to 16 SMTP connections, and so does the reference.
            runs = [("sqlite", f"sqlite://{work}/deliver.db", 1)]
            db = f"plaster_bench_{uuid.uuid4().hex[:8]}"
            if shutil.which("psql") and subprocess.run(["psql", f"{args.pg}/postgres", "-qc", f'CREATE DATABASE "{db}"'],
                                                       capture_output=True).returncode == 0:
                runs.append(("postgres", f"{args.pg}/{db}", 4))
            for name, url, workers in runs:
                t = plaster_delivery(url, args.deliver, port, env)
                ref = python_delivery(args.deliver, port, CONNECTIONS)
                print(f"{name:9} plaster {args.deliver / t:8,.0f} msg/s ({t:.1f} s, {workers} worker(s), "
                      f"up to {CONNECTIONS} connections)   python smtplib {args.deliver / ref:8,.0f} msg/s "
                      f"({ref:.1f} s, {CONNECTIONS} connections)")
            if len(runs) > 1:
                subprocess.run(["psql", f"{args.pg}/postgres", "-qc", f'DROP DATABASE "{db}" WITH (FORCE)'],
                               capture_output=True)
        finally:
            sink.terminate()
            sink.wait()
        print("\nplaster's delivery time includes starting the server and the status polls (200 ms).")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
