"""Exact merging of worker figures, and the master/worker command lines (no locust run)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hdrh.histogram import HdrHistogram

from harness.config import HarnessConfig
from harness.load import LoadPlan, locust_argv, locust_env, merge_worker_files
from harness.load.plan import LOCUST_MODULES, LOCUSTFILE
from harness.load.results import new_histogram
from harness.results import Endpoint


def _doc(values_us: list[int], failures: int = 0, seconds: int = 2) -> dict[str, object]:
    hist = new_histogram()
    per_second: dict[str, dict[str, object]] = {}
    for i, v in enumerate(values_us):
        hist.record_value(v)
        sec = str(i % seconds)
        entry = per_second.setdefault(sec, {"requests": 0, "failures": 0, "hist": new_histogram()})
        entry["requests"] += 1  # type: ignore[operator]
        entry["hist"].record_value(v)  # type: ignore[union-attr]
    return {
        "t0": 100.0, "measure_from": 101.0, "stopped": 101.0 + seconds,
        "requests": len(values_us) + failures, "failures": failures, "warmup_requests": 3,
        "min_us": min(values_us), "max_us": max(values_us),
        "latency": hist.encode().decode(), "service": None,
        "kinds": {"v1": {"requests": len(values_us) + failures, "failures": failures, "histogram": hist.encode().decode()}},
        "seconds": {k: {"requests": v["requests"], "failures": 0, "histogram": v["hist"].encode().decode()} for k, v in per_second.items()},  # type: ignore[union-attr]
        "failures_by_kind": [{"name": "v1", "status": 500, "message": "boom", "count": failures}] if failures else [],
    }


def test_merged_percentiles_equal_those_of_all_requests_together() -> None:
    rng = random.Random(7)
    fast = [rng.randint(1_000, 3_000) for _ in range(5000)]  # one worker saw 1-3 ms
    slow = [rng.randint(50_000, 90_000) for _ in range(500)]  # the other 50-90 ms
    merged = merge_worker_files([_doc(fast, failures=2), _doc(slow, failures=1)])
    together = HdrHistogram(1, 3_600_000_000, 3)
    for v in fast + slow:
        together.record_value(v)
    assert merged.latency.p99 == round(together.get_value_at_percentile(99.0) / 1000, 3)
    assert merged.latency.p90 == round(together.get_value_at_percentile(90.0) / 1000, 3)
    # averaging the workers' p99 would say ~46 ms; the merged p99 is a slow request's
    assert merged.latency.p99 is not None and merged.latency.p99 > 50
    assert merged.latency.max == max(slow) / 1000 and merged.latency.min == min(fast) / 1000
    assert merged.requests == 5503 and merged.failures == 3 and merged.warmup_requests == 6
    assert merged.failures_by_kind[0].count == 3 and merged.failures_by_kind[0].status == 500
    assert merged.measured_s == 2.0 and merged.rps == round(5503 / 2.0, 2)
    assert [p.t for p in merged.timeline] == [0, 1]
    assert sum(p.requests for p in merged.timeline) == 5500
    assert merged.by_protocol["v1"].requests == 5503


def test_no_successes_gives_empty_percentiles() -> None:
    doc = _doc([1000], failures=4)
    doc["latency"] = new_histogram().encode().decode()
    doc["min_us"], doc["max_us"] = None, 0
    merged = merge_worker_files([doc])
    assert merged.latency.count == 0 and merged.latency.p95 is None


def _plan(**changes: object) -> LoadPlan:
    cfg = HarnessConfig().replace(users=6, duration=7.5, warmup=1.0, load_processes=3, **changes)
    return LoadPlan.from_config(Endpoint("http://10.0.0.5:8080", "iris", headers={"Authorization": "Bearer tok-123456", "Host": "iris.example"}), cfg)


def test_argv_for_local_master_and_worker_roles(tmp_path: object) -> None:
    plan = _plan()
    local = locust_argv(plan, "local", "/out")
    assert local[1:5] == ["-m", "locust", "-f", str(LOCUSTFILE)]
    assert local[local.index("--processes") + 1] == "3" and "--master" not in local
    assert local[local.index("--host") + 1] == "http://10.0.0.5:8080"
    assert local[local.index("--run-time") + 1] == "24s"  # backstop: ceil(7.5 + the wait for the last answers, 10 + 1) + 5
    own_port = locust_argv(plan, "local", "/out", master_port=40123)
    assert own_port[own_port.index("--master-bind-port") + 1] == "40123"
    assert own_port[own_port.index("--master-port") + 1] == "40123"
    assert own_port[own_port.index("--master-bind-host") + 1] == "127.0.0.1"
    master = locust_argv(plan, "master", "/out", bind_host="0.0.0.0", master_port=6000)
    assert master[master.index("--expect-workers") + 1] == "3" and "--processes" not in master
    assert master[master.index("--master-bind-host") + 1] == "0.0.0.0"
    worker = locust_argv(plan, "worker", "/out", master_host="locust-master", master_port=6000)
    assert worker[-5:] == ["--worker", "--master-host", "locust-master", "--master-port", "6000"]
    assert "--users" not in worker


def test_headers_travel_only_in_their_own_variable() -> None:
    plan = _plan(rate=30.0)
    env = locust_env(plan, "/out")
    assert "tok-123456" not in env["MLH_LOAD_PLAN"] and "tok-123456" not in json.dumps(plan.describe())
    assert json.loads(env["MLH_LOAD_HEADERS"]) == {"Authorization": "Bearer tok-123456", "Host": "iris.example"}
    settings = json.loads(env["MLH_LOAD_PLAN"])
    assert settings["rate_per_user"] == 5.0 and settings["duration_s"] == 7.5
    assert settings["rows"][:2] == [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]] and len(settings["rows"]) == 152


def test_each_target_places_its_own_load_generator(tmp_path: Path) -> None:
    """The local target gives locust as many workers as its server has (they share the cores);
    the endpoint target one per core; ``load_processes`` overrides both."""
    import os

    from harness.config import load_config
    from harness.results import Endpoint
    from harness.targets import TargetContext, make_target

    cores = os.cpu_count() or 1
    endpoint = Endpoint("http://127.0.0.1:9", "m", protocols=("v1", "v2"))

    def processes(**cli: object) -> int:
        target = make_target(TargetContext(load_config(cli=cli, env={}), tmp_path))
        return target.load_generator(endpoint).plan.processes  # type: ignore[attr-defined]

    assert processes() == 1
    assert processes(server_workers=2) == min(cores, 2)
    assert processes(server_workers=64) == cores
    assert processes(target="endpoint", url="http://127.0.0.1:9") == cores
    assert processes(load_processes=3) == 3


def test_the_in_cluster_configmap_ships_everything_the_locustfile_loads(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from harness.cluster.kubeflow import load_job

    objects = load_job.load_objects("mlh-load", "ns", _plan(), deadline_s=100)
    configmap = next(o for o in objects if o["kind"] == "ConfigMap")
    master = next(o for o in objects if o["kind"] == "Job" and o["metadata"]["name"] == "mlh-load-master")
    (volume,) = [v for v in master["spec"]["template"]["spec"]["volumes"] if v["name"] == "locustfile"]
    mounted = {item["path"] for item in volume["configMap"]["items"]}
    assert mounted == {"locustfile.py", *(m.name for m in LOCUST_MODULES)}
    for name in mounted:  # a pod's /locust: these files, and no harness to import
        (tmp_path / name).write_text(configmap["data"][name])
    script = "import sys; sys.modules['harness'] = None; sys.path.insert(0, sys.argv[1]); import locustfile; print(locustfile.MASK.secrets)"
    env = {**os.environ, "MLH_LOAD_HEADERS": json.dumps({"Authorization": "Bearer tok-123456"}), "MLH_LOAD_OUT": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "['Bearer tok-123456', 'tok-123456']"


def test_a_query_key_travels_in_the_environment_not_on_the_command_line() -> None:
    """``ps`` shows every process's command line to every user of the machine: the key is not on it."""
    cfg = HarnessConfig().replace(users=2, duration=2.0, warmup=0.0, load_processes=1)
    plan = LoadPlan.from_config(Endpoint("http://10.0.0.5:8080/base?api_key=k3y-k3y-k3y-k3y&v=2", "iris"), cfg)
    argv = locust_argv(plan, "local", "/out")
    assert argv[argv.index("--host") + 1] == "http://10.0.0.5:8080/base"
    assert not any("k3y" in arg for arg in argv), argv
    assert locust_env(plan, "/out")["MLH_LOAD_QUERY"] == "api_key=k3y-k3y-k3y-k3y&v=2"
    assert "MLH_LOAD_QUERY" not in locust_env(_plan(), "/out")
