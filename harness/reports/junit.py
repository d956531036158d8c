"""``junit.xml``: the checks of a run as JUnit test cases, for CI systems' test views.

Mapping (one ``<testcase>`` per check, in run order):

- ``classname`` is the check's prefix before the first dot (``pipeline`` for
  ``pipeline.lint``), ``name`` the full check name, ``time`` its duration;
- ``failed`` and ``error`` get a ``<failure>`` whose ``type`` is the status and whose
  ``message`` is the check's message; ``skipped`` gets ``<skipped>``; ``warned`` counts
  as passed and carries its message in ``<system-out>``;
- the run itself (status, target, exit code, commit) is in the suite's ``<properties>``,
  and a run-level error in the suite's ``<system-err>``.

Built with :mod:`xml.etree.ElementTree`, with characters XML 1.0 forbids removed, so the
file always parses.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from harness.record import RunRecord
from harness.reports.view import group, text
from harness.results import CheckStatus

JUNIT_FILE = "junit.xml"
# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates and U+FFFE/U+FFFF
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as text that XML 1.0 can carry."""
    return _INVALID_XML.sub("\ufffd", text(value))


def build_junit(record: RunRecord) -> ET.Element:
    """The ``<testsuites>`` element for ``record``."""
    checks = record.checks
    attrs = {
        "tests": str(len(checks)),
        "failures": str(sum(1 for c in checks if c.failed)),
        "errors": "0",
        "skipped": str(record.count(CheckStatus.SKIPPED)),
        "time": f"{sum(c.duration_s for c in checks):.3f}",  # JUnit's own format: seconds with 3 decimals
    }
    root = ET.Element("testsuites", {"name": "mlharness", **attrs})
    env = record.environment
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": xml_text(f"mlharness.{record.target or 'unknown'}"),
            **attrs,
            "timestamp": xml_text(record.started_at),
            "hostname": xml_text(env.host) or "unknown",
        },
    )
    properties = ET.SubElement(suite, "properties")
    run_properties = {
        "status": record.status.value,
        "target": record.target,
        "exit_code": record.exit_code,
        "schema_version": record.schema_version,
        "mlharness": env.mlharness,
        "git_commit": env.git_commit,
    }
    for key, value in run_properties.items():
        ET.SubElement(properties, "property", {"name": key, "value": xml_text(value)})
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": xml_text(group(check)), "name": xml_text(check.name), "time": f"{check.duration_s:.3f}"},
        )
        message = xml_text(check.message)
        if check.failed:
            failure = ET.SubElement(case, "failure", {"message": message, "type": check.status.value})
            details = json.dumps(check.details, indent=2, sort_keys=True, default=str) if check.details else ""
            failure.text = "\n\n".join(p for p in (message, xml_text(details)) if p)
        elif check.status is CheckStatus.SKIPPED:
            ET.SubElement(case, "skipped", {"message": message})
        elif message:
            out = ET.SubElement(case, "system-out")
            out.text = f"warned: {message}" if check.status is CheckStatus.WARNED else message
    if record.error:
        err = ET.SubElement(suite, "system-err")
        err.text = xml_text(f"run {record.status.value}: {record.error}")
    return root


def render_junit(record: RunRecord) -> str:
    """``junit.xml`` text (with an XML declaration) for ``record``."""
    root = build_junit(record)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
