"""Which certificates verify an https endpoint: one rule for the client, probes and locust.

``--insecure`` turns verification off (and says so); ``--ca-cert FILE`` verifies with that
bundle; with neither, ``SSL_CERT_FILE`` or ``REQUESTS_CA_BUNDLE`` is honoured (the variables
users already set for a private CA), else certifi's bundle, as httpx and requests do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.config import EndpointSettings

CA_ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def ca_bundle(endpoint: EndpointSettings, env: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle to verify with, or None for the default one (certifi's)."""
    env = os.environ if env is None else env
    if endpoint.ca_cert:
        return str(endpoint.ca_cert)
    for var in CA_ENV_VARS:
        if env.get(var):
            return env[var]
    return None


def verify_setting(endpoint: EndpointSettings, env: Mapping[str, str] | None = None) -> str | bool:
    """httpx's ``verify=``: False when insecure, a bundle path, or True (certifi)."""
    if endpoint.insecure:
        return False
    return ca_bundle(endpoint, env) or True
