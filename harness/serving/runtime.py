"""An sklearn runtime on KServe's own Python model server, with strict input validation.

Takes the same flags as KServe's sklearn server (``--model_name``, ``--model_dir``,
``--http_port``, plus every ``kserve.model_server`` flag), so what the local target
serves is what KServe serves. Differences, on purpose:

- input is validated before ``predict``: wrong shapes, non-numeric, boolean or non-finite
  values, empty or oversized batches and non-JSON bodies answer **400** with an
  ``{"error": ...}`` body (KServe's stock sklearn server answers 500 for most of them);
- per-request logging (uvicorn's access line, KServe's latency/trace lines) is off
  unless ``--log_requests true``: measured here at ~25% of the server's CPU.

Run: ``python -m harness.serving.runtime --model_name sklearn-iris --model_dir DIR --http_port N``
"""

from __future__ import annotations

import argparse
import logging
import os

from harness.serving.validation import DEFAULT_MAX_BATCH


def _quiet_request_logs() -> None:
    for name in ("uvicorn.access", "kserve.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(name).disabled = True


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model_dir", required=True, help="Directory holding model.joblib.")
    parser.add_argument("--model_name", default="model")
    parser.add_argument("--log_requests", default="false", choices=("true", "false"))
    parser.add_argument("--max_batch_size", type=int, default=DEFAULT_MAX_BATCH)
    args, _ = parser.parse_known_args()

    import sys

    if args.log_requests == "false" and "--enable_latency_logging" not in sys.argv:
        sys.argv += ["--enable_latency_logging", "false"]
    if "--enable_grpc" not in sys.argv:
        sys.argv += ["--enable_grpc", "false"]
    os.environ.setdefault("PYTHONWARNINGS", "ignore")

    from kserve import ModelServer, model_server

    from harness.serving.sklearn_model import ValidatingSKLearnModel

    model = ValidatingSKLearnModel(args.model_name, args.model_dir, args.max_batch_size)
    model.load()
    server = ModelServer()
    if args.log_requests == "false":
        original = server.setup_event_loop

        def setup_event_loop() -> None:
            original()
            _quiet_request_logs()

        server.setup_event_loop = setup_event_loop
    del model_server  # imported for its flag parsing, which reads sys.argv
    server.start([model])


if __name__ == "__main__":
    main()
