"""Results that flow along a validation run: frozen dataclasses with ``as_dict()``.

They are the contract between targets, checks, the load runner and the reports.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from harness.redact import redact_headers
from harness.signature import Signature


class CheckStatus(enum.StrEnum):
    """Outcome of one named check."""

    PASSED = "passed"
    FAILED = "failed"
    WARNED = "warned"  # a finding recorded with severity "warn": does not fail the run
    SKIPPED = "skipped"
    ERROR = "error"  # the check itself could not run (infrastructure, timeout)


class RunStatus(enum.StrEnum):
    """Outcome of a whole run, as written to ``report.json``."""

    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class TaskState(enum.StrEnum):
    """State of one pipeline task."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


#: a dataclass field's metadata key: left out of its dict when empty (a key old reports never had)
OMIT_EMPTY = "omit_empty"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get(OMIT_EMPTY) and not getattr(value, f.name))}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _AsDict:
    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (enums as their values, tuples as lists)."""
        result = _plain(self)
        assert isinstance(result, dict)
        return result


@dataclasses.dataclass(frozen=True)
class TaskRun(_AsDict):
    """One task of a pipeline run."""

    name: str
    state: TaskState
    artifacts: Mapping[str, str] = dataclasses.field(default_factory=dict)  # output name -> URI
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    duration_s: float | None = None
    log_path: str | None = None


@dataclasses.dataclass(frozen=True)
class PipelineRun(_AsDict):
    """A finished pipeline run on some target."""

    pipeline_name: str
    run_id: str
    succeeded: bool
    tasks: tuple[TaskRun, ...]
    model_uri: str | None  # where the trained model directory lives (path or URI)
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    duration_s: float = 0.0
    message: str = ""

    def task(self, name: str) -> TaskRun:
        """The task called ``name``; KeyError names the tasks there are."""
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no task {name!r} in run; tasks: {[t.name for t in self.tasks]}")


@dataclasses.dataclass(frozen=True)
class Endpoint(_AsDict):
    """Where a deployed model answers.

    ``headers`` may carry secrets (cookie, token); ``as_dict`` redacts them. ``protocols``
    is what the server was found to speak (``v1``: ``:predict``; ``v2``: the Open Inference
    Protocol's ``/infer``; ``grpc``: its ``ModelInfer`` over gRPC at ``grpc_url``), V1 first. ``tls_verify`` is httpx's ``verify=``: a CA bundle path,
    True (the default bundle) or False (``--insecure``).
    """

    base_url: str
    model_name: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    protocols: tuple[str, ...] = ("v1", "v2")
    description: str = ""
    tls_verify: str | bool = True
    readiness: str = ""  # what the readiness probes found ("ready over V2; V1 not ... (HTTP 404)")
    grpc_url: str | None = None  # host:port (grpcs://host:port for TLS) of the V2 gRPC service, if any
    signature: Signature | None = None  # what requests carry, once resolved (harness.contract.signature)

    @property
    def primary_protocol(self) -> str:
        """The protocol checks use when they need one: V1 where spoken, else the first."""
        return "v1" if "v1" in self.protocols or not self.protocols else self.protocols[0]

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["headers"] = redact_headers(dict(self.headers))
        data["signature"] = self.signature.as_dict() if self.signature is not None else None
        return data


@dataclasses.dataclass(frozen=True)
class Prediction(_AsDict):
    """One inference call and its answer."""

    protocol: str
    inputs: tuple[tuple[float, ...], ...]
    outputs: tuple[Any, ...]
    status: int
    latency_ms: float


#: the key of a result's ``details`` that holds its evidence: what it sent, compared or measured,
#: as counts by what was counted (``{"requests": 1200, "protocols": 2}``); see docs/checks.md
EVIDENCE = "evidence"


def evidence_text(counts: Mapping[str, int]) -> str:
    """``150 rows, 2 protocols, 1 package``: evidence counts as a message says them."""
    return ", ".join(f"{n:,} {what[:-1] if n == 1 and what.endswith('s') else what}" for what, n in counts.items())


@dataclasses.dataclass(frozen=True)
class CheckResult(_AsDict):
    """The outcome of one named check (``pipeline.lint``, ``predict.golden``, ``slo.p95``...).

    ``details["evidence"]`` (:data:`EVIDENCE`) holds what the check sent, compared or measured,
    as counts; a passed result without it is not recorded as passed (:func:`harness.checks.vouch`).
    """

    name: str
    status: CheckStatus
    message: str = ""
    duration_s: float = 0.0
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in (CheckStatus.FAILED, CheckStatus.ERROR)

    @property
    def evidence(self) -> Mapping[str, int]:
        """The counts of what the check sent, compared or measured (empty: it recorded none)."""
        counts = self.details.get(EVIDENCE)
        if not isinstance(counts, Mapping):
            return {}
        return {str(k): v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}

    def with_evidence(self, counts: Mapping[str, int | None], *, say: bool = False) -> CheckResult:
        """This result with ``counts`` added to its evidence (a None count is left out); ``say``
        appends them to the message (``... (1,200 requests)``) for a message that does not say them."""
        added = {k: int(v) for k, v in counts.items() if v is not None}
        merged = {**self.evidence, **added}
        message = f"{self.message} ({evidence_text(added)})" if say and added and self.message else self.message
        return dataclasses.replace(self, message=message, details={**self.details, EVIDENCE: merged})
