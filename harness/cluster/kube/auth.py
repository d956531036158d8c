"""Credentials for an existing Kubeflow behind Dex/oauth2-proxy: a cookie or a bearer token.

The same credentials go to ``kfp.Client`` (``cookies=`` / ``existing_token=``) and to every
inference request (``Cookie`` / ``Authorization`` headers). They are registered with
:mod:`harness.redact` as soon as they are read, so no log, report or dry-run shows them.
"""

from __future__ import annotations

import dataclasses

from harness.config import HarnessConfig
from harness.redact import register_secrets


@dataclasses.dataclass(frozen=True)
class Auth:
    """What the run authenticates with (both optional)."""

    cookie: str | None = None
    token: str | None = None

    @classmethod
    def from_config(cls, cfg: HarnessConfig) -> Auth:
        auth = cls(cookie=cfg.endpoint.cookie, token=cfg.token_value)
        register_secrets([auth.cookie, auth.token, *(v for _, v in cfg.endpoint.header)])
        return auth

    def headers(self, cfg: HarnessConfig | None = None) -> dict[str, str]:
        """Request headers: Cookie, Authorization, the Host header and extra headers."""
        headers: dict[str, str] = {}
        if cfg is not None:
            headers.update(dict(cfg.endpoint.header))
            if cfg.endpoint.host_header:
                headers["Host"] = cfg.endpoint.host_header
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def kfp_kwargs(self) -> dict[str, str]:
        """Keyword arguments of ``kfp.Client`` for these credentials."""
        kwargs: dict[str, str] = {}
        if self.cookie:
            kwargs["cookies"] = self.cookie
        if self.token:
            kwargs["existing_token"] = self.token
        return kwargs

    def __repr__(self) -> str:  # never show the values
        return f"Auth(cookie={'***' if self.cookie else None}, token={'***' if self.token else None})"
