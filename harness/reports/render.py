"""Render a run's ``report.json`` into ``report.html``, ``summary.md`` and ``junit.xml``.

JSON is the truth; the other files are views of it, re-creatable at any time with
``mlharness report RUN_DIR``. Templates get data only (see :mod:`harness.reports.view`)
and the HTML environment autoescapes everything, so a check message containing markup
shows up as text. The HTML is self-contained (inline CSS, inline SVG, no scripts) so it
opens offline and can be archived as the sign-off document of a release.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from harness.reports.junit import JUNIT_FILE, render_junit
from harness.reports.view import build_view
from harness.reports.writer import REPORT_FILE, atomic_write_text, load_report

HTML_FILE = "report.html"
SUMMARY_FILE = "summary.md"
DASH = "—"
_MD_SPECIAL = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]",
     "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "}
)


# --- filters: formatting only, no markup -------------------------------------------------------
def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def fmt_num(value: Any, digits: int = 2) -> str:
    """A number with at most ``digits`` decimals (integers stay integers); text passes through."""
    number = _finite(value)
    if number is None:
        return DASH if value is None or value == "" else str(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    shown = f"{number:,.{digits}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def fmt_duration(value: Any) -> str:
    """Seconds as ``0.76 s``, ``42.1 s`` or ``3 min 05 s``."""
    seconds = _finite(value)
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def fmt_percent(value: Any, digits: int = 2) -> str:
    """A ratio (0.0123) as a percentage (1.23 %)."""
    ratio = _finite(value)
    return DASH if ratio is None else f"{ratio * 100:.{digits}f} %"


def fmt_change(value: Any) -> str:
    """A change already in percent, signed: ``+4.2 %``."""
    change = _finite(value)
    return DASH if change is None else f"{change:+.1f} %"


def fmt_value(value: Any, unit: str = "") -> str:
    """An observed value or a threshold with its unit (a ``ratio`` is shown as a percentage)."""
    if unit in ("ratio", "fraction"):
        return fmt_percent(value, 3)
    shown = fmt_num(value, 1 if unit in ("ms", "req/s") else 2)
    return f"{shown} {unit}" if unit and shown != DASH else shown


def md_escape(value: Any) -> str:
    """Text safe inside Markdown (and a GFM table cell): no markup, links, HTML or line breaks."""
    return ("" if value is None else str(value)).translate(_MD_SPECIAL)


def md_fenced(value: Any, limit: int = 2000) -> str:
    """Text as a fenced Markdown code block (shown verbatim), cut to ``limit`` characters.

    The fence is longer than any run of backticks in the text, so the text cannot close it.
    """
    body = "" if value is None else str(value)
    if len(body) > limit:
        body = body[:limit].rstrip() + "\n… (cut; the full text is in report.json)"
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


FILTERS = {
    "num": fmt_num,
    "dur": fmt_duration,
    "pct": fmt_percent,
    "change": fmt_change,
    "value": fmt_value,
    "md": md_escape,
    "fenced": md_fenced,
}


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.reports", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render_html(report: Mapping[str, Any]) -> str:
    """The self-contained HTML report of ``report`` (autoescaped)."""
    return _environment(autoescape=True).get_template("report.html").render(build_view(report))


def render_summary(report: Mapping[str, Any]) -> str:
    """The short Markdown verdict of ``report``, for CI job summaries and PR comments."""
    return _environment(autoescape=False).get_template("summary.md").render(build_view(report))


def _write(path: Path, content: str) -> Path:
    return atomic_write_text(path, content)  # never a truncated or 0-byte file, even on a full disk


def render_all(report_dir: Path) -> list[Path]:
    """Write ``report.html``, ``summary.md`` and ``junit.xml`` next to ``report_dir/report.json``.

    Raises:
        FileNotFoundError, ValueError: there is no readable mlharness ``report.json``.
    """
    report_dir = Path(report_dir)
    report = load_report(report_dir / REPORT_FILE)
    return [
        _write(report_dir / HTML_FILE, render_html(report)),
        _write(report_dir / SUMMARY_FILE, render_summary(report)),
        _write(report_dir / JUNIT_FILE, render_junit(report)),
    ]
