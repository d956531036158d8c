"""One generator of command-line options for both front ends (``mlharness`` and pytest).

Each setting becomes the same option under a prefix: ``--users`` / ``--harness-users``. A
boolean takes every spelling in both: ``--load``, ``--load false`` and ``--no-load``
(``--harness-load``, ``--harness-load false``, ``--harness-no-load``). Values stay raw strings;
:func:`harness.config.load_config` parses and validates them like any other source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from harness.config.settings import SETTINGS, Setting
from harness.config.sources import env_var


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: its flags and the keyword arguments of ``add_argument``/``addoption``."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any]


def _show(value: Any) -> str:
    return "unset" if value in ((), None) else str(value)


def options_for(setting: Setting, flag: Callable[[str], str], dest: str) -> list[Option]:
    """The option(s) of one setting: ``flag(key)`` names it, ``dest`` is where its value lands."""
    help_text = f"{setting.help} [{env_var(setting.key)}; default: {_show(setting.default)}]".replace("%", "%%")
    name = flag(setting.key)
    if setting.is_bool:
        negative = "--" + name.removeprefix("--").replace(setting.key.replace("_", "-"), "no-" + setting.key.replace("_", "-"), 1)
        return [
            Option((name,), {"dest": dest, "nargs": "?", "const": "true", "default": None, "metavar": "BOOL", "help": help_text}),
            Option((negative,), {"dest": dest, "action": "store_const", "const": "false", "default": None, "help": f"Same as {name} false."}),
        ]
    if setting.repeatable:
        return [Option((name,), {"dest": dest, "action": "append", "default": None, "metavar": "NAME:VALUE", "help": help_text})]
    metavar = None if setting.choices else setting.key.upper()
    return [Option((name,), {"dest": dest, "default": None, "choices": setting.choices, "metavar": metavar, "help": help_text})]


def settings_of(groups: tuple[str, ...] | None = None) -> list[Setting]:
    """The settings of ``groups`` (all when None), in table order."""
    return [s for s in SETTINGS if groups is None or s.group in groups]
