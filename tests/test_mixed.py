"""Mixed-type tabular models (issue 20): text and categorical columns in the contract and the
data, golden cases with strings, per-column requests (V2 with the pandas content type, V1 named
rows) built by the one encoder and by the load workers alike, the artifact called with a
DataFrame, the local server's side, and the robustness catalogue of a per-column model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.config import load_config
from harness.contract import Feature
from harness.contract.artifact import model_input
from harness.contract.data import read_data
from harness.contract.resolve import read_contract
from harness.contract.signature import from_contract, from_metadata
from harness.errors import ConfigError
from harness.inference.encoder import Encoder
from harness.load.worker.bodies import v1_body, v2_body
from harness.robustness.columns import UNKNOWN_VALUE, malformed_column_cases, unusual_column_cases
from harness.robustness.profiles import PROFILES
from harness.robustness.schema import FeatureSchema
from harness.serving.validation import records_to_columns, validate_columns

from .helpers.example_models import PENGUINS

DATA = PENGUINS / "data.csv"
HEAD = 'data = "{data}"\nlabel_column = "label"\n'


def contract_file(tmp_path: Path, body: str, data: Path = DATA) -> str:
    path = tmp_path / "contract.toml"
    path.write_text("[model]\n" + HEAD.format(data=data) + body)
    return str(path)


def contract(tmp_path: Path, body: str = "", data: Path = DATA) -> Any:
    return read_contract(load_config(cli={"contract": contract_file(tmp_path, body, data)}, env={}))


def test_text_columns_are_read_as_strings_with_the_values_the_data_holds(tmp_path: Path) -> None:
    c = contract(tmp_path)
    island, sex, bill, _, mass = c.features
    assert (island.dtype, island.values) == ("string", ("Biscoe", "Dream", "Torgersen"))
    assert (sex.dtype, sex.values) == ("string", ("female", "male"))
    assert (bill.dtype, mass.dtype) == ("float", "int") and bill.low is not None and not bill.values
    assert c.has_strings and isinstance(c.data.rows[0][0], str) and isinstance(c.data.rows[0][2], float)
    assert c.classes == ("Adelie", "Chinstrap", "Gentoo")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_text_columns_in_json_lines_and_parquet(tmp_path: Path, suffix: str) -> None:
    import pandas as pd

    frame = pd.read_csv(DATA)
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    data = read_data(str(path), "label")
    assert data.dtypes == ("string", "string", "float", "float", "int") and data.rows[0][:2] == ("Biscoe", "male")


def test_a_column_declared_text_is_read_as_text_even_where_it_looks_numeric(tmp_path: Path) -> None:
    c = contract(tmp_path, '[model.dtypes]\nbody_mass_g = "category"\n')
    mass = c.features[4]
    assert mass.dtype == "category" and isinstance(c.data.rows[0][4], str) and c.data.rows[0][4] == "4036"


@pytest.mark.parametrize(("body", "match"), [
    ('[model.dtypes]\nisland = "text"\n', r"the dtype of 'island' is 'text', not one of int, float, string, category"),
    ('[model.dtypes]\nisland = "float"\n', r"feature 'island': .* declares it float, the data .* holds text"),
    ('[model.values]\nisland = ["Biscoe", "Dream"]\n', r"feature 'island': the data .* holds \['Torgersen'\], not among its allowed values"),
    ('[model.dtypes]\nbill_length_mm = "float"\n[model.values]\nbill_length_mm = ["a"]\n', r"allowed values are for string or category features"),
    ('[model.ranges]\nisland = [0, 1]\n', r"a range is for numeric features"),
    ('[model.dtypes]\nbeak = "float"\n', r"gives dtypes, values or ranges for \['beak'\], not among the features"),
    ('codec = "arrow"\n', r"codec must be one of tensor, columns"),
    ('[[model.golden]]\ninstances = [["Dream", "male", "long", 198.2, 4177]]\npredictions = ["Chinstrap"]\n',
     r"golden case 0 in .*: instance 0 holds 'long' for feature 'bill_length_mm', a numeric \(float\) feature"),
    ('[[model.golden]]\ninstances = [[3, "male", 51.0, 198.2, 4177]]\npredictions = ["Chinstrap"]\n',
     r"instance 0 holds 3 for feature 'island', a string feature: give it as a string"),
    ('[model.values]\nisland = ["Biscoe", "Dream", "Torgersen"]\n[[model.golden]]\ninstances = [["Atlantis", "male", 51.0, 198.2, 4177]]\n'
     'predictions = ["Chinstrap"]\n', r"holds 'Atlantis' for feature 'island', not one of its allowed values"),
])
def test_a_bad_dtype_value_or_golden_string_is_one_config_error(tmp_path: Path, body: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        contract(tmp_path, body)


def test_the_cli_says_it_in_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = contract_file(tmp_path, '[[model.golden]]\ninstances = [["Dream", "male", "long", 198.2, 4177]]\npredictions = ["Chinstrap"]\n')
    code = main(["run", "--target", "endpoint", "--url", "http://127.0.0.1:9", "--contract", path, "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert [line for line in err.splitlines() if "error" in line] == [
        f"mlharness: error: golden: golden case 0 in {path}: instance 0 holds 'long' for feature 'bill_length_mm', a numeric (float) feature"]


def test_strings_in_golden_cases_work_where_the_feature_is_text(tmp_path: Path) -> None:
    c = contract(tmp_path, '[[model.golden]]\ninstances = [["Dream", "male", 51.0, 198.2, 4177]]\npredictions = ["Chinstrap"]\n')
    assert c.golden[0].instances == (("Dream", "male", 51.0, 198.2, 4177.0),)


def test_a_text_feature_makes_a_per_column_signature_from_the_contract(tmp_path: Path) -> None:
    sig = from_contract(contract(tmp_path), None)
    assert sig is not None and sig.codec == "columns"
    assert [(t.name, t.datatype, t.shape) for t in sig.inputs] == [
        ("island", "BYTES", (-1, 1)), ("sex", "BYTES", (-1, 1)), ("bill_length_mm", "FP64", (-1, 1)),
        ("flipper_length_mm", "FP64", (-1, 1)), ("body_mass_g", "INT64", (-1, 1))]
    assert "features" in sig.source("inputs")
    with pytest.raises(ConfigError, match="--input-codec tensor: .* has text features"):
        from_contract(contract(tmp_path), "tensor")


def test_model_inputs_in_the_contract_are_a_signature_source(tmp_path: Path) -> None:
    inputs = "".join(f'[[model.inputs]]\nname = "{n}"\ndatatype = "{d}"\nshape = [-1, 1]\n' for n, d in
                     [("island", "BYTES"), ("sex", "BYTES"), ("bill_length_mm", "FP32"), ("flipper_length_mm", "FP32"), ("body_mass_g", "INT32")])
    sig = from_contract(contract(tmp_path, inputs), None)
    assert sig is not None and sig.codec == "columns" and sig.inputs[2].datatype == "FP32"
    assert sig.source("inputs").endswith("[[model.inputs]]")
    with pytest.raises(ConfigError, match=r"\[\[model.inputs\]\] tables with name, datatype and shape"):
        contract(tmp_path, '[[model.inputs]]\nname = "island"\n')


def test_metadata_with_the_pandas_content_type_is_per_column() -> None:
    # MLServer 1.7.1 (mlserver/model.py ``metadata``) publishes model-settings' inputs and content type
    meta = {"inputs": [{"name": "island", "datatype": "BYTES", "shape": [-1, 1]}], "parameters": {"content_type": "pd"}}
    sig = from_metadata(meta, 1, "the server's metadata", "the contract", ("island",))
    assert sig is not None and sig.codec == "columns"
    with pytest.raises(ConfigError, match=r"lists inputs \['a', 'b'\]; the contract has features \['island', 'sex'\]"):
        from_metadata({"inputs": [{"name": n, "datatype": "BYTES", "shape": [-1, 1]} for n in "ab"]}, 2, "the server's metadata",
                      "the contract", ("island", "sex"))


ROWS = [["Dream", "male", 51.0, 198.2, 4177.0], ["Biscoe", "female", 49.0, 218.2, 4949.0]]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    sig = from_contract(contract(tmp_path_factory.mktemp("c")), None)
    return Encoder(sig)


def test_per_column_requests_and_the_load_workers_bodies_are_the_same(encoder: Encoder) -> None:
    v2 = encoder.v2_body(ROWS)
    assert v2["parameters"] == {"content_type": "pd"}
    assert v2["inputs"][0] == {"name": "island", "shape": [2, 1], "datatype": "BYTES", "data": ["Dream", "Biscoe"]}
    assert v2["inputs"][4] == {"name": "body_mass_g", "shape": [2, 1], "datatype": "INT64", "data": [4177, 4949]}
    v1 = encoder.v1_body(ROWS)
    assert v1 == {"instances": [[{"island": "Dream", "sex": "male", "bill_length_mm": 51.0, "flipper_length_mm": 198.2, "body_mass_g": 4177},
                                 {"island": "Biscoe", "sex": "female", "bill_length_mm": 49.0, "flipper_length_mm": 218.2, "body_mass_g": 4949}]]}
    template = json.loads(json.dumps(encoder.template("penguins")))  # the plan carries it as JSON
    assert json.loads(v2_body(template, ROWS)) == v2 and json.loads(v1_body(template, ROWS)) == v1
    request = encoder.grpc_request("penguins", ROWS)
    assert request.parameters["content_type"].string_param == "pd" and request.inputs[0].contents.bytes_contents == [b"Dream", b"Biscoe"]


def test_the_artifact_is_called_with_a_dataframe_of_its_training_columns(encoder: Encoder) -> None:
    class Fitted:
        feature_names_in_ = ["sex", "island", "bill_length_mm", "flipper_length_mm", "body_mass_g"]  # another order than the requests'

    frame = model_input(Fitted(), ROWS, encoder.signature)
    assert list(frame.columns) == Fitted.feature_names_in_ and frame["island"].tolist() == ["Dream", "Biscoe"]
    assert {c: str(t) for c, t in frame.dtypes.items()} == {"sex": "object", "island": "object", "bill_length_mm": "float64",
                                                             "flipper_length_mm": "float64", "body_mass_g": "int64"}
    assert model_input(object(), [[1.0, 2.0]]).shape == (1, 2)  # no feature names: an array, as before


def test_the_local_server_checks_named_columns() -> None:
    names = ["island", "mass"]
    assert validate_columns({"mass": [1.0], "island": ["Dream"]}, names, 10) == {"island": ["Dream"], "mass": [1.0]}
    for columns, match in [({"island": ["Dream"]}, r"missing \['mass'\]"), ({"island": ["a"], "mass": [1.0], "x": [1]}, r"unknown \['x'\]"),
                           ({"island": ["a", "b"], "mass": [1.0]}, "different lengths"), ({"island": [None], "mass": [1.0]}, "expected a number or a string"),
                           ({"island": ["a"], "mass": [float("nan")]}, "finite"), ({"island": [], "mass": []}, "empty batch"),
                           ({"island": ["a"] * 3, "mass": [1.0] * 3}, "exceeds the limit of 2")]:
        with pytest.raises(ValueError, match=match):
            validate_columns(columns, names, 2)
    assert records_to_columns([{"island": "Dream", "mass": 1.0}]) == {"island": ["Dream"], "mass": [1.0]}


def test_the_robustness_catalogue_of_a_per_column_model(tmp_path: Path, encoder: Encoder) -> None:
    schema = FeatureSchema.from_contract(contract(tmp_path))
    assert schema.values[0] == ("Biscoe", "Dream", "Torgersen") and schema.values[2] is None
    malformed = malformed_column_cases("penguins", ("v1", "v2"), schema, encoder)
    categories = {(r.category, r.protocol) for r in malformed}
    assert {("wrong_feature_count", "v2"), ("strings", "v2"), ("ragged_rows", "v2"), ("nulls", "v1"), ("non_finite", "v1")} <= categories
    string_case = next(r for r in malformed if r.category == "strings" and r.protocol == "v2")
    body = json.loads(string_case.body or b"")
    good = encoder.v2_body([list(schema.seed[0])])
    assert body["parameters"] == {"content_type": "pd"} and [t["name"] for t in body["inputs"]] == [t["name"] for t in good["inputs"]]
    assert sum(a != b for a, b in zip(body["inputs"], good["inputs"], strict=True)) == 1  # one thing wrong
    unusual = unusual_column_cases("penguins", PROFILES["ci"], ("v1", "v2"), schema, encoder)
    unknown = [r for r in unusual if r.category == "unknown_category"]
    assert len(unknown) == 2 and all(UNKNOWN_VALUE in (r.body or b"").decode() for r in unknown) and unknown[0].rows is not None


def test_a_feature_is_text_when_its_dtype_says_so() -> None:
    assert Feature("a", "category").is_string and Feature("a", "string").is_string and not Feature("a", "int").is_string



def test_contract_inputs_that_contradict_the_servers_metadata_are_a_config_error_naming_both(tmp_path: Path) -> None:
    from harness.contract.signature import _agree_inputs

    inputs = "".join(f'[[model.inputs]]\nname = "{n}"\ndatatype = "BYTES"\nshape = [-1, 1]\n'
                     for n in ("island", "sex", "bill_length_mm", "flipper_length_mm", "body_mass_g"))
    ours = from_contract(contract(tmp_path, inputs), None)
    meta = {"inputs": [{"name": n, "datatype": "BYTES" if n in ("island", "sex") else "FP64", "shape": [-1, 1]}
                       for n in ("island", "sex", "bill_length_mm", "flipper_length_mm", "body_mass_g")]}
    published = from_metadata(meta, 5, "the server's metadata (GET /v2/models/penguins)", "the contract")
    assert ours is not None and published is not None
    with pytest.raises(ConfigError, match=r"the inputs: the contract .*\[\[model.inputs\]\] says .*'bill_length_mm': 'BYTES'.*"
                                          r"the server's metadata \(GET /v2/models/penguins\) says .*'bill_length_mm': 'FP64'"):
        _agree_inputs(ours, published)
    tensor = from_metadata({"inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, 5]}]}, 5, "the server's metadata", "the contract")
    auto = from_contract(contract(tmp_path), None)
    assert tensor is not None and auto is not None
    with pytest.raises(ConfigError, match=r"the request codec: .* says columns, the server's metadata publishes 1 input\(s\) \(tensor\)"):
        _agree_inputs(auto, tensor)
