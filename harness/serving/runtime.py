"""An sklearn runtime on KServe's own Python model server, with strict input validation.

Takes the same flags as KServe's sklearn server (``--model_name``, ``--model_dir``,
``--http_port``, plus every ``kserve.model_server`` flag), so what the local target
serves is what KServe serves. Differences, on purpose:

- input is validated before ``predict``: wrong shapes, non-numeric, boolean or non-finite
  values, empty or oversized batches and non-JSON bodies answer **400** with an
  ``{"error": ...}`` body (KServe's stock sklearn server answers 500 for most of them);
- per-request logging (uvicorn's access line, KServe's latency/trace lines) is off
  unless ``--log_requests true``: measured here at ~25% of the server's CPU;
- it listens on ``--http_host`` (default 127.0.0.1), for REST and, when ``--enable_grpc true``
  (off unless asked), for gRPC on ``--grpc_port``; KServe's servers bind every interface;
- a V2 JSON request without a Content-Type is read as JSON (as V1 already is), and each
  distinct Python warning is logged once per process (``--log_repeated_warnings true`` logs
  every repeat, as KServe does): see :mod:`harness.serving.kserve_patches`.

Run: ``python -m harness.serving.runtime --model_name sklearn-iris --model_dir DIR --http_port N``
"""

from __future__ import annotations

import argparse
import sys

from harness.procs import die_with_parent, fast_exit, wait_for_handoff
from harness.serving import kserve_patches
from harness.serving.validation import DEFAULT_MAX_BATCH


def parse_args() -> argparse.Namespace:
    """The runtime's own flags; the rest of ``sys.argv`` is KServe's (``kserve.model_server``)."""
    parser = argparse.ArgumentParser(add_help=False)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model_dir", help="Directory holding model.joblib.")
    source.add_argument("--model_dir_file", help="Wait for this file, then serve the directory it names.")
    parser.add_argument("--model_dir_wait", type=float, default=900.0, help="Seconds to wait for --model_dir_file.")
    parser.add_argument("--model_name", default="model")
    parser.add_argument("--log_requests", default="false", choices=("true", "false"))
    parser.add_argument("--log_repeated_warnings", default="false", choices=("true", "false"))
    parser.add_argument("--max_batch_size", type=int, default=DEFAULT_MAX_BATCH)
    parser.add_argument("--http_host", default="127.0.0.1", help="Address to bind (KServe's own server binds 0.0.0.0).")
    args, _ = parser.parse_known_args()
    return args


def patch_kserve(args: argparse.Namespace) -> None:
    """Apply :mod:`harness.serving.kserve_patches` in this process (the server or a worker)."""
    kserve_patches.bind_rest_server_to(args.http_host)
    kserve_patches.bind_grpc_server_to(args.http_host)
    kserve_patches.accept_json_without_content_type()
    kserve_patches.give_workers_time_to_start()
    if args.log_requests == "false":
        kserve_patches.quiet_request_logs()
    if args.log_repeated_warnings == "false":
        kserve_patches.log_each_warning_once()


def main() -> None:
    die_with_parent()
    args = parse_args()
    if args.log_requests == "false" and "--enable_latency_logging" not in sys.argv:
        sys.argv += ["--enable_latency_logging", "false"]
    if "--enable_grpc" not in sys.argv:
        sys.argv += ["--enable_grpc", "false"]

    # here, not at the top: kserve reads sys.argv (set above) when it is imported
    import sklearn.base  # noqa: F401 - what unpickling the model imports; loaded while the pipeline trains
    from kserve import ModelServer, model_server

    from harness.serving.sklearn_model import ValidatingSKLearnModel

    patch_kserve(args)
    model_dir = args.model_dir or wait_for_handoff(args.model_dir_file, args.model_dir_wait, "model directory")
    model = ValidatingSKLearnModel(args.model_name, model_dir, args.max_batch_size)
    model.load()
    server = ModelServer()
    del model_server  # imported for its flag parsing, which reads sys.argv
    server.start([model])  # returns once the server has shut down
    fast_exit(0)  # skip ~1 s of interpreter teardown that the harness would wait for


if __name__ == "__main__":
    main()
elif __name__ == "__mp_main__":
    # A worker of KServe's multi-worker server: multiprocessing's spawn imports this module
    # under this name, with the server's sys.argv, before the worker builds its app.
    patch_kserve(parse_args())
