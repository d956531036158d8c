"""Reports: ``report.json`` (the truth, written incrementally) and what is rendered from it."""

from harness.record import SCHEMA_VERSION
from harness.reports.writer import ReportWriter

__all__ = ["SCHEMA_VERSION", "ReportWriter"]
