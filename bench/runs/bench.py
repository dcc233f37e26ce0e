#!/usr/bin/env python3
"""Benchmark: compensation runs in the portal against the engine on plain files.

For each database (SQLite, and PostgreSQL when reachable):
  1. `run add-logs`: the event logs checked (gzip whole, CSV header), hashed and
     stored in the database in chunks; reference: `cp` + `sha256sum` of the same
     files to a local folder (what a local-disk store would cost at least);
  2. `run preview`: the engine reading the stored chunks back from the
     database; reference: `plaster compensation preview` on the files;
  3. `run what-if` with four plan variants: the first reads the logs (a full
     pass, kept), the other three are priced from what that pass learned.
It checks that the run's report equals the file preview's.

usage: bench/runs/bench.py [--plaster target/release/plaster] [--events 10000000]
                           [--dir /tmp/plaster-runs-bench] [--postgres postgres://127.0.0.1:5432]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

INCIDENT = "atg-2024-08-24-v75"
RUN = "atg-2024-08-24"
FILES = ["events.jsonl", "events-archive.jsonl.gz", "events-export.csv"]


def timed(cmd, env=None, stdout=subprocess.PIPE):
    """Runs cmd under GNU time: (wall seconds, peak RSS MiB, stdout). The wall
    time is this script's clock around the whole command, the clock the
    references are timed with too; GNU time gives the peak RSS."""
    start = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, stdout=stdout,
                         stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} failed ({res.returncode}):\n{res.stderr[-2000:]}")
    _, rss = res.stderr.strip().splitlines()[-1].split()
    return wall, int(rss) / 1024, res.stdout


def plaster(a, env, *args):
    res = subprocess.run([a.plaster, *args], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"plaster {' '.join(args[:3])} failed:\n{res.stderr[-2000:]}")
    return res.stdout


def comparable(report):
    """A report with its malformed examples named by file name only: the
    file preview names the paths it was given, a run the names it stored."""
    report = dict(report)
    report["malformed_examples"] = [
        dict(m, file=os.path.basename(m["file"])) for m in report.get("malformed_examples", [])]
    return report


def differences(a, b):
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def variants(plan_path, out_dir):
    text = open(plan_path).read()
    changed = {
        "goodwill 75 kr": text.replace("SEK = 5000", "SEK = 7500"),
        "deadline 16:15": text.replace("16:20:00+02:00", "16:15:00+02:00"),
        "refunds for all games": text.replace('kind = "refund_failed_debits"\ngames = ["V75"]',
                                              'kind = "refund_failed_debits"'),
    }
    paths = []
    for name, body in changed.items():
        if body == text:
            sys.exit(f"variant {name!r} did not change the plan")
        p = os.path.join(out_dir, name.replace(" ", "-") + ".toml")
        with open(p, "w") as f:
            f.write(body)
        paths.append((name, p))
    return paths


def bench_backend(a, name, url, scen, events, rows):
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn")
    plaster(a, env, "migrate")
    plaster(a, env, "demo", "reset")
    plaster(a, env, "customers", "import", "--customers", os.path.join(scen, "customers.csv"))
    for who in ("drafter", "approver"):
        plaster(a, env, "staff", "add", "--email", f"{who}@bench.example", "--role", "finance")
    plan = os.path.join(scen, "plan.toml")
    plaster(a, env, "compensation", "run", "create", "--incident", INCIDENT, "--plan", plan,
            "--by", "drafter@bench.example")

    wall, rss, out = timed([a.plaster, "compensation", "run", "add-logs", RUN, *events,
                            "--by", "drafter@bench.example"], env)
    stored = json.loads(out)["files"]
    rows.append((name, "run add-logs (check, hash, store in the database)", wall, rss))

    wall, rss, out = timed([a.plaster, "compensation", "run", "preview", RUN,
                            "--by", "drafter@bench.example"], env)
    run_report = json.loads(out)
    rows.append((name, "run preview (engine over the stored chunks)", wall, rss))

    plans = [("the plan as previewed", plan)] + variants(plan, a.dir)
    args = [a.plaster, "compensation", "run", "what-if", RUN]
    for _, p in plans:
        args += ["--plan", p]
    wall, rss, out = timed(args, env)
    priced = json.loads(out)
    # The per-plan figures below are the command's own timer (`priced_ms`),
    # the full pass and the kept-pass variants alike; the wall clock of the
    # whole command (all four plans) is kept beside them.
    rows.append((name, f"what-if command, all {len(plans)} plans (wall clock)", wall, rss))
    # Each variant priced from the kept pass must equal a full pass of it.
    for (label, p), report in zip(plans[1:], priced[1:]):
        full = json.loads(plaster(a, env, "compensation", "preview", "--plan", p, "--customers",
                                  os.path.join(scen, "customers.csv"), *events))
        got = {k: v for k, v in report.items() if k not in ("plan_file", "priced_ms", "full_pass")}
        if comparable(got) != comparable(full):
            sys.exit(f"{name}: what-if {label!r} differs from a full preview of it: "
                     + ", ".join(differences(comparable(got), comparable(full))))
    print(f"{name}: every what-if variant equals a full preview of it")
    for (label, _), report in zip(plans, priced):
        how = "full pass, kept" if report["full_pass"] else "from the kept pass"
        rows.append((name, f"what-if: {label} ({how}; the command's own timer)", report["priced_ms"] / 1000, None))
    return stored, run_report, priced


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plaster", default="target/release/plaster")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", default="/tmp/plaster-runs-bench")
    ap.add_argument("--postgres", default="postgres://127.0.0.1:5432",
                    help="server URL; a database plaster_runs_bench is (re)created there ('' skips)")
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
    # Same machine state for both sides: the files are read once, untimed, so
    # the reference (which runs first) does not pay for cold reads that
    # plaster is then spared.
    for path in events + [os.path.join(scen, "customers.csv"), os.path.join(scen, "plan.toml")]:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    # References on the same files, on the same clock as plaster's steps.
    copy_dir = os.path.join(a.dir, "copy")
    shutil.rmtree(copy_dir, ignore_errors=True)
    os.makedirs(copy_dir)
    start = time.perf_counter()
    subprocess.run(["cp", *events, copy_dir], check=True)
    subprocess.run(["sha256sum", *events], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["sync"], check=True)
    rows.append(("files", "reference: cp + sha256sum + sync to a local folder",
                 time.perf_counter() - start, None))
    shutil.rmtree(copy_dir, ignore_errors=True)
    wall, rss, out = timed([a.plaster, "compensation", "preview", "--plan",
                            os.path.join(scen, "plan.toml"), "--customers",
                            os.path.join(scen, "customers.csv"), *events])
    file_report = json.loads(out)
    rows.append(("files", "reference: compensation preview on the files", wall, rss))

    backends = [("SQLite", "sqlite://" + os.path.join(a.dir, "bench.db"))]
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(os.path.join(a.dir, "bench.db") + suffix)
        except FileNotFoundError:
            pass
    if a.postgres:
        base = a.postgres.rstrip("/")
        ok = subprocess.run(["psql", base + "/postgres", "-qc",
                             "DROP DATABASE IF EXISTS plaster_runs_bench"],
                            capture_output=True).returncode == 0
        if ok and subprocess.run(["psql", base + "/postgres", "-qc",
                                  "CREATE DATABASE plaster_runs_bench"],
                                 capture_output=True).returncode == 0:
            backends.append(("PostgreSQL", base + "/plaster_runs_bench"))
        else:
            print(f"PostgreSQL at {base} not reachable: skipped")

    agree = True
    for name, url in backends:
        _, run_report, priced = bench_backend(a, name, url, scen, events, rows)
        run_report.pop("revision")
        run_report.pop("digest")
        same = comparable(run_report) == comparable(file_report)
        agree = agree and same
        print(f"{name}: run preview equals the file preview: "
              f"{'yes' if same else 'NO: ' + ', '.join(differences(comparable(run_report), comparable(file_report)))}")
        for report in priced:
            for k in ("plan_file", "priced_ms", "full_pass"):
                report.pop(k)
        if comparable(priced[0]) != comparable(file_report):
            print(f"{name}: what-if of the unchanged plan differs from the preview!")
            agree = False
        if len({json.dumps(r["total_minor"], sort_keys=True) for r in priced}) != len(priced):
            print(f"{name}: two plan variants priced the same totals")

    print()
    print("| database | step | wall (s) | peak RSS (MiB) |")
    print("|---|---|---:|---:|")
    for db, step, wall, rss in rows:
        print(f"| {db} | {step} | {wall:.2f} | {'' if rss is None else f'{rss:.0f}'} |")
    if not agree:
        sys.exit("the run and the file preview disagree")


if __name__ == "__main__":
    main()
