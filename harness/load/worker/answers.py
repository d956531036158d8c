"""What counts as a good answer under load, read within bounds.

Plain Python, loaded by the locustfile from beside itself (the harness may not be
installed where it runs) and testable without locust: it judges a geventhttpclient
response whose headers have arrived (duck-typed: ``status_code``, ``get``, ``read``,
``message_complete``, ``content_length``).

A 2xx body must be JSON and, when a ``validate`` rule is given (the locustfile passes
:func:`predictions.problem` with the plan's rules), hold a valid answer: one prediction per
row, of a type and value the contract allows; anything else is a failed request whose
message says why. A 3xx is a failure naming its status and target: it
is never followed, so our headers never reach another host. A body is read up to
``max_response_bytes``; an error body only as far as its message needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

READ_BLOCK = 64 * 1024


class LoadFailure(Exception):
    """A request that failed.

    ``str()`` is a short summary, few distinct ones (locust's own failure table groups by it
    and keeps every distinct one); ``detail`` the masked message of the report; ``status``
    the HTTP status, 0 when nothing answered; ``timeout``: no answer within the request's
    deadline (the server did not answer, as opposed to answering wrong).
    """

    def __init__(self, status: int, summary: str, detail: str | None = None, *, timeout: bool = False) -> None:
        super().__init__(summary)
        self.status = status
        self.detail = detail or summary
        self.timeout = timeout


Validate = Callable[[Any], str | None]  # decoded answer -> why it is not valid, or None


def judge(response: Any, max_bytes: int, mask: Callable[[str], str], window: int,
          validate: Validate | None = None) -> tuple[int, LoadFailure | None]:
    """(bytes read, the failure or None) of one answer.

    Args:
        response: the answer, headers read.
        max_bytes: the longest 2xx body read (``max_response_bytes``); longer is a failure.
        mask: masks secrets and cuts to one short line (masking before the cut).
        window: bytes of an error body read for its message.
        validate: why a decoded 2xx answer is not a valid one (None: valid); not given, any JSON is.
    """
    status = int(response.status_code)
    if 200 <= status < 300:
        data = read_bounded(response, status, max_bytes)
        try:
            answer = json.loads(data)
        except ValueError:
            if str(response.get("content-encoding") or "identity").lower() == "identity":
                text = mask(data[:window].decode("utf-8", "replace"))
                return len(data), LoadFailure(status, f"HTTP {status} answer is not JSON", f"HTTP {status} answer is not JSON: {text}")
            return len(data), None
        why = validate(answer) if validate is not None else None
        if why:
            return len(data), invalid(status, why, mask(data[:window].decode("utf-8", "replace")), mask)
        return len(data), None
    if 300 <= status < 400:
        where = response.get("location")
        target = mask(where) if isinstance(where, str) else "(no Location)"
        return 0, LoadFailure(status, f"HTTP {status} redirect, not followed", f"HTTP {status} redirect to {target} (not followed)")
    data = response.read(window)  # enough for the message; the rest is never read
    return len(data), LoadFailure(status, f"HTTP {status}", f"HTTP {status}: {mask(data.decode('utf-8', 'replace'))}")


def read_bounded(response: Any, status: int, max_bytes: int) -> bytes:
    """The whole body, or a :class:`LoadFailure` as soon as it passes ``max_bytes``.

    Read in blocks, so an endless stream costs at most ``max_bytes`` of memory.
    """
    if response.message_complete:  # the usual small answer: it came with the headers
        data: bytes = response.read()
        return data
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise too_long(status, max_bytes)
    chunks, size = [], 0
    while chunk := response.read(READ_BLOCK):
        size += len(chunk)
        if size > max_bytes:
            raise too_long(status, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def invalid(status: int, why: str, body: str, mask: Callable[[str], str]) -> LoadFailure:
    """A 2xx whose answer is not valid (``why``), its body shown (masked, cut)."""
    return LoadFailure(status, f"HTTP {status} answer outside the contract", mask(f"HTTP {status} answer outside the contract: {why}: {body}"))


def too_long(status: int, max_bytes: int) -> LoadFailure:
    return LoadFailure(status, f"HTTP {status} answer over {max_bytes} bytes (max_response_bytes), cut off")
