"""NVIDIA's tritonclient, the reference V2 client, against the local runtime (and MLServer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Endpoint

from .servers import SEED_ROWS, ForeignServer, triton_infer


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_tritonclient_infer_on_the_local_runtime(served: Endpoint, tritonclient_python: Path, binary: bool) -> None:
    """JSON infer sends no Content-Type (tritonclient ``http/_client.py``); binary sends
    ``Inference-Header-Content-Length``. Both must answer the seed rows with [1, 1]."""
    answer = triton_infer(tritonclient_python, served.base_url, served.model_name, SEED_ROWS, binary=binary, outputs=["output-0"])
    assert answer["ok"], answer
    assert answer["outputs"] == {"output-0": [1, 1]}, answer
    sent_as = "binary_data_size" in str(answer["response"]["outputs"][0].get("parameters"))
    assert sent_as == binary, f"the output came {'binary' if sent_as else 'as JSON'}: {answer['response']}"


def test_tritonclient_json_infer_on_mlserver(mlserver: ForeignServer, tritonclient_python: Path) -> None:
    """MLServer reads a body without Content-Type as JSON (and has no binary tensors over REST)."""
    answer = triton_infer(tritonclient_python, mlserver.base_url, "sklearn-iris", SEED_ROWS, binary=False, outputs=["predict"])
    assert answer["ok"], answer
    assert answer["outputs"] == {"predict": [[1], [1]]}, answer
