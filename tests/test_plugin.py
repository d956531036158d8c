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
