"""What the sub-commands share: settings as flags, config loading, the console.

Text from the outside (server answers, pipeline output, file names, settings) reaches the
console only as :class:`rich.text.Text` (see :func:`line`), never inside a markup string:
``[/v1/models/x:predict]`` or ``[link=...]`` in a server's error body is shown as sent,
never read as a style, a link or a broken tag.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.text import Text

from harness.config import SETTING_NAMES, HarnessConfig, cli_flag, load_config, read_config_file
from harness.config.options import options_for, settings_of
from harness.redact import redact

# no emoji codes either: ":thumbs_up:" in a server's answer stays text
console = Console(stderr=False, highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


def line(*parts: str | tuple[str, str]) -> Text:
    """A console line from plain strings and ``(string, style)`` pairs; nothing in it is markup,
    and the plain strings (server text, messages) are redacted (:func:`harness.redact.redact`).

    Example:
        >>> line(("failed", "bold red"), " ", "[/v1/models/x:predict] 500").plain
        'failed [/v1/models/x:predict] 500'
    """
    return Text.assemble(*(redact(p) if isinstance(p, str) else p for p in parts))


def add_settings(parser: argparse.ArgumentParser, groups: Iterable[str]) -> None:
    """One flag per setting of ``groups``; defaults stay unset so precedence works."""
    wanted = tuple(groups)
    parser.add_argument("--config", metavar="FILE", help="Config file (default: ./harness.toml, else [tool.mlharness] in ./pyproject.toml).")
    by_group: dict[str, argparse._ArgumentGroup] = {}
    for setting in settings_of(wanted):
        group = by_group.setdefault(setting.group, parser.add_argument_group(f"{setting.group} settings"))
        for option in options_for(setting, cli_flag, setting.key):
            group.add_argument(*option.flags, **option.kwargs)


def config_from_args(args: argparse.Namespace, **overrides: Any) -> HarnessConfig:
    """The run's config: flags > HARNESS_* environment > config file > defaults."""
    file, source = read_config_file(getattr(args, "config", None))
    cli = {k: v for k, v in vars(args).items() if k in SETTING_NAMES and v is not None}
    cli.update(overrides)
    return load_config(cli=cli, env=os.environ, file=file, file_source=source or "config file")
