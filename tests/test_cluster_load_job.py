"""In-cluster load (``load_in_cluster``): Jobs applied, awaited, read back and merged, through the fake runner.

No cluster runs here: every kubectl command goes through :class:`tests.helpers.cluster_fakes.FakeRunner`.
Worker results are real: a subprocess imports the real locustfile (locust never enters this
process), records known latencies with its ``Recorder`` and prints them as a pod would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from hdrh.histogram import HdrHistogram

from harness.cluster.kube import manifests
from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kubeflow import load_job
from harness.config import load_config
from harness.errors import ConfigError, InfrastructureError, WaitTimeout
from harness.load.plan import LOCUSTFILE
from harness.results import Endpoint
from tests.helpers.cluster_fakes import (
    FakeRunner,
    check_golden,
    fail,
    isvc,
    k8s_list,
    ok,
    pod,
    serialize,
)

K8S = "1.34"
NS = "mlh-1"
URL = "http://sklearn-iris-predictor.mlh-1.svc.cluster.local"
COOKIE = "authservice_session=MTU4OTI5NDAzMHxOd3dBTkVveldFUl"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.loadjob.sig"
PODS = ("mlh-load-worker-7xk2p", "mlh-load-worker-q9d4m")
WORKER_VALUES_MS = ([float(ms) for ms in range(1, 101)], [float(ms) for ms in range(101, 201)])
ENDPOINT = Endpoint("http://127.0.0.1:43210", "sklearn-iris",
                    {"Cookie": COOKIE, "Authorization": f"Bearer {TOKEN}", "Host": "sklearn-iris.mlh-1.example.com"},
                    description="KServe InferenceService mlh-1/sklearn-iris via port-forward")

# Runs in a child process: imports the real locustfile (and so locust), never in this one.
EMIT_SCRIPT = r"""
import json, os, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import locustfile
for n, values in enumerate(json.loads(sys.argv[2])):
    rec = locustfile.Recorder()
    rec.t0 = time.time() - 10
    for i, ms in enumerate(values):
        rec.on_request("v1", ms, None, None, {}, start_time=rec.t0 + 1 + i * 0.001)
    if n == 1:
        rec.on_request("v1", 5.0, None, RuntimeError("boom"), {}, start_time=rec.t0 + 2)
    rec.stopped = rec.t0 + 3
    print("[2025-01-01 00:00:00] worker/INFO/locust.runners: a log line around the block", flush=True)
    rec.write()
    print("=== NEXT POD ===", flush=True)
os.environ.pop("MLH_LOAD_EMIT")
locustfile.OUT = locustfile.OUT / "quiet"
rec = locustfile.Recorder()
rec.t0 = time.time()
rec.write()
print("=== LONG ===", flush=True)
locustfile.emit_stdout(json.dumps({"pad": "y" * 9000}))
"""


@pytest.fixture(scope="module")
def emitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What the locustfile prints, per simulated worker pod, and the file it wrote last."""
    out = tmp_path_factory.mktemp("emit")
    env = {"MLH_LOAD_EMIT": "stdout", "MLH_LOAD_OUT": str(out), "MLH_LOAD_PLAN": json.dumps({"warmup_s": 0}),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", EMIT_SCRIPT, str(LOCUSTFILE), json.dumps(WORKER_VALUES_MS)],
                          capture_output=True, text=True, env=env, timeout=120, check=True)
    pods, rest = proc.stdout.split("=== NEXT POD ===\n")[:2], proc.stdout.split("=== NEXT POD ===\n")[2]
    quiet, long = rest.split("=== LONG ===\n")
    files = sorted((out / "results").glob("worker-*.json")) + sorted((out / "quiet" / "results").glob("worker-*.json"))
    return {"pods": pods, "quiet": quiet, "long": long, "files": files}


def job_json(condition: str | None, active: int = 1) -> str:
    """``kubectl get job -o json``: a batch/v1 Job whose status the Job controller filled (a
    Complete or Failed condition, the latter with the reason the Job docs name for a
    backoffLimit of 0; else active pods), built with the Kubernetes models."""
    from kubernetes import client as k8s

    reasons = {"Complete": None, "Failed": "BackoffLimitExceeded"}
    if condition:
        status = k8s.V1JobStatus(conditions=[k8s.V1JobCondition(type=condition, status="True", reason=reasons[condition])],
                                 succeeded=1 if condition == "Complete" else None, failed=1 if condition == "Failed" else None)
    else:
        status = k8s.V1JobStatus(active=active)
    job = k8s.V1Job(api_version="batch/v1", kind="Job", metadata=k8s.V1ObjectMeta(name="mlh-load-master", namespace=NS),
                    status=status)
    return json.dumps(serialize(job))


def fake(pod_logs: dict[str, str], master: str | None = "Complete") -> FakeRunner:
    items = k8s_list(*(pod(p, NS, "Succeeded", ready=False, terminated="Completed", restart_policy="Never") for p in pod_logs))
    rules: list = [
        (("get", "job", "mlh-load-master"), ok(job_json(master))),
        (("get", "job", "mlh-load-worker"), ok(job_json("Complete"))),
        (("get", "pods", "-l"), ok(items)),
        (("get", "pods", "-o", "json"), ok(items)),
    ]
    rules += [(("logs", pod_name), ok(text)) for pod_name, text in pod_logs.items()]
    return FakeRunner(rules)


def config(**extra: object):
    return load_config(cli={"target": "kind", "load_in_cluster": True, "users": 4, "spawn_rate": 4, "duration": "10s",
                            "warmup": "1s", "load_processes": 2, **extra}, env={})


def run(runner: FakeRunner, tmp_path: Path, **kwargs: object):
    kubectl = Kubectl(runner, Path("<KUBECONFIG>"))
    return load_job.run_load_in_cluster(kubectl, NS, URL, ENDPOINT, kwargs.pop("cfg", config()), tmp_path,  # type: ignore[arg-type]
                                        interval=0.01, **kwargs)


def applied(runner: FakeRunner) -> list[dict]:
    stdin = next(s for argv, _env, s in runner.calls if "apply" in argv)
    return list(yaml.safe_load_all(stdin))


@pytest.fixture
def logs(emitted: dict) -> dict[str, str]:
    return dict(zip(PODS, emitted["pods"], strict=True))


def test_kubectl_sequence_is_pinned(logs: dict[str, str], tmp_path: Path) -> None:
    runner = fake(logs)
    run(runner, tmp_path)
    objs = applied(runner)
    summary = [f"# applied: {', '.join(o['kind'] + '/' + o['metadata']['name'] for o in objs)}"]
    for obj in objs:
        if obj["kind"] == "Job":
            container = obj["spec"]["template"]["spec"]["containers"][0]
            summary.append(f"# {obj['metadata']['name']}: {' '.join(container['command'][:2])} {container['command'][2]!r}")
    check_golden("cluster_load_job.txt", runner.transcript({str(tmp_path): "<TMP>"}) + "\n".join(summary) + "\n")
    argvs = [argv for argv, _e, _s in runner.calls]
    assert argvs[0][3] == "delete" and argvs[-1][3] == "delete" and "--wait=false" in argvs[-1]
    assert [a[3] for a in argvs].count("logs") == len(PODS)


def test_applied_manifests_validate_and_match_the_plan(logs: dict[str, str], tmp_path: Path) -> None:
    runner = fake(logs)
    run(runner, tmp_path)
    objs = applied(runner)
    for obj in objs:
        kubernetes_validate.validate(obj, K8S, strict=True)
    assert [o["kind"] for o in objs] == ["Secret", "ConfigMap", "Service", "Job", "Job"]
    configmap = objs[1]
    assert configmap["data"]["locustfile.py"] == LOCUSTFILE.read_text()
    assert json.loads(configmap["data"]["plan.json"])["model_name"] == "sklearn-iris"
    master, workers = objs[3], objs[4]
    assert workers["spec"]["parallelism"] == 2 and workers["spec"]["completions"] == 2
    script = master["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert script.startswith(f"pip install --quiet --no-cache-dir --no-deps --only-binary=:all: --target /tmp/mlh-py {manifests.HDRHISTOGRAM} && exec ")
    assert f"--host {URL}" in script and "--expect-workers 2" in script and "--logfile" not in script
    assert master["spec"]["template"]["spec"]["containers"][0]["image"] == manifests.LOCUST_IMAGE


def test_pinned_image_and_wheel_match_pyproject() -> None:
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert f'"locust=={manifests.LOCUST_IMAGE.rsplit(":", 1)[1]}"' in pyproject
    assert f'"{manifests.HDRHISTOGRAM}"' in pyproject


def test_only_the_secret_holds_the_headers(logs: dict[str, str], tmp_path: Path) -> None:
    leaky = {pod: text + f"ERROR echoed: Authorization: Bearer {TOKEN}; Cookie: {COOKIE}\n" for pod, text in logs.items()}
    runner = fake(leaky)
    run(runner, tmp_path)
    objs = applied(runner)
    secret = objs[0]
    headers = json.loads(secret["stringData"]["MLH_LOAD_HEADERS"])
    assert headers == {"Cookie": COOKIE, "Authorization": f"Bearer {TOKEN}"}, "Host routes an ingress, not a Service"
    for obj in objs[1:]:
        text = yaml.safe_dump(obj)
        assert TOKEN not in text and COOKIE not in text, f"{obj['kind']} carries a secret"
    env = objs[3]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MLH_LOAD_HEADERS", "valueFrom": {"secretKeyRef": {"name": "mlh-load-headers", "key": "MLH_LOAD_HEADERS"}}} in env
    assert TOKEN not in runner.transcript({}) and COOKIE not in runner.transcript({}).replace(" < stdin", "")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "pods" for p in written)
    for path in written:
        text = path.read_text()
        assert TOKEN not in text and "MTU4OTI5" not in text, f"{path} holds a secret"


def test_results_from_worker_logs_merge_exactly(logs: dict[str, str], tmp_path: Path) -> None:
    result = run(fake(logs), tmp_path)
    everything = HdrHistogram(1, 3_600_000_000, 3)
    for ms in WORKER_VALUES_MS[0] + WORKER_VALUES_MS[1]:
        everything.record_value(int(ms * 1000))
    latency = result.latency_ms
    for name, pct in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0)):
        assert getattr(latency, name) == round(everything.get_value_at_percentile(pct) / 1000, 3), name
    assert 100.0 <= latency.p50 <= 100.1 and 198.0 <= latency.p99 <= 198.2  # type: ignore[operator]
    assert latency.min == 1.0 and latency.max == 200.0 and latency.count == 200
    assert result.requests == 201 and result.failures == 1 and result.workers == 2 and result.complete
    assert result.via == "in-cluster" and result.processes == 2 and result.by_protocol["v1"].requests == 201
    assert result.failures_by_kind[0].message.startswith("RuntimeError: boom")
    assert result.locust_version == manifests.LOCUST_IMAGE.rsplit(":", 1)[1]
    assert len(list((tmp_path / "load" / "results").glob("worker-*.json"))) == 2
    assert json.loads((tmp_path / "load" / "plan.json").read_text())["via"] == "in-cluster"


def test_a_worker_that_printed_nothing_makes_the_result_incomplete(logs: dict[str, str], tmp_path: Path) -> None:
    result = run(fake({PODS[0]: logs[PODS[0]], PODS[1]: "pip: network unreachable\n"}), tmp_path)
    assert result.workers == 1 and not result.complete and result.requests == 100


def test_master_that_never_completes_times_out_with_diagnostics(logs: dict[str, str], tmp_path: Path) -> None:
    runner = fake(logs, master=None)
    cfg = config(duration="0.1s", warmup="0s", request_timeout="0.1s")
    with pytest.raises(WaitTimeout) as info:
        run(runner, tmp_path, cfg=cfg, startup_s=0.1)
    message = str(info.value)
    assert "timed out after 1.3s" in message  # the window, the wait for its last answers (request timeout + 1 s), start-up and "mlh-load-master" in message and "active 1" in message
    diag = tmp_path / "diagnostics" / "load-job"
    assert str(diag) in message and (diag / NS / "events.txt").is_file() and (diag / NS / "describe-pods.txt").is_file()
    argvs = [argv for argv, _e, _s in runner.calls]
    assert "--wait=false" in argvs[-1], "the Jobs are deleted even after a timeout"
    assert not any("logs" in a and a[4] in PODS and "--prefix" not in a for a in argvs), "no result read after a timeout"


def test_failed_master_names_the_reason_and_writes_diagnostics(logs: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(InfrastructureError, match=r"ended Failed \(BackoffLimitExceeded\); diagnostics in "):
        run(fake(logs, master="Failed"), tmp_path)
    assert (tmp_path / "diagnostics" / "load-job" / "nodes.txt").is_file()


def test_no_worker_result_is_an_error_naming_the_logs(tmp_path: Path) -> None:
    with pytest.raises(InfrastructureError, match="no worker of mlh-1/mlh-load-worker printed its figures"):
        run(fake({PODS[0]: "ModuleNotFoundError: No module named 'hdrh'\n"}), tmp_path)


def test_locustfile_emits_its_result_between_markers(emitted: dict) -> None:
    last_file = json.loads(emitted["files"][0].read_text())
    assert len(emitted["files"]) == 2, "the quiet worker still writes its file"
    blocks = [load_job.parse_worker_log(text) for text in emitted["pods"]]
    assert [len(b) for b in blocks] == [1, 1]
    assert blocks[1][0] == last_file, "stdout carries exactly what the worker file holds"
    assert blocks[0][0]["requests"] == 100 and blocks[1][0]["failures"] == 1
    for text in emitted["pods"]:
        lines = text.splitlines()
        begin = next(i for i, line in enumerate(lines) if line.startswith("MLH-LOAD-RESULT-BEGIN pid="))
        assert lines[-1].startswith("MLH-LOAD-RESULT-END pid=")
        assert all(line.startswith("MLH-LOAD-RESULT-DATA ") for line in lines[begin + 1:-1])
    assert "MLH-LOAD-RESULT" not in emitted["quiet"], "no stdout emission without MLH_LOAD_EMIT=stdout"
    long_lines = emitted["long"].splitlines()
    assert len(long_lines) == 5 and max(len(line) for line in long_lines) < 4100
    assert load_job.parse_worker_log(emitted["long"]) == [{"pad": "y" * 9000}]


def test_a_cut_off_block_is_reported(emitted: dict) -> None:
    text = emitted["long"]
    cut = "\n".join(line for i, line in enumerate(text.splitlines()) if i != 2)
    with pytest.raises(InfrastructureError, match="expected"):
        load_job.parse_worker_log(cut)
    assert load_job.parse_worker_log(text.replace("MLH-LOAD-RESULT-END", "truncated")) == []


def test_load_in_cluster_needs_a_cluster_target() -> None:
    for target in ("local", "endpoint"):
        with pytest.raises(ConfigError, match="^load_in_cluster: runs locust as Jobs in the cluster, so it needs a cluster target .*not " + target) as info:
            load_config(cli={"target": target, "url": "http://127.0.0.1:1", "load_in_cluster": True}, env={})
        assert info.value.key == "load_in_cluster"
    assert load_config(cli={"target": "kubeconfig", "load_in_cluster": True}, env={}).cluster.load_in_cluster


def test_cluster_target_uses_the_isvc_address_or_the_predictor_service(tmp_path: Path) -> None:
    from harness.targets.base import TargetContext
    from harness.targets.cluster import KindTarget

    cfg = config(namespace=NS)
    address = json.dumps(isvc("sklearn-iris", NS, ready=True))
    target = KindTarget(TargetContext(cfg, tmp_path), FakeRunner([(("get", "inferenceservice"), ok(address))]), state_root=tmp_path)
    assert target.in_cluster_url("sklearn-iris") == URL
    bare = KindTarget(TargetContext(cfg, tmp_path), FakeRunner([(("get", "inferenceservice"), fail())]), state_root=tmp_path)
    assert bare.in_cluster_url("sklearn-iris") == URL


def test_the_cluster_target_places_load_in_the_cluster_and_the_run_records_it(logs: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.run.runner import ValidationRun
    from harness.targets.base import TargetContext
    from harness.targets.cluster import InClusterLoad, KindTarget

    cfg = config(report_dir=str(tmp_path / "report"), namespace=NS)
    target = KindTarget(TargetContext(cfg, tmp_path), FakeRunner([]), state_root=tmp_path)
    calls: list[str] = []

    def in_cluster(endpoint: Endpoint, progress: object = None) -> object:
        calls.append(endpoint.model_name)
        return run(fake(logs), tmp_path)

    monkeypatch.setattr(target, "run_load_in_cluster", in_cluster)
    generator = target.load_generator(ENDPOINT)
    assert isinstance(generator, InClusterLoad)
    vrun = ValidationRun(cfg, tmp_path / "report")
    vrun.target = target  # type: ignore[assignment]
    vrun.provide("endpoint", ENDPOINT)
    result = vrun.require("load")
    assert calls == ["sklearn-iris"] and result.via == "in-cluster" and vrun.record.load is result
    plain = KindTarget(TargetContext(config(namespace=NS).replace(load_in_cluster=False), tmp_path), FakeRunner([]), state_root=tmp_path)
    assert not isinstance(plain.load_generator(ENDPOINT), InClusterLoad)  # from this host, through the port-forward


