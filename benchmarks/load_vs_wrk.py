"""How close does the harness's load generator get to wrk? (rerunnable benchmark)

Starts the local KServe model server (1 worker, then 2 workers) on 127.0.0.1, drives it
with wrk, with ``harness.load.run_load`` (locust FastHttpUser with the harness's exact
recording) and with bare locust (a minimal FastHttpUser locustfile, same process count,
nothing recorded) for the same window and connection count, and prints the throughput
ratios. Bare locust separates what locust itself costs from what the harness adds. It
also prints this machine's speed (an in-process SVC predict) in the unit of the project's
pre-code figures. A model is trained on iris in a temporary directory (or pass ``--model-dir``).

Needs wrk: ``apt-get install -y wrk`` (Debian/Ubuntu, as root).

Run: ``python benchmarks/load_vs_wrk.py [--seconds 10] [--connections 8] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.config import HarnessConfig
from harness.load import run_load
from harness.load.plan import auto_processes
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


BARE_LOCUSTFILE = """
from locust import FastHttpUser, constant, task

BODY = b'BODY_HERE'


class Bare(FastHttpUser):
    wait_time = constant(0)

    @task
    def predict(self):
        self.client.request("POST", "/v1/models/sklearn-iris:predict", data=BODY, headers={"Content-Type": "application/json"})
""".replace("BODY_HERE", BODY)


def bare_locust_rps(base_url: str, seconds: int, users: int, processes: int, work: Path) -> float:
    """locust itself, without the harness: a minimal FastHttpUser locustfile, no recording."""
    locustfile = work / "bare_locustfile.py"
    locustfile.write_text(BARE_LOCUSTFILE)
    stats_file = work / "bare_stats"
    for old in work.glob("bare_stats*"):
        old.unlink()
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--json-file", str(stats_file), "--only-summary",
            "-u", str(users), "-r", "1000", "-t", f"{seconds + 1}s", "--host", base_url, "--loglevel", "ERROR"]
    if processes > 1:
        argv += ["--processes", str(processes)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    written = sorted(work.glob("bare_stats*"))
    stats = json.loads(written[0].read_text()) if written else []
    requests = sum(s["num_requests"] for s in stats)
    if not stats or not requests:
        raise RuntimeError(f"bare locust reported nothing:\n{(out.stdout + out.stderr)[-2000:]}")
    first = min(s["start_time"] for s in stats)
    last = max(s["last_request_timestamp"] for s in stats)
    return requests / (last - first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="Measured window of each tool. Default: %(default)s")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections = locust users. Default: %(default)s")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Server worker counts. Default: %(default)s")
    parser.add_argument("--load-processes", type=int, default=0, help="locust workers (0: auto, as `mlharness run` picks). Default: %(default)s")
    parser.add_argument("--repeat", type=int, default=3, help="Interleaved wrk/harness/bare-locust rounds per server. Default: %(default)s")
    parser.add_argument("--model-dir", type=Path, help="Serve this model instead of training one.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    print(f"machine speed: SVC.predict on 2 rows in-process {svc_predict_us():.0f} µs "
          "(the project's pre-code figures were taken at 74-78 µs)")
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
                processes = auto_processes(cfg) if args.load_processes == 0 else args.load_processes
                rounds = []
                # interleaved rounds: this machine's speed drifts by tens of percent between
                # windows, so each generator is compared with the wrk window just before it
                for rep in range(args.repeat):
                    wrk = wrk_rps(url, args.seconds, args.connections, 1, work)
                    result = run_load(endpoint, cfg, work / f"harness-{workers}-{rep}")
                    bare = bare_locust_rps(endpoint.base_url, args.seconds, args.connections, processes, work)
                    rounds.append((wrk, result.rps, bare))
                    print(f"server workers={workers} #{rep + 1}: wrk {wrk:,.0f} req/s, harness {result.rps:,.0f} req/s "
                          f"({result.rps / wrk:.0%}; p50 {result.latency_ms.p50} ms, p99 {result.latency_ms.p99} ms, "
                          f"failures {result.failures}), bare locust {bare:,.0f} req/s ({bare / wrk:.0%})")
            finally:
                server.stop()
            rows.append((workers, processes, rounds))
    print("\n| server workers | locust processes | wrk req/s | harness req/s | bare locust req/s | harness / wrk | bare locust / wrk | harness / bare locust |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for workers, processes, rounds in rows:
        med = statistics.median
        cells = [f"{med(r[i] for r in rounds):,.0f}" for i in range(3)]
        ratios = [_ratio([r[1] / r[0] for r in rounds]), _ratio([r[2] / r[0] for r in rounds]), _ratio([r[1] / r[2] for r in rounds])]
        print(f"| {workers} | {processes} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    print(f"\n(medians of {args.repeat} interleaved rounds, range in brackets; {args.seconds} s windows, {args.connections} connections)")
    return 0


def _ratio(values: list[float]) -> str:
    values = sorted(values)
    return f"{statistics.median(values):.0%} ({values[0]:.0%}–{values[-1]:.0%})"


def svc_predict_us() -> float:
    """This machine's speed in the unit of UPSTREAM.md's pre-code figures."""
    import timeit

    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    data = load_iris()
    model = SVC(random_state=0).fit(data.data, data.target)
    rows = np.array([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]])
    return min(timeit.repeat(lambda: model.predict(rows), number=200, repeat=5)) / 200 * 1e6


if __name__ == "__main__":
    sys.exit(main())
