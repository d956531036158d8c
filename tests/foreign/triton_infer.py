"""One V2 infer call with NVIDIA's tritonclient, run inside the tritonclient venv.

tritonclient's HTTP client imports geventhttpclient (gevent), which must never be imported
into the pytest process, and its pins clash with ours: the tests run this file with the
tritonclient venv's Python (see ``tests/foreign/venvs.py``) and read one JSON line from stdout.
It imports nothing from this repository.

API used (triton-inference-server/client, ``src/python/library/tritonclient/http``):
``InferenceServerClient(url).infer(model_name, inputs, outputs=...)``, ``InferInput``,
``InferRequestedOutput``, ``InferResult.as_numpy`` and ``get_response``.

Usage: ``python triton_infer.py --url 127.0.0.1:PORT --model NAME --rows '[[...]]' [--binary] [--output NAME]``
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="host:port, no scheme (tritonclient's form)")
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", required=True, help="JSON list of rows")
    parser.add_argument("--input-name", default="input-0")
    parser.add_argument("--datatype", default="FP32")
    parser.add_argument("--binary", action="store_true", help="binary tensors in and out (else JSON)")
    parser.add_argument(
        "--output", action="append", default=[],
        help="an output to ask for, in the same format as the input; without any, tritonclient asks for every output in binary",
    )
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    import numpy as np
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException, triton_to_np_dtype

    rows = np.asarray(json.loads(args.rows), dtype=triton_to_np_dtype(args.datatype))
    tensor = httpclient.InferInput(args.input_name, list(rows.shape), args.datatype)
    tensor.set_data_from_numpy(rows, binary_data=args.binary)
    client = httpclient.InferenceServerClient(
        url=args.url, connection_timeout=args.timeout, network_timeout=args.timeout
    )
    try:
        outputs = [httpclient.InferRequestedOutput(n, binary_data=args.binary) for n in args.output] or None
        result = client.infer(args.model, [tensor], outputs=outputs)
    except InferenceServerException as exc:
        print(json.dumps({"ok": False, "status": exc.status(), "message": exc.message()}))
        return 0
    finally:
        client.close()
    response = result.get_response()
    values = {o["name"]: result.as_numpy(o["name"]).tolist() for o in response.get("outputs", [])}
    print(json.dumps({"ok": True, "outputs": values, "response": response}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
