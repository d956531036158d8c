"""Which protocols a server speaks, found by asking: readiness over V1, V2 and V2 gRPC.

V1 readiness is ``GET /v1/models/NAME`` answering 200 (with ``ready`` not false); V2 (the Open
Inference Protocol) readiness is ``GET /v2/health/ready`` and ``GET /v2/models/NAME/ready``
answering 200. KServe's own servers speak both; MLServer and KServe's V2-only runtimes
(``protocolVersion: v2``) speak V2 only; older custom servers V1 only. V2 over gRPC is
probed when the endpoint has a ``grpc_url`` (gRPC has its own port: it cannot be found from the
REST URL): ``ServerReady`` and ``ModelReady`` both answering ready.

With ``protocol = "auto"`` the wait ends as soon as one protocol answers ready, and the
endpoint speaks what answered ready in that round. With ``v1`` or ``v2`` the wait is for
that protocol; if the other one answers ready instead, the wait stops at once with a message
saying so, rather than waiting out the timeout on a protocol the server does not speak.
A gRPC address given with ``auto`` was asked for: the wait also lasts until gRPC answers ready
(a gRPC service that never gets ready is a timeout naming its status, not a protocol quietly
dropped).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from harness.config.urls import masked
from harness.inference.client import InferenceClient
from harness.procs.waiting import wait_until

PROTOCOLS = ("v1", "v2", "grpc")
NAMES = {"v1": "V1", "v2": "V2", "grpc": "V2 gRPC"}


@dataclasses.dataclass(frozen=True)
class Readiness:
    """One round of probes: which protocols answered ready, and what each probe saw."""

    ready: tuple[str, ...]
    seen: dict[str, str]

    def summary(self) -> str:
        """``ready over V2; V1 not spoken here (GET /v1/models/x -> HTTP 404: ...)``."""
        names = [NAMES[p] for p in self.ready]
        spoken = (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)) or "no protocol"
        others = [f"{NAMES[p]} not ready or not spoken ({self.seen[p]})" for p in PROTOCOLS if p not in self.ready and p in self.seen]
        return "; ".join([f"ready over {spoken}", *others])

    def describe(self) -> str:
        """What every probe saw, for a timeout message."""
        return "; ".join(f"{NAMES[p]}: {self.seen[p]}" for p in PROTOCOLS if p in self.seen)


def probe(client: InferenceClient, deadline: float | None = None) -> Readiness:
    """One round: V1 model readiness, then V2 server and model readiness.

    With a ``deadline`` (``time.monotonic()``), no probe waits past it (a server that stalls
    every answer cannot stretch a readiness wait by three request timeouts).
    """

    def timeout() -> float | None:
        return None if deadline is None else max(0.1, min(client.timeout, deadline - time.monotonic()))

    ready: list[str] = []
    seen: dict[str, str] = {}
    v1_ready, seen["v1"] = client.readiness(timeout())
    if v1_ready:
        ready.append("v1")
    health_ready, health_seen = client.probe_ready("/v2/health/ready", timeout())
    v2_ready, model_seen = client.v2_readiness(timeout())
    seen["v2"] = model_seen if v2_ready or health_ready else f"{health_seen}; {model_seen}"
    if v2_ready:
        ready.append("v2")
    if client.endpoint.grpc_url:
        grpc_ready, seen["grpc"] = client.grpc.readiness(timeout())
        if grpc_ready:
            ready.append("grpc")
    return Readiness(tuple(ready), seen)


def wait_ready(
    client: InferenceClient,
    protocol: str = "auto",
    *,
    timeout: float,
    interval: float = 0.5,
    abort: Callable[[], str | None] | None = None,
) -> Readiness:
    """Wait until the model answers ready over ``protocol`` (``auto``: over any).

    Returns the round that ended the wait; its ``ready`` is what the endpoint speaks (just
    ``protocol`` when one was asked for).

    Raises:
        harness.errors.WaitTimeout: nothing ready within ``timeout`` (the message lists every probe), or the
            model is ready over the other protocol only (at once, naming the fix).
    """
    if protocol not in ("auto", *PROTOCOLS):
        raise ValueError(f"unknown protocol {protocol!r}")
    last = Readiness((), {})
    deadline = time.monotonic() + timeout
    grpc_asked = bool(client.endpoint.grpc_url)
    what = f"model {client.endpoint.model_name!r} at {masked(client.endpoint.base_url)} to answer ready over " + (
        ("V1 or V2" + (f", and over V2 gRPC at {client.endpoint.grpc_url}" if grpc_asked else "")) if protocol == "auto" else NAMES[protocol]
    )

    def once() -> Readiness | None:
        nonlocal last
        last = probe(client, deadline)
        if protocol == "auto":
            return last if last.ready and (not grpc_asked or "grpc" in last.ready) else None
        if protocol in last.ready:
            return Readiness((protocol,), last.seen)
        return None

    def other_protocol_only() -> str | None:
        if protocol != "auto" and last.ready and protocol in last.seen:
            other = NAMES[last.ready[0]]
            return (
                f"the model answers ready over {other} but not over {NAMES[protocol]} ({last.seen[protocol]}): "
                f"use protocol {last.ready[0]} or auto (--protocol)"
            )
        return abort() if abort is not None else None

    return wait_until(once, what=what, timeout=timeout, interval=interval, describe=lambda: last.describe(), abort=other_protocol_only)
