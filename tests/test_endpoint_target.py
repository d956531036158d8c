"""The endpoint target: headers from the settings, readiness with a timeout, secrets never shown."""

from __future__ import annotations

import random
import string
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import PipelineError, WaitTimeout
from harness.targets import TargetContext, make_target
from harness.targets.endpoint import EndpointTarget, build_endpoint, endpoint_headers
from tests.helpers.fault_server import FaultServer

URL = "http://127.0.0.1:9"  # discard port: nothing answers


def test_headers_carry_host_extra_headers_cookie_and_token() -> None:
    cfg = load_config(
        cli={"target": "endpoint", "url": URL, "host_header": "sklearn-iris.admin.example.com", "header": ["X-Team:ml", "X-Env:ci"], "cookie": "authservice_session=abc123456", "token": "tok-xyz-123"},
        env={},
    )
    assert endpoint_headers(cfg) == {
        "Host": "sklearn-iris.admin.example.com",
        "X-Team": "ml",
        "X-Env": "ci",
        "Cookie": "authservice_session=abc123456",
        "Authorization": "Bearer tok-xyz-123",
    }
    assert build_endpoint(cfg).as_dict()["headers"]["Cookie"] == "***"


def test_token_file_is_read_and_its_token_registered_as_a_secret(tmp_path: Path) -> None:
    from harness.redact import redact

    secret = f"file-token-{uuid.uuid4().hex}"
    (tmp_path / "token").write_text(secret + "\n")
    cfg = load_config(cli={"target": "endpoint", "url": URL, "token_file": str(tmp_path / "token")}, env={})
    target = make_target(TargetContext(cfg, tmp_path))
    assert isinstance(target, EndpointTarget)
    assert endpoint_headers(cfg)["Authorization"] == f"Bearer {secret}"
    assert secret not in redact(f"got {secret}")


def test_target_shape_and_no_pipeline(tmp_path: Path) -> None:
    cfg = load_config(cli={"target": "endpoint", "url": URL, "model_artifact": str(tmp_path)}, env={})
    target = EndpointTarget(TargetContext(cfg, tmp_path))
    assert (target.runs_pipelines, target.deploys) == (False, False)
    assert target.model_artifact() == tmp_path
    with pytest.raises(PipelineError, match="runs no pipeline"):
        target.run_pipeline(tmp_path / "pipeline.yaml")


def test_unreachable_endpoint_times_out_and_writes_diagnostics(tmp_path: Path) -> None:
    cfg = load_config(cli={"target": "endpoint", "url": URL, "ready_timeout": "1s", "request_timeout": "0.5s"}, env={})
    target = EndpointTarget(TargetContext(cfg, tmp_path))
    with pytest.raises(WaitTimeout, match="timed out after 1s"):
        target.deploy(None)
    files = target.diagnostics(tmp_path / "diagnostics")
    assert [f.name for f in files] == ["endpoint-probe.txt"]
    assert "GET /v1/models/sklearn-iris" in files[0].read_text()


def test_an_unready_grpc_service_fails_the_wait_and_shows_in_the_diagnostics(tmp_path: Path) -> None:
    from tests.helpers.grpc_stub import GrpcStub

    with GrpcStub("unavailable") as stub:
        cli = {"target": "endpoint", "url": URL, "grpc_url": stub.address, "ready_timeout": "1s", "request_timeout": "0.5s"}
        target = EndpointTarget(TargetContext(load_config(cli=cli, env={}), tmp_path))
        with pytest.raises(WaitTimeout, match="V2 gRPC at 127.0.0.1"):
            target.deploy(None)
        files = target.diagnostics(tmp_path / "diagnostics")
    assert f"gRPC ServerReady at {stub.address}: UNAVAILABLE" in files[0].read_text()


@pytest.mark.e2e  # a whole mlharness run
def test_secrets_never_reach_the_console_or_any_report_file(model_dir: Path, tmp_path: Path) -> None:
    """Cookie, token and header values go out with every request but are never written down.

    The server echoes the request headers into its error bodies (and answers 500, so the
    bodies land in the report as findings): the secrets reach the harness and must be
    masked on the way out.
    """
    # Kubeflow >= 1.8's oauth2-proxy session cookie is often 400+ characters; bodies are cut
    # at 200-2,000 characters on their way into reports, so a cut must never leave a piece of it
    cookie = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=400))
    token = "".join(random.Random(8).choices(string.ascii_letters + string.digits, k=300))
    header = f"header-{uuid.uuid4().hex}"
    report_dir = tmp_path / "report"
    with FaultServer(model_dir, "echo-headers", tmp_path / "server.log") as server:
        proc = subprocess.run(
            [
                sys.executable, "-m", "harness", "run", "--target", "endpoint", "--url", server.url,
                "--model-name", "sklearn-iris", "--host-header", "sklearn-iris.admin.example.com",
                "--cookie", f"oauth2_proxy_kubeflow={cookie}; authservice_session={header}x", "--token", token, "--header", f"X-Api-Secret:{header}",
                "--model-artifact", str(model_dir), "--no-load", "--robustness-profile", "ci",
                "--request-timeout", "2s", "--ready-timeout", "5s", "--report-dir", str(report_dir),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )
    console = proc.stdout + proc.stderr
    assert proc.returncode == 1, console  # the echoing server answers 500 to malformed input
    files = [p for p in report_dir.rglob("*") if p.is_file()]
    assert any(p.name == "report.json" for p in files)
    report = (report_dir / "report.json").read_text()
    assert "request headers" in report and "'Cookie\\\\': \\\\'***" in report  # echoed, then masked
    for secret in (cookie, token, header):
        pieces = {secret[i : i + 12] for i in range(len(secret) - 11)}
        assert not [p for p in pieces if p in console], "a piece of a secret in the console output"
        for path in files:
            text = path.read_bytes().decode("utf-8", errors="replace")
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"{len(leaked)} pieces of a secret written to {path}, e.g. {leaked[0]!r}"
