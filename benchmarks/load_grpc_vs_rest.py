"""Load over V2 gRPC against V2 REST, on the same local server (rerunnable benchmark).

Starts the local runtime with gRPC on (one worker), then alternates ``--repeat`` load windows of
``--load-protocol v2`` and ``--load-protocol grpc`` against it (the same users, processes and
window; alternated so a machine that gets busier mid-run affects both alike) and prints each
window's throughput and percentiles, then the medians. Both are closed-loop (as fast as the
users go): the figure is what this machine's generator and server reach together, not the
server's capacity.

Run: ``python benchmarks/load_grpc_vs_rest.py [--repeat 3] [--duration 10] [--users 8]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.config import HarnessConfig  # after the repository is on the path
from harness.load import run_load
from harness.serving.local import LocalModelServer
from tests.conftest import train_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Windows per protocol. Default: %(default)s")
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds per window (1 s warm-up). Default: %(default)s")
    parser.add_argument("--users", type=int, default=8, help="locust users. Default: %(default)s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlh-grpc-bench-") as tmp:
        work = Path(tmp)
        server = LocalModelServer(train_model(work / "model"), "sklearn-iris", work / "server.log", grpc=True)
        try:
            endpoint = dataclasses.replace(server.start(ready_timeout=120), protocols=("v1", "v2", "grpc"))
            figures: dict[str, list[tuple[float, float, float]]] = {"v2": [], "grpc": []}
            for i in range(args.repeat):
                for protocol in figures:
                    cfg = HarnessConfig().replace(
                        users=args.users, duration=args.duration, warmup=1.0, load_processes=1, load_protocol=protocol, spawn_rate=100,
                    )
                    result = run_load(endpoint, cfg, work / f"{protocol}-{i}")
                    lat = result.latency_ms
                    figures[protocol].append((result.rps, lat.p50 or 0.0, lat.p95 or 0.0))
                    print(f"{protocol:>4} #{i + 1}: {result.rps:8.1f} req/s  p50 {lat.p50:6.2f} ms  p95 {lat.p95:6.2f} ms  "
                          f"failures {result.failures}", flush=True)
        finally:
            server.stop()
    for protocol, rows in figures.items():
        rps, p50, p95 = (statistics.median(r[k] for r in rows) for k in range(3))
        print(f"median {protocol:>4}: {rps:8.1f} req/s  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
