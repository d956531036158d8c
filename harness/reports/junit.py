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
from collections.abc import Mapping
from typing import Any

from harness.reports.view import FAILING, checks_view, text

JUNIT_FILE = "junit.xml"
# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates and U+FFFE/U+FFFF
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as text that XML 1.0 can carry."""
    return _INVALID_XML.sub("\ufffd", text(value))


def _details(report: Mapping[str, Any], name: str) -> str:
    for check in report.get("checks") or []:
        if isinstance(check, Mapping) and check.get("name") == name and check.get("details"):
            return json.dumps(check["details"], indent=2, sort_keys=True, default=str)
    return ""


def build_junit(report: Mapping[str, Any]) -> ET.Element:
    """The ``<testsuites>`` element for ``report``."""
    checks = checks_view(report)
    total_time = sum(c["duration_s"] or 0.0 for c in checks)
    failures = sum(1 for c in checks if c["status"] in FAILING)
    skipped = sum(1 for c in checks if c["status"] == "skipped")
    attrs = {
        "tests": str(len(checks)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{total_time:.3f}",
    }
    root = ET.Element("testsuites", {"name": "mlharness", **attrs})
    raw_env = report.get("environment")
    env: Mapping[str, Any] = raw_env if isinstance(raw_env, Mapping) else {}
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": xml_text(f"mlharness.{text(report.get('target')) or 'unknown'}"),
            **attrs,
            "timestamp": xml_text(report.get("started_at")),
            "hostname": xml_text(env.get("host")) or "unknown",
        },
    )
    properties = ET.SubElement(suite, "properties")
    for key in ("status", "target", "exit_code", "schema_version"):
        ET.SubElement(properties, "property", {"name": key, "value": xml_text(report.get(key))})
    for key in ("mlharness", "git_commit"):
        ET.SubElement(properties, "property", {"name": key, "value": xml_text(env.get(key))})
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": xml_text(check["group"]),
                "name": xml_text(check["name"]),
                "time": f"{check['duration_s'] or 0.0:.3f}",
            },
        )
        message = xml_text(check["message"])
        if check["status"] in FAILING:
            failure = ET.SubElement(case, "failure", {"message": message, "type": check["status"]})
            failure.text = "\n\n".join(p for p in (message, xml_text(_details(report, check["name"]))) if p)
        elif check["status"] == "skipped":
            ET.SubElement(case, "skipped", {"message": message})
        elif message:
            out = ET.SubElement(case, "system-out")
            out.text = f"{check['status']}: {message}" if check["status"] == "warned" else message
    if report.get("error"):
        err = ET.SubElement(suite, "system-err")
        err.text = xml_text(f"run {text(report.get('status'))}: {text(report.get('error'))}")
    return root


def render_junit(report: Mapping[str, Any]) -> str:
    """``junit.xml`` text (with an XML declaration) for ``report``."""
    root = build_junit(report)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
