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
from harness.cluster.kube.readiness import unready_others, wait_workloads_ready
from harness.cluster.provision import kserve_standard
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

# The controller the run depends on (the sklearn InferenceService): the one Deployment of KServe's
# standard-mode core manifest (config/overlays/standalone/kserve) and the one its install waits for
# (install/v0.20.0/kserve-standard-mode-full-install-with-manifests.sh: TARGET_DEPLOYMENT_NAMES
# "kserve-controller-manager", wait_for_deployment ... "300s"). Other workloads in the namespace
# (kserve.yaml's llmisvc and localmodel controllers, on releases before v0.18.0 or a cluster
# installed from it) are reported, not waited for.
KSERVE_CONTROLLER = "kserve-controller-manager"

# Readiness budgets (seconds).
# cert-manager's Deployments: KServe's install waits 180 s for cert-manager's pods, but after
# `helm install --wait` (hack/setup/infra/manage.cert-manager-helm.sh at v0.20.0: wait_for_pods
# "cert-manager" "app in (cert-manager,webhook,cainjector)" "180s"). The static manifest
# applied here does not wait, so the whole image pull falls in this budget: the harness's own choice, 600 s.
CERT_MANAGER_TIMEOUT = 600
# cert-manager's API check (cmctl check api / startupapicheck, cert-manager v1.17.0
# pkg/util/cmapichecker/cmapichecker.go) is a dry-run create through the webhook, polled every 5 s
# (cmd/startupapicheck/pkg/check/api/api.go: --interval 5s) until its --wait; the Helm chart gives it
# timeout: 1m and backoffLimit: 4 (deploy/charts/cert-manager/values.yaml): up to ~5 minutes.
CERT_MANAGER_WEBHOOK_TIMEOUT = 300
KSERVE_CONTROLLER_TIMEOUT = 300  # kserve-standard-mode-full-install-with-manifests.sh at v0.20.0: wait_for_deployment ... "300s"
KSERVE_STABLE_TIMEOUT = 300
# The field manager of the harness's own change to inferenceservice-config (server-side apply).
FIELD_MANAGER = "mlharness"
KFP_CRD_TIMEOUT = 60  # KFP install docs: kubectl wait --for condition=established --timeout=60s crd/applications.app.k8s.io
KFP_STABLE_TIMEOUT = 900  # KFP CI wait_for_pods.py polls 10 s, 5 stable polls; first pulls of KFP images are slow


def cert_manager_url(v: Versions) -> str:
    # cert-manager's static install manifest, a release asset of cert-manager/cert-manager (its docs,
    # "kubectl apply": installation/kubectl). KServe's standard-mode install installs the same
    # version with Helm (install/v0.20.0/kserve-standard-mode-full-install-with-manifests.sh,
    # install_cert_manager: jetstack/cert-manager --version ${CERT_MANAGER_VERSION}).
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


def deployment_mode_manifest(v: Versions) -> dict[str, Any]:
    """The one field of ``inferenceservice-config`` the harness sets: ``deploy`` with raw Deployments
    as the default mode (config/configmap/inferenceservice.yaml ships ``Serverless``; KServe's
    standard-mode install sets ``deploy.defaultDeploymentMode=Standard`` with update_isvc_config).

    Applied server-side under its own field manager with ``--force-conflicts`` (and the KServe
    manifests with ``--force-conflicts`` too): each apply takes the field over from the other, so a
    re-install on a reused cluster does not fail with "Apply failed with 1 conflict: conflict with
    ..." (k8s.io/apimachinery pkg/util/managedfields/internal/conflict.go) as it did after a
    ``kubectl patch`` (field manager "kubectl-patch", kubectl pkg/cmd/patch/patch.go).
    """
    mode = v.kserve_release.deployment_mode
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "inferenceservice-config", "namespace": KSERVE_NS},
        "data": {"deploy": json.dumps({"defaultDeploymentMode": mode})},
    }


def webhook_probe_manifest() -> dict[str, Any]:
    """What the cert-manager webhook check creates with ``--dry-run=server`` (nothing is stored).

    cmctl check api dry-run creates CertificateRequests (cert-manager v1.17.0
    pkg/util/cmapichecker/cmapichecker.go); this is a self-signed Issuer, the kind KServe's own
    manifest creates next (its ``selfsigned-issuer``), admitted by the same validating webhook
    ``webhook.cert-manager.io``.
    """
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "mlharness-webhook-check", "namespace": CERT_MANAGER_NS, "labels": dict(MANAGED)},
        "spec": {"selfSigned": {}},
    }


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
        manifest_dir: where the manifests of KServe's standard-mode install are written
            (a ``kserve-<tag>`` folder in it; default: beside ``diag_dir``).
    """

    def __init__(
        self, kubectl: Kubectl, versions: Versions, diag_dir: Path, *, interval: float = 10.0, stable_polls: int = 5,
        manifest_dir: Path | None = None,
    ) -> None:
        self.kubectl = kubectl
        self.v = versions
        self.diag_dir = diag_dir
        self.interval = interval
        self.stable_polls = stable_polls
        self.manifest_dir = (manifest_dir or diag_dir.parent) / f"kserve-{versions.kserve}"
        self.progress: Callable[[str], None] = lambda _m: None

    # --- plan ------------------------------------------------------------------------------
    def _stable(self, namespace: str, timeout: float, required: tuple[str, ...] | None = None) -> Step:
        def wait(_runner: CommandRunner) -> None:
            statuses = wait_workloads_ready(self.kubectl, namespace, timeout=timeout, interval=self.interval,
                                            stable_polls=self.stable_polls, required=required)
            others = unready_others(statuses, required) if required is not None else ""
            if others:
                self.progress(f"{namespace}: not waited for (the run does not use them): {others}")

        whose = (f"every Deployment and StatefulSet in {namespace}" if required is None
                 else f"{', '.join(required)} in {namespace} (the others there reported, not waited for)")
        return Step(f"{whose} ready, unchanged over {self.stable_polls} polls {self.interval:g}s apart",
                    timeout=timeout, wait=wait)

    def _available(self, what: str, namespace: str, timeout: int, target: str = "--all") -> Step:
        which = ("deployment", "--all") if target == "--all" else (f"deployment/{target}",)
        return Step(what, self.kubectl.argv("wait", "--for=condition=Available", *which, "-n", namespace,
                                            f"--timeout={timeout}s"), timeout + 30.0, until_exists=True)

    def _apply_ssa(self, what: str, source: str, timeout: float, retries: int = 0) -> Step:
        # --force-conflicts: take back fields another manager changed (inferenceservice-config's
        # ``deploy``, set by the harness), as KServe's own install does for its CRDs
        # (kserve-standard-mode-full-install-with-manifests.sh at v0.20.0, install_kserve_kustomize:
        # kubectl apply --server-side --force-conflicts). Without it a re-install on a reused cluster
        # fails on every retry with kubectl's "Apply failed with 1 conflict".
        return Step(what, self.kubectl.argv("apply", "--server-side", "--force-conflicts", "-f", source), timeout,
                    retries=retries)

    def probe_steps(self) -> list[Step]:
        return [Step(f"read the {MARKER} ConfigMap (versions installed before)",
                     self.kubectl.argv("get", "configmap", MARKER, "-n", MARKER_NS, "-o", "json"), 30.0)]

    def cert_manager_steps(self) -> list[Step]:
        v = self.v
        return [
            Step(f"install cert-manager {v.cert_manager}", self.kubectl.argv("apply", "-f", cert_manager_url(v)), 300.0),
            self._available(f"cert-manager {v.cert_manager} deployments Available", CERT_MANAGER_NS, CERT_MANAGER_TIMEOUT),
            Step("cert-manager's webhook answers: a server-side dry-run create of an Issuer succeeds (as cmctl check api's "
                 "dry-run create)", self.kubectl.argv("create", "--dry-run=server", "-f", "-"),
                 CERT_MANAGER_WEBHOOK_TIMEOUT, stdin=to_yaml([webhook_probe_manifest()]),
                 stdin_name="cert-manager-webhook-check.yaml", until_ok=True),
        ]

    def _mode_step(self) -> Step:
        mode = self.v.kserve_release.deployment_mode
        return Step(f"KServe default deployment mode {mode} (no Knative, no Istio): inferenceservice-config's deploy, "
                    f"field manager {FIELD_MANAGER}",
                    self.kubectl.argv("apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--force-conflicts",
                                      "-f", "-"),
                    60.0, stdin=to_yaml([deployment_mode_manifest(self.v)]), stdin_name="inferenceservice-config-deploy.yaml")

    def kserve_steps(self) -> list[Step]:
        """KServe's standard-mode install (v0.18.0+), else ``kserve.yaml`` and its cluster resources."""
        v, k = self.v, self.kubectl
        controller = self._available(f"KServe {v.kserve} {KSERVE_CONTROLLER} Available (its webhooks admit what follows)",
                                     KSERVE_NS, KSERVE_CONTROLLER_TIMEOUT, KSERVE_CONTROLLER)
        if v.kserve_release.standard_install:
            url, d = kserve_standard.script_url(v.kserve), self.manifest_dir
            names = ", ".join(name for name, _ in kserve_standard.MANIFESTS)

            def fetch(runner: CommandRunner) -> None:
                kserve_standard.fetch_manifests(runner, v.kserve, d)

            # The order of the script's install_kserve_kustomize with EMBED_MANIFESTS: CRDs, core,
            # update_isvc_config (deploy.defaultDeploymentMode), wait for kserve-controller-manager,
            # then the ClusterServingRuntimes (retry_command 3 5 in the non-embedded branch).
            return [
                Step(f"download KServe {v.kserve}'s standard-mode install ({url}) and write the manifests it embeds "
                     f"({names}) to {d}", timeout=kserve_standard.FETCH_TIMEOUT, wait=fetch, label="fetch"),
                self._apply_ssa(f"install KServe {v.kserve} CRDs", str(d / "kserve-crds.yaml"), 300.0),
                self._apply_ssa(f"install KServe {v.kserve} (namespace, {KSERVE_CONTROLLER}, webhooks, "
                                "inferenceservice-config; no llmisvc or localmodel controller)",
                                str(d / "kserve-core.yaml"), 300.0, retries=2),
                self._mode_step(),
                controller,
                self._apply_ssa(f"install KServe {v.kserve} ClusterServingRuntimes", str(d / "kserve-runtimes.yaml"),
                                300.0, retries=2),
            ]
        kserve_yaml, kserve_resources = kserve_urls(v)
        kserve_ns = [] if v.kserve_release.creates_namespace else [
            Step(f"create namespace {KSERVE_NS} (KServe {v.kserve}'s kserve.yaml has no Namespace)",
                 k.argv("apply", "-f", "-"), 60.0, stdin=to_yaml([kserve_namespace()]), stdin_name="kserve-namespace.yaml")]
        return [
            *kserve_ns,
            self._apply_ssa(f"install KServe {v.kserve} (CRDs, controllers, webhooks)", kserve_yaml, 300.0, retries=2),
            self._mode_step(),
            controller,
            self._apply_ssa(f"install KServe {v.kserve} ClusterServingRuntimes", kserve_resources, 300.0, retries=2),
        ]

    def install_steps(self) -> list[Step]:
        """The commands that install everything (idempotent ``kubectl apply``)."""
        k, v = self.kubectl, self.v
        kfp_cluster, kfp_env = kfp_kustomizations(v)
        return [
            *self.cert_manager_steps(),
            *self.kserve_steps(),
            Step(f"install KFP {v.kfp} cluster-scoped resources", k.argv("apply", "-k", kfp_cluster), 300.0, retries=1),
            Step("KFP Application CRD established",
                 k.argv("wait", "--for", "condition=established", f"--timeout={KFP_CRD_TIMEOUT}s",
                        "crd/applications.app.k8s.io"), KFP_CRD_TIMEOUT + 30.0, until_exists=True),
            Step(f"install KFP {v.kfp} standalone (env/platform-agnostic)", k.argv("apply", "-k", kfp_env), 600.0, retries=1),
        ]

    def readiness_steps(self) -> list[Step]:
        """The waits that make "installed" mean "servable"."""
        return [self._stable(CERT_MANAGER_NS, CERT_MANAGER_TIMEOUT),
                self._stable(KSERVE_NS, KSERVE_STABLE_TIMEOUT, (f"Deployment/{KSERVE_CONTROLLER}",)),
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
        self.progress = progress
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
