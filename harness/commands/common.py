"""What the sub-commands share: settings as flags, config loading, the console.

Text from the outside (server answers, pipeline output, file names, settings) reaches the
console only as :class:`rich.text.Text` (see :func:`line`), never inside a markup string:
``[/v1/models/x:predict]`` or ``[link=...]`` in a server's error body is shown as sent,
never read as a style, a link or a broken tag.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.text import Text

from harness.config import SETTINGS, HarnessConfig, cli_flag, env_var, load_config, read_config_file

# no emoji codes either: ":thumbs_up:" in a server's answer stays text
console = Console(stderr=False, highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


def line(*parts: str | tuple[str, str]) -> Text:
    """A console line from plain strings and ``(string, style)`` pairs; nothing in it is markup.

    Example:
        >>> line(("failed", "bold red"), " ", "[/v1/models/x:predict] 500").plain
        'failed [/v1/models/x:predict] 500'
    """
    return Text.assemble(*parts)


def add_settings(parser: argparse.ArgumentParser, groups: Iterable[str]) -> None:
    """One flag per setting of ``groups``; defaults stay unset so precedence works."""
    wanted = set(groups)
    parser.add_argument("--config", metavar="FILE", help="Config file (default: ./harness.toml, else [tool.mlharness] in ./pyproject.toml).")
    by_group: dict[str, argparse._ArgumentGroup] = {}
    for field in SETTINGS:
        meta = field.metadata
        if meta["group"] not in wanted:
            continue
        group = by_group.setdefault(meta["group"], parser.add_argument_group(f"{meta['group']} settings"))
        flag = cli_flag(field.name)
        help_text = f"{meta['help']} [{env_var(field.name)}; default: {_show(field.default)}]".replace("%", "%%")
        if meta["parse"].__name__ == "parse_bool":
            group.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif field.name == "header":
            group.add_argument(flag, dest=field.name, action="append", default=None, metavar="NAME:VALUE", help=help_text)
        else:
            group.add_argument(flag, dest=field.name, default=None, choices=meta["choices"], metavar=None if meta["choices"] else field.name.upper(), help=help_text)


def _show(value: Any) -> str:
    if value in ((), None):
        return "unset"
    return str(value)


def config_from_args(args: argparse.Namespace, **overrides: Any) -> HarnessConfig:
    """The run's config: flags > HARNESS_* environment > config file > defaults."""
    file, source = read_config_file(getattr(args, "config", None))
    names = {f.name for f in dataclasses.fields(HarnessConfig)}
    cli = {k: v for k, v in vars(args).items() if k in names and v is not None}
    cli.update(overrides)
    return load_config(cli=cli, env=os.environ, file=file, file_source=source or "config file")
