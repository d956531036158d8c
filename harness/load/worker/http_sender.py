"""REST load: one user's ``:predict`` / ``/infer`` POSTs, each reported to locust's ``request`` event.

Runs only inside locust's processes (it imports gevent and geventhttpclient), loaded by the
locustfile from beside itself; the harness never imports it. What counts as a good answer is
passed in (``judge``: :func:`answers.judge` with the plan's bounds and its answer rules), so this
module only sends and times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import gevent
import gevent.ssl
from geventhttpclient.client import HTTPClient
from geventhttpclient.url import URL

Judge = Callable[[Any, str], tuple[int, Any]]  # (response, kind) -> (bytes read, failure or None)


class TlsContexts:
    """The one TLS context of a process, built as the harness decided (:mod:`harness.inference.tls`).

    ``insecure``: no verification. Else the plan's CA bundle, or certifi's (what the harness's
    own client trusts), never the locust default of no verification at all.
    """

    def __init__(self, insecure: bool, ca_cert: str | None) -> None:
        self.insecure = insecure
        self.ca_cert = ca_cert
        self._context: gevent.ssl.SSLContext | None = None

    def __call__(self, **_: Any) -> gevent.ssl.SSLContext:
        if self._context is None:
            if self.insecure:
                context = gevent.ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = gevent.ssl.CERT_NONE
            else:
                context = gevent.ssl.create_default_context(cafile=self.ca_cert or _certifi())
            self._context = context
        return self._context


def _certifi() -> str | None:
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


class Sender:
    """Sends one user's requests and reports each to locust's ``request`` event.

    Each request has one total deadline (connect, send, answer and body: ``timeout_s``;
    geventhttpclient's own timeouts are per socket operation), reads at most the plan's
    ``max_response_bytes`` of a body (``judge`` does), and never follows a redirect. A
    connection whose answer was not read whole is closed, and after a deadline or a transport
    error, which may leave one half-used, the client with its connection pool is replaced.

    Args:
        base_url: the endpoint (its path is every request's prefix).
        headers: sent with every request.
        fire: locust's ``request`` event's ``fire``.
        timeout_s: the total deadline of one request.
        socket_timeout_s: geventhttpclient's per-operation timeouts (a backstop past the deadline).
        tls: the TLS context factory; ``insecure``: do not verify.
        judge: reads and judges an answer whose headers arrived.
        failure: the failure type (``answers.LoadFailure``): ``failure(status, summary, timeout=...)``.
        mask: masks secrets and cuts a text to one short line.
    """

    def __init__(self, base_url: str, headers: Mapping[str, str], fire: Callable[..., Any], *, timeout_s: float,
                 socket_timeout_s: float, tls: TlsContexts, judge: Judge, failure: Any,
                 mask: Callable[[str], str]) -> None:
        # the query string (a gateway's key) goes on every request as the user gave it
        base_url, sep, query = base_url.partition("?")
        self.base_url = base_url
        self.prefix = URL(base_url).path.rstrip("/")
        self.query = sep + query
        self.headers = dict(headers)
        self.fire = fire
        self.timeout_s = timeout_s
        self.socket_timeout_s = socket_timeout_s
        self.tls = tls
        self.judge = judge
        self.failure = failure
        self.mask = mask
        self.http: HTTPClient | None = None  # made by the first request: a bad CA file is its failure

    def _client(self) -> HTTPClient:
        return HTTPClient.from_url(
            self.base_url, concurrency=1, connection_timeout=self.socket_timeout_s, network_timeout=self.socket_timeout_s,
            ssl_context_factory=self.tls, insecure=self.tls.insecure,
        )

    def close(self) -> None:
        if self.http is not None:
            self.http.close()

    def post(self, kind: str, path: str, body: bytes, context: dict[str, Any]) -> None:
        failure: Any = None
        length = 0
        start = time.time()
        began = time.perf_counter()
        # a new Timeout per request: a gevent.Timeout restarted after cancel() keeps its first
        # expiry (gevent 26.9), so one reused deadline failed every request after the first 10 s
        deadline = gevent.Timeout(self.timeout_s)
        deadline.start()
        try:
            if self.http is None:
                self.http = self._client()
            response = self.http.request("POST", self.prefix + path + self.query, body=body, headers=self.headers)
            try:
                length, failure = self.judge(response, kind)
            finally:
                response.release()  # closes the connection unless the answer was read whole
        except gevent.Timeout as exc:
            if exc is not deadline:
                raise
            failure = self.failure(0, f"no complete answer within {self.timeout_s:g}s (request_timeout)", timeout=True)
            self._renew()
        except Exception as exc:  # noqa: BLE001 - any transport error is a failed request
            if isinstance(exc, self.failure):  # an answer too long to read (its connection is closed)
                # without its traceback: the frames would hold the body read so far in a cycle
                # (exception, frame, local) that only the garbage collector frees, megabytes each
                failure = exc.with_traceback(None)
            else:
                failure = self.failure(0, self.mask(f"{type(exc).__name__}: {exc}"))
                self._renew()
        finally:
            deadline.close()
        self.fire(request_type="POST", name=kind, response_time=(time.perf_counter() - began) * 1000,
                  response_length=length, response=None, exception=failure, context=context,
                  start_time=start, url=path)

    def _renew(self) -> None:
        self.close()
        self.http = None
