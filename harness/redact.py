"""Keep secrets out of logs and reports.

Every secret the user hands the harness (cookie, token, header value) is registered
here (the config's by :func:`harness.config.secrets.register_config_secrets`); :func:`redact` replaces any registered value in text before it is written.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key", "set-cookie"})
_lock = threading.Lock()
_secrets: set[str] = set()
#: a registered secret cut off at the start or end of a text still leaks this many characters
#: at most (a body cut at a size limit, a line wrapped by a terminal)
PARTIAL_MIN = 6
#: session cookies of Kubeflow's auth proxies, masked by name even if nobody registered them:
#: oidc-authservice (``authservice_session``) and oauth2-proxy (``_oauth2_proxy``, and
#: Kubeflow >= 1.8's ``oauth2_proxy_kubeflow``, split ``_0``/``_1`` when long)
SESSION_COOKIES = r"(?:authservice_session|_?oauth2_proxy[A-Za-z0-9_-]*)"
# Patterns that look like secrets even if nobody registered them.
_PATTERNS = (
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s\"']+"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{12,}"),
    re.compile(rf"(?i)(\b{SESSION_COOKIES}=)[^\s;,\"']+"),
    re.compile(r"(?i)(\"?(?:token|client-key-data|client-certificate-data|password)\"?\s*[:=]\s*\"?)[^\s\"',}]+"),
)


#: a secret shorter than this cannot be masked safely: it would mask ordinary words
MIN_SECRET = 8
#: words the harness itself writes into every report (statuses, targets, names): a secret equal
#: to one of them would rewrite the report's own fields, so it is refused at start
REPORT_WORDS = frozenset({
    "passed", "failed", "error", "errors", "warned", "skipped", "running", "interrupted", "incomplete",
    "true", "false", "null", "none", "mlharness", "endpoint", "local", "kind", "minikube", "kubeconfig",
    "predict", "deploy", "pipeline", "robustness", "baseline", "capacity", "report", "summary", "testcase",
    "testsuite", "failures", "message", "status", "checks", "sklearn-iris", "localhost", "127.0.0.1",
    "application/json", "keep-alive", "password", "username", "undefined",
})


#: shaped like a check name (``predict.golden``) or a report file name (``report.json``)
_REPORT_NAME = re.compile(r"[a-z_]+\.[a-z0-9_]+|[\w.-]+\.(?:json|jsonl|md|xml|html|log|txt|yaml|csv|toml)")


def unsafe_secret(value: str) -> str | None:
    """Why ``value`` cannot be masked safely (too short, a word the report itself uses, or shaped
    like a check or file name), or None. Says why without showing the value."""
    if len(value) < MIN_SECRET:
        return f"it is shorter than {MIN_SECRET} characters"
    if value.strip().lower() in REPORT_WORDS:
        return "it is a word the report itself uses"
    if _REPORT_NAME.fullmatch(value.strip()):
        return "it looks like a check or file name the report itself uses"
    return None


def encodings(value: str) -> set[str]:
    """``value`` and the forms it travels in: JSON-escaped, URL-encoded, base64."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe=""), quote_plus(value)}
    raw = value.encode("utf-8")
    forms.add(base64.b64encode(raw).decode("ascii").rstrip("="))
    return forms


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret to be masked wherever it shows up, in every form it may
    take on the way (:func:`encodings`); a quoted value (``"abc"``) is registered unquoted too.

    Values shorter than 4 characters are not registered (they would mask ordinary text); the
    front ends refuse secrets :func:`unsafe_secret` finds before they get here.
    """
    if not value or len(value) < 4:
        return
    values = {value}
    if len(value) > 2 and value[0] == value[-1] == '"':
        values.add(value[1:-1])
    with _lock:
        for v in values:
            _secrets.update(form for form in encodings(v) if len(form) >= 4)


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def register_cookie(header: str) -> None:
    """Register a Cookie header, and each ``name=value`` pair's value on its own."""
    register_secret(header)
    for part in header.split(";"):
        register_secret(part.partition("=")[2].strip())


def redact(text: str) -> str:
    """``text`` with every registered secret and secret-shaped value masked.

    A secret cut off at either end of ``text`` (a body read up to a size limit, a window into
    a longer text) is masked too: any end that is a piece of a secret at least
    :data:`PARTIAL_MIN` characters long. Redact before cutting text to a length, never after:
    use :func:`preview`.
    """
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return _mask_cut_ends(text, secrets)


def _mask_cut_ends(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if len(secret) <= PARTIAL_MIN or len(text) < PARTIAL_MIN:
            continue
        if text[-PARTIAL_MIN:] in secret:  # cheap filter: most texts end in no piece of a secret
            for n in range(min(len(secret) - 1, len(text)), PARTIAL_MIN - 1, -1):
                if text.endswith(secret[:n]):
                    text = text[:-n] + MASK
                    break
        if text[:PARTIAL_MIN] in secret:
            for n in range(min(len(secret) - 1, len(text)), PARTIAL_MIN - 1, -1):
                if text.startswith(secret[-n:]):
                    text = MASK + text[n:]
                    break
    return text


def preview(text: str | bytes, limit: int) -> str:
    """The first ``limit`` characters of ``text`` after redaction (``...`` marks a cut).

    Redacting first is the point: a secret cut in half no longer matches its registered value.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    clean = redact(text)
    return clean if len(clean) <= limit else clean[:limit] + "..."


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with the values of sensitive ones masked (the names stay, for debugging)."""
    return {
        k: (MASK if k.lower() in SENSITIVE_HEADERS else redact(v)) for k, v in headers.items()
    }


#: fields the harness writes itself (a run's and a check's status, the target): never rewritten
OWN_FIELDS = frozenset({"status", "target"})


def redact_obj(value: Any, keep: frozenset[str] = OWN_FIELDS) -> Any:
    """Deep copy of a JSON-like value with every string redacted, except the values of the
    harness's own fields ``keep`` (a status says ``failed`` whatever the secrets are)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: (v if k in keep and isinstance(v, str) else redact_obj(v, keep)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_obj(v, keep) for v in value]
    return value
