"""Shared by bench.py and sse_herd.py: start and stop a plaster node on a fresh
SQLite database, read a process's memory and CPU, clean up children on exit.

Stdlib only. Linux only (/proc).
"""
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PLASTER = os.path.join(ROOT, "target", "release", "plaster")
DEFAULT_SITE = os.path.join(ROOT, "target", "site")

_children = []  # Popen objects to end on exit, newest last


def track(proc):
    _children.append(proc)
    return proc


def stop(proc, sig=signal.SIGTERM, timeout=10):
    """Ends one child we started (by its pid), politely, then firmly."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        except ProcessLookupError:
            pass
    if proc in _children:
        _children.remove(proc)


def stop_all():
    while _children:
        stop(_children[-1])


def _on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def install_cleanup():
    """SIGTERM/SIGHUP behave like Ctrl-C: unwind, so `finally` ends the children.
    Children run in their own sessions, so a terminal Ctrl-C reaches only us
    and every child is ended by this script, in order."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)


def raise_nofile(want):
    """Raises this process's open-file limit to at least `want` if allowed;
    returns the (soft, hard) limits in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
        except (ValueError, OSError):
            # Not root: the hard limit is the ceiling.
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def plaster_env(db_path, port, rust_log="warn", site_root=DEFAULT_SITE):
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite://{db_path}",
        "PLASTER_LISTEN": f"127.0.0.1:{port}",
        "LEPTOS_SITE_ROOT": site_root,
        "RUST_LOG": rust_log,
        # Every benchmark client connects from 127.0.0.1: one address, so
        # the per-address cap on live streams (200 by default) is lifted.
        "PLASTER_LIVE_MAX_STREAMS": "100000",
        "PLASTER_LIVE_MAX_STREAMS_PER_CLIENT": "100000",
    })
    return env


def start_plaster(binary, workdir, port, nofile=None, site_root=DEFAULT_SITE, timeout=60):
    """Starts `plaster serve --demo` on workdir/plaster.db (seeded with the
    demo on first start) and waits for /healthz. Returns the Popen; its output goes to
    workdir/plaster.log."""
    for path, what in ((binary, "plaster binary"), (site_root, "site root")):
        if not os.path.exists(path):
            sys.exit(f"no {what} at {path}: build with `cargo leptos build --release` first")
    db = os.path.join(workdir, "plaster.db")
    env = plaster_env(db, port, site_root=site_root)

    def preexec():
        if nofile:
            raise_nofile(nofile)

    log = open(os.path.join(workdir, "plaster.log"), "ab")
    proc = track(subprocess.Popen([binary, "serve", "--demo"], env=env, cwd=workdir, stdout=log,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  preexec_fn=preexec, start_new_session=True))
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/healthz"
    while True:
        if proc.poll() is not None:
            sys.exit(f"plaster exited with {proc.returncode} during start; see {log.name}:\n"
                     + open(log.name, errors="replace").read()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            sys.exit(f"plaster did not answer {url} within {timeout} s; see {log.name}")
        time.sleep(0.1)


def run_cli(binary, workdir, args):
    """Runs a plaster CLI command against workdir/plaster.db; returns its stdout."""
    env = plaster_env(os.path.join(workdir, "plaster.db"), 0)
    res = subprocess.run([binary] + args, env=env, cwd=workdir, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"plaster {' '.join(args)} failed ({res.returncode}): {res.stderr.strip()}")
    return res.stdout


def rss_mib(pid):
    """VmRSS of a process in MiB (from /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def nofile_limit(pid):
    """The soft 'Max open files' of a running process, from /proc/<pid>/limits."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User + system CPU seconds used so far by these processes (all threads)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / _TICK


def busy_cpu_seconds():
    """CPU seconds the whole machine has spent busy (all cores, from /proc/stat)."""
    with open("/proc/stat") as f:
        v = list(map(int, f.readline().split()[1:]))
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    return (sum(v[:8]) - idle) / _TICK  # guest time is already in user


def child_pids(ppid):
    """Direct children of ppid (e.g. nginx's workers)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(name))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
    return out
