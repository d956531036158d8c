"""The one place a run ends: stop what runs, diagnose, tear down, finish the report.

Signals no longer raise here (:func:`harness.procs.cleaning_up`); a second one hurries the
end (diagnostics cut short, children killed without grace). The verdict goes to disk first,
so even a SIGKILL from then on leaves a finished ``report.json``; then diagnostics (bounded by
``diagnostics_timeout``), teardown, the final report and its HTML, Markdown and JUnit views.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from typing import TYPE_CHECKING

from harness import procs
from harness.errors import EXIT_FAILED, EXIT_INFRA, EXIT_INTERRUPTED, EXIT_PASSED
from harness.procs.bounded import call_within
from harness.redact import redact
from harness.reports.writer import ReportWriteError
from harness.results import RunStatus

if TYPE_CHECKING:
    from harness.run.runner import ValidationRun


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How the steps ended: the run's status, exit code and error line."""

    status: RunStatus
    code: int
    error: str | None = None


INTERRUPTED = Verdict(RunStatus.INTERRUPTED, EXIT_INTERRUPTED, "interrupted")


def end(run: ValidationRun, verdict: Verdict) -> Verdict:
    """End ``run`` with ``verdict``; a KeyboardInterrupt that slipped in before the shield was up
    starts the end again, hurried."""
    hurried = False
    for _attempt in range(3):
        try:
            with procs.cleaning_up(hurried) as hurry:
                return _close(run, verdict, hurry)
        except KeyboardInterrupt:
            hurried = True
    return finish(run, verdict)


def _close(run: ValidationRun, verdict: Verdict, hurry: threading.Event) -> Verdict:
    cleanup: dict[str, str] = {}
    with contextlib.suppress(ReportWriteError):  # the verdict on disk first: a SIGKILL from here on still leaves it
        run.report.finish(verdict.status, verdict.code, redact(verdict.error) if verdict.error else None)
    for name, release in run.releases():
        try:
            release()
        except Exception as exc:  # noqa: BLE001 - nothing in the cleanup may skip the report
            cleanup[name] = f"failed: {exc}"
    if verdict.status is not RunStatus.PASSED:
        cleanup["diagnostics"] = _diagnostics(run, hurry)
    if run.cfg.core.keep and verdict.status is RunStatus.PASSED:
        cleanup["teardown"] = "skipped: keep is set"
    else:
        started = time.perf_counter()
        try:
            run.target.teardown()
            cleanup["teardown"] = "hurried by a second signal" if hurry.is_set() else "done"
        except Exception as exc:  # noqa: BLE001 - reported, and the run says so
            cleanup["teardown"] = f"failed: {type(exc).__name__}: {exc}"
            run.progress(f"teardown failed: {exc}")
            if verdict.status is RunStatus.PASSED:  # what was deployed may still be up
                verdict = Verdict(RunStatus.ERROR, EXIT_INFRA, f"teardown failed: {type(exc).__name__}: {exc}")
        run.record.add_phase("teardown", time.perf_counter() - started)
    run.record.cleanup = cleanup
    return finish(run, verdict)


def _diagnostics(run: ValidationRun, hurry: threading.Event) -> str:
    """The target's diagnostics, within ``diagnostics_timeout``; a second signal stops the wait."""
    if hurry.is_set():
        return "skipped: a second signal arrived"
    run.progress("collecting diagnostics")
    done = call_within(lambda: run.target.diagnostics(run.report_dir / "diagnostics"), run.cfg.core.diagnostics_timeout, hurry, "mlharness-diagnostics")
    if done.abandoned or done.error:  # diagnostics must never mask the real failure
        note = done.abandoned or f"failed: {done.error}"
        run.progress(f"diagnostics {note}")
        return note
    files = [str(f) for f in done.value or []]
    run.record.artifacts["diagnostics"] = files
    return f"collected {len(files)} file(s)"


def finish(run: ValidationRun, verdict: Verdict) -> Verdict:
    """Final status, exit code and rendered views; a report that cannot be written is exit 3."""
    order = {name: i for i, name in enumerate(run.registry.names())}
    run.record.checks.sort(key=lambda c: order.get(c.name, len(order)))  # registry order, whichever front end ran them
    try:
        run.report.finish(verdict.status, verdict.code, redact(verdict.error) if verdict.error else None)
    except ReportWriteError as exc:
        run.progress(str(exc))
        run.report.close()
        code = verdict.code if verdict.code not in (EXIT_PASSED, EXIT_FAILED) else EXIT_INFRA
        return Verdict(RunStatus.ERROR, code, str(exc))
    _render(run)
    run.report.close()
    return verdict


def _render(run: ValidationRun) -> None:
    try:
        from harness.reports.render import render_all

        files = render_all(run.report_dir)
        run.record.artifacts.update({p.suffix.lstrip(".") or p.name: str(p) for p in files})
        run.report.flush()
    except Exception as exc:  # noqa: BLE001 - a broken template or a full disk must not lose the JSON truth
        run.progress(f"rendering the reports failed: {exc}")
