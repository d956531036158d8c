"""The test tiers (conftest.py): every test gets exactly one, by the documented rules."""

from __future__ import annotations

import pytest

from conftest import FOLDER_TIERS, INTEGRATION_FIXTURES, MODULE_TIERS, ROOT, TIERS

from .conftest import REPO

CONFTEST = (REPO / "conftest.py").read_text()


def test_every_module_and_folder_the_tiers_name_exists() -> None:
    """A renamed test module would fall back to ``unit`` without this."""
    assert ROOT == REPO
    assert [m for m in MODULE_TIERS if not (REPO / "tests" / m).is_file()] == []
    assert [f for f in FOLDER_TIERS if not (REPO / f).is_dir()] == []
    assert set(MODULE_TIERS.values()) | set(FOLDER_TIERS.values()) <= set(TIERS)


def test_every_tier_is_a_registered_marker(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":", 1)[0] for line in pytestconfig.getini("markers")}
    assert set(TIERS) <= registered


def test_a_test_gets_one_tier_by_marker_folder_module_or_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST + '\n\n@pytest.fixture\ndef served():\n    return "a server"\n')
    pytester.makepyfile(
        test_x="""
        import pytest

        def test_plain():
            pass

        def test_with_a_server(served):
            pass

        @pytest.mark.load
        def test_marked(served):
            pass
        """
    )
    pytester.mkdir("suites")
    pytester.path.joinpath("suites", "test_s.py").write_text("def test_suite():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q", "-m", "unit")
    result.stdout.fnmatch_lines(["test_x.py::test_plain", "1/4 tests collected (3 deselected)*"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q", "-m", "integration")
    result.stdout.fnmatch_lines(["test_x.py::test_with_a_server", "1/4 tests collected (3 deselected)*"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q", "-m", "load")
    result.stdout.fnmatch_lines(["test_x.py::test_marked", "1/4 tests collected (3 deselected)*"])
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q", "-m", "e2e")
    result.stdout.fnmatch_lines(["suites/test_s.py::test_suite", "1/4 tests collected (3 deselected)*"])
    assert INTEGRATION_FIXTURES  # the rule the second test exercised


def test_two_tiers_on_one_test_stop_the_collection(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.unit
        @pytest.mark.e2e
        def test_both():
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*every test has exactly one tier*", "*test_x.py::test_both: e2e and unit*"])
