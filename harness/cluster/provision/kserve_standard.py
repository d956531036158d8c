"""KServe's standard-mode install: the manifests its release script embeds, written as files to apply.

KServe publishes, from v0.18.0 on, ``install/<tag>/kserve-standard-mode-full-install-with-manifests.sh``
(kserve/kserve at v0.20.0: generated from
hack/setup/quick-install/definitions/kserve-standard/kserve-standard-mode-full-install-with-manifests.definition,
copied from hack/setup/quick-install into ``install/<tag>`` with ``:latest`` images set to the tag by
hack/release/generate-install.sh, attached to the release by hack/release/publish-release.sh).
Its ``main`` installs cert-manager with Helm and then, with ``ENABLE_LLMISVC=False`` and
``DEPLOYMENT_MODE=Standard``, KServe from the manifests it carries as quoted heredocs::

    get_kserve_crd_manifest() {
        cat <<'KSERVE_CRD_MANIFEST_EOF'
    ...
    KSERVE_CRD_MANIFEST_EOF
    }

``install_kserve_manifest`` pipes the CRDs, then the core (``config/overlays/standalone/kserve``:
the ``kserve`` Namespace, the ``kserve-controller-manager`` Deployment, its webhooks and the
``inferenceservice-config`` ConfigMap; no llmisvc, no localmodel controller) to
``kubectl apply --server-side -f -``; ``create_kserve_runtime_manifests`` does the same for the
ClusterServingRuntimes. The harness installs cert-manager itself (its static manifest), so it
takes only these three manifests, by their heredoc markers, and applies each from a file.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.cluster.kube.commands import CommandRunner
from harness.errors import InfrastructureError

SCRIPT = "kserve-standard-mode-full-install-with-manifests.sh"
# file name -> heredoc marker, in the order install_kserve_manifest and create_kserve_runtime_manifests
# apply them (the markers are the same in the script at v0.18.0, v0.18.1, v0.19.0 and v0.20.0).
MANIFESTS: tuple[tuple[str, str], ...] = (
    ("kserve-crds.yaml", "KSERVE_CRD_MANIFEST_EOF"),
    ("kserve-core.yaml", "KSERVE_CORE_MANIFEST_EOF"),
    ("kserve-runtimes.yaml", "KSERVE_RUNTIME_MANIFEST_EOF"),
)
FETCH_TIMEOUT = 180.0


def script_url(tag: str) -> str:
    """The release asset of KServe ``tag``'s standard-mode install."""
    return f"https://github.com/kserve/kserve/releases/download/{tag}/{SCRIPT}"


def extract(script: str) -> dict[str, str]:
    """file name -> the manifest the script embeds under that file's heredoc marker.

    Raises:
        InfrastructureError: a marker is missing or its manifest is empty (not the script expected).
    """
    found: dict[str, str] = {}
    for name, marker in MANIFESTS:
        match = re.search(rf"^\s*cat <<'{marker}'\n(.*?)^{marker}$", script, re.MULTILINE | re.DOTALL)
        body = match.group(1) if match else ""
        if "kind:" not in body:
            raise InfrastructureError(f"{SCRIPT} has no manifest under heredoc {marker}: not KServe's standard-mode install")
        found[name] = body
    return found


def fetch_manifests(runner: CommandRunner, tag: str, directory: Path, timeout: float = FETCH_TIMEOUT) -> list[Path]:
    """Download KServe ``tag``'s standard-mode install and write the manifests it embeds to ``directory``."""
    manifests = extract(runner.fetch(script_url(tag), timeout=timeout))
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in manifests.items():
        path = directory / name
        path.write_text(text)
        paths.append(path)
    return paths
