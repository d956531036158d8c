"""The secrets a config holds, handed to :mod:`harness.redact` to be masked everywhere.

Here, not in ``redact``: the base layer knows nothing of settings; the config registers its
own values with it. What counts as a secret (docs/endpoint.md, "Secrets"): every ``header``
value, the cookie and each of its values, the token (or ``token_file``'s), and the userinfo and
query of the URLs (``url``, ``ingress_url``, ``kfp_url``). A *credential* among them (the
token, a cookie value, the value of an auth-like header, a URL's password or query value) that
is too short or too common to mask safely is refused at start (:func:`check_secrets`): masking
``failed`` would rewrite the report's own words.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from harness.config.settings import SETTINGS, EndpointSettings
from harness.config.urls import split_url
from harness.errors import ConfigError
from harness.redact import (
    SENSITIVE_HEADERS,
    register_cookie,
    register_secret,
    register_secrets,
    unsafe_secret,
)


class HarnessConfig(Protocol):
    """What is read here of a :class:`harness.config.HarnessConfig` (named structurally: the
    config package imports this module, so this module cannot import it back)."""

    @property
    def endpoint(self) -> EndpointSettings: ...

    @property
    def token_value(self) -> str | None: ...

    def get(self, key: str) -> Any: ...

URL_KEYS = ("url", "ingress_url", "kfp_url", "candidate_url")
#: header names whose values are credentials, besides :data:`harness.redact.SENSITIVE_HEADERS`
_CREDENTIAL_NAME = re.compile(r"(?i)key|token|secret|auth|session|passw|credential|signature|cookie")


def is_credential_header(name: str) -> bool:
    return name.lower() in SENSITIVE_HEADERS or bool(_CREDENTIAL_NAME.search(name))


def _cookie_values(cookie: str) -> list[str]:
    return [part.partition("=")[2].strip().strip('"') for part in cookie.split(";") if "=" in part]


def credentials(cfg: HarnessConfig, token: str | None = None) -> list[tuple[str, str, str]]:
    """``(key, what, value)`` of every credential of ``cfg`` (see the module's docstring)."""
    found: list[tuple[str, str, str]] = []
    for key in URL_KEYS:
        url = cfg.get(key)
        if url:
            parts = split_url(url)
            found += [(key, what, value) for what, value in parts.credential_values()]
            found += [(key, f"the URL's query parameter {name!r}", value) for name, value in parts.parameters() if is_credential_header(name)]
    for prefix, cookie, headers in (("", cfg.endpoint.cookie, cfg.endpoint.header),
                                    ("candidate_", cfg.get("candidate_cookie"), cfg.get("candidate_header") or ())):
        if cookie:
            found += [(f"{prefix}cookie", "a cookie value", v) for v in _cookie_values(cookie)]
        for name, value in headers:
            if name.lower() in ("cookie", "set-cookie"):
                found += [(f"{prefix}header", f"a value of the {name} header", v) for v in _cookie_values(value)]
            elif name.lower() in ("authorization", "proxy-authorization"):
                found.append((f"{prefix}header", f"the {name} header's credential", value.partition(" ")[2].strip() or value))
            elif is_credential_header(name):
                found.append((f"{prefix}header", f"the value of header {name!r}", value))
    if token or cfg.endpoint.token:
        found.append(("token_file" if token else "token", "the token", token or str(cfg.endpoint.token)))
    if cfg.get("candidate_token"):
        found.append(("candidate_token", "the candidate's token", str(cfg.get("candidate_token"))))
    return found


def check_secrets(cfg: HarnessConfig, token: str | None = None) -> None:
    """Refuse a credential that cannot be masked safely (one line naming the setting and why)."""
    for key, what, value in credentials(cfg, token):
        reason = unsafe_secret(value)
        if reason:
            raise ConfigError(f"{what} cannot be masked safely in reports and logs: {reason}; use a real secret "
                              "(8 characters or more, not a word the report uses)", key)


def register_config_secrets(cfg: HarnessConfig) -> None:
    """Register every secret setting of a ``HarnessConfig`` (those marked ``secret``, and the
    URLs' userinfo and query) in every form it travels in.

    Header values, the cookie and each of its ``name=value`` values, and the token (also
    when read from ``token_file``). A header value that is no credential and too short or too
    common to mask (``X-Flag: failed``) is not registered: masking it would rewrite the
    report. Call it before anything about the run is written.

    Raises:
        ConfigError: the token read from ``token_file`` cannot be masked safely.
    """
    for setting in SETTINGS:
        value = cfg.get(setting.key)
        if not setting.secret or not value:
            continue
        if setting.repeatable:
            register_secrets(v for _, v in value if not unsafe_secret(v))
        elif not unsafe_secret(str(value)):
            register_secret(str(value))
    for key in URL_KEYS:
        url = cfg.get(key)
        if url:
            register_secrets(v for v in split_url(url).secrets() if not unsafe_secret(v))
    for cookie in (cfg.endpoint.cookie, cfg.get("candidate_cookie")):
        if cookie:
            register_cookie(str(cookie))
    for name, value in (*cfg.endpoint.header, *(cfg.get("candidate_header") or ())):
        if name.lower() in ("cookie", "set-cookie"):
            register_cookie(value)
        elif name.lower() in ("authorization", "proxy-authorization"):
            register_secret(value.partition(" ")[2].strip())
    token = cfg.token_value
    if token and not cfg.endpoint.token:
        check_secrets(cfg, token)
    register_secret(token)
