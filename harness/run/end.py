"""What the end of a run does, as parts the run puts together (:meth:`harness.run.runner.ValidationRun.end`).

Signals no longer raise while a run ends (:func:`harness.procs.cleaning_up`); a second one hurries
the end (diagnostics cut short, children killed without grace). The verdict goes to disk first,
so even a SIGKILL from then on leaves an ended ``report.json``; then what the run holds is
released, diagnostics are collected (bounded by ``diagnostics_timeout``), the target is torn
down, and the final report and its HTML, Markdown and JUnit views are written. Each part here
returns what it found; the run records it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from harness import procs
from harness.errors import EXIT_FAILED, EXIT_INFRA, EXIT_INTERRUPTED, EXIT_PASSED
from harness.procs.bounded import call_within
from harness.results import RunStatus
from harness.targets.base import Target

Progress = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How the run ended: its status, exit code and error line."""

    status: RunStatus
    code: int
    error: str | None = None


INTERRUPTED = Verdict(RunStatus.INTERRUPTED, EXIT_INTERRUPTED, "interrupted")


def shielded(end: Callable[[threading.Event], Verdict], hurried: Callable[[], Verdict]) -> Verdict:
    """``end(hurry)`` with signals shielded; a KeyboardInterrupt that slipped in before the shield
    was up starts it again, hurried; after three, ``hurried()`` (the verdict and the views alone)."""
    hurry_now = False
    for _attempt in range(3):
        try:
            with procs.cleaning_up(hurry_now) as hurry:
                return end(hurry)
        except KeyboardInterrupt:
            hurry_now = True
    return hurried()


def release(holds: Iterable[tuple[str, Callable[[], None]]]) -> dict[str, str]:
    """Release each of ``holds`` (a client, a prestarted locust); the ones that failed, by name."""
    failed: dict[str, str] = {}
    for name, let_go in holds:
        try:
            let_go()
        except Exception as exc:  # noqa: BLE001 - nothing in the cleanup may skip the report
            failed[name] = f"failed: {exc}"
    return failed


def diagnose(target: Target, out_dir: Path, timeout: float, hurry: threading.Event, progress: Progress) -> tuple[str, list[str]]:
    """The target's diagnostics, within ``timeout``; a second signal stops the wait. What happened, and the files."""
    if hurry.is_set():
        return "skipped: a second signal arrived", []
    progress("collecting diagnostics")
    done = call_within(lambda: target.diagnostics(out_dir), timeout, hurry, "mlharness-diagnostics")
    if done.abandoned or done.error:  # diagnostics must never mask the real failure
        note = done.abandoned or f"failed: {done.error}"
        progress(f"diagnostics {note}")
        return note, []
    files = [str(f) for f in done.value or []]
    return f"collected {len(files)} file(s)", files


def tear_down(target: Target, hurry: threading.Event, progress: Progress) -> tuple[str, str | None]:
    """Tear the target down: what happened, and the error line if it failed."""
    try:
        target.teardown()
    except Exception as exc:  # noqa: BLE001 - reported, and the run says so
        progress(f"teardown failed: {exc}")
        return f"failed: {type(exc).__name__}: {exc}", f"{type(exc).__name__}: {exc}"
    return ("hurried by a second signal" if hurry.is_set() else "done"), None


def unwritten(verdict: Verdict, error: str) -> Verdict:
    """The verdict of a run whose final report could not be written: an error, exit 3 unless the
    run already had a code of its own beyond passed and failed."""
    return Verdict(RunStatus.ERROR, verdict.code if verdict.code not in (EXIT_PASSED, EXIT_FAILED) else EXIT_INFRA, error)


def render_views(report_dir: Path, progress: Progress) -> dict[str, str]:
    """Render report.html, summary.md and junit.xml from report.json; the files by kind ({} if rendering failed)."""
    try:
        from harness.reports.render import render_all

        files = render_all(report_dir)
    except Exception as exc:  # noqa: BLE001 - a broken template or a full disk must not lose the JSON truth
        progress(f"rendering the reports failed: {exc}")
        return {}
    return {p.suffix.lstrip(".") or p.name: str(p) for p in files}
