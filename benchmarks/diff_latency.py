"""How often does ``diff.latency`` raise a false alarm, and what slowdown does it detect? (rerunnable)

Two measurements on this machine, each a paired run of the release diff's latency comparison
exactly as ``mlharness diff`` makes it (:func:`harness.diff.latency.interleaved` then
:func:`harness.diff.stats.compare_latency`, the default alpha and max increase unless given):

- **A/A**: live and candidate are two instances of the same healthy fault server
  (``tests/helpers/fault_server.py``, fault ``none``, the same model file); every regression
  called is a false alarm. ``--runs`` paired runs (at least 20 for the docs' figure).
- **Injected slowdowns**: the candidate is the fault server ``slow`` sleeping ``--delays`` ms
  (0, 0.25, 0.5, 1, 2, 5, 10, 20, 40) per request; ``--delay-runs`` paired runs each. The smallest delay
  detected in every run is the figure the docs quote.

Prints one line per configuration (regressions called / runs, median p-value, median p50 of
each side) and a closing summary. The figures are this machine's and this moment's: a busy
machine shifts them (the docs say how busy it was).

Run: ``.venv/bin/python benchmarks/diff_latency.py [--runs 20] [--delay-runs 5] [--windows 5 --window 1]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.diff.latency import interleaved  # after the repository is on the path
from harness.diff.stats import compare_latency
from harness.inference.client import InferenceClient
from harness.results import Endpoint
from tests.conftest import train_model
from tests.helpers.fault_server import FaultServer


def paired_run(live: InferenceClient, candidate: InferenceClient, rows: list[tuple[float, ...]], args: argparse.Namespace) -> tuple[bool, float, float, float]:
    live_s, cand_s = interleaved(live, candidate, rows, "v1", windows=args.windows, window_s=args.window)
    result = compare_latency(live_s.latencies_ms, cand_s.latencies_ms, max_increase=args.max_increase, alpha=args.alpha,
                             live_windows=live_s.windows, candidate_windows=cand_s.windows)
    return result.regressed, result.p_value if result.p_value is not None else 1.0, result.live.p50_ms or 0.0, result.candidate.p50_ms or 0.0


def measure(name: str, live: InferenceClient, candidate: InferenceClient, rows: list[tuple[float, ...]], runs: int,
            args: argparse.Namespace) -> int:
    called, pvalues, p50s = 0, [], []
    for _ in range(runs):
        regressed, p, live_p50, cand_p50 = paired_run(live, candidate, rows, args)
        called += int(regressed)
        pvalues.append(p)
        p50s.append((live_p50, cand_p50))
    print(f"{name:<22} regression called in {called}/{runs} runs; median p-value {statistics.median(pvalues):.3g}; "
          f"median p50 live {statistics.median(a for a, _ in p50s):.3f} ms, candidate {statistics.median(b for _, b in p50s):.3f} ms",
          flush=True)
    return called


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="A/A paired runs")
    parser.add_argument("--delay-runs", type=int, default=5, help="paired runs per injected delay")
    parser.add_argument("--delays", default="0,0.25,0.5,1,2,5,10,20,40", help="injected delays (ms), comma-separated")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--max-increase", type=float, default=0.2)
    args = parser.parse_args()
    from sklearn.datasets import load_iris

    rows = [tuple(float(v) for v in r) for r in load_iris().data]
    with tempfile.TemporaryDirectory() as tmp:
        model = train_model(Path(tmp) / "model")
        servers = [FaultServer(model, "none", Path(tmp) / f"live-{i}.log").start() for i in range(2)]
        try:
            live, twin = (InferenceClient(Endpoint(s.url, "sklearn-iris", protocols=("v1",)), 10.0) for s in servers)
            false_alarms = measure("A/A (same server x2)", live, twin, rows, args.runs, args)
            detected: dict[float, int] = {}
            for delay in (float(d) for d in args.delays.split(",")):
                slow = FaultServer(model, "slow", Path(tmp) / f"slow-{delay:g}.log", delay_ms=delay).start()
                try:
                    with InferenceClient(Endpoint(slow.url, "sklearn-iris", protocols=("v1",)), 10.0) as candidate:
                        detected[delay] = measure(f"candidate +{delay:g} ms", live, candidate, rows, args.delay_runs, args)
                finally:
                    slow.stop()
        finally:
            for server in servers:
                server.stop()
    always = [d for d, n in detected.items() if n == args.delay_runs and d > 0]
    print(f"A/A false-alarm rate: {false_alarms}/{args.runs} = {false_alarms / args.runs:.1%}; smallest slowdown detected in every run: "
          f"{min(always):g} ms" if always else "none of the injected slowdowns was detected in every run")
    print(f"settings: {args.windows} windows x {args.window:g} s per side, alpha {args.alpha:g}, max increase {args.max_increase:.0%}")


if __name__ == "__main__":
    main()
