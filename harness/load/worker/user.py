"""The load user: cycles through the plan's bodies, paced to a fixed schedule when the plan sets a rate.

Runs only inside locust's processes (it imports locust and gevent), loaded by the locustfile from
beside itself; the harness never imports it. :func:`user_class` makes the class from what the
locustfile read and built (settings, bodies, the recorder, a sender factory), so this module
holds no state of its own.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import gevent
from locust import FastHttpUser, constant, task

IDLE_S = 0.05  # a user whose window closed waits this long between looks (it sends nothing more)

SenderFactory = Callable[[str, Callable[..., Any]], Any]  # (host, locust's request.fire) -> sender with post/close


def user_class(settings: Any, bodies: Sequence[tuple[str, str, bytes]], recorder: Any, make_sender: SenderFactory,
               no_bodies: str, tls: Any) -> type[FastHttpUser]:
    """The locust user class of this process.

    Requests go through the sender (:class:`http_sender.Sender`, geventhttpclient's ``HTTPClient``,
    the client FastHttpUser wraps, or :class:`grpc_sender.GrpcSender`) rather than
    ``self.client``, which in locust 2.46.6 skips certificate checks by default
    (``insecure = True``), follows redirects with our headers (its ``allow_redirects=False``
    sets ``redirect_resonse_codes``, a name geventhttpclient 2.6 no longer reads) and reads
    bodies without bound (locust/contrib/fasthttp.py). ``self.client`` is configured safely all
    the same, for anyone who uses it.

    Every request is announced to the recorder first (:meth:`recording.Recorder.begin`): once
    the window has closed, no request starts, and the recorder accounts for those in flight.
    """

    class KServeUser(FastHttpUser):
        """Posts inference requests; paced to a fixed schedule when the plan sets a rate."""

        wait_time = constant(0)
        network_timeout = settings.socket_timeout_s
        connection_timeout = settings.socket_timeout_s
        insecure = settings.insecure
        ssl_context_factory = staticmethod(tls)
        max_redirects = 0
        max_retries = 0

        def on_start(self) -> None:
            if not bodies:
                raise RuntimeError(no_bodies)
            self._cycle = itertools.cycle([*bodies[random.randrange(len(bodies)):], *bodies])
            self._interval: float | None = settings.interval_s
            # spread users over one interval so a constant rate does not arrive in bursts
            self._next = time.time() + (random.uniform(0, self._interval) if self._interval else 0.0)
            self._sender = make_sender(self.host or "", self.environment.events.request.fire)
            recorder.user_started()

        def on_stop(self) -> None:
            sender = getattr(self, "_sender", None)
            if sender is not None:
                sender.close()

        @task
        def infer(self) -> None:
            if recorder.closed_at is not None:
                gevent.sleep(IDLE_S)
                return
            kind, path, body = next(self._cycle)
            context: dict[str, Any] = {}
            if self._interval is not None:
                delay = self._next - time.time()
                if delay > 0:
                    gevent.sleep(delay)
                context["intended"] = self._next
                self._next += self._interval
            if recorder.begin(kind, context):
                self._sender.post(kind, path, body, context)

    return KServeUser
