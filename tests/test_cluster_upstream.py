"""Issue 22: the places the first live nightly would meet, each checked against upstream's own text.

- KServe's standard-mode install (manifests taken from the release script by heredoc marker).
- A re-install on a reused cluster: kubectl's real server-side-apply conflict message.
- cert-manager's webhook not answering yet: its real error text, the last one in the timeout.
- The InferenceService Ready budget: KServe's release smoke test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import harness.cluster.provision.install as install
from harness.cluster.kube.commands import CommandResult, SubprocessRunner
from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kubeflow import serving
from harness.cluster.provision import kserve_standard, steps
from harness.cluster.provision.install import KubeflowInstaller
from harness.cluster.provision.steps import Step
from harness.cluster.provision.versions import resolve
from harness.errors import CommandError, InfrastructureError, WaitTimeout
from tests.helpers.cluster_fakes import (
    FakeRunner,
    deployment,
    fail,
    k8s_list,
    ok,
    standard_install_script,
)

READY = k8s_list(deployment("kserve-controller-manager", "kserve"), deployment("ml-pipeline", "kubeflow"))

# kubectl's output for a server-side apply conflict, as kubectl v1.34 prints it:
# - the first line: k8s.io/apimachinery v0.34.1 pkg/util/managedfields/internal/conflict.go,
#   getConflictMessage ("Apply failed with 1 conflict: conflict with %v: %v"), printManager (an Update
#   manager: "%q using %v", the time left out by BuildManagerIdentifier in managedfields.go; an Apply
#   manager: "%q"); the path as fieldpath prints it;
# - the rest: kubernetes/kubectl v0.34.1 pkg/cmd/apply/apply.go (errors.IsConflict), with kubectl's
#   "error: " prefix (pkg/cmd/util/helpers.go checkErr).
KUBECTL_CONFLICT_HELP = """Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts"""


def kubectl_conflict(manager: str, update: bool) -> str:
    who = f'"{manager}" using v1' if update else f'"{manager}"'
    return f"error: Apply failed with 1 conflict: conflict with {who}: .data.deploy\n{KUBECTL_CONFLICT_HELP}\n"


class DeployField:
    """Server-side apply ownership of inferenceservice-config's ``data.deploy``, as the API server keeps it.

    ``kubectl patch`` records an Update by field manager "kubectl-patch" (kubectl pkg/cmd/patch/patch.go);
    ``kubectl apply --server-side`` applies as "kubectl" unless ``--field-manager``; an apply that sets a
    field another manager owns fails with the conflict unless ``--force-conflicts``, which takes it over.
    """

    def __init__(self, owner: str | None = None, update: bool = False) -> None:
        self.owner, self.update = owner, update
        self.values: list[str] = []

    def __call__(self, argv: tuple[str, ...]) -> CommandResult:
        if "patch" in argv:
            self.owner, self.update = "kubectl-patch", True
            return CommandResult(argv, 0, "configmap/inferenceservice-config patched\n")
        manager = next((a.split("=", 1)[1] for a in argv if a.startswith("--field-manager=")), "kubectl")
        if self.owner not in (None, manager) and "--force-conflicts" not in argv:
            return CommandResult(argv, 1, "", kubectl_conflict(self.owner or "", self.update))
        self.owner, self.update = manager, False
        self.values.append(manager)
        return CommandResult(argv, 0, "configmap/inferenceservice-config serverside-applied\n")


def touches_config(argv: tuple[str, ...]) -> bool:
    """The applies that set inferenceservice-config: KServe's core manifest and the harness's deploy mode."""
    return any(a.endswith(("kserve-core.yaml", "/kserve.yaml")) or a == "--field-manager=mlharness" for a in argv)


def cluster(field: DeployField, kubeflow: str = READY) -> FakeRunner:
    """A cluster whose marker is missing (an install runs) and whose inferenceservice-config is ``field``."""
    return FakeRunner([
        (("get", "configmap", "mlharness-install"), fail()),
        (("apply", "--server-side"), lambda argv: field(argv) if touches_config(argv) else CommandResult(argv, 0, "")),
        (("get", "deployments,statefulsets", "-n", "kubeflow"), ok(kubeflow)),
        (("get", "deployments,statefulsets"), ok(READY)),
    ])


def installer(runner: FakeRunner, tmp_path: Path) -> KubeflowInstaller:
    return KubeflowInstaller(Kubectl(runner, tmp_path / "kubeconfig"), resolve(), tmp_path / "diag", interval=0.0,
                             stable_polls=1, manifest_dir=tmp_path / "state")


# --- 2. KServe's standard-mode install ------------------------------------------------------------
def test_the_standard_mode_manifests_are_taken_by_their_heredoc_markers(tmp_path: Path) -> None:
    manifests = kserve_standard.extract(standard_install_script())
    assert list(manifests) == ["kserve-crds.yaml", "kserve-core.yaml", "kserve-runtimes.yaml"]
    core = [d for d in yaml.safe_load_all(manifests["kserve-core.yaml"]) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in core] == [
        ("Namespace", "kserve"), ("ConfigMap", "inferenceservice-config"), ("Deployment", "kserve-controller-manager")]
    runtimes = [d for d in yaml.safe_load_all(manifests["kserve-runtimes.yaml"]) if d]
    assert {d["kind"] for d in runtimes} == {"ClusterServingRuntime"}, "no LLMInferenceServiceConfig (llmisvc webhook)"
    assert "LLMInferenceServiceConfig" not in "".join(manifests.values())
    runner = FakeRunner()
    paths = kserve_standard.fetch_manifests(runner, "v0.20.0", tmp_path / "m")
    assert runner.fetched == [kserve_standard.script_url("v0.20.0")]
    assert [p.name for p in paths] == list(manifests) and paths[1].read_text() == manifests["kserve-core.yaml"]


def test_a_file_that_is_not_the_standard_mode_script_is_refused() -> None:
    with pytest.raises(InfrastructureError, match="no manifest under heredoc KSERVE_CRD_MANIFEST_EOF"):
        kserve_standard.extract("<html>Not Found</html>")
    cut = standard_install_script().replace("KSERVE_RUNTIME_MANIFEST_EOF", "RUNTIMES_EOF")
    with pytest.raises(InfrastructureError, match="KSERVE_RUNTIME_MANIFEST_EOF"):
        kserve_standard.extract(cut)


def test_the_real_runner_downloads_only_over_https() -> None:
    with pytest.raises(InfrastructureError, match="not https"):
        SubprocessRunner().fetch("http://example.invalid/kserve.sh", timeout=1)


def test_other_kserve_workloads_are_reported_not_waited_for(tmp_path: Path) -> None:
    """A cluster installed from kserve.yaml (config/overlays/all) also runs the llmisvc and localmodel
    controllers; without Gateway API they may never get ready. Only kserve-controller-manager blocks."""
    kserve = k8s_list(deployment("kserve-controller-manager", "kserve"),
                      deployment("llmisvc-controller-manager", "kserve", ready=0))
    runner = FakeRunner([(("get", "deployments,statefulsets", "-n", "kserve"), ok(kserve)),
                         (("get", "deployments,statefulsets"), ok(READY))])
    said: list[str] = []
    inst = installer(runner, tmp_path)
    inst.progress = said.append
    steps.execute(inst.readiness_steps(), runner, said.append)
    assert any("not waited for" in m and "llmisvc-controller-manager 0/1 ready" in m for m in said), said


def test_a_kserve_controller_that_never_gets_ready_times_out_naming_it(tmp_path: Path) -> None:
    required = ("Deployment/kserve-controller-manager",)
    kserve = k8s_list(deployment("kserve-controller-manager", "kserve", ready=0))
    runner = FakeRunner([(("get", "deployments,statefulsets", "-n", "kserve"), ok(kserve))])
    with pytest.raises(WaitTimeout, match="kserve-controller-manager 0/1 ready"):
        install.wait_workloads_ready(Kubectl(runner, tmp_path / "kc"), "kserve", timeout=0.2, interval=0.01,
                                     stable_polls=1, required=required)
    empty = FakeRunner([(("get", "deployments,statefulsets"), ok(k8s_list()))])
    with pytest.raises(WaitTimeout, match="missing: Deployment/kserve-controller-manager"):
        install.wait_workloads_ready(Kubectl(empty, tmp_path / "kc"), "kserve", timeout=0.1, interval=0.01,
                                     stable_polls=1, required=required)


# --- 3. re-install on a reused cluster ---------------------------------------------------------------
@pytest.mark.parametrize("before", ["fresh", "patched by an older mlharness", "installed by this one"])
def test_a_reinstall_on_a_reused_cluster_meets_no_apply_conflict(before: str, tmp_path: Path) -> None:
    field = {"fresh": DeployField(), "patched by an older mlharness": DeployField("kubectl-patch", update=True),
             "installed by this one": DeployField("mlharness")}[before]
    installer(cluster(field), tmp_path).ensure()
    assert field.values[-2:] == ["kubectl", "mlharness"], "KServe's default, then the harness's Standard"
    assert field.owner == "mlharness"


def test_without_force_conflicts_the_reinstall_fails_with_kubectls_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: the same install without --force-conflicts, after a kubectl patch."""
    plain = KubeflowInstaller._apply_ssa

    def no_force(self: KubeflowInstaller, what: str, source: str, timeout: float, retries: int = 0) -> Step:
        step = plain(self, what, source, timeout, 0)
        return Step(step.what, tuple(a for a in step.argv if a != "--force-conflicts"), timeout)

    monkeypatch.setattr(KubeflowInstaller, "_apply_ssa", no_force)
    with pytest.raises(InfrastructureError) as info:
        installer(cluster(DeployField("kubectl-patch", update=True)), tmp_path).ensure()
    assert isinstance(info.value.__cause__, CommandError)
    assert 'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.deploy' in str(info.value)


def test_the_deploy_mode_is_applied_as_only_that_field_under_its_own_manager(tmp_path: Path) -> None:
    runner = cluster(DeployField())
    installer(runner, tmp_path).ensure()
    argv, _env, stdin = next(c for c in runner.calls if "--field-manager=mlharness" in c[0])
    assert "--server-side" in argv and "--force-conflicts" in argv and "patch" not in argv
    applied = yaml.safe_load(stdin or "")
    assert applied["metadata"] == {"name": "inferenceservice-config", "namespace": "kserve"}
    assert applied["data"] == {"deploy": json.dumps({"defaultDeploymentMode": "Standard"})}, \
        "only deploy: a server-side apply removes the fields its manager no longer sends"


# --- 4. cert-manager's webhook ---------------------------------------------------------------------
# What the webhook answers while it cannot serve, quoted from cert-manager v1.17.0
# pkg/util/cmapichecker/cmapichecker.go (TranslateToSimpleError's examples), as kubectl prints a
# create's API error: "Error from server (<reason>): error when creating \"STDIN\": <message>"
# (kubectl pkg/cmd/util/helpers.go StandardErrorMessage; AddSourceToErr("creating", …) in create.go).
_KUBECTL = 'Error from server (InternalError): error when creating "STDIN": '
WEBHOOK_REFUSED = _KUBECTL + ('Internal error occurred: failed calling webhook "webhook.cert-manager.io": Post '
                              '"https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s": dial tcp '
                              '10.96.38.90:443: connect: connection refused\n')
WEBHOOK_UNTRUSTED = _KUBECTL + ('Internal error occurred: failed calling webhook "webhook.cert-manager.io": Post '
                                '"https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s": x509: '
                                'certificate signed by unknown authority (possibly because of "x509: ECDSA '
                                'verification failure" while trying to verify candidate authority certificate '
                                '"cert-manager-webhook-ca")\n')


def test_kserve_is_applied_only_once_cert_managers_webhook_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "UNTIL_OK_DELAY", 0.0)
    answers = iter([WEBHOOK_REFUSED, WEBHOOK_UNTRUSTED])
    runner = cluster(DeployField())
    runner.rules.insert(0, (("create", "--dry-run=server"), lambda argv: (
        CommandResult(argv, 1, "", err) if (err := next(answers, "")) else
        CommandResult(argv, 0, "issuer.cert-manager.io/mlharness-webhook-check created (server dry run)\n"))))
    installer(runner, tmp_path).ensure()
    ran = [" ".join(argv) for argv, _e, _s in runner.calls]
    checks = [i for i, a in enumerate(ran) if "--dry-run=server" in a]
    assert len(checks) == 3, "refused, untrusted, then admitted"
    first_kserve = next(i for i, a in enumerate(ran) if "kserve-crds.yaml" in a)
    assert max(checks) < first_kserve
    probe = yaml.safe_load(next(s for a, _e, s in runner.calls if "--dry-run=server" in a) or "")
    assert probe["kind"] == "Issuer" and probe["apiVersion"] == "cert-manager.io/v1" and probe["spec"] == {"selfSigned": {}}


def test_a_webhook_that_never_answers_times_out_with_its_last_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "UNTIL_OK_DELAY", 0.01)
    monkeypatch.setattr(install, "CERT_MANAGER_WEBHOOK_TIMEOUT", 0.2)
    runner = cluster(DeployField())
    runner.rules.insert(0, (("create", "--dry-run=server"), lambda argv: CommandResult(argv, 1, "", WEBHOOK_UNTRUSTED)))
    with pytest.raises(WaitTimeout) as info:
        installer(runner, tmp_path).ensure()
    message = str(info.value)
    assert "cert-manager's webhook answers" in message and "timed out after 0.2s" in message
    assert "x509: certificate signed by unknown authority" in message and "last error" in message
    assert not any("kserve" in " ".join(argv) for argv, _e, _s in runner.calls if "apply" in argv)


# --- 1. the InferenceService Ready budget --------------------------------------------------------
# kserve/kserve hack/release/smoke-test.sh at v0.20.0, the lines that set and use the budget:
SMOKE_TEST = '''ISVC_TIMEOUT=600      # 10 minutes
LLMISVC_TIMEOUT=1200  # 20 minutes
POLL_INTERVAL=30
...
if ! wait_for_ready "isvc" "sklearn-iris" "$ISVC_TIMEOUT"; then'''


def test_the_inference_service_gets_kserves_smoke_test_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.config import load_config
    from harness.results import PipelineRun
    from harness.targets import cluster as target_module
    from harness.targets.base import TargetContext

    budget = float(next(line for line in SMOKE_TEST.splitlines() if line.startswith("ISVC_TIMEOUT=")).split("=")[1].split()[0])
    assert serving.ISVC_READY_TIMEOUT == budget == 600
    seen: dict[str, float] = {}
    monkeypatch.setattr(target_module, "kfp_store_credentials", lambda _k: ("access", "secret"))
    monkeypatch.setattr(target_module.KServeDeployment, "apply", lambda self, objects: None)
    monkeypatch.setattr(target_module.KServeDeployment, "reach",
                        lambda self, **kw: seen.setdefault("ready_timeout", kw["ready_timeout"]))
    marker = json.dumps({"data": {"versions": json.dumps(resolve().as_dict(), sort_keys=True)}})
    runner = FakeRunner([(("kind", "get", "clusters"), ok("mlharness\n")),
                         (("get", "configmap", "mlharness-install"), ok(marker)),
                         (("get", "deployments,statefulsets"), ok(READY))])
    cfg = load_config(cli={"target": "kind", "namespace": "mlh-1"}, env={})
    target = target_module.KindTarget(TargetContext(cfg, tmp_path), runner, state_root=tmp_path, interval=0, stable_polls=1)
    target.provision()
    target.deploy(PipelineRun("iris", "run", True, (), "minio://mlpipeline/v2/artifacts/iris/run/train/salt/model"))
    assert seen["ready_timeout"] == max(cfg.core.ready_timeout, budget) >= 600
