"""What does compiling a pipeline in a child process cost, against compiling in the harness's own? (rerunnable)

Each sample is a fresh interpreter that first imports what the harness has loaded when it
compiles (``harness.run.runner``), then compiles the built-in iris pipeline either

- ``in-process``: importing and compiling in that interpreter (how the harness compiled
  before a pipeline file's ``sys.exit`` could end the run), or
- ``child``: through :func:`harness.pipelines.compile.compile_pipeline`, which imports and
  compiles in ``python -m harness.pipelines.compile_exec``.

Prints the median wall time and CPU time (user + system, the child's included) of the compile
step alone, alternating the two kinds so that a busy machine slows both alike, and this
machine's speed in the unit of the project's pre-code figures.

Run: ``python benchmarks/compile_cost.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

SAMPLE = """
import json, resource, sys, tempfile, time
from pathlib import Path
import harness.run.runner  # what the harness has imported when it compiles
kind = sys.argv[1]

def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "pipeline.yaml"
    wall, used = time.perf_counter(), cpu()
    if kind == "in-process":
        from harness.pipelines.compile_exec import compile_source
        assert compile_source(None, None, out, "builtin:iris")["status"] == "ok"
    else:
        from harness.pipelines.compile import compile_pipeline
        compile_pipeline(None, Path(tmp))
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": cpu() - used}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="Samples of each kind. Default: %(default)s")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from load_vs_wrk import svc_predict_us

    print(f"machine speed: SVC.predict on 2 rows in-process {svc_predict_us():.0f} µs "
          "(the project's pre-code figures were taken at 74-78 µs)")
    samples: dict[str, list[dict[str, float]]] = {"in-process": [], "child": []}
    for rep in range(args.repeat):
        for kind in samples:
            proc = subprocess.run([sys.executable, "-c", SAMPLE, kind], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{kind} sample {rep + 1} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
                return 1
            samples[kind].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"{kind:>10} {rep + 1}: wall {samples[kind][-1]['wall']:.2f} s, cpu {samples[kind][-1]['cpu']:.2f} s")
    print(f"\n| compile of the built-in pipeline (median of {args.repeat}) | wall s | CPU s |\n| --- | --- | --- |")
    for kind, values in samples.items():
        print(f"| {kind} | {statistics.median(v['wall'] for v in values):.2f} | {statistics.median(v['cpu'] for v in values):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
