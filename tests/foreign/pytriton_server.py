"""A scikit-learn classifier served by NVIDIA Triton (the tritonserver that ``nvidia-pytriton``
0.7.0 ships), with its natural signature: run in the pytriton venv, never imported by the tests.

The model's signature is what a Triton user writes, not what the harness used to send:
input ``input__0`` (``--datatype``: FP32 or FP64) of shape ``[-1, F]``, output ``predict``
INT64 ``[-1, 1]``, ``max_batch_size`` set, model name with an underscore. pytriton's API
(triton-inference-server/pytriton v0.7.0: ``pytriton/triton.py`` ``Triton``/``TritonConfig``,
``pytriton/model_config`` ``ModelConfig``/``Tensor``, ``pytriton/decorators.py`` ``batch``).
Every port binds 127.0.0.1. ``--wrong-every N`` answers every row whose bytes hash to 0 mod N
with another class (a model wrong on ~1/N of its rows, consistently for the same row).

    python pytriton_server.py --artifact model.joblib --model-name breast_cancer --http-port P --grpc-port Q --metrics-port M
"""

from __future__ import annotations

import argparse
import zlib

import joblib
import numpy as np
from pytriton.decorators import batch
from pytriton.model_config import ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig

DTYPES = {"FP32": np.float32, "FP64": np.float64}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifact", required=True)
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--input-name", default="input__0")
    parser.add_argument("--datatype", choices=tuple(DTYPES), default="FP32")
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--max-batch-size", type=int, default=256)
    parser.add_argument("--wrong-every", type=int, default=0)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, required=True)
    args = parser.parse_args()
    model = joblib.load(args.artifact)
    classes = np.asarray(model.classes_)

    @batch
    def infer(**inputs: np.ndarray) -> dict[str, np.ndarray]:
        rows = inputs[args.input_name]
        answers = np.asarray(model.predict(rows.astype(np.float64))).astype(np.int64)
        if args.wrong_every:
            for i, row in enumerate(rows):
                if zlib.crc32(np.ascontiguousarray(row).tobytes()) % args.wrong_every == 0:
                    answers[i] = int(classes[(list(classes).index(answers[i]) + 1) % len(classes)])
        return {"predict": answers.reshape(-1, 1)}

    config = TritonConfig(
        http_address="127.0.0.1", http_port=args.http_port,
        grpc_address="127.0.0.1", grpc_port=args.grpc_port,
        metrics_address="127.0.0.1", metrics_port=args.metrics_port,
    )
    with Triton(config=config) as triton:
        triton.bind(
            model_name=args.model_name,
            infer_func=infer,
            inputs=[Tensor(name=args.input_name, dtype=DTYPES[args.datatype], shape=(args.features,))],
            outputs=[Tensor(name="predict", dtype=np.int64, shape=(1,))],
            config=ModelConfig(max_batch_size=args.max_batch_size),
            strict=True,
        )
        triton.serve()


if __name__ == "__main__":
    main()
