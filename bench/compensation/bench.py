#!/usr/bin/env python3
"""Benchmark: `plaster compensation preview` vs DuckDB SQL vs `cat` (the floor).

Generates the v75-2024 scenario with the generator (JSONL + a gzip part + a CSV
part), reads them once untimed (so every contender finds them in the page
cache), then runs each contender on the same files, recording wall time (this
script's clock around the whole command, the same for all) and peak RSS (GNU
time), and checks that DuckDB and plaster agree on every figure. With --runs N
every run is kept and printed, median and min–max, the order rotating.

usage: bench/compensation/bench.py [--plaster target/release/plaster] [--events 10000000]
                                   [--dir /tmp/plaster-bench] [--runs 1]
Needs: /usr/bin/time, `pip install duckdb`.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, stdout):
    """Runs cmd under GNU time; returns (wall seconds, peak RSS in MiB).

    The wall time is this script's clock (time.perf_counter) around the whole
    command, the same clock for every contender; GNU time gives the peak RSS."""
    start = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, stdout=stdout,
                         stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({res.returncode}):\n{res.stderr}")
    _, rss = res.stderr.strip().splitlines()[-1].split()
    return wall, int(rss) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plaster", default="target/release/plaster",
                    help="the plaster binary (or anything taking `compensation preview` args)")
    ap.add_argument("--preview-args", default="compensation preview",
                    help="words before the preview flags (the engine example takes `preview`)")
    ap.add_argument("--generate-args", default="demo generate-logs",
                    help="words before the generator flags")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", default="/tmp/plaster-bench")
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()

    scen = os.path.join(a.dir, "v75-2024")
    files = ["events.jsonl", "events-archive.jsonl.gz", "events-export.csv"]
    events = [os.path.join(scen, f) for f in files]
    if not all(os.path.exists(p) for p in events):
        gen = [a.plaster] + a.generate_args.split()
        if a.generate_args.split()[-1] == "generate":  # the engine example's positional form
            gen += [a.dir, "v75-2024", str(a.events), str(a.seed), "15", "15"]
        else:
            gen += ["--out", a.dir, "--scenario", "v75-2024", "--events", str(a.events),
                    "--seed", str(a.seed), "--gzip-percent", "15", "--csv-percent", "15"]
        wall, _ = timed(gen, subprocess.DEVNULL)
        print(f"generated {a.events} events in {wall:.1f} s")
    sizes = {f: os.path.getsize(os.path.join(scen, f)) for f in files}
    print("files: " + ", ".join(f"{f} {s / 1e6:.0f} MB" for f, s in sizes.items()))
    plan, customers = os.path.join(scen, "plan.toml"), os.path.join(scen, "customers.csv")

    contenders = {
        "cat (floor)": (["cat"] + events, None),
        "plaster compensation preview": (
            [a.plaster] + a.preview_args.split() + ["--plan", plan, "--customers", customers] + events,
            os.path.join(a.dir, "plaster.json")),
        "DuckDB (SQL, 2 threads)": (
            [sys.executable, os.path.join(HERE, "duckdb_report.py"), "--plan", plan,
             "--customers", customers] + events,
            os.path.join(a.dir, "duckdb.json")),
    }
    # Same machine state for every contender: the files are read once,
    # untimed, so none of them (not the `cat` floor, which runs first) pays
    # for cold reads the others are spared.
    for path in events + [plan, customers]:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    # Every run is kept (the table quotes the spread, worst included), and the
    # contenders' order rotates from run to run.
    names = list(contenders)
    results = {name: [] for name in names}
    for run in range(a.runs):
        for name in names[run % len(names):] + names[:run % len(names)]:
            cmd, out = contenders[name]
            with open(out or os.devnull, "w") as f:
                results[name].append(timed(cmd, f))
    print()
    if a.runs == 1:
        print("| contender | wall (s) | peak RSS (MiB) |")
        print("|---|---:|---:|")
        for name in names:
            wall, rss = results[name][0]
            print(f"| {name} | {wall:.2f} | {rss:.0f} |")
    else:
        print(f"| contender | wall (s), {a.runs} runs: median (min–max) | peak RSS (MiB), max | every run (s) |")
        print("|---|---:|---:|---|")
        for name in names:
            walls = sorted(w for w, _ in results[name])
            median = walls[len(walls) // 2] if len(walls) % 2 else (walls[len(walls) // 2 - 1] + walls[len(walls) // 2]) / 2
            print(f"| {name} | {median:.2f} ({walls[0]:.2f}–{walls[-1]:.2f}) | "
                  f"{max(r for _, r in results[name]):.0f} | "
                  + ", ".join(f"{w:.2f}" for w, _ in results[name]) + " |")

    p = json.load(open(os.path.join(a.dir, "plaster.json")))
    d = json.load(open(os.path.join(a.dir, "duckdb.json")))
    for k in ("window", "malformed_examples"):
        p.pop(k)
    p["events"].pop("malformed")
    same = json.dumps(p, sort_keys=True) == json.dumps(d, sort_keys=True)
    print()
    print(f"plaster and DuckDB agree on every figure: {'yes' if same else 'NO'}")
    print(f"records {p['events']['records']}, in window {p['events']['in_window']}, "
          f"affected {p['affected_customers']}, lines " +
          ", ".join(f"{r['kind']} {r['lines']}" for r in p["rules"]))
    if not same:
        print(json.dumps(p, sort_keys=True))
        print(json.dumps(d, sort_keys=True))
        sys.exit(1)


if __name__ == "__main__":
    main()
