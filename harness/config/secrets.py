"""The secrets a config holds, handed to :mod:`harness.redact` to be masked everywhere.

Here, not in ``redact``: the base layer knows nothing of settings; the config registers its
own values with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.config.settings import SETTINGS
from harness.redact import register_cookie, register_secret, register_secrets

if TYPE_CHECKING:
    from harness.config import HarnessConfig


def register_config_secrets(cfg: HarnessConfig) -> None:
    """Register every secret setting of a ``HarnessConfig`` (those marked ``secret``).

    Header values, the cookie and each of its ``name=value`` values, and the token (also
    when read from ``token_file``). Call it before anything about the run is written.
    """
    for setting in SETTINGS:
        value = cfg.get(setting.key)
        if not setting.secret or not value:
            continue
        if setting.repeatable:
            register_secrets(v for _, v in value)
        else:
            register_secret(str(value))
    if cfg.endpoint.cookie:
        register_cookie(str(cfg.endpoint.cookie))
    for name, value in cfg.endpoint.header:
        if name.lower() in ("cookie", "set-cookie"):
            register_cookie(value)
        elif name.lower() in ("authorization", "proxy-authorization"):
            register_secret(value.partition(" ")[2].strip())
    register_secret(cfg.token_value)
