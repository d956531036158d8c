"""The model contract: built-in iris by default, read from a file or flags, inferred from the
artifact and the data, and every contradiction a ConfigError naming both sides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.checks.quality import classification_figures, regression_figures
from harness.config import load_config
from harness.contract import IRIS, Thresholds
from harness.contract.artifact import agree, load_model
from harness.contract.golden import SEED_CASE
from harness.contract.resolve import hold_against_artifact, read_contract
from harness.errors import ConfigError

from .helpers.example_models import DIABETES, WINE, train_diabetes, train_wine


def cfg(**settings: object):
    return load_config(cli=settings, env={})


@pytest.fixture(scope="module")
def wine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_wine(tmp_path_factory.mktemp("wine"))


@pytest.fixture(scope="module")
def diabetes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_diabetes(tmp_path_factory.mktemp("diabetes"))


def test_with_nothing_given_the_contract_is_iris_with_the_seed_case() -> None:
    contract = read_contract(cfg())
    assert contract == dataclasses.replace(IRIS, thresholds=Thresholds(min_accuracy=0.9, min_recall=None))
    assert contract.golden == (SEED_CASE,) and contract.n_features == 4 and contract.classes == (0, 1, 2)
    assert len(contract.labelled()) == 150 and contract.sample_rows(3)[:2] == SEED_CASE.instances


def test_the_wine_contract_file_says_13_features_3_classes_and_its_thresholds() -> None:
    contract = read_contract(cfg(contract=str(WINE / "contract.toml")))
    assert (contract.name, contract.task, contract.n_features, contract.classes) == ("wine", "classification", 13, (0, 1, 2))
    assert len(contract.labelled()) == 178 and contract.thresholds == Thresholds(min_accuracy=0.95, min_recall=0.9)
    assert contract.features[0].name == "alcohol" and (contract.features[0].low, contract.features[0].high) == (11.03, 14.83)
    assert contract.golden[0].predictions == (0, 1, 2)


def test_a_flag_beats_the_contract_file() -> None:
    contract = read_contract(cfg(contract=str(DIABETES / "contract.toml"), max_mae="45"))
    assert contract.thresholds.max_mae == 45.0 and contract.thresholds.min_r2 == 0.4


def test_inferred_from_the_artifact_and_the_data(wine_dir: Path, diabetes_dir: Path) -> None:
    wine = read_contract(cfg(model_artifact=str(wine_dir), data=str(WINE / "data.csv")))
    assert (wine.task, wine.n_features, wine.classes) == ("classification", 13, (0, 1, 2))
    assert "inferred from the artifact" in wine.source and wine.golden == ()
    diabetes = read_contract(cfg(model_artifact=str(diabetes_dir), data=str(DIABETES / "data.csv")))
    assert (diabetes.task, diabetes.n_features, diabetes.classes) == ("regression", 10, ())


def test_the_data_alone_infers_a_regression_from_many_distinct_labels() -> None:
    contract = read_contract(cfg(data=str(DIABETES / "data.csv")))
    assert contract.task == "regression" and contract.feature_names[:3] == ("age", "sex", "bmi")


def test_a_label_column_of_another_name(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text((WINE / "data.csv").read_text().replace(",label\n", ",cultivar\n", 1))
    with pytest.raises(ConfigError, match="no label column 'label'") as err:
        read_contract(cfg(data=str(data)))
    assert err.value.key == "label_column"
    assert read_contract(cfg(data=str(data), label_column="cultivar")).classes == (0, 1, 2)


def test_json_lines_data(tmp_path: Path) -> None:
    import pandas as pd

    data = tmp_path / "d.jsonl"
    pd.read_csv(WINE / "data.csv").to_json(data, orient="records", lines=True)
    assert len(read_contract(cfg(data=str(data))).labelled()) == 178


def test_a_contract_that_contradicts_the_artifact_names_both_sides(wine_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        read_contract(cfg(contract=str(DIABETES / "contract.toml"), model_artifact=str(wine_dir)))
    message = str(err.value)
    assert "contract" in message and "artifact" in message and str(wine_dir) in message, message
    with pytest.raises(ConfigError, match=r"feature count: the contract .* says 4, the artifact's n_features_in_ .* says 13"):
        read_contract(cfg(model_artifact=str(wine_dir)))  # iris, the default, against a wine model


def test_a_pipeline_artifact_that_contradicts_the_contract_is_a_config_error(wine_dir: Path) -> None:
    contract = read_contract(cfg(contract=str(DIABETES / "contract.toml")))
    with pytest.raises(ConfigError, match="the task: the contract .* says 'regression', the artifact .* says 'classification'"):
        hold_against_artifact(contract, wine_dir)
    hold_against_artifact(read_contract(cfg(contract=str(WINE / "contract.toml"))), wine_dir)  # agrees: no error


def test_an_unknown_label_in_the_data_names_both_sides(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the labels: the data .* holds \[2\], unknown to the contract's classes \[0, 1\]"):
        read_contract(cfg(contract=str(WINE / "contract.toml"), classes="0,1"))


def test_a_golden_case_of_the_wrong_width(tmp_path: Path) -> None:
    contract = tmp_path / "c.toml"
    contract.write_text(f'data = "{WINE / "data.csv"}"\n[[golden]]\ninstances = [[1, 2, 3, 4]]\npredictions = [0]\n')
    with pytest.raises(ConfigError, match="rows of \\[4\\] values, the contract .* has 13 features"):
        read_contract(cfg(contract=str(contract)))


def test_a_contract_file_with_an_unknown_key_or_no_data(tmp_path: Path) -> None:
    contract = tmp_path / "c.toml"
    contract.write_text('[model]\nfeatures = 4\nlables = [0, 1]\n')
    with pytest.raises(ConfigError, match="unknown contract key.*lables"):
        read_contract(cfg(contract=str(contract)))
    contract.write_text('[model]\nfeatures = 4\ntask = "classification"\n')
    with pytest.raises(ConfigError, match="no labelled data"):
        read_contract(cfg(contract=str(contract)))


def test_the_artifact_facts_read_a_pipeline_of_estimators(wine_dir: Path) -> None:
    from harness.contract.resolve import artifact_facts

    facts = artifact_facts(load_model(wine_dir), "wine")
    assert (facts.task, facts.n_features, facts.classes) == ("classification", 13, (0, 1, 2))


def test_quality_figures_are_scikit_learns() -> None:
    figures = classification_figures([0, 0, 1, 1], [0, 1, 1, 1], [0, 1, 2])
    assert figures == {"accuracy": 0.75, "recall": {"0": 0.5, "1": 1.0, "2": None}}
    reg = regression_figures([1.0, 2.0, 3.0], [1.0, 2.0, 6.0])
    assert reg["mae"] == 1.0 and reg["rmse"] == pytest.approx(3 ** 0.5, abs=1e-6) and reg["r2"] == pytest.approx(1 - 9 / 2)


def test_answers_agree_exactly_for_labels_and_within_a_tolerance_for_numbers() -> None:
    assert agree([1, 2], [1, 2]) and not agree([1, 2], [1, 3])
    assert not agree([201.7], [201.7001])  # numbers too, without a tolerance
    assert agree([201.7], [201.7001], 1e-6)  # within 1e-6 x 201.7
    assert not agree([201.7], [201.701], 1e-6) and agree([0.5], [0.5000009], 1e-6)  # relative to max(1, |expected|)


def test_the_old_check_name_finds_predict_quality() -> None:
    from harness.checks import REGISTRY
    from harness.checks.builtin import register_builtins

    register_builtins()
    assert REGISTRY.get("predict.accuracy").name == "predict.quality"
    assert "predict.accuracy" not in REGISTRY.names()


def test_a_model_table_in_the_config_file(tmp_path: Path) -> None:
    from harness.config import read_config_file

    config = tmp_path / "harness.toml"
    config.write_text(f'[model]\ndata = "{DIABETES / "data.csv"}"\nmax_mae = 45\n\n[slo]\np95_ms = 200\n')
    values, source = read_config_file(config)
    contract = read_contract(load_config(file=values, file_source=source, env={}))
    assert contract.task == "regression" and contract.thresholds.max_mae == 45.0 and contract.n_features == 10
