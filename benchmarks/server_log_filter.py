"""What does logging every repeated warning cost the local model server? (rerunnable benchmark)

KServe 0.21 under FastAPI 0.165 warns ("ORJSONResponse is deprecated") on every response. The
local runtime logs each distinct warning once (:mod:`harness.serving.kserve_patches`); with
``--log_repeated_warnings true`` it logs every repeat, as stock KServe does. This starts the
local server (1 worker) both ways, in interleaved rounds, drives each with the harness's own
load generator (``harness.load.run_load``: locust FastHttpUser, as ``mlharness run`` does,
mixed V1/V2) for the same window, and prints per round and as medians:

- throughput (requests per second in the measured window);
- server CPU per request: user + system time of every process in the server's process group,
  read from ``/proc/<pid>/stat`` before and after the load run, over every request it answered
  (warm-up and late ones included);
- server.log growth, in bytes per second and per request.

It also prints this machine's speed (an in-process SVC predict) in the unit of the project's
pre-code figures. Linux only (reads ``/proc``).

Run: ``python benchmarks/server_log_filter.py [--seconds 10] [--repeat 3] [--users 8]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from harness.config import HarnessConfig
from harness.load import run_load
from harness.serving.local import LocalModelServer

TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid`` (/proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process exited while we looked
            continue
        # after the command name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def one_round(model: Path, work: Path, repeat_warnings: bool, cfg: HarnessConfig, label: str) -> dict[str, float]:
    log = work / f"server-{label}.log"
    server = LocalModelServer(model, "sklearn-iris", log, repeat_warnings=repeat_warnings)
    endpoint = server.start(60)
    try:
        assert server.proc is not None
        pgid = server.proc.pid  # spawned in its own session: its pid is the group id
        cpu_before, log_before = group_cpu_seconds(pgid), log.stat().st_size
        result = run_load(endpoint, cfg, work / f"load-{label}")
        cpu = group_cpu_seconds(pgid) - cpu_before
        grown = log.stat().st_size - log_before
    finally:
        server.stop()
    answered = result.requests + result.warmup_requests + result.late_requests
    return {
        "rps": result.rps,
        "cpu_us_per_request": cpu / answered * 1e6,
        "log_bytes_per_s": grown / cfg.load.duration,
        "log_bytes_per_request": grown / answered,
        "failures": float(result.failures),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Load window per round (warm-up included). Default: %(default)s")
    parser.add_argument("--repeat", type=int, default=3, help="Interleaved rounds of each variant. Default: %(default)s")
    parser.add_argument("--users", type=int, default=8, help="locust users. Default: %(default)s")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from load_vs_wrk import svc_predict_us, train

    print(f"machine speed: SVC.predict on 2 rows in-process {svc_predict_us():.0f} µs "
          "(the project's pre-code figures were taken at 74-78 µs)")
    cfg = HarnessConfig().replace(users=args.users, spawn_rate=1000, duration=args.seconds, warmup=1.0)
    variants = {"each warning once (default)": False, "every repeat (stock KServe)": True}
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="log-filter-") as tmp:
        work = Path(tmp)
        model = train(work)
        for rep in range(args.repeat):
            for name, repeat_warnings in variants.items():
                got = one_round(model, work, repeat_warnings, cfg, f"{rep}-{int(repeat_warnings)}")
                figures[name].append(got)
                print(f"#{rep + 1} {name}: {got['rps']:,.0f} req/s, server CPU {got['cpu_us_per_request']:.0f} µs/request, "
                      f"log {got['log_bytes_per_s'] / 1e3:,.1f} kB/s ({got['log_bytes_per_request']:.1f} B/request), "
                      f"failures {got['failures']:.0f}")
    print(f"\nmedians of {args.repeat} interleaved rounds ({args.seconds:g} s windows, {args.users} users, 1 server worker):")
    print("| server logs | req/s | server CPU µs/request | server.log kB/s | B/request |")
    print("| --- | --- | --- | --- | --- |")
    for name, rounds in figures.items():
        med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"| {name} | {med['rps']:,.0f} | {med['cpu_us_per_request']:.0f} | {med['log_bytes_per_s'] / 1e3:,.1f} | {med['log_bytes_per_request']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
