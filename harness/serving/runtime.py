"""An sklearn runtime on KServe's own Python model server, with strict input validation.

Takes the same flags as KServe's sklearn server (``--model_name``, ``--model_dir``,
``--http_port``, plus every ``kserve.model_server`` flag), so what the local target
serves is what KServe serves. Differences, on purpose:

- input is validated before ``predict``: wrong shapes, non-numeric, boolean or non-finite
  values, empty or oversized batches and non-JSON bodies answer **400** with an
  ``{"error": ...}`` body (KServe's stock sklearn server answers 500 for most of them);
- per-request logging (uvicorn's access line, KServe's latency/trace lines) is off
  unless ``--log_requests true``: measured here at ~25% of the server's CPU;
- it listens on ``--http_host`` (default 127.0.0.1); KServe's server always binds 0.0.0.0.

Run: ``python -m harness.serving.runtime --model_name sklearn-iris --model_dir DIR --http_port N``
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from harness.serving.validation import DEFAULT_MAX_BATCH


def _quiet_request_logs() -> None:
    for name in ("uvicorn.access", "kserve.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(name).disabled = True


def _bind_to(host: str) -> None:
    """Make KServe's REST server (one worker or many) listen on ``host``, not its fixed 0.0.0.0."""
    from kserve.protocol.rest import server as rest_server

    original = rest_server.RESTServer.__init__

    def __init__(self: rest_server.RESTServer, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        self.config.host = host  # read when the socket is bound, by both server kinds

    rest_server.RESTServer.__init__ = __init__


def main() -> None:
    from harness.procs import die_with_parent, fast_exit, wait_for_handoff

    die_with_parent()
    parser = argparse.ArgumentParser(add_help=False)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model_dir", help="Directory holding model.joblib.")
    source.add_argument("--model_dir_file", help="Wait for this file, then serve the directory it names.")
    parser.add_argument("--model_dir_wait", type=float, default=900.0, help="Seconds to wait for --model_dir_file.")
    parser.add_argument("--model_name", default="model")
    parser.add_argument("--log_requests", default="false", choices=("true", "false"))
    parser.add_argument("--max_batch_size", type=int, default=DEFAULT_MAX_BATCH)
    parser.add_argument("--http_host", default="127.0.0.1", help="Address to bind (KServe's own server binds 0.0.0.0).")
    args, _ = parser.parse_known_args()

    if args.log_requests == "false" and "--enable_latency_logging" not in sys.argv:
        sys.argv += ["--enable_latency_logging", "false"]
    if "--enable_grpc" not in sys.argv:
        sys.argv += ["--enable_grpc", "false"]
    os.environ.setdefault("PYTHONWARNINGS", "ignore")

    import sklearn.base  # noqa: F401 - what unpickling the model imports; loaded while the pipeline trains
    from kserve import ModelServer, model_server

    from harness.serving.sklearn_model import ValidatingSKLearnModel

    _bind_to(args.http_host)
    model_dir = args.model_dir or wait_for_handoff(args.model_dir_file, args.model_dir_wait, "model directory")
    model = ValidatingSKLearnModel(args.model_name, model_dir, args.max_batch_size)
    model.load()
    server = ModelServer()
    if args.log_requests == "false":
        original = server.setup_event_loop

        def setup_event_loop() -> None:
            original()
            _quiet_request_logs()

        server.setup_event_loop = setup_event_loop
    del model_server  # imported for its flag parsing, which reads sys.argv
    server.start([model])  # returns once the server has shut down
    fast_exit(0)  # skip ~1 s of interpreter teardown that the harness would wait for


if __name__ == "__main__":
    main()
