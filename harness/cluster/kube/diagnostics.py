"""The diagnostics bundle: what a person needs to see why a cluster step failed.

Modelled on KServe's CI (kserve/kserve test/scripts/gh-actions/status-check.sh: events,
describe, logs) and KFP's (wait_for_pods.py dumps pod logs on timeout). For each namespace:
pods (wide), events sorted by time, ``describe pods``, and the logs of every pod that is
not ready, current and previous containers. Everything passes :func:`harness.redact.redact`.
Collecting never raises: a failed command leaves its error in the file instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from harness.cluster.kube.kubectl import Kubectl
from harness.cluster.kube.readiness import _settled, pod_statuses
from harness.errors import HarnessError
from harness.redact import redact

TIMEOUT = 60.0
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _capture(kubectl: Kubectl, out: Path, *args: str) -> Path:
    try:
        result = kubectl.run(*args, timeout=TIMEOUT, check=False)
        text = result.stdout + (f"\n--- stderr ---\n{result.stderr}" if result.stderr.strip() else "")
    except HarnessError as exc:
        text = f"could not run kubectl {' '.join(args)}: {exc}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(redact(text))
    return out


def collect(kubectl: Kubectl, namespaces: Sequence[str], out_dir: Path, *, all_logs: bool = False) -> list[Path]:
    """Write the bundle for ``namespaces`` under ``out_dir``; return the files written.

    Args:
        all_logs: logs of every pod, not only those that are not ready.
    """
    files: list[Path] = []
    files.append(_capture(kubectl, out_dir / "nodes.txt", "get", "nodes", "-o", "wide"))
    for ns in namespaces:
        base = out_dir / _SAFE.sub("_", ns)
        files.append(_capture(kubectl, base / "pods.txt", "get", "pods", "-n", ns, "-o", "wide"))
        files.append(_capture(kubectl, base / "events.txt", "get", "events", "-n", ns, "--sort-by=.lastTimestamp"))
        files.append(_capture(kubectl, base / "describe-pods.txt", "describe", "pods", "-n", ns))
        try:
            statuses = pod_statuses(kubectl.get_json("pods", "-n", ns, timeout=TIMEOUT))
        except HarnessError:
            continue
        for pod, status in sorted(statuses.items()):
            if not all_logs and _settled(status):
                continue
            name = _SAFE.sub("_", pod)
            files.append(_capture(kubectl, base / "logs" / f"{name}.log", "logs", pod, "-n", ns, "--all-containers", "--prefix"))
            files.append(_capture(
                kubectl, base / "logs" / f"{name}.previous.log", "logs", pod, "-n", ns, "--all-containers", "--prefix", "--previous"
            ))
    return files
