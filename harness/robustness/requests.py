"""One robustness request, and how a report shows it so that anyone can send it again.

A request is kept as the exact bytes sent. The report shows the body as text when it is
UTF-8; bytes that are not UTF-8 are kept exactly, base64-encoded, so a preview with
replacement characters never stands in for what was sent. Small bodies come with a ``curl``
line that replays them; large ones (several MiB) are described by their recipe (the note),
their size and their SHA-256.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import shlex
from typing import Any

from harness.config.categories import CATEGORIES
from harness.inference.encoder import Encoder

JSON = "application/json"
BODY_PREVIEW = 300  # characters of a body shown as text in a report
REPLAY_LIMIT = 16 * 1024  # bodies up to this many bytes are kept whole (text or base64) and replayable

Rows = tuple[tuple[float, ...], ...]


@dataclasses.dataclass(frozen=True)
class Request:
    """One request of the battery. ``path`` is relative to the endpoint's base URL.

    Args:
        category: a key of :data:`~harness.config.categories.CATEGORIES`.
        protocol: ``v1`` or ``v2``, the protocol whose path it is sent to.
        method: the HTTP method.
        path: e.g. ``/v1/models/NAME:predict``.
        body: the exact bytes sent (None: no body).
        content_type: the Content-Type header (None: none sent).
        note: what is special about it, in a few words.
        rows: valid-but-unusual requests: the rows the server should read (after coercion),
            whose predictions a 2xx answer must carry.
        seed_rows: ``rows`` are the seed's rows, so the seed's predictions apply even
            without a model artifact.
        large: the body is large: the request gets the run's full ``request_timeout``.
    """

    category: str
    protocol: str
    method: str
    path: str
    body: bytes | None
    content_type: str | None = JSON
    note: str = ""
    rows: Rows | None = None
    seed_rows: bool = False
    large: bool = False

    @property
    def kind(self) -> str:
        return CATEGORIES[self.category].kind

    @property
    def size(self) -> int:
        return len(self.body or b"")

    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type} if self.content_type else {}

    def text(self) -> str | None:
        """The body as text, or None if it is not UTF-8."""
        try:
            return (self.body or b"").decode("utf-8")
        except UnicodeDecodeError:
            return None

    def preview(self, limit: int = BODY_PREVIEW) -> str:
        """The start of the body for a one-line message (not UTF-8: ``base64:...``)."""
        text = self.text()
        if text is None:
            text = "base64:" + base64.b64encode(self.body or b"").decode()
        return text if len(text) <= limit else text[:limit] + "..."

    def describe(self, limit: int = BODY_PREVIEW) -> dict[str, Any]:
        """A JSON-ready picture of the request: exact when small, a recipe when large."""
        body = self.body or b""
        text = self.text()
        data: dict[str, Any] = {
            "category": self.category,
            "kind": self.kind,
            "protocol": self.protocol,
            "method": self.method,
            "path": self.path,
            "content_type": self.content_type,
            "body_bytes": len(body),
            "note": self.note,
        }
        if text is not None:
            data["body"] = text if len(text) <= limit else text[:limit] + "..."
        else:
            data["body"] = None
            data["body_base64"] = base64.b64encode(body[:REPLAY_LIMIT]).decode()
        if len(body) > REPLAY_LIMIT:
            data["body_sha256"] = hashlib.sha256(body).hexdigest()
        else:
            data["replay"] = self.replay()
        return data

    def replay(self) -> str:
        """A shell line that sends this request again to ``$URL`` (add your Host, cookie or
        token headers as for any request to the endpoint)."""
        parts = ["curl", "-sS", "-X", self.method, f'"$URL{self.path}"']
        if self.content_type:
            parts += ["-H", shlex.quote(f"Content-Type: {self.content_type}")]
        elif self.body is not None:
            parts += ["-H", "'Content-Type:'"]  # curl's empty header: send none, not curl's default
        if self.body is None:
            return " ".join(parts)
        text = self.text()
        if text is not None:
            return " ".join([*parts, "--data-binary", shlex.quote(text)])
        encoded = base64.b64encode(self.body).decode()
        return f"printf %s {encoded} | base64 -d | " + " ".join([*parts, "--data-binary", "@-"])


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (strict: no NaN tokens)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def v1_path(model: str) -> str:
    return Encoder.v1_path(model)


def v2_path(model: str) -> str:
    return Encoder.v2_path(model)


def path_of(protocol: str, model: str) -> str:
    return v1_path(model) if protocol == "v1" else v2_path(model)


def tensor(encoder: Encoder, shape: Any, data: Any, datatype: Any = None, name: Any = None) -> dict[str, Any]:
    """A V2 request body with one input tensor of the signature (its name and datatype unless
    given; any field may be wrong on purpose)."""
    return {"inputs": [encoder.tensor(shape, data, datatype, name)]}
