"""One cluster with Kubeflow, as ``mlharness up``/``down``, the cluster targets and the fixtures use it.

``up()`` = reuse-or-create the cluster, then install what is missing and wait until
servable (kind/minikube); on the ``kubeconfig`` target nothing is installed: the existing
Kubeflow is only checked. ``plan()`` is the same work as text, touching nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.cluster.kube.commands import CommandRunner, SubprocessRunner, require_tools
from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.provision import make_provider
from harness.cluster.provision.base import (
    ClusterHandle,
    ensure_cluster,
    read_state,
    release_cluster,
    tools_step,
)
from harness.cluster.provision.install import KFP_NS, KSERVE_NS, KubeflowInstaller
from harness.cluster.provision.steps import Step, execute, format_plan
from harness.cluster.provision.versions import resolve
from harness.config import HarnessConfig
from harness.errors import InfrastructureError


class ClusterSession:
    """The cluster of ``cfg`` and the Kubeflow on it.

    Args:
        cfg: the run's settings (target, cluster_name, kubeconfig, versions, keep_cluster).
        work_dir: where ``commands.log`` and diagnostics go.
        runner: the command-runner seam (default: real subprocesses).
        state_root: root of the clusters' state directories (default ``./.mlharness``).
        interval, stable_polls: readiness polling (tests make them fast).
    """

    def __init__(
        self,
        cfg: HarnessConfig,
        work_dir: Path,
        runner: CommandRunner | None = None,
        *,
        state_root: Path | None = None,
        progress: Callable[[str], None] = lambda _m: None,
        interval: float = 10.0,
        stable_polls: int = 5,
    ) -> None:
        self.cfg = cfg
        self.work_dir = work_dir
        self.runner = runner or SubprocessRunner(work_dir / "commands.log")
        self.progress = progress
        self.versions = resolve(cfg.cluster.versions)
        self.provider = make_provider(cfg, state_root)
        self.kubectl = Kubectl(self.runner, self.provider.kubeconfig)
        self.installer = KubeflowInstaller(self.kubectl, self.versions, work_dir / "diagnostics",
                                           interval=interval, stable_polls=stable_polls,
                                           manifest_dir=self.provider.kubeconfig.parent)
        self.handle: ClusterHandle | None = None
        self.executed: list[Step] = []  # every plan step ``up`` ran, in order (see :meth:`plan_sections`)

    @property
    def installs(self) -> bool:
        """kind and minikube get Kubeflow installed; an existing cluster is only checked."""
        return self.provider.can_create

    def up(self) -> ClusterHandle:
        """Create or reuse the cluster and make Kubeflow servable on it."""
        self.handle = ensure_cluster(self.provider, self.runner, self.progress, self.executed.append)
        if self.installs:
            self.installer.ensure(self.progress, self.executed.append)
        else:
            for ns, what in ((KFP_NS, "Kubeflow Pipelines"), (KSERVE_NS, "KServe")):
                if not self.kubectl.exists("namespace", ns):
                    raise InfrastructureError(f"the cluster of {self.provider.kubeconfig} has no {what} (namespace {ns} is missing)")
        return self.handle

    def release(self) -> bool:
        """Delete the cluster if this session created it (unless keep_cluster)."""
        deleted = release_cluster(self.provider, self.handle, self.runner, keep=self.cfg.cluster.keep)
        self.handle = None
        return deleted

    def down(self, force: bool = False) -> bool:
        """``mlharness down``: delete the named cluster if mlharness created it (or ``force``).

        Returns False when there was nothing to delete.
        Raises:
            InfrastructureError: the cluster exists but mlharness did not create it.
        """
        if not self.provider.can_create:
            raise InfrastructureError("the kubeconfig target never deletes a cluster")

        require_tools(self.runner, self.provider.tools)
        if not self.provider.exists(self.runner):
            return False
        if read_state(self.provider).get("created_by") != "mlharness" and not force:
            raise InfrastructureError(
                f"{self.provider.target} cluster {self.provider.name} was not created by mlharness "
                f"(no marker in {self.provider.kubeconfig.parent}); delete it yourself or pass --force"
            )
        execute(self.provider.delete_steps(), self.runner, self.progress)
        (self.provider.kubeconfig.parent / "state.json").unlink(missing_ok=True)
        return True

    def plan_sections(self) -> list[tuple[str, list[Step]]]:
        """Every step ``up`` may run, by phase, in order; each conditional one says when it runs."""
        p = self.provider
        versions = ", ".join(f"{k}={v}" for k, v in self.versions.as_dict().items())
        sections: list[tuple[str, list[Step]]] = [
            (f"{p.target} cluster {p.name}; kubeconfig {p.kubeconfig}; versions: {versions}", [tools_step(p)]),
            ("cluster: find an existing one", p.probe_steps()),
            ("cluster: reuse it (when present)", p.reuse_steps()),
            ("cluster: create it (when absent)", p.create_steps()),
        ]
        if self.installs:
            sections += self.installer.plan()
        return sections

    def plan(self) -> str:
        """The dry-run plan: every command with its pinned versions, every wait with its timeout."""
        sections = self.plan_sections()
        sections.append(("teardown (mlharness down, or the end of a run that created the cluster, unless keep_cluster)",
                         self.provider.delete_steps()))
        return format_plan(sections)
