"""How long does a whole `mlharness run` on the local target take? (rerunnable benchmark)

Runs ``mlharness run --duration 15s`` (or ``--duration``) ``--repeat`` times, each in a
fresh report directory, and prints the wall time of the command and the median of each
phase from ``report.json``: what sits outside the load window, and where it goes. Also
prints this machine's speed (an in-process SVC predict) in the unit of the project's
pre-code figures, since the same code takes twice as long on a machine half as fast.

Run: ``python benchmarks/run_time.py [--repeat 3] [--duration 15s] [-- extra mlharness args]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs to take the median of. Default: %(default)s")
    parser.add_argument("--duration", default="15s", help="Load window of each run. Default: %(default)s")
    parser.add_argument("extra", nargs="*", help="More `mlharness run` arguments (after --).")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from load_vs_wrk import svc_predict_us

    print(f"machine speed: SVC.predict on 2 rows in-process {svc_predict_us():.0f} µs "
          "(the project's pre-code figures were taken at 74-78 µs)")
    walls: list[float] = []
    phases: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="run-time-") as tmp:
        for rep in range(args.repeat):
            out = Path(tmp) / f"run-{rep}"
            argv = [sys.executable, "-m", "harness", "run", "--duration", args.duration, "--report-dir", str(out), *args.extra]
            started = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - started
            report = json.loads((out / "report.json").read_text())
            if proc.returncode != 0:
                print(f"run {rep + 1} exited {proc.returncode} ({report['status']}):\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}", file=sys.stderr)
                return 1
            walls.append(wall)
            for name, seconds in report["phases"].items():
                phases.setdefault(name, []).append(seconds)
            print(f"run {rep + 1}: {wall:.1f} s wall, " + ", ".join(f"{k} {v:.1f}" for k, v in report["phases"].items()))
    load = statistics.median(phases.get("load", [0.0]))
    wall = statistics.median(walls)
    print(f"\nmedian of {args.repeat}: {wall:.1f} s wall; load phase {load:.1f} s; outside the load phase {wall - load:.1f} s")
    print("| phase | median s |\n| --- | --- |")
    for name, values in phases.items():
        print(f"| {name} | {statistics.median(values):.1f} |")
    print(f"| (command start-up, report rendering, exit) | {wall - sum(statistics.median(v) for v in phases.values()):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
