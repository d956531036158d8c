"""The model's signature (issue 20): read from the server, checked against the contract, and
the one request encoder that builds every request from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.config import load_config
from harness.contract import IRIS
from harness.contract.signature import Explicit, apply_explicit, from_metadata, resolve_signature
from harness.errors import EXIT_USAGE, ConfigError
from harness.inference.client import InferenceClient
from harness.inference.encoder import Encoder
from harness.load.plan import LoadPlan
from harness.load.worker import bodies, grpc_sender
from harness.results import Endpoint
from harness.robustness.malformed import malformed_cases
from harness.robustness.profiles import PROFILES
from harness.robustness.unusual import unusual_cases
from harness.signature import COLUMNS, Signature, TensorSpec, default_signature

from .helpers.stub_server import StubServer, reply

HARNESS = Path(__file__).resolve().parents[1] / "harness"
TRITON = {"name": "breast_cancer", "versions": ["1"], "platform": "python",
          "inputs": [{"name": "input__0", "datatype": "FP32", "shape": [-1, 4]}],
          "outputs": [{"name": "predict", "datatype": "INT64", "shape": [-1, 1]}]}
SIG = Signature((TensorSpec("input__0", "FP64", (-1, 4)),), sources={"inputs": "the server's metadata", "datatype": "the server's metadata"})

# Where a datatype name may appear as a string literal, and why: tables that map every datatype
# (the proto's contents fields, reading answers), the server side, prose. None of them builds a request.
DATATYPE_TABLES = {
    "signature.py": "the default and the datatype list: the base of the encoder",
    "inference/encoder.py": "the encoder",
    "inference/grpc_proto.py": "the proto's contents field and raw format of every datatype",
    "inference/outputs.py": "reading answers: the float datatypes",
    "load/worker/grpc_sender.py": "the proto's tables, for reading answers (the worker imports nothing of the harness)",
    "load/worker/predictions.py": "reading answers under load: the float datatypes",
    "serving/sklearn_model.py": "the local server's side: what it accepts",
    "config/categories.py": "prose: what a category sends",
}


def _literals(pattern: str) -> list[str]:
    found = []
    for path in sorted(HARNESS.rglob("*.py")):
        relative = path.relative_to(HARNESS).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(pattern, line) and not line.lstrip().startswith("#"):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_tensor_name_or_request_datatype_outside_the_encoder() -> None:
    names = [hit for hit in _literals(r"[\"']input-0[\"']") if not hit.startswith(("signature.py:", "inference/encoder.py:"))]
    assert names == [], "a tensor name outside harness/signature.py and the encoder:\n" + "\n".join(names)
    datatypes = [hit for hit in _literals(r"[\"'](FP32|FP64)[\"']") if hit.split(":")[0] not in DATATYPE_TABLES]
    assert datatypes == [], "a request datatype outside the encoder:\n" + "\n".join(datatypes)


# --- the encoder --------------------------------------------------------------------------
def test_every_request_carries_the_signature_s_name_and_datatype() -> None:
    enc = Encoder(SIG)
    body = enc.v2_body([[1, 2, 3, 4]])
    assert body["inputs"][0]["name"] == "input__0" and body["inputs"][0]["datatype"] == "FP64"
    request = enc.grpc_request("breast_cancer", [[1.0, 2.0, 3.0, 4.0]])
    assert (request.inputs[0].name, request.inputs[0].datatype) == ("input__0", "FP64")
    assert list(request.inputs[0].contents.fp64_contents) == [1.0, 2.0, 3.0, 4.0]
    for case in malformed_cases("m", PROFILES["ci"], ("v2",), [1.0, 2.0, 3.0, 4.0], enc):
        text = case.body or b""
        assert b"input-0" not in text and b'"FP32"' not in text, case


def test_unusual_requests_are_of_the_signature_but_for_their_one_oddity() -> None:
    cases = unusual_cases("m", PROFILES["ci"], ("v2",), ((1.0, 2.0, 3.0, 4.0),), Encoder(SIG))
    for case in cases:
        assert b'"name":"input__0"' in (case.body or b""), case.note
    odd = [c.note for c in cases if b'"datatype":"FP64"' not in (c.body or b"")]
    assert odd == ["FP16 data"]


def test_integer_and_string_inputs_are_typed_and_columns_go_one_input_each() -> None:
    ints = Encoder(Signature((TensorSpec("x", "INT64", (-1, 2)),)))
    assert ints.v2_body([[1.0, 2.0]])["inputs"][0]["data"] == [[1, 2]]
    columns = Encoder(Signature((TensorSpec("island", "BYTES", (-1, 1)), TensorSpec("mass", "FP64", (-1, 1))), codec=COLUMNS))
    body = columns.v2_body([["Biscoe", 3750], ["Dream", 3800]])
    assert body["parameters"] == {"content_type": "pd"}
    assert [(t["name"], t["datatype"], t["shape"], t["data"]) for t in body["inputs"]] == [
        ("island", "BYTES", [2, 1], ["Biscoe", "Dream"]), ("mass", "FP64", [2, 1], [3750.0, 3800.0])]
    request = columns.grpc_request("penguins", [["Biscoe", 3750], ["Dream", 3800]])
    assert request.parameters["content_type"].string_param == "pd"
    assert list(request.inputs[0].contents.bytes_contents) == [b"Biscoe", b"Dream"]
    template = columns.template("penguins")
    assert grpc_sender.request_bytes(template, "penguins", [["Biscoe", 3750], ["Dream", 3800]]) == request.SerializeToString()
    assert json.loads(bodies.v2_body(template, [["Biscoe", 3750], ["Dream", 3800]])) == body


def test_fp32_requests_are_compared_on_the_numbers_the_server_read() -> None:
    fp32 = Encoder(Signature((TensorSpec("x", "FP32", (-1, 1)),)))
    assert fp32.as_sent([[0.1]]) == [[0.10000000149011612]]
    assert Encoder(SIG).as_sent([[0.1]]) == [[0.1]]


@pytest.mark.parametrize("name", ["breast_cancer", "My.Model", "a b"])
def test_model_names_are_url_encoded_in_paths(name: str) -> None:
    from urllib.parse import unquote

    path = Encoder.v2_path(name, "2")
    assert unquote(path) == f"/v2/models/{name}/versions/2/infer" and " " not in path
    assert Encoder.v1_path(name).startswith("/v1/models/") and unquote(Encoder.v1_path(name)).endswith(f"{name}:predict")


# --- the load workers build from the plan's template ------------------------------------
def test_the_worker_builds_what_the_encoder_builds() -> None:
    endpoint = Endpoint("http://127.0.0.1:9", "breast_cancer", protocols=("v1", "v2"), signature=SIG)
    plan = json.loads(LoadPlan.from_config(endpoint, load_config()).plan_json())
    assert plan["request"]["inputs"][0]["name"] == "input__0"
    made: dict[str, tuple[str, bytes]] = {}
    for kind, path, body in bodies.bodies(plan):
        made.setdefault(kind, (path, body))
    enc = Encoder(SIG)
    rows = plan["rows"][: plan["batch_size"]]
    assert made["v2"][0] == "/v2/models/breast_cancer/infer"
    assert json.loads(made["v2"][1]) == enc.v2_body(rows, nested=False)
    assert json.loads(made["v1"][1]) == enc.v1_body(rows)
    assert grpc_sender.request_bytes(plan["request"], "breast_cancer", rows) == enc.grpc_request("breast_cancer", rows).SerializeToString()


# --- the signature's sources ------------------------------------------------------------
def test_metadata_that_contradicts_the_contract_is_a_config_error_naming_both() -> None:
    wide = {**TRITON, "inputs": [{"name": "input__0", "datatype": "FP32", "shape": [-1, 30]}]}
    with pytest.raises(ConfigError, match=r"(?s)the server's metadata.*30 values per row.*the contract \(built-in iris\) has 4"):
        from_metadata(wide, 4, "the server's metadata", "the contract (built-in iris)")
    with pytest.raises(ConfigError, match="not one of the Open Inference Protocol's"):
        from_metadata({"inputs": [{"name": "x", "datatype": "FLOAT", "shape": [-1, 4]}]}, 4, "meta", "contract")


def test_an_explicit_setting_wins_over_the_default_and_must_agree_with_the_server() -> None:
    plain = default_signature(4)
    chosen = apply_explicit(plain, Explicit("features", "INT64", "3"))
    assert (chosen.input.name, chosen.datatype, chosen.version) == ("features", "INT64", "3")
    assert chosen.source("inputs") == "explicit setting"
    published = from_metadata(TRITON, 4, "the server's metadata (GET /v2/models/breast_cancer)", "the contract")
    assert published is not None
    with pytest.raises(ConfigError, match=r"--input-datatype BYTES contradicts the server's metadata .*FP32"):
        apply_explicit(published, Explicit(datatype="BYTES"))


def test_the_signature_is_read_from_the_server_s_metadata_and_config() -> None:
    routes = {("GET", "/v2/models/breast_cancer"): reply(200, TRITON),
              ("GET", "/v2/models/breast_cancer/config"): reply(200, {"max_batch_size": 64})}
    with StubServer(routes) as url, InferenceClient(Endpoint(url, "breast_cancer", protocols=("v2",))) as client:
        signature = resolve_signature(IRIS, client, ("v2",))
    assert signature.input == TensorSpec("input__0", "FP32", (-1, 4))
    assert signature.outputs[0].name == "predict" and signature.max_batch_size == 64
    assert signature.source("inputs") == "the server's metadata (GET /v2/models/breast_cancer)"
    assert "config" in signature.source("max_batch_size")


def test_without_metadata_the_request_is_today_s_default_and_says_why() -> None:
    with StubServer({}) as url, InferenceClient(Endpoint(url, "m", protocols=("v2",))) as client:
        signature = resolve_signature(IRIS, client, ("v2",))
    assert signature == default_signature(4).with_sources(dict(signature.sources))
    assert signature.source("inputs") == "default" and "HTTP 404" in signature.source("metadata")


def test_a_run_whose_server_contradicts_the_contract_stops_with_exit_2_before_any_inference(tmp_path: Path,
                                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    wide = {**TRITON, "inputs": [{"name": "input__0", "datatype": "FP32", "shape": [-1, 30]}]}
    routes = {("GET", "/v2/health/ready"): reply(200, {"ready": True}),
              ("GET", "/v2/models/breast_cancer/ready"): reply(200, {"ready": True}),
              ("GET", "/v2/models/breast_cancer"): reply(200, wide)}
    stub = StubServer(routes)
    with stub as url:
        code = main(["run", "--target", "endpoint", "--url", url, "--model-name", "breast_cancer", "--no-load",
                     "--report-dir", str(tmp_path / "r")])
    assert code == EXIT_USAGE
    seen = capsys.readouterr()
    assert "30 values per row" in seen.out + seen.err
    assert not [key for key in stub.hits if key[0] == "POST"], stub.hits


# --- model names --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["breast_cancer", "My.Model", "resnet50_v1.5"])
def test_any_name_the_protocol_carries_is_a_model_name_off_kubernetes(name: str) -> None:
    assert load_config(cli={"model_name": name, "target": "endpoint", "url": "http://127.0.0.1:1"}).core.model_name == name


def test_a_kubernetes_target_keeps_the_dns_rule_and_says_why() -> None:
    with pytest.raises(ConfigError, match="names a Kubernetes InferenceService.*DNS label"):
        load_config(cli={"model_name": "breast_cancer", "target": "kind"})


# --- batch limits ---------------------------------------------------------------------------
def test_requests_respect_the_server_s_max_batch_size() -> None:
    small = Endpoint("http://127.0.0.1:9", "m", signature=Signature(SIG.inputs, max_batch_size=8,
                                                                    sources={"max_batch_size": "the server's model configuration"}))
    with InferenceClient(small) as client:
        assert [len(b) for b in client.batches(list(range(20)))] == [8, 8, 4]
        assert [len(b) for b in client.batches(list(range(20)), size=6)] == [6, 6, 6, 2]
    with pytest.raises(ConfigError, match=r"load_batch_size 16 is above the 8 rows .*the server's model configuration"):
        LoadPlan.from_config(small, load_config(cli={"batch_size": "16"}))
    assert LoadPlan.from_config(small, load_config(cli={"batch_size": "8"})).batch_size == 8
