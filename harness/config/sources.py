"""Where settings come from: config files, the environment, flags; and the names they have there."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.config.settings import SETTING_NAMES, SETTINGS, Setting
from harness.errors import ConfigError

ENV_PREFIX = "HARNESS_"
CONFIG_FILE = "harness.toml"
PYPROJECT_TABLE = ("tool", "mlharness")
_BY_ATTR = {(s.group, s.attr): s.key for s in SETTINGS}


def env_var(name: str) -> str:
    """The environment variable of setting ``name``: ``HARNESS_<NAME>``."""
    return ENV_PREFIX + name.upper()


def cli_flag(name: str) -> str:
    """The CLI flag of setting ``name``: ``--name-with-dashes``."""
    return "--" + name.replace("_", "-")


def pytest_flag(name: str) -> str:
    """The pytest option of setting ``name``: ``--harness-name-with-dashes``."""
    return "--harness-" + name.replace("_", "-")


def parse_value(setting: Setting, raw: Any, source: str) -> Any:
    """``raw`` parsed as ``setting`` wants it; a ConfigError naming the key and the source."""
    if raw is None:
        return None
    try:
        value = setting.parse(raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{exc} (from {source})", setting.key) from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{value!r} is not one of {', '.join(setting.choices)} (from {source})", setting.key)
    return value


def unknown_key(key: str, source: str) -> ConfigError:
    """The error for a key no setting has, with the closest name there is.

    A key of a table comes as ``table.key`` (from :func:`_flatten`): the message names the
    table and suggests from the names that table accepts (``[slo] p95`` -> ``p95_ms``).
    """
    table, dot, name = key.rpartition(".")
    if dot:
        names = sorted({attr for group, attr in _BY_ATTR if group == table} | {k.removeprefix(f"{table}_") for k in SETTING_NAMES if k.startswith(f"{table}_")})
        close = difflib.get_close_matches(name, names, n=1) or difflib.get_close_matches(name, SETTING_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return ConfigError(f"unknown setting in table [{table}] (from {source}){hint}", key)
    close = difflib.get_close_matches(key, SETTING_NAMES, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown setting (from {source}){hint}", key)


# settings whose values are paths: a relative one in a config file is relative to that file
PATH_KEYS = frozenset({
    "report_dir", "golden_file", "state_dir", "baseline", "accepted_findings", "token_file", "model_artifact",
    "ca_cert", "kubeconfig", "contract", "data", "candidate_artifact", "candidate_ca_cert",
})
#: settings whose values are pipeline sources (``FILE.py[:FUNC]``, a compiled package, or the built-in ``builtin:iris``)
PIPELINE_KEYS = frozenset({"pipeline", "candidate_pipeline"})
# where the search for a config file stops going up: the root of a project or a repository
PROJECT_MARKERS = ("pyproject.toml", ".git")


def read_config_file(path: str | Path | None = None, cwd: str | Path = ".") -> tuple[dict[str, Any], str]:
    """The settings table of a config file, and where it came from.

    With no ``path``: ``harness.toml`` in ``cwd``, else ``[tool.mlharness]`` of its
    ``pyproject.toml``; if neither, the same in each parent directory up to the project's root
    (the first one with a ``pyproject.toml`` or ``.git``), so a run from ``tests/`` finds the
    project's settings; else nothing. Tables in the file (``[slo]``) are flattened with an
    underscore (``slo.p95_ms`` -> ``slo_p95_ms``). Relative paths in the file are relative to
    the file (see :func:`resolve_paths`).
    """
    if path is None:
        for base in (Path(cwd).resolve(), *Path(cwd).resolve().parents):
            found = _config_in(base)
            if found is not None:
                return found
            if any((base / marker).exists() for marker in PROJECT_MARKERS):
                break
        return {}, ""
    file = Path(path)
    if file.is_dir():
        raise ConfigError(f"{str(file)!r} is a directory; give the config file (e.g. {str(file / CONFIG_FILE)!r})", "config")
    if not file.is_file():
        raise ConfigError(f"config file {str(file)!r} does not exist", "config")
    data, source = _load_toml(file)
    if file.name == "pyproject.toml":
        data = _table(data, PYPROJECT_TABLE, source)
    return resolve_paths(_flatten(data), file.resolve().parent), source


def _config_in(base: Path) -> tuple[dict[str, Any], str] | None:
    """The settings of ``harness.toml`` or of ``[tool.mlharness]`` in ``pyproject.toml`` in ``base``."""
    for candidate in (base / CONFIG_FILE, base / "pyproject.toml"):
        if candidate.exists() and not candidate.is_file():  # a directory (or a socket) by that name
            raise ConfigError(f"{str(candidate)!r} is not a file; the harness reads its settings from a file of that name", "config")
        if candidate.is_file():
            data, source = _load_toml(candidate)
            if candidate.name == "pyproject.toml":
                data = _table(data, PYPROJECT_TABLE, source)
                if not data:
                    continue
            return resolve_paths(_flatten(data), base), source
    return None


def resolve_paths(values: Mapping[str, Any], base: Path) -> dict[str, Any]:
    """``values`` with each relative path made relative to ``base``, the config file's directory.

    Paths are the values of :data:`PATH_KEYS`, the file part of ``pipeline`` and
    ``candidate_pipeline`` (``FILE.py:FUNC`` or a YAML file; not the built-in ``builtin:iris``) and the entries of ``checks`` that are files (``*.py`` or with a ``/``;
    the others are module names). ``~`` is expanded. Values that are not strings are left for
    the setting's own parser to reject.
    """
    def under(value: str) -> str:
        path = Path(value).expanduser()
        return str(path) if path.is_absolute() else str(base / path)

    def check_source(value: str) -> str:
        return under(value) if value.endswith(".py") or "/" in value else value

    resolved = dict(values)
    for key, value in values.items():
        if key in PATH_KEYS and isinstance(value, str) and value:
            resolved[key] = under(value)
        elif key in PIPELINE_KEYS and isinstance(value, str) and value and not value.startswith("builtin:"):
            file, colon, func = value.rpartition(":")
            resolved[key] = f"{under(file)}:{func}" if colon and file.endswith(".py") else under(value)
        elif key == "checks" and isinstance(value, list | tuple):
            resolved[key] = [check_source(v.strip()) if isinstance(v, str) and v.strip() else v for v in value]
        elif key == "checks" and isinstance(value, str):
            resolved[key] = ",".join(check_source(v.strip()) for v in value.split(",") if v.strip())
    return resolved


def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not a UTF-8 text file (byte {exc.start} is 0x{exc.object[exc.start]:02x}); is it a TOML file?", "config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", "config") from None
    try:
        return tomllib.loads(text), str(path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "config") from None


def _table(data: Mapping[str, Any], keys: tuple[str, ...], source: str) -> dict[str, Any]:
    """The nested table ``keys`` (``[tool.mlharness]``), or an empty one; a ConfigError if it is not a table."""
    current: Any = data
    for depth, key in enumerate(keys):
        current = current.get(key, {})
        if not isinstance(current, Mapping):
            raise ConfigError(f"{'.'.join(keys[: depth + 1])} in {source} is not a table", "config")
    return dict(current)


def _flatten(data: Mapping[str, Any], table: str = "") -> dict[str, Any]:
    """Top-level keys as they are. In a table: ``[load] enabled`` is the key of that concern's
    attribute (``load``), ``[slo] p95_ms`` is ``slo_p95_ms`` if that is a key, else ``key``."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        key = key.replace("-", "_")
        name = key
        if table:
            by_attr = _BY_ATTR.get((table, key))
            name = by_attr or (f"{table}_{key}" if f"{table}_{key}" in SETTING_NAMES else key)
            if name not in SETTING_NAMES and not isinstance(value, Mapping):
                name = f"{table}.{key}"  # unknown: load_config names the table (unknown_key)
        if isinstance(value, Mapping) and name not in ("header", "versions"):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat
