"""The locustfile's recorder, in a child process (importing locust monkey-patches the importer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from harness.load.plan import LOCUSTFILE

SCRIPT = textwrap.dedent(
    """
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("mlh_locustfile", sys.argv[1])
    lf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lf)

    class Ok:
        status_code = 200

    recorder = lf.Recorder()
    recorder.t0 = 1000.0  # the worker's test start
    # (started, response_time_ms): warm-up is [1000, 1002), the window ends at 1010
    for started, ms in [(1001.0, 5.0), (1002.5, 10.0), (1005.0, 20.0), (1009.9, 50.0), (1009.99, 55.0), (1010.5, 1.0)]:
        recorder.on_request("v1", ms, Ok, None, {}, start_time=started)
    recorder.write()
    """
)


def test_the_window_ends_at_its_planned_end_and_the_warm_up_is_left_out(tmp_path: Path) -> None:
    env = {**os.environ, "MLH_LOAD_PLAN": json.dumps({"warmup_s": 2.0, "duration_s": 10.0}), "MLH_LOAD_OUT": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(LOCUSTFILE)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (result,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("worker-*.json")]
    # counted: 1002.5 (+10 ms), 1005.0 (+20 ms), 1009.9 (+50 ms, done at 1009.95);
    # late: 1009.99 (+55 ms, done after 1010) and 1010.5; warm-up: 1001.0
    assert (result["requests"], result["warmup_requests"], result["late_requests"]) == (3, 1, 2)
    assert result["max_us"] == 50_000
    assert sorted(int(s) for s in result["seconds"]) == [0, 3, 7]
