"""The pytest plugin, tested with pytester: options, config errors, fixtures, markers.

Sessions run in a subprocess: an in-process run restores ``sys.modules`` afterwards, and
modules first imported inside it (httpcore's) would come back as second copies.
"""

import json
from pathlib import Path

import pytest

from harness.config import SETTINGS, pytest_flag
from harness.results import Endpoint

pytest_plugins = ["pytester"]


def test_every_setting_has_a_harness_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    text = result.stdout.str()
    missing = [pytest_flag(s.key) for s in SETTINGS if pytest_flag(s.key) not in text]
    assert missing == []
    assert "mlharness: validate ML deployments on Kubeflow" in text


def test_bad_option_value_is_a_usage_error_naming_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--harness-users", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--harness-users*positive*"])


def test_target_choices_are_checked(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--harness-target", "nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice*nowhere*"])


@pytest.mark.e2e  # a whole pytest session in a subprocess: the fast tier keeps the ones that stop at the usage error
def test_env_and_config_file_reach_the_fixture(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makefile(".toml", harness="users = 3\n[slo]\np95_ms = 42\n")
    monkeypatch.setenv("HARNESS_SPAWN_RATE", "7")
    pytester.makepyfile(
        """
        def test_cfg(harness_config):
            assert harness_config.load.users == 5  # the option beats the file
            assert harness_config.slo.p95_ms == 42
            assert harness_config.load.spawn_rate == 7
        """
    )
    result = pytester.runpytest_subprocess("--harness-users", "5")
    result.assert_outcomes(passed=1)


@pytest.mark.e2e  # a whole pytest session in a subprocess: the fast tier keeps the ones that stop at the usage error
def test_cluster_tests_skip_with_a_reason_naming_the_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cluster
        def test_needs_cluster():
            raise AssertionError("must not run on the local target")
        """
    )
    result = pytester.runpytest_subprocess("-rs", "--strict-markers")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*--harness-target kind|minikube|kubeconfig*"])


@pytest.mark.e2e  # a pytester session that runs the checks through the plugin
def test_fixtures_can_be_overridden_one_at_a_time(pytester: pytest.Pytester, served: Endpoint, tmp_path: Path) -> None:
    """A conftest's ``harness_endpoint`` (and artifact) is what the client and the checks use:
    the local target's pipeline never runs."""
    pytester.makeconftest(
        f"""
        import pytest
        from harness.results import Endpoint

        @pytest.fixture(scope="session")
        def harness_endpoint():
            return Endpoint("{served.base_url}", "sklearn-iris", protocols=("v1",))

        @pytest.fixture(scope="session")
        def harness_model_artifact():
            return None
        """
    )
    pytester.makepyfile(
        f"""
        import pytest
        from mlharness_fixtures.plugin import assert_check

        def test_client(harness_client):
            assert harness_client.endpoint.base_url == "{served.base_url}"
            assert harness_client.ready()

        @pytest.mark.harness_checks("predict")
        def test_check(harness_check, harness_check_name):
            assert_check(harness_check(harness_check_name))
        """
    )
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess("--harness-report-dir", str(report))
    result.assert_outcomes(passed=3, skipped=2)  # parity: no artifact; protocols: V1 only
    checks = {c["name"]: c for c in json.loads((report / "report.json").read_text())["checks"]}
    assert checks["predict.golden"]["status"] == "passed" and "over V1" in checks["predict.golden"]["message"]
    assert "pipeline.run" not in checks and not (report / "pipeline.log").exists()


def test_an_in_process_session_leaves_its_callers_children_alone(pytester: pytest.Pytester, served: Endpoint) -> None:
    from harness.inference.client import InferenceClient

    pytester.makepyfile("def test_x(): pass")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)  # in-process on purpose: that is where it bit
    with InferenceClient(served) as client:
        assert client.ready(), "the inner pytest session stopped the outer session's model server"


@pytest.mark.e2e  # a pytester session that runs a validation through the plugin
def test_a_users_client_reads_the_output_the_contract_names_as_the_checks_do(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """A server answers two V2 outputs: ``predict`` (a name the reader prefers when none is given)
    with a constant, and ``truth`` with the right classes. The contract names ``truth``: the
    ``predict.*`` checks and a user's ``harness_client`` read that tensor, both of them."""
    (tmp_path / "data.csv").write_text("a,b,c,d,label\n" + "".join(f"{i}.0,{i}.0,{i}.0,{i}.0,{i}\n" for i in (0, 1, 2) for _ in range(3)))
    contract = tmp_path / "contract.toml"
    contract.write_text(f'[model]\nname = "two-outputs"\ntask = "classification"\ndata = "{tmp_path / "data.csv"}"\n'
                        'label_column = "label"\nclasses = [0, 1, 2]\noutput = "truth"\n\n'
                        '[[model.golden]]\ninstances = [[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]]\n'
                        'predictions = [0, 1, 2]\n')
    pytester.makeconftest(
        """
        import json, threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import pytest
        from harness.results import Endpoint


        class TwoOutputs(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["inputs"][0]["data"]
                rows = rows if rows and isinstance(rows[0], list) else [rows[i:i + 4] for i in range(0, len(rows), 4)]
                n = len(rows)
                body = json.dumps({"model_name": "m", "outputs": [
                    {"name": "predict", "shape": [n], "datatype": "INT64", "data": [7] * n},
                    {"name": "truth", "shape": [n], "datatype": "INT64", "data": [int(r[0]) for r in rows]},
                ]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)


        @pytest.fixture(scope="session")
        def harness_endpoint():
            server = ThreadingHTTPServer(("127.0.0.1", 0), TwoOutputs)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            yield Endpoint(f"http://127.0.0.1:{server.server_address[1]}", "m", protocols=("v2",))
            server.shutdown()


        @pytest.fixture(scope="session")
        def harness_model_artifact():
            return None
        """
    )
    pytester.makepyfile(
        """
        from mlharness_fixtures.plugin import assert_check

        def test_the_checks_read_truth(harness_check):
            assert_check(harness_check("predict.golden"))

        def test_a_users_client_reads_truth_too(harness_client):
            assert list(harness_client.classify([[0.0] * 4, [1.0] * 4, [2.0] * 4]).outputs) == [0, 1, 2]
        """
    )
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess("--harness-report-dir", str(report), "--harness-contract", str(contract))
    result.assert_outcomes(passed=2)
    golden = next(c for c in json.loads((report / "report.json").read_text())["checks"] if c["name"] == "predict.golden")
    assert golden["status"] == "passed", golden
