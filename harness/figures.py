"""Derived figures and the way numbers are shown: each defined once, here.

**Derived figures.** A figure computed from counted ones has one definition, and its
"cannot be computed" case is part of it:

- :func:`error_rate` is ``failures / requests`` over the measured window, and ``None`` when
  there was no request (not measured: neither 0 % nor 100 %). What uses it decides what
  ``None`` means there: the ``slo.error_rate`` gate fails ("no request completed in the
  measured window"), the baseline comparison does not compare it (``baseline.error_rate`` is
  skipped), the views show a dash.
- :func:`per_second` is the throughput of a window: ``count / seconds``, 0.0 for an empty
  window (nothing was measured in it).
- :func:`relative_change` is the change against a baseline (0.25 = +25 %), ``None`` when
  either value is missing or the baseline is 0.

**Formatting.** One rule per kind of number; every message, console table and report view
goes through these functions. A missing value (``None``, NaN, a non-number) is shown as
:data:`DASH`.

======================  ============================================================  =====================
kind                    rule                                                          examples
======================  ============================================================  =====================
milliseconds            3 significant digits (the precision of the latency            ``0.0523 ms``,
                        histogram), integer digits never rounded away, trailing       ``4.21 ms``,
                        zeros dropped, thousands separated                            ``312 ms``, ``1,235 ms``
requests per second     one decimal, a trailing ``.0`` dropped, thousands separated   ``401.7 req/s``
percentages (a ratio)   3 significant digits of the percentage                        ``0.05 %``, ``33.3 %``
changes (a ratio)       a percentage as above, always signed                          ``+38 %``, ``-2.5 %``
durations (seconds)     2 decimals under 10 s, 1 under a minute, then min and s,      ``0.76 s``, ``42.1 s``,
                        then h and min                                                ``3 min 05 s``
sizes (bytes)           binary units, 3 significant digits                            ``512 B``, ``1.5 MiB``
counts                  an integer, thousands separated                               ``12,050``
plain numbers           4 significant digits; integers stay integers                  ``0.9556``, ``105``
======================  ============================================================  =====================

A message that compares a figure with its limit formats both with :func:`versus`, which adds
digits while rounding would make two different numbers look equal ("p95 100.03 ms > 100 ms",
never "p95 100 ms > 100 ms").

Example:
    >>> ms(312.575), per_second_text(401.66), percent(0.0005), change(0.38), duration(185)
    ('313 ms', '401.7 req/s', '0.05 %', '+38 %', '3 min 05 s')
    >>> versus("ms", 100.03, 100)
    ('100.03 ms', '100 ms')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

DASH = "—"
MS, RPS, RATIO, SECONDS, BYTES, COUNT = "ms", "req/s", "ratio", "s", "bytes", "count"
MB_PER_MIN = "MB/min"  # a memory trend: a plain number and its unit
_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


# --- derived figures -------------------------------------------------------------------------
def error_rate(requests: int, failures: int) -> float | None:
    """Failed requests as a fraction of all requests; None when there was no request."""
    if requests <= 0:
        return None
    return round(failures / requests, 6)


def per_second(count: float, seconds: float) -> float:
    """``count`` per second over a window of ``seconds`` (0.0 for an empty window), to 0.01."""
    return round(count / seconds, 2) if seconds > 0 else 0.0


def relative_change(current: float | None, baseline: float | None) -> float | None:
    """``(current - baseline) / baseline`` to 4 decimals; None when missing or the baseline is 0."""
    if current is None or baseline is None or baseline == 0:
        return None
    return round((current - baseline) / baseline, 4)


# --- formatting ------------------------------------------------------------------------------
def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, text, bool, NaN, infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits without an exponent; integer digits are kept."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    text = _trim(f"{value:,.{max(0, digits - 1 - magnitude)}f}")
    return "0" if text in ("-0", "") else text


def ms(value: Any, digits: int = 3) -> str:
    """Milliseconds: ``312 ms``, ``4.21 ms``, ``0.0523 ms``."""
    number = finite(value)
    return DASH if number is None else f"{significant(number, digits)} ms"


def per_second_text(value: Any, decimals: int = 1) -> str:
    """Requests per second: ``401.7 req/s``, ``395 req/s``."""
    number = finite(value)
    return DASH if number is None else f"{_trim(f'{number:,.{decimals}f}')} req/s"


def percent(ratio: Any, digits: int = 3) -> str:
    """A ratio as a percentage: 0.0005 is ``0.05 %``, 1.0 is ``100 %``."""
    number = finite(ratio)
    return DASH if number is None else f"{significant(number * 100, digits)} %"


def change(ratio: Any, digits: int = 3) -> str:
    """A relative change, signed: 0.38 is ``+38 %``, -0.025 is ``-2.5 %``."""
    number = finite(ratio)
    if number is None:
        return DASH
    shown = significant(number * 100, digits)
    return f"{'+' if number > 0 and not shown.startswith('-') else ''}{shown} %"


def duration(seconds: Any) -> str:
    """Seconds: ``0.76 s``, ``42.1 s``, ``3 min 05 s``, ``1 h 02 min``."""
    number = finite(seconds)
    if number is None:
        return DASH
    if number < 10:
        return f"{number:.2f} s"
    if number < 59.95:
        return f"{number:.1f} s"
    if round(number) < 3600:
        minutes, rest = divmod(round(number), 60)
        return f"{minutes} min {rest:02d} s"
    hours, rest = divmod(round(number / 60), 60)
    return f"{hours} h {rest:02d} min"


def size(n_bytes: Any) -> str:
    """Bytes in binary units: ``512 B``, ``1.5 KiB``, ``4.21 MiB``."""
    number = finite(n_bytes)
    if number is None:
        return DASH
    unit = 0
    while abs(number) >= 1024 and unit < len(_SIZE_UNITS) - 1:
        number /= 1024
        unit += 1
    return f"{significant(number, 3) if unit else f'{number:,.0f}'} {_SIZE_UNITS[unit]}"


def count(value: Any) -> str:
    """A count: ``12,050``."""
    number = finite(value)
    return DASH if number is None else f"{round(number):,}"


def number(value: Any, digits: int = 4) -> str:
    """A plain figure (a metric, an axis tick): ``0.9556``, ``105``, ``12,050``."""
    figure = finite(value)
    if figure is None:
        return DASH
    if figure.is_integer() and abs(figure) < 1e15:
        return f"{int(figure):,}"
    return significant(figure, digits)


_BY_UNIT: dict[str, Callable[..., str]] = {
    MS: ms,
    RPS: per_second_text,
    RATIO: percent,
    SECONDS: duration,
    BYTES: size,
    COUNT: count,
    MB_PER_MIN: lambda value, digits=4: _with_suffix(number(value, digits), " MB/min"),
}


def _with_suffix(shown: str, suffix: str) -> str:
    return shown if shown == DASH else shown + suffix


def with_unit(value: Any, unit: str = "") -> str:
    """``value`` by the rule of ``unit`` (``ms``, ``req/s``, ``ratio``, ``s``, ``bytes``, ``count``); else a plain number."""
    return _BY_UNIT.get(unit, number)(value)


def versus(unit: str, value: Any, limit: Any) -> tuple[str, str]:
    """``value`` and ``limit`` by the rule of ``unit``, with digits added while two different
    numbers would look the same (up to three more)."""
    shown = with_unit(value, unit), with_unit(limit, unit)
    formatter = _BY_UNIT.get(unit)
    a, b = finite(value), finite(limit)
    if formatter is None or formatter in (duration, count) or a is None or b is None or a == b:
        return shown
    base = 1 if formatter is per_second_text else 3
    for extra in range(1, 4):
        if shown[0] != shown[1]:
            break
        shown = formatter(a, base + extra), formatter(b, base + extra)
    return shown
