"""Render a run's ``report.json`` into ``report.html``, ``summary.md`` and ``junit.xml``.

JSON is the truth; the other files are views of the :class:`~harness.record.RunRecord` read
from it, re-creatable at any time with ``mlharness report RUN_DIR``. Templates get data only
(see :mod:`harness.reports.view`), format numbers with :mod:`harness.figures` (the filters
below) and the HTML environment autoescapes everything, so a check message containing markup
shows up as text. The HTML is self-contained (inline CSS, inline SVG, no scripts) so it
opens offline and can be archived as the sign-off document of a release.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2

from harness import figures
from harness.record import RunRecord
from harness.reports.junit import JUNIT_FILE, render_junit
from harness.reports.view import build_view
from harness.reports.writer import REPORT_FILE, atomic_write_text

HTML_FILE = "report.html"
SUMMARY_FILE = "summary.md"
_MD_SPECIAL = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]",
     "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "}
)


# --- filters: formatting (harness.figures) and escaping, no markup -----------------------------
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


def split_unit(shown: str) -> tuple[str, str]:
    """A formatted figure as (number, unit), to set the unit smaller: ``401.7 req/s`` -> ``("401.7", "req/s")``."""
    number, _, unit = shown.partition(" ")
    return number, unit


FILTERS = {
    "ms": figures.ms,
    "rps": figures.per_second_text,
    "pct": figures.percent,
    "change": figures.change,
    "dur": figures.duration,
    "size": figures.size,
    "count": figures.count,
    "num": figures.number,
    "value": figures.with_unit,
    "split_unit": split_unit,
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


def render_html(record: RunRecord, schema_version: int | None = None) -> str:
    """The self-contained HTML report of ``record`` (autoescaped)."""
    return _environment(autoescape=True).get_template("report.html").render(build_view(record, schema_version))


def render_summary(record: RunRecord) -> str:
    """The short Markdown verdict of ``record``, for CI job summaries and PR comments."""
    return _environment(autoescape=False).get_template("summary.md").render(build_view(record))


def _write(path: Path, content: str) -> Path:
    return atomic_write_text(path, content)  # never a truncated or 0-byte file, even on a full disk


def read_record(path: Path) -> tuple[RunRecord, int]:
    """The record in a ``report.json`` and the schema version the file was written with.

    Raises:
        FileNotFoundError, OSError: the file cannot be read.
        ValueError: not JSON (``json.JSONDecodeError``), not an mlharness report, or a schema
            this mlharness does not read (:meth:`RunRecord.from_dict`).
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    record = RunRecord.from_dict(data)
    return record, data["schema_version"]


def render_all(report_dir: Path) -> list[Path]:
    """Write ``report.html``, ``summary.md`` and ``junit.xml`` next to ``report_dir/report.json``.

    The file is read into a :class:`~harness.record.RunRecord` (schema 1 or 2; what does not
    fit its type is dropped there), and every view renders from that record.

    Raises:
        FileNotFoundError, ValueError: there is no readable mlharness ``report.json``.
    """
    report_dir = Path(report_dir)
    record, schema_version = read_record(report_dir / REPORT_FILE)
    return [
        _write(report_dir / HTML_FILE, render_html(record, schema_version)),
        _write(report_dir / SUMMARY_FILE, render_summary(record)),
        _write(report_dir / JUNIT_FILE, render_junit(record)),
    ]
