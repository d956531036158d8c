"""How close does the harness's load generator get to wrk? (rerunnable benchmark)

Starts the local KServe model server (1 worker, then 2 workers) on 127.0.0.1, drives it
with wrk and with ``harness.load.run_load`` (locust FastHttpUser, master + workers) for
the same window and connection count, and prints the throughput ratio. A model is trained
on iris in a temporary directory (or pass ``--model-dir``).

Needs wrk: ``apt-get install -y wrk`` (Debian/Ubuntu, as root).

Run: ``python benchmarks/load_vs_wrk.py [--seconds 10] [--connections 8] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.config import HarnessConfig
from harness.load import run_load
from harness.serving.local import LocalModelServer

BODY = '{"instances": [[6.8, 2.8, 4.8, 1.4]]}'


def train(out: Path) -> Path:
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    data = load_iris()
    joblib.dump(SVC(random_state=0).fit(data.data, data.target), out / "model.joblib")
    return out


def wrk_rps(url: str, seconds: int, connections: int, threads: int, work: Path) -> float:
    script = work / "post.lua"
    script.write_text(f"wrk.method = \"POST\"\nwrk.body = '{BODY}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  wrk saw {errors.group(1)} non-2xx answers")
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Measured window of each tool. Default: %(default)s")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections = locust users. Default: %(default)s")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Server worker counts. Default: %(default)s")
    parser.add_argument("--load-processes", type=int, default=0, help="locust workers (0: auto, as `mlharness run` picks). Default: %(default)s")
    parser.add_argument("--repeat", type=int, default=3, help="Interleaved wrk/harness pairs per server. Default: %(default)s")
    parser.add_argument("--model-dir", type=Path, help="Serve this model instead of training one.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="load-vs-wrk-") as tmp:
        work = Path(tmp)
        model = args.model_dir or train(work)
        rows = []
        for workers in args.workers:
            server = LocalModelServer(model, "sklearn-iris", work / f"server-{workers}.log", workers=workers)
            endpoint = server.start(60)
            try:
                url = f"{endpoint.base_url}/v1/models/sklearn-iris:predict"
                wrk_rps(url, 2, args.connections, 1, work)  # warm the server up
                cfg = HarnessConfig().replace(
                    users=args.connections, spawn_rate=1000, duration=args.seconds + 1.0, warmup=1.0,
                    load_processes=args.load_processes, load_protocol="v1", batch_size=1,
                    server_workers=workers,  # so load_processes=0 picks what `mlharness run` would
                )
                pairs = []
                # interleaved pairs: this machine's speed drifts by tens of percent between
                # windows, so each harness window is compared with the wrk window just before it
                for rep in range(args.repeat):
                    wrk = wrk_rps(url, args.seconds, args.connections, 1, work)
                    result = run_load(endpoint, cfg, work / f"harness-{workers}-{rep}")
                    pairs.append((wrk, result))
                    print(f"server workers={workers} #{rep + 1}: wrk {wrk:,.0f} req/s, harness {result.rps:,.0f} req/s "
                          f"({result.rps / wrk:.0%}), p50 {result.latency_ms.p50} ms, p99 {result.latency_ms.p99} ms, "
                          f"failures {result.failures}")
            finally:
                server.stop()
            ratios = sorted(r.rps / w for w, r in pairs if w)
            median = statistics.median(ratios)
            wrk_median = statistics.median(w for w, _ in pairs)
            rps_median = statistics.median(r.rps for _, r in pairs)
            rows.append((workers, wrk_median, rps_median, median, ratios[0], ratios[-1]))
    print(f"\n| server workers | wrk req/s (median) | harness req/s (median) | ratio (median of {args.repeat}) | range |")
    print("| --- | --- | --- | --- | --- |")
    for workers, wrk, rps, ratio, low, high in rows:
        print(f"| {workers} | {wrk:,.0f} | {rps:,.0f} | {ratio:.0%} | {low:.0%}–{high:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
