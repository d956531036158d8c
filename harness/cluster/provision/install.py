"""Install cert-manager, KServe (raw Deployments, no Knative/Istio) and KFP standalone; wait until servable.

Each command below names the upstream file it comes from. Versions and what each release
needs come from :mod:`harness.cluster.provision.versions`. The install is idempotent: ``kubectl apply``
is, and a ``mlharness-install`` ConfigMap records the versions installed, so a second ``up``
at the same versions skips straight to the readiness checks. The marker is written only
after readiness passed, in the plan as in execution. Any failure leaves a diagnostics
bundle (pods, events, describe, logs incl. previous containers) in ``diag_dir``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.cluster.kube import diagnostics
from harness.cluster.kube.commands import CommandRunner
from harness.cluster.kube.kubectl import Kubectl, to_yaml
from harness.cluster.kube.readiness import wait_workloads_ready
from harness.cluster.provision.steps import Step, execute
from harness.cluster.provision.versions import Versions
from harness.errors import CommandError, InfrastructureError, WaitTimeout

CERT_MANAGER_NS = "cert-manager"
KSERVE_NS = "kserve"
KFP_NS = "kubeflow"
NAMESPACES = (CERT_MANAGER_NS, KSERVE_NS, KFP_NS)
MARKER = "mlharness-install"
MARKER_NS = "default"
MANAGED = {"app.kubernetes.io/managed-by": "mlharness"}

# Readiness budgets (seconds).
CERT_MANAGER_TIMEOUT = 600  # kserve hack/quick_install.sh: wait deployment/cert-manager-webhook --timeout=600s
KSERVE_CONTROLLER_TIMEOUT = 300  # kserve hack/quick_install.sh: wait for the controller --timeout=300s
KSERVE_STABLE_TIMEOUT = 300
KFP_CRD_TIMEOUT = 60  # KFP install docs: kubectl wait --for condition=established --timeout=60s crd/applications.app.k8s.io
KFP_STABLE_TIMEOUT = 900  # KFP CI wait_for_pods.py polls 10 s, 5 stable polls; first pulls of KFP images are slow


def cert_manager_url(v: Versions) -> str:
    # cert-manager's static install manifest (a release asset of cert-manager/cert-manager, as in
    # kserve hack/quick_install.sh and cert-manager's docs).
    return f"https://github.com/cert-manager/cert-manager/releases/download/{v.cert_manager}/cert-manager.yaml"


def kserve_urls(v: Versions) -> tuple[str, str]:
    # Release assets: kserve/kserve hack/release/publish-release.sh uploads install/<tag>/*, made by
    # hack/release/generate-install.sh (kserve.yaml = config/overlays/all: CRDs, controllers,
    # webhooks, the inferenceservice-config ConfigMap; kserve-cluster-resources.yaml =
    # config/clusterresources: the ClusterServingRuntimes). --server-side: the CRDs are too large
    # for a client-side apply's last-applied annotation (kserve/website kubernetes-deployment.md).
    base = f"https://github.com/kserve/kserve/releases/download/{v.kserve}"
    return f"{base}/kserve.yaml", f"{base}/kserve-cluster-resources.yaml"


def kfp_kustomizations(v: Versions) -> tuple[str, str]:
    # kubeflow/pipelines manifests/kustomize at the backend tag (both paths exist at 2.14.x-2.17.0);
    # order as in KFP's standalone install docs: cluster-scoped resources, wait for the
    # Application CRD, then env/platform-agnostic.
    base = "github.com/kubeflow/pipelines/manifests/kustomize"
    return f"{base}/cluster-scoped-resources?ref={v.kfp}", f"{base}/env/platform-agnostic?ref={v.kfp}"


def deployment_mode_patch(v: Versions) -> str:
    """The ``inferenceservice-config`` patch making raw Deployments the default (kserve/website
    kubernetes-deployment.md; config/configmap/inferenceservice.yaml ships ``Serverless``)."""
    mode = v.kserve_release.deployment_mode
    return json.dumps({"data": {"deploy": json.dumps({"defaultDeploymentMode": mode})}})


def marker_manifest(v: Versions) -> dict[str, Any]:
    """The ConfigMap recording which versions mlharness installed."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": MARKER, "namespace": MARKER_NS, "labels": dict(MANAGED)},
        "data": {"versions": json.dumps(v.as_dict(), sort_keys=True)},
    }


def kserve_namespace() -> dict[str, Any]:
    """The ``kserve`` Namespace that ``kserve.yaml`` carries no more from v0.17.0 on."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KSERVE_NS, "labels": dict(MANAGED)}}


class KubeflowInstaller:
    """Installs and checks the Kubeflow pieces one run needs, on the cluster of ``kubectl``.

    Args:
        kubectl: kubectl bound to the cluster's kubeconfig.
        versions: what to install.
        diag_dir: where a failure's diagnostics bundle goes.
        interval: seconds between readiness polls (KFP CI: 10).
        stable_polls: unchanged polls that count as stable (KFP CI: 5).
    """

    def __init__(
        self, kubectl: Kubectl, versions: Versions, diag_dir: Path, *, interval: float = 10.0, stable_polls: int = 5
    ) -> None:
        self.kubectl = kubectl
        self.v = versions
        self.diag_dir = diag_dir
        self.interval = interval
        self.stable_polls = stable_polls

    # --- plan ------------------------------------------------------------------------------
    def _stable(self, namespace: str, timeout: float) -> Step:
        def wait(_runner: CommandRunner) -> None:
            wait_workloads_ready(self.kubectl, namespace, timeout=timeout, interval=self.interval,
                                 stable_polls=self.stable_polls)

        return Step(
            f"every Deployment and StatefulSet in {namespace} ready, unchanged over {self.stable_polls} polls "
            f"{self.interval:g}s apart",
            timeout=timeout,
            wait=wait,
        )

    def _available(self, what: str, namespace: str, timeout: int) -> Step:
        return Step(what, self.kubectl.argv("wait", "--for=condition=Available", "deployment", "--all", "-n", namespace,
                                            f"--timeout={timeout}s"), timeout + 30.0, until_exists=True)

    def probe_steps(self) -> list[Step]:
        return [Step(f"read the {MARKER} ConfigMap (versions installed before)",
                     self.kubectl.argv("get", "configmap", MARKER, "-n", MARKER_NS, "-o", "json"), 30.0)]

    def install_steps(self) -> list[Step]:
        """The commands that install everything (idempotent ``kubectl apply``)."""
        k, v = self.kubectl, self.v
        kserve_yaml, kserve_resources = kserve_urls(v)
        kfp_cluster, kfp_env = kfp_kustomizations(v)
        kserve_ns = [] if v.kserve_release.creates_namespace else [
            Step(f"create namespace {KSERVE_NS} (KServe {v.kserve}'s kserve.yaml has no Namespace)",
                 k.argv("apply", "-f", "-"), 60.0, stdin=to_yaml([kserve_namespace()]), stdin_name="kserve-namespace.yaml")]
        return [
            Step(f"install cert-manager {v.cert_manager}", k.argv("apply", "-f", cert_manager_url(v)), 300.0),
            self._available(f"cert-manager {v.cert_manager} deployments Available", CERT_MANAGER_NS, CERT_MANAGER_TIMEOUT),
            *kserve_ns,
            Step(f"install KServe {v.kserve} (CRDs, controllers, webhooks)", k.argv("apply", "--server-side", "-f", kserve_yaml),
                 300.0, retries=2),
            self._available(f"KServe {v.kserve} controller deployments Available (their webhooks admit what follows)",
                            KSERVE_NS, KSERVE_CONTROLLER_TIMEOUT),
            Step(f"install KServe {v.kserve} ClusterServingRuntimes",
                 k.argv("apply", "--server-side", "-f", kserve_resources), 300.0, retries=3),
            Step(f"KServe default deployment mode {v.kserve_release.deployment_mode} (no Knative, no Istio)",
                 k.argv("patch", "configmap/inferenceservice-config", "-n", KSERVE_NS, "--type=strategic",
                        "-p", deployment_mode_patch(v)), 60.0),
            Step(f"install KFP {v.kfp} cluster-scoped resources", k.argv("apply", "-k", kfp_cluster), 300.0, retries=1),
            Step("KFP Application CRD established",
                 k.argv("wait", "--for", "condition=established", f"--timeout={KFP_CRD_TIMEOUT}s",
                        "crd/applications.app.k8s.io"), KFP_CRD_TIMEOUT + 30.0, until_exists=True),
            Step(f"install KFP {v.kfp} standalone (env/platform-agnostic)", k.argv("apply", "-k", kfp_env), 600.0, retries=1),
        ]

    def readiness_steps(self) -> list[Step]:
        """The waits that make "installed" mean "servable"."""
        return [self._stable(CERT_MANAGER_NS, CERT_MANAGER_TIMEOUT), self._stable(KSERVE_NS, KSERVE_STABLE_TIMEOUT),
                self._stable(KFP_NS, KFP_STABLE_TIMEOUT)]

    def marker_steps(self) -> list[Step]:
        return [Step(f"record the installed versions in ConfigMap {MARKER_NS}/{MARKER}",
                     self.kubectl.argv("apply", "-f", "-"), 60.0, stdin=to_yaml([marker_manifest(self.v)]),
                     stdin_name=f"{MARKER}.yaml", when="after an install")]

    def plan(self) -> list[tuple[str, list[Step]]]:
        """The whole plan by phase, in the order :meth:`ensure` runs it."""
        install = [dataclasses.replace(s, when=s.when or "unless installed at these versions") for s in self.install_steps()]
        return [
            ("kubeflow: check what is installed", self.probe_steps()),
            ("kubeflow: install (skipped when the marker shows the same versions)", install),
            ("kubeflow: readiness", self.readiness_steps()),
            ("kubeflow: record the install (after readiness, only when something was installed)", self.marker_steps()),
        ]

    # --- run -------------------------------------------------------------------------------
    def installed_versions(self) -> dict[str, str] | None:
        """The versions the marker records, or None when there is no marker."""
        result = self.kubectl.run("get", "configmap", MARKER, "-n", MARKER_NS, "-o", "json", timeout=30.0, check=False)
        if not result.ok:
            return None
        try:
            data = json.loads(json.loads(result.stdout)["data"]["versions"])
        except (json.JSONDecodeError, KeyError, TypeError):
            return None
        return data if isinstance(data, dict) else None

    def ensure(self, progress: Callable[[str], None] = lambda _m: None,
               on_step: Callable[[Step], None] = lambda _s: None) -> bool:
        """Install what is missing and wait until servable; True if it installed anything.

        Args:
            on_step: called with each plan step as it runs (the trace a test compares with :meth:`plan`).
        Raises:
            WaitTimeout / CommandError: with the diagnostics directory named in the message.
        """
        runner = self.kubectl.runner
        plan = dict(self.plan())
        try:
            for step in self.probe_steps():
                on_step(step)
            installed = self.installed_versions() == self.v.as_dict()
            if installed:
                progress("Kubeflow already installed at these versions: checking readiness")
            else:
                execute(plan["kubeflow: install (skipped when the marker shows the same versions)"], runner, progress,
                        on_step=on_step)
            execute(self.readiness_steps(), runner, progress, on_step=on_step)
            if not installed:
                execute(self.marker_steps(), runner, progress, on_step=on_step)
            return not installed
        except (WaitTimeout, CommandError) as exc:
            files = diagnostics.collect(self.kubectl, NAMESPACES, self.diag_dir)
            where = f"diagnostics ({len(files)} files) in {self.diag_dir}"
            if isinstance(exc, WaitTimeout):
                raise WaitTimeout(exc.what, exc.timeout, f"{exc.last}; {where}".lstrip("; ")) from exc
            raise InfrastructureError(f"{exc}\n{where}") from exc
