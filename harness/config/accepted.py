"""Accepted findings: known robustness findings of a server you cannot patch before a release.

A team on a stock runtime (MLServer, KServe's sklearn server) may know it answers 500 to some
malformed inputs and be unable to fix that this week. An accepted-findings file lists such
findings per category, each with a reason; a finding that matches an entry is reported as
*accepted* (in the check's message and details, and in ``robustness.json``) and does not fail
the run. Anything not listed still fails. An entry that matched nothing is reported as
stale, so the file does not outlive the bug.

The file is TOML or JSON (by its suffix; any other suffix is tried as TOML, then JSON)::

    [[accept]]
    category = "ragged_rows"   # required: a category of robustness.bad_inputs
    protocol = "v2"            # optional: only over this protocol (v1 or v2)
    status = 500               # optional: only these HTTP statuses: 500, "5xx" or [500, 503]
    reason = "MLServer 1.7.1 answers 500 to ragged data; fixed in our next runtime bump"

JSON: ``{"accept": [{"category": ..., "reason": ...}, ...]}`` or the bare list. An entry
narrowed by ``status`` never matches a request that got no answer (a hang, a dead server).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.config.categories import CATEGORIES
from harness.errors import ConfigError

KEY = "accepted_findings"
FIELDS = ("category", "protocol", "status", "reason")
_STATUS_CLASS = re.compile(r"^[1-5]xx$")


@dataclasses.dataclass(frozen=True)
class AcceptedEntry:
    """One entry of the file: which findings it accepts, and why."""

    index: int  # 1-based, as people count entries in a file
    category: str
    reason: str
    protocol: str | None = None
    statuses: tuple[int | str, ...] = ()

    def matches(self, category: str, protocol: str, status: int | None) -> bool:
        """Whether a finding of ``category`` over ``protocol`` with HTTP ``status`` is accepted."""
        if category != self.category or (self.protocol is not None and protocol != self.protocol):
            return False
        if not self.statuses:
            return True
        if status is None:
            return False
        return any(status == s if isinstance(s, int) else str(status)[0] == s[0] for s in self.statuses)

    def describe(self) -> str:
        """``ragged_rows over V2, HTTP 500``."""
        where = f" over {self.protocol.upper()}" if self.protocol else ""
        statuses = f", HTTP {'/'.join(str(s) for s in self.statuses)}" if self.statuses else ""
        return f"{self.category}{where}{statuses}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry": self.index,
            "category": self.category,
            "protocol": self.protocol,
            "status": list(self.statuses) or None,
            "reason": self.reason,
        }


@dataclasses.dataclass(frozen=True)
class AcceptedFindings:
    """The entries of one file (none: nothing is accepted)."""

    entries: tuple[AcceptedEntry, ...] = ()
    source: str | None = None

    def match(self, category: str, protocol: str, status: int | None) -> AcceptedEntry | None:
        """The first entry that accepts this finding, or None."""
        return next((e for e in self.entries if e.matches(category, protocol, status)), None)

    def stale(self, used: Iterable[AcceptedEntry | None]) -> list[AcceptedEntry]:
        """Entries that accepted none of the findings (``used``: each finding's entry)."""
        seen = {e.index for e in used if e is not None}
        return [e for e in self.entries if e.index not in seen]


def load_accepted(path: str | Path | None) -> AcceptedFindings:
    """Read and check an accepted-findings file (None: an empty set).

    Raises:
        ConfigError: (key ``accepted_findings``) the file is missing or does not parse, or an
            entry has an unknown category or field, a protocol the category is not sent over,
            a bad status or no reason; the message names the entry.
    """
    if path is None:
        return AcceptedFindings()
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"file {str(file)!r} does not exist", KEY)
    data = _parse(file)
    raw = data.get("accept") if isinstance(data, dict) else data
    if isinstance(data, dict) and set(data) - {"accept"}:
        raise ConfigError(f"{file}: unknown top-level key(s) {sorted(set(data) - {'accept'})}; list entries under 'accept'", KEY)
    if not isinstance(raw, list):
        raise ConfigError(f"{file}: expected a list of entries under 'accept' ([[accept]] in TOML)", KEY)
    entries = tuple(_entry(file, i, item) for i, item in enumerate(raw, start=1))
    return AcceptedFindings(entries, str(file))


def _parse(file: Path) -> Any:
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {file}: {exc}", KEY) from None
    readers = {".json": [_json], ".toml": [_toml]}.get(file.suffix.lower(), [_toml, _json])
    errors = []
    for read in readers:
        try:
            return read(text)
        except ValueError as exc:
            errors.append(str(exc))
    raise ConfigError(f"{file} does not parse: {'; '.join(errors)}", KEY)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None


def _toml(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None


def _entry(file: Path, index: int, item: Any) -> AcceptedEntry:
    def fail(problem: str) -> ConfigError:
        category = item.get("category") if isinstance(item, dict) else None
        named = f" (category {category!r})" if isinstance(category, str) else ""
        return ConfigError(f"{file}, entry {index}{named}: {problem}", KEY)

    if not isinstance(item, dict):
        raise fail(f"expected a table of {', '.join(FIELDS)}, got {type(item).__name__}")
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise fail(f"unknown field(s) {unknown}; an entry has {', '.join(FIELDS)}")
    category = item.get("category")
    if not isinstance(category, str) or category not in CATEGORIES:
        close = difflib.get_close_matches(str(category), CATEGORIES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(CATEGORIES)}"
        raise fail(f"unknown category {category!r}{hint}")
    reason = item.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise fail("no reason: say why this finding is accepted (a ticket, an upstream issue, a date to revisit)")
    protocol = item.get("protocol")
    if protocol is not None and protocol not in CATEGORIES[category].protocols:
        raise fail(f"protocol {protocol!r}: {category} is sent over {' and '.join(CATEGORIES[category].protocols)} only")
    return AcceptedEntry(index, category, reason.strip(), protocol, _statuses(item.get("status"), fail))


def _statuses(value: Any, fail: Any) -> tuple[int | str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    statuses: list[int | str] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            statuses.append(item)
        elif isinstance(item, str) and _STATUS_CLASS.match(item.strip().lower()):
            statuses.append(item.strip().lower())
        else:
            raise fail(f"status {item!r}: expected an HTTP status (500), a class (\"5xx\") or a list of them")
    return tuple(statuses)
