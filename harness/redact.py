"""Keep secrets out of logs and reports.

Every secret the user hands the harness (cookie, token, header value) is registered
here; :func:`redact` replaces any registered value in text before it is written.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key", "set-cookie"})
_lock = threading.Lock()
_secrets: set[str] = set()
# Patterns that look like secrets even if nobody registered them.
_PATTERNS = (
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s\"']+"),
    re.compile(r"(?i)(authservice_session=)[^\s;\"']+"),
    re.compile(r"(?i)(\"?(?:token|client-key-data|client-certificate-data|password)\"?\s*[:=]\s*\"?)[^\s\"',}]+"),
)


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret to be masked wherever it shows up.

    Values shorter than 4 characters are not registered (they would mask ordinary text).
    """
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def register_config_secrets(cfg: Any) -> None:
    """Register every secret setting of a ``HarnessConfig`` (those marked ``secret``).

    Header values, the cookie and each of its ``name=value`` values, and the token (also
    when read from ``token_file``). Call it before anything about the run is written.
    """
    import dataclasses

    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        if not field.metadata.get("secret") or not value:
            continue
        if field.name == "header":
            register_secrets(v for _, v in value)
        else:
            register_secret(str(value))
    if getattr(cfg, "cookie", None):
        for part in str(cfg.cookie).split(";"):
            register_secret(part.partition("=")[2].strip())
    register_secret(cfg.token_value)


def redact(text: str) -> str:
    """``text`` with every registered secret and secret-shaped value masked."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with the values of sensitive ones masked (the names stay, for debugging)."""
    return {
        k: (MASK if k.lower() in SENSITIVE_HEADERS else redact(v)) for k, v in headers.items()
    }


def redact_obj(value: Any) -> Any:
    """Deep copy of a JSON-like value with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_obj(v) for v in value]
    return value
