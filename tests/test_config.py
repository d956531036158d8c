from pathlib import Path

import pytest

from harness.config import (
    HarnessConfig,
    load_config,
    parse_duration,
    parse_headers,
    parse_percent,
    read_config_file,
)
from harness.errors import ConfigError


def test_defaults_are_the_documented_ones() -> None:
    cfg = load_config(cli={}, env={}, file={})
    assert (cfg.core.target, cfg.slo.p95_ms, cfg.slo.p99_ms, cfg.slo.error_rate) == ("local", 100.0, 250.0, 0.001)


def test_precedence_cli_over_env_over_file() -> None:
    cfg = load_config(cli={"users": "3"}, env={"HARNESS_USERS": "5", "HARNESS_SPAWN_RATE": "7"}, file={"users": 9, "spawn_rate": 1, "duration": "1m"})
    assert (cfg.load.users, cfg.load.spawn_rate, cfg.load.duration) == (3, 7.0, 60.0)


@pytest.mark.parametrize(
    ("source", "key", "needle"),
    [
        ({"cli": {"users": "0"}}, "users", "positive"),
        ({"cli": {"duration": "ten"}}, "duration", "duration like"),
        ({"env": {"HARNESS_TARGET": "kinda"}}, "target", "HARNESS_TARGET"),
        ({"file": {"slo_p95": 3}}, "slo_p95", "did you mean 'slo_p95_ms'"),
        ({"cli": {"target": "endpoint"}}, "url", "--url"),
        ({"cli": {"model_name": "bad/name"}}, "model_name", "a request path can carry"),
        ({"cli": {"warmup": "10s", "duration": "5s"}}, "warmup", "shorter"),
        ({"cli": {"golden_file": "/nope.json"}}, "golden_file", "does not exist"),
    ],
)
def test_bad_config_names_the_key(source: dict, key: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(cli=source.get("cli", {}), env=source.get("env", {}), file=source.get("file", {}))
    assert info.value.key == key
    assert needle in str(info.value)


def test_file_tables_flatten(tmp_path: Path) -> None:
    (tmp_path / "harness.toml").write_text('target = "local"\n[slo]\np95_ms = 80\n[load]\nusers = 2\n')
    data, source = read_config_file(cwd=tmp_path)
    assert source.endswith("harness.toml")
    cfg = load_config(cli={}, env={}, file=data)
    assert cfg.slo.p95_ms == 80.0
    assert cfg.load.users == 2


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\n[tool.mlharness]\nusers = 4\n')
    data, _ = read_config_file(cwd=tmp_path)
    assert load_config(cli={}, env={}, file=data).load.users == 4


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "harness.toml"
    bad.write_text("users = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_config_file(bad)


def test_parsers() -> None:
    assert parse_duration("500ms") == 0.5
    assert parse_duration("2m") == 120
    assert parse_percent("20%") == pytest.approx(0.2)
    assert parse_percent(0.1) == pytest.approx(0.1)
    assert parse_headers(["Host: a.example.com", "X-A:b:c"]) == (("Host", "a.example.com"), ("X-A", "b:c"))
    with pytest.raises(ValueError):
        parse_headers(["novalue"])


def test_as_dict_masks_secrets() -> None:
    cfg = load_config(cli={"cookie": "authservice_session=abcdef123", "token": "tok-123456", "header": ["X-Key:s3cr3t-value"]}, env={})
    data = cfg.as_dict()
    assert "abcdef123" not in str(data) and "tok-123456" not in str(data) and "s3cr3t-value" not in str(data)
    assert data["header"] == [["X-Key", "***"]]


def test_replace_validates() -> None:
    cfg = HarnessConfig()
    assert cfg.replace(users=2).load.users == 2
    with pytest.raises(ConfigError):
        cfg.replace(users=-1)
