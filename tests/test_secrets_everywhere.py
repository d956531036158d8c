"""Issue 24: secrets wherever users put them, against a server that echoes everything it got.

The echo server (``tests/helpers/hostile_server.py``) answers every error with the method, the path
with its query, every header, every cookie and the body, JSON-escaped; it refuses any request
without the URL's Basic credentials and query key. A whole run (verification, robustness and
load) must send both on every request and write no 12-character piece of any secret, in any
encoding (raw, JSON-escaped, URL-encoded, base64), to any report file or the console.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from harness.config.urls import masked, split_url
from harness.record import mask_argv
from harness.redact import MASK, redact, redact_obj, register_secret
from tests.helpers.hostile_server import HostileServer

from .conftest import REPO


def _random(seed: int, n: int = 24) -> str:
    return "".join(random.Random(seed).choices(string.ascii_letters + string.digits, k=n))


def forms(secret: str) -> dict[str, str]:
    """The encodings a secret may travel in."""
    return {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "url": quote(secret, safe=""),
        "base64": base64.b64encode(secret.encode()).decode(),
    }


def pieces(secret: str, n: int = 12) -> set[str]:
    return {text[i : i + n] for text in forms(secret).values() for i in range(max(0, len(text) - n + 1))}


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [f"{name}: {p!r}" for name, secret in secrets.items() for p in pieces(secret) if p in text]


def test_split_and_mask_the_url() -> None:
    parts = split_url("http://al%40ice:pa%3Ass-word-1@host:8080/base/?api_key=k3y-k3y-k3y&v=2")
    assert (parts.base, parts.username, parts.password, parts.query) == ("http://host:8080/base", "al@ice", "pa:ss-word-1", "api_key=k3y-k3y-k3y&v=2")
    assert parts.basic_auth == "Basic " + base64.b64encode(b"al@ice:pa:ss-word-1").decode()
    assert masked("http://u:p@h/x?api_key=abc&v=2") == "http://***:***@h/x?api_key=***&v=***"
    assert masked("http://h:1") == "http://h:1"


def test_every_encoding_of_a_secret_is_masked() -> None:
    secret = 'quo"ted\\value-' + _random(1, 12)
    register_secret(secret)
    for name, form in forms(secret).items():
        assert form not in redact(f"echo: {form} end"), name
    register_secret('"' + _random(2, 16) + '"')  # a quoted cookie value: the inner value too
    assert _random(2, 16) not in redact(f"value={_random(2, 16)}")


def test_masking_never_rewrites_the_reports_own_fields() -> None:
    register_secret("a-failed-secret-value")  # even a registered secret holding the word leaves statuses alone
    data = redact_obj({"status": "failed", "target": "endpoint", "checks": [{"name": "x", "status": "failed", "message": "a-failed-secret-value"}]})
    assert data == {"status": "failed", "target": "endpoint", "checks": [{"name": "x", "status": "failed", "message": MASK}]}


def test_values_that_would_mask_the_reports_words_are_refused_or_left_alone() -> None:
    from harness.config import load_config
    from harness.config.secrets import register_config_secrets
    from harness.errors import ConfigError
    from harness.redact import unsafe_secret

    assert [unsafe_secret(v) is None for v in ("failed", "mlharness", "predict.golden", "report.json", "s3cret-pass")] == [False] * 4 + [True]
    with pytest.raises(ConfigError, match="header: the value of header 'X-Api-Key' cannot be masked safely"):
        load_config(cli={"header": ["X-Api-Key:predict.golden"]}, env={})
    cfg = load_config(cli={"header": ["X-Trace:report.json", "X-Flag:failed"]}, env={})  # no credentials: not masked
    register_config_secrets(cfg)
    assert redact("report.json: failed") == "report.json: failed"


def test_the_argv_record_masks_secret_flags_and_url_credentials() -> None:
    argv = ["run", "--url", "http://u:pw-123456@h/?api_key=k3y-k3y-k3y", "--header", "X-Key:abcdefgh-1", "--cookie=s=abcdefgh-2", "--users", "4"]
    assert mask_argv(argv) == ["run", "--url", "http://***:***@h/?api_key=***", "--header", "X-Key:***", "--cookie=***", "--users", "4"]


@pytest.mark.e2e  # a whole endpoint run: verification, robustness and load
def test_no_piece_of_any_secret_reaches_a_report_file_or_the_console(tmp_path: Path) -> None:
    password, key, cookie = _random(11), _random(12), _random(13)
    header = 'tok"' + _random(15, 16) + '\\end'  # JSON-escaped when echoed
    secrets = {"password": password, "basic": f"alice:{password}", "query key": key, "cookie": cookie, "header": header}
    (tmp_path / "harness.toml").write_text(f"[endpoint.header]\n\"X-Api-Token\" = '{header}'\n")  # from the config file
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env["HARNESS_COOKIE"] = f'session="{cookie}"'  # a quoted cookie value (RFC 6265), from the environment
    env["PYTHONPATH"] = str(REPO)
    report_dir = tmp_path / "report"
    with HostileServer("echo", tmp_path, basic=f"alice:{password}", require_query=f"api_key={key}") as server:
        url = f"http://alice:{password}@127.0.0.1:{server.port}/?api_key={key}"
        proc = subprocess.run(
            [sys.executable, "-m", "harness", "run", "--target", "endpoint", "--url", url,
             "--duration", "3s", "--warmup", "1s", "--users", "2", "--load-processes", "1", "--request-timeout", "2s",
             "--ready-timeout", "10s", "--report-dir", str(report_dir)],
            capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=env,
        )
        requests = [r for r in server.requests() if r["path"] != "/__hostile/alive"]
    console = proc.stdout + proc.stderr
    assert proc.returncode == 1, console
    report = json.loads((report_dir / "report.json").read_text())
    assert report["status"] == "failed" and report["checks"]
    assert next(c for c in report["checks"] if c["name"] == "deploy.ready")["status"] == "passed"
    # the key and the credentials went with every request, the load's included
    basic = "Basic " + base64.b64encode(f"alice:{password}".encode()).decode()
    assert requests and all(r["path"].endswith(f"?api_key={key}") for r in requests), {r["path"] for r in requests}
    assert all(r["headers"].get("Authorization") == basic for r in requests)
    assert sum(r["method"] == "POST" for r in requests) > 20, "the load sent (almost) nothing"
    assert report["load"]["requests"] > 0
    found = leaks(console, secrets)
    assert not found, f"on the console: {found[:3]}"
    files = [p for p in report_dir.rglob("*") if p.is_file()]
    assert {"report.json", "summary.md", "junit.xml"} <= {p.name for p in files}
    for path in files:
        found = leaks(path.read_bytes().decode("utf-8", errors="replace"), secrets)
        assert not found, f"{path.relative_to(report_dir)}: {found[:3]}"


@pytest.mark.e2e  # a whole endpoint run (CLI subprocess)
def test_a_report_says_failed_whatever_the_header_values_are(tmp_path: Path) -> None:
    """``X-Flag: failed`` is no credential: not masked, so the report's own words stay."""
    report_dir = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    with HostileServer("wrong", tmp_path) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "harness", "run", "--target", "endpoint", "--url", server.url, "--no-load", "--no-robustness",
             "--header", "X-Flag:failed", "--header", "X-Other:passed", "--request-timeout", "2s", "--ready-timeout", "10s",
             "--report-dir", str(report_dir)],
            capture_output=True, text=True, timeout=180, check=False, cwd=tmp_path, env=env,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((report_dir / "report.json").read_text())
    assert report["status"] == "failed"
    failed = [c["name"] for c in report["checks"] if c["status"] == "failed"]
    assert "predict.golden" in failed
    junit = (report_dir / "junit.xml").read_text()
    assert f'failures="{len(failed)}"' in junit and "***" not in junit.split("<testsuite", 1)[1].split(">", 1)[0]
    assert "0 failed" not in (report_dir / "summary.md").read_text()
