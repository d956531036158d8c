"""What ``up``/teardown/``down`` run, command by command, through a fake runner (golden argv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.cluster.kube.commands import SubprocessRunner
from harness.cluster.provision.session import ClusterSession
from harness.cluster.provision.versions import resolve
from harness.config import load_config
from harness.errors import EXIT_INFRA, InfrastructureError, ToolMissingError
from tests.helpers.cluster_fakes import FakeRunner, check_golden, deployment, fail, k8s_list, ok

READY = k8s_list(deployment("kserve-controller-manager", "kserve"), deployment("b", "x", replicas=2, ready=2))


def fresh_cluster(target: str) -> FakeRunner:
    """No cluster yet, nothing installed; every pod ready at once."""
    return FakeRunner([
        (("kind", "get", "clusters"), ok("other\n")),
        (("minikube", "profile", "list"), fail("no profiles")),
        (("get", "configmap", "mlharness-install"), fail()),
        (("get", "deployments,statefulsets"), ok(READY)),
    ])


def existing_cluster(target: str) -> FakeRunner:
    """The cluster exists and mlharness installed the pinned versions on it."""
    marker = json.dumps({"data": {"versions": json.dumps(resolve().as_dict(), sort_keys=True)}})
    return FakeRunner([
        (("kind", "get", "clusters"), ok("mlharness\n")),
        (("minikube", "profile", "list"), ok(json.dumps({"valid": [{"Name": "mlharness"}]}))),
        (("get", "configmap", "mlharness-install"), ok(marker)),
        (("get", "deployments,statefulsets"), ok(READY)),
    ])


def session(target: str, runner: FakeRunner, tmp_path: Path, **settings: object) -> ClusterSession:
    cfg = load_config(cli={"target": target, **settings}, env={})
    return ClusterSession(cfg, tmp_path / "work", runner, state_root=tmp_path / "state", interval=0, stable_polls=2)


def placeholders(tmp_path: Path) -> dict[str, str]:
    return {str(tmp_path / "state"): "<STATE>", str(tmp_path / "work"): "<WORK>"}


@pytest.mark.parametrize("target", ["kind", "minikube"])
def test_up_on_a_fresh_machine_runs_exactly_the_golden_commands(target: str, tmp_path: Path) -> None:
    runner = fresh_cluster(target)
    handle = session(target, runner, tmp_path).up()
    assert handle.created
    check_golden(f"cluster_up_{target}.txt", runner.transcript(placeholders(tmp_path)))
    state = json.loads((handle.kubeconfig.parent / "state.json").read_text())
    assert state["created_by"] == "mlharness"


@pytest.mark.parametrize("target", ["kind", "minikube"])
def test_second_up_reuses_and_creates_nothing(target: str, tmp_path: Path) -> None:
    runner = existing_cluster(target)
    handle = session(target, runner, tmp_path).up()
    assert not handle.created
    argvs = [" ".join(argv) for argv, _, _ in runner.calls]
    assert not [a for a in argvs if " create " in f" {a} " or a.startswith("minikube start")], argvs
    assert not [a for a in argvs if " apply " in a], f"nothing to install at the same versions: {argvs}"
    assert any("export kubeconfig" in a or "update-context" in a for a in argvs), "kubeconfig rewritten for reuse"
    check_golden(f"cluster_reup_{target}.txt", runner.transcript(placeholders(tmp_path)))


def test_kind_never_touches_the_users_kubeconfig(tmp_path: Path) -> None:
    runner = fresh_cluster("kind")
    session("kind", runner, tmp_path).up()
    for argv, _env, _ in runner.calls:
        if argv[0] in ("kind", "kubectl") and argv[1:3] != ("get", "clusters"):
            assert "--kubeconfig" in argv and str(tmp_path / "state") in argv[argv.index("--kubeconfig") + 1], argv
    runner = fresh_cluster("minikube")
    session("minikube", runner, tmp_path).up()
    for argv, env, _ in runner.calls:
        if argv[0] == "minikube" and argv[1] != "profile":
            assert env["KUBECONFIG"].startswith(str(tmp_path / "state")), argv


@pytest.mark.parametrize("keep, created, deleted", [(False, True, True), (True, True, False), (False, False, False)])
def test_teardown_deletes_only_what_the_run_created(keep: bool, created: bool, deleted: bool, tmp_path: Path) -> None:
    runner = fresh_cluster("kind") if created else existing_cluster("kind")
    s = session("kind", runner, tmp_path, keep_cluster=keep)
    s.up()
    assert s.release() is deleted
    deletes = [argv for argv, _, _ in runner.calls if argv[:3] == ("kind", "delete", "cluster")]
    assert bool(deletes) is deleted


@pytest.mark.parametrize("target, missing", [("kind", "kind"), ("kind", "docker"), ("minikube", "minikube"), ("kind", "kubectl")])
def test_missing_tool_names_it_and_how_to_install(target: str, missing: str, tmp_path: Path) -> None:
    tools = [t for t in ("docker", "kind", "minikube", "kubectl") if t != missing]
    runner = FakeRunner(tools=tools)
    with pytest.raises(ToolMissingError) as info:
        session(target, runner, tmp_path).up()
    assert info.value.tool == missing and "Install" in str(info.value) and info.value.exit_code == EXIT_INFRA
    assert runner.calls == [], "nothing runs before the tools are checked"


def test_cli_up_without_tools_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["up", "--target", "kind"]) == EXIT_INFRA
    assert "'docker' is not installed" in capsys.readouterr().err


def test_down_refuses_a_cluster_mlharness_did_not_create(tmp_path: Path) -> None:
    s = session("kind", existing_cluster("kind"), tmp_path)
    with pytest.raises(InfrastructureError, match="not created by mlharness"):
        s.down()
    assert s.down(force=True) is True


def test_down_after_up_deletes_it(tmp_path: Path) -> None:
    runner = fresh_cluster("kind")
    session("kind", runner, tmp_path).up()
    runner.rules.insert(0, (("kind", "get", "clusters"), ok("mlharness\n")))
    assert session("kind", runner, tmp_path).down() is True
    assert runner.calls[-1][0][:3] == ("kind", "delete", "cluster")


def test_subprocess_runner_times_out_and_logs_redacted(tmp_path: Path) -> None:
    from harness.errors import WaitTimeout
    from harness.redact import register_secret

    register_secret("sup3r-s3cret-token")
    runner = SubprocessRunner(tmp_path / "commands.log")
    assert runner.run(["echo", "sup3r-s3cret-token"], timeout=10).stdout.strip() == "sup3r-s3cret-token"
    with pytest.raises(WaitTimeout, match="timed out after 0.2s"):
        runner.run(["sleep", "5"], timeout=0.2)
    log = (tmp_path / "commands.log").read_text()
    assert "sup3r-s3cret-token" not in log and "echo ***" in log and "timed out" in log
