"""The locustfile's recorder, in a child process (importing locust monkey-patches the importer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from harness.load.plan import LOCUSTFILE
from harness.load.worker.answers import LoadFailure
from harness.load.worker.recording import Recorder

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


def test_the_window_counts_what_it_sent_and_the_warm_up_is_left_out(tmp_path: Path) -> None:
    env = {**os.environ, "MLH_LOAD_PLAN": json.dumps({"warmup_s": 2.0, "duration_s": 10.0}), "MLH_LOAD_OUT": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(LOCUSTFILE)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (result,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("worker-*.json")]
    # counted: 1002.5 (+10 ms), 1005.0 (+20 ms), 1009.9 (+50 ms) and 1009.99 (+55 ms: sent in the
    # window, answered after its end); late (sent after the window): 1010.5; warm-up: 1001.0
    assert (result["requests"], result["warmup_requests"], result["late_requests"]) == (4, 1, 1)
    assert result["max_us"] == 55_000
    assert sorted(int(s) for s in result["seconds"]) == [0, 3, 7, 8]


def _answer(recorder: Recorder, context: dict, started: float, at: float, failure: Exception | None = None) -> None:
    recorder.on_request("v1", (at - started) * 1000, None, failure, context, start_time=started)


def test_requests_in_flight_at_the_close_are_waited_for_then_counted_as_timeouts(tmp_path: Path) -> None:
    """Every request sent is accounted for: answered in the drain, or a timeout failure; none starts after the close."""
    recorder = Recorder(0.0, 10.0, tmp_path)
    recorder.t0 = 1000.0
    contexts = [{} for _ in range(3)]
    for i, context in enumerate(contexts):
        assert recorder.begin("v1", context, now=1009.0 + i * 0.1)
    _answer(recorder, contexts[0], 1009.0, 1009.05)
    recorder.close(now=1010.0)
    assert not recorder.begin("v1", {}, now=1010.1), "no request starts once the window closed"
    _answer(recorder, contexts[1], 1009.1, 1010.5)  # answered while the window's last answers were waited for
    recorder.finish(10.0, now=1021.0)  # the third never answered
    recorder.write()
    (doc,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("worker-*.json")]
    assert (doc["requests"], doc["failures"], doc["unfinished"], doc["unfinished_failed"]) == (3, 1, 2, 1)
    assert doc["failures_by_kind"] == [{"name": "v1", "status": 0, "count": 1,
                                        "message": "no answer within 10s after the window closed (request_timeout)"}]
    assert doc["stopped"] == 1010.0


def test_a_stall_is_no_answer_for_a_second_while_requests_are_in_flight(tmp_path: Path) -> None:
    """A timeout is not an answer; idle time with nothing in flight is not a stall."""
    recorder = Recorder(0.0, 60.0, tmp_path)
    recorder.t0 = 1000.0
    first, second, third = {}, {}, {}
    recorder.begin("v1", first, now=1001.0)
    recorder.begin("v1", second, now=1001.0)
    _answer(recorder, first, 1001.0, 1001.01)
    _answer(recorder, second, 1001.0, 1004.5)  # 3.49 s without an answer, one request in flight
    recorder.begin("v1", third, now=1010.0)  # 5.5 s idle before it: nothing was in flight
    _answer(recorder, third, 1010.0, 1020.0, LoadFailure(0, "no complete answer within 10s", timeout=True))
    recorder.begin("v1", {}, now=1020.0)
    recorder.begin("v1", {}, now=1020.5)
    recorder.finish(10.0, now=1020.9)  # 0.9 s: too short to be a stall
    recorder.write()
    (doc,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("worker-*.json")]
    assert [(s["began"], s["ended"], s["in_flight"]) for s in doc["stalls"]] == [(1001.01, 1004.5, 1), (1010.0, 1020.0, 1)]
