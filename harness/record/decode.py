"""Plain JSON back into the harness's frozen dataclasses, tolerantly.

``report.json`` is the serialisation of typed records (``as_dict()``); reading one back
(``mlharness report``, ``compare``, a baseline) rebuilds the types with :func:`decode`. A report
may come from a run that stopped anywhere, from an older writer or from a hand edit: a value
that does not fit its field's declared type falls back to the field's default (or None where
the type allows it), so every view renders from complete, well-typed objects and never has to
ask whether a key exists.

Example:
    >>> from harness.results import CheckResult
    >>> decode(CheckResult, {"name": "predict.golden", "status": "passed", "duration_s": "x"}).duration_s
    0.0
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")
_MISSING = object()


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type[T], data: Any) -> T:
    """An instance of the dataclass ``cls`` from ``data`` (a mapping); unusable fields get defaults.

    Raises:
        ValueError: ``data`` is not a mapping, or a required field (no default) is missing or unusable.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an object for {cls.__name__}, got {type(data).__name__}")
    hints = _hints(cls)  # type: ignore[arg-type]  # classes are hashable
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init:
            continue
        raw = data.get(field.name, _MISSING)
        value = _MISSING if raw is _MISSING else _convert(hints[field.name], raw)
        if value is _MISSING:
            if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING:
                continue
            if _allows_none(hints[field.name]):
                value = None
            else:
                raise ValueError(f"{cls.__name__}.{field.name}: " + ("missing" if raw is _MISSING else f"unusable ({raw!r})"))
        values[field.name] = value
    return cls(**values)


def _allows_none(tp: Any) -> bool:
    return _is_union(tp) and type(None) in get_args(tp)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _convert(tp: Any, raw: Any) -> Any:
    """``raw`` as type ``tp``, or _MISSING when it does not fit."""
    if tp is Any:
        return raw
    if _is_union(tp):
        if raw is None and type(None) in get_args(tp):
            return None
        for option in get_args(tp):
            if option is type(None):
                continue
            value = _convert(option, raw)
            if value is not _MISSING:
                return value
        return _MISSING
    origin = get_origin(tp)
    if origin in (tuple, list):
        if not isinstance(raw, list | tuple):
            return _MISSING
        args = get_args(tp)
        item = args[0] if args else Any
        items = [_convert(item, v) for v in raw]
        items = [v for v in items if v is not _MISSING]  # a broken entry is dropped, not the whole list
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(raw, Mapping):
            return _MISSING
        args = get_args(tp)
        value_type = args[1] if len(args) == 2 else Any
        converted = {str(k): _convert(value_type, v) for k, v in raw.items()}
        return {k: v for k, v in converted.items() if v is not _MISSING}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(raw)
        except ValueError:
            return _MISSING
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        try:
            return decode(tp, raw)
        except ValueError:
            return _MISSING
    if tp is bool:
        return raw if isinstance(raw, bool) else _MISSING
    if tp is int:
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else _MISSING
    if tp is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
            return float(raw)
        return _MISSING
    if tp is str:
        return raw if isinstance(raw, str) else _MISSING
    return raw
