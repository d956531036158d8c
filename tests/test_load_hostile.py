"""The load generator against hostile and real-world endpoints (127.0.0.1 only, 2-4 s windows).

Each test runs real locust processes through :func:`harness.load.run_load` against
``tests/helpers/load_server.py`` in one of its modes: https with a CA made here (trustme), a
redirect to another port, an error body echoing the credentials, a body that drips or never
ends, a V2-only server; and kills the harness while locust starts, waits and loads.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from harness import procs
from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.load import LoadResult, run_load
from harness.procs.waiting import wait_until
from harness.results import Endpoint
from tests.test_load_runner import _locust_pids

TOKEN = "eyJhbGciOiJSUzI1NiJ9.bG9hZC1zZWNyZXQtdG9rZW4.s1gn4tur3-q8x"
COOKIE_VALUE = "".join(chr(ord("A") + (i * 11) % 26) + chr(ord("a") + (i * 5) % 26) for i in range(200))  # 400 characters


def _cfg(**changes: object) -> HarnessConfig:
    base: dict[str, object] = {"users": 2, "spawn_rate": 100, "duration": 2.0, "warmup": 0.0, "load_processes": 1}
    base.update(changes)
    return HarnessConfig().replace(**base)


def _stats(endpoint: Endpoint, verify: object = False) -> dict[str, int]:
    return dict(httpx.get(f"{endpoint.base_url}/stats", timeout=5, verify=verify).json())  # type: ignore[arg-type]


# --- TLS -------------------------------------------------------------------------------------
@pytest.fixture
def https_stub(stub: Callable[..., Endpoint], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Endpoint, Path]:
    trustme = pytest.importorskip("trustme", reason="pip install -e '.[dev]' (trustme makes the test CA)")
    ca = trustme.CA()
    ca_file, pair = tmp_path / "ca.pem", tmp_path / "server.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pair))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    base = stub("--delay-ms", "1", "--tls-cert", str(pair), "--tls-key", str(pair))
    return Endpoint(base.base_url.replace("http:", "https:"), "stub", headers={"Authorization": f"Bearer {TOKEN}"}), ca_file


@pytest.mark.parametrize("trust", ["ca_cert", "SSL_CERT_FILE", "insecure"])
def test_https_loads_when_the_ca_is_given_or_checks_are_off(https_stub: tuple[Endpoint, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trust: str) -> None:
    endpoint, ca_file = https_stub
    changes: dict[str, object] = {"ca_cert": str(ca_file)} if trust == "ca_cert" else {"insecure": True} if trust == "insecure" else {}
    if trust == "SSL_CERT_FILE":
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    result = run_load(endpoint, _cfg(**changes), tmp_path)
    assert result.requests > 0 and result.failures == 0, result.failures_by_kind


def test_https_without_the_ca_fails_every_request_and_sends_no_credential(https_stub: tuple[Endpoint, Path], tmp_path: Path) -> None:
    endpoint, _ = https_stub
    result = run_load(endpoint, _cfg(), tmp_path)
    assert result.requests > 0 and result.failures == result.requests
    (kind,) = {(f.status, "CERTIFICATE_VERIFY_FAILED" in f.message) for f in result.failures_by_kind}
    assert kind == (0, True), result.failures_by_kind
    assert _stats(endpoint)["hits"] == 0, "a request reached the server over an unverified connection"


def test_a_ca_file_that_holds_no_certificate_fails_every_request_with_the_reason(https_stub: tuple[Endpoint, Path], tmp_path: Path) -> None:
    endpoint, _ = https_stub
    bogus = tmp_path / "not-a-ca.pem"
    bogus.write_text("not a certificate\n")
    result = run_load(endpoint, _cfg(ca_cert=str(bogus)), tmp_path)
    assert result.requests > 0 and result.failures == result.requests, "a TLS set-up error must not end the load silently"
    assert all(f.status == 0 and "SSLError" in f.message for f in result.failures_by_kind), result.failures_by_kind
    assert _stats(endpoint)["hits"] == 0


# --- redirects -------------------------------------------------------------------------------
def test_a_redirect_is_a_counted_failure_and_never_followed(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    elsewhere = stub("--delay-ms", "1")
    endpoint = stub("--delay-ms", "1", "--redirect-to", f"{elsewhere.base_url}/login")
    secret = Endpoint(endpoint.base_url, "stub", headers={"X-Api-Key": "api-key-that-must-stay-home"})
    result = run_load(secret, _cfg(load_protocol="v1"), tmp_path)
    assert _stats(elsewhere)["hits"] == 0, "the redirect was followed to another port"
    assert result.requests > 0 and result.failures == result.requests
    (kind,) = result.failures_by_kind
    assert (kind.name, kind.status) == ("v1", 307)
    assert kind.message == f"HTTP 307 redirect to {elsewhere.base_url}/login/v1/models/stub:predict (not followed)"


# --- secrets ---------------------------------------------------------------------------------
def test_credentials_echoed_whole_or_in_part_land_in_no_load_file(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    base = stub("--delay-ms", "1", "--echo")
    headers = {"Cookie": f"oauth2_proxy_kubeflow={COOKIE_VALUE}", "Authorization": f"Bearer {TOKEN}"}
    result = run_load(Endpoint(base.base_url, "stub", headers=headers), _cfg(), tmp_path)
    assert result.requests > 0 and result.failures == result.requests
    assert {f.status for f in result.failures_by_kind} == {400}
    assert all(f.message.startswith("HTTP 400: ") and "***" in f.message for f in result.failures_by_kind)
    files = [p for p in (tmp_path / "load").rglob("*") if p.is_file()]
    assert any(p.parent.name == "results" for p in files)
    texts = {str(p): p.read_text(errors="replace") for p in files} | {"result": str(result.as_dict())}
    for secret in (COOKIE_VALUE, TOKEN):
        runs = {secret[i:i + 12] for i in range(len(secret) - 11)}
        leaks = {where: run for where, text in texts.items() for run in runs if run in text}
        assert not leaks, f"secret characters written: {leaks}"


# --- stalls and endless bodies ---------------------------------------------------------------
@pytest.mark.parametrize("drip_s", [0.3, 5.0])
def test_a_dripping_answer_fails_at_the_total_deadline(stub: Callable[..., Endpoint], tmp_path: Path, drip_s: float) -> None:
    endpoint = stub("--delay-ms", "0", "--drip", str(drip_s))
    started = time.monotonic()
    result = run_load(endpoint, _cfg(duration=4.0, request_timeout=1.0), tmp_path)
    assert time.monotonic() - started < 60, "the load phase was not bounded"
    assert result.complete and result.requests >= 2 and result.failures == result.requests
    (kind,) = {(f.status, f.message) for f in result.failures_by_kind}
    assert kind == (0, "no complete answer within 1s (request_timeout)")
    # a byte every 0.3 s never trips a per-read timeout of 1 s: only a total deadline ends it
    assert result.latency_ms.count == 0


def test_an_endless_body_fails_at_max_response_bytes_with_bounded_memory(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    endpoint = stub("--delay-ms", "0", "--stream")
    peak: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in _locust_pids(str(tmp_path)):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) if "VmRSS" in status else 0  # type: ignore[union-attr]
                peak[pid] = max(peak.get(pid, 0), rss)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run_load(endpoint, _cfg(duration=3.0, max_response_bytes=4 << 20), tmp_path)
    finally:
        done.set()
        sampler.join(5)
    assert result.requests > 0 and result.failures == result.requests
    assert {(f.status, f.message) for f in result.failures_by_kind} == {(200, "HTTP 200 answer over 4194304 bytes (max_response_bytes), cut off")}
    # ~55 MB at rest; 2 users may hold 4 MiB each: unbounded reads or bodies kept alive grow past it
    assert peak and max(peak.values()) < 150_000, f"locust's memory (kB): {peak}"


# --- protocols -------------------------------------------------------------------------------
def test_a_v2_only_server_is_loaded_over_v2_and_an_explicit_v1_is_refused_first(stub: Callable[..., Endpoint], tmp_path: Path) -> None:
    base = stub("--delay-ms", "1", "--protocols", "v2")
    endpoint = Endpoint(base.base_url, "stub", protocols=("v2",))
    result: LoadResult = run_load(endpoint, _cfg(batch_size=3), tmp_path / "auto")
    assert result.protocol == "v2" and set(result.by_protocol) == {"v2"}
    assert result.requests > 0 and result.failures == 0, result.failures_by_kind
    with pytest.raises(ConfigError, match="load_protocol: v1 needs V1, but the endpoint speaks V2"):
        run_load(endpoint, _cfg(load_protocol="v1"), tmp_path / "v1")
    assert not (tmp_path / "v1" / "load").exists(), "locust was started"


# --- no orphan load --------------------------------------------------------------------------
DRIVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from harness.config import HarnessConfig
    from harness.load.plan import LoadPlan
    from harness.load.run import LocalLoad
    from harness.results import Endpoint
    url, out, phase = sys.argv[1:4]
    cfg = HarnessConfig().replace(users=2, duration=120.0, warmup=0.0, load_processes=2)
    load = LocalLoad(LoadPlan.from_config(Endpoint(url, "stub"), cfg), Path(out) / "load")
    if phase == "load":
        load.run()
    else:
        load.prestart()
        print("spawned", flush=True)
        time.sleep(600)
    """
)


@pytest.mark.parametrize("phase", ["import", "go-wait", "load"])
def test_killing_the_harness_leaves_no_locust_within_2s(stub: Callable[..., Endpoint], tmp_path: Path, phase: str) -> None:
    endpoint = stub("--delay-ms", "5")
    log = tmp_path / "load" / "locust-local.log"
    driver = procs.spawn([sys.executable, "-c", DRIVER, endpoint.base_url, str(tmp_path), phase], log_path=tmp_path / "driver.log")
    try:
        alive = lambda: None if driver.poll() is None else f"the driver exited: {(tmp_path / 'driver.log').read_text()}"  # noqa: E731
        if phase == "import":
            wait_until(lambda: "spawned" in _read(tmp_path / "driver.log") and _locust_pids(str(tmp_path)), what="locust to be spawned", timeout=60, interval=0.005, abort=alive)
            assert "Starting Locust" not in _read(log), "locust had finished importing"
        elif phase == "go-wait":
            wait_until(lambda: "2 workers connected" in _read(log), what="locust's workers to wait for the go", timeout=60, abort=alive)
        else:
            wait_until(lambda: _stats(endpoint)["requests"] > 0, what="load to reach the server", timeout=60, abort=alive)
        assert _locust_pids(str(tmp_path)), "no locust process to orphan"
        os.kill(driver.pid, signal.SIGKILL)
        killed = time.monotonic()
        while _locust_pids(str(tmp_path)) and time.monotonic() - killed < 2.0:
            time.sleep(0.02)
        left = _locust_pids(str(tmp_path))
    finally:
        procs.stop(driver)
        for pid in _locust_pids(str(tmp_path)):  # do not leave them running if the test failed
            os.kill(pid, signal.SIGKILL)
    assert not left, f"locust processes outlived the harness by 2 s: {left}"


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
