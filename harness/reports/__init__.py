"""Reports: ``report.json`` (the truth, written incrementally) and what is rendered from it."""

from harness.reports.writer import SCHEMA_VERSION, ReportWriter

__all__ = ["SCHEMA_VERSION", "ReportWriter"]
