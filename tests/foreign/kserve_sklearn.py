"""KServe's stock sklearn server, as its image runs it: KServe's own classes, no validation of ours.

KServe does not publish its sklearn server on PyPI, so this is the few lines of it that matter,
written after kserve/kserve ``python/sklearnserver/sklearnserver/model.py`` (``SKLearnModel``)
and ``__main__.py``. The mirror read holds no ``v0.21.0`` tag: read at ``v0.20.0``, whose two
files are identical on ``master`` at aaac4e29 (August 2026); kserve 0.21.0 (ours) provides
``kserve.Model``, ``kserve.ModelServer`` and ``get_predict_input``/``get_predict_response``.

Differences from upstream, none in how a request is answered:

- the model directory is a local path (upstream resolves it with ``kserve_storage.Storage``,
  which is not installed here; for a local path it returns the path unchanged);
- the REST server binds 127.0.0.1 through the harness's own
  :func:`harness.serving.kserve_patches.bind_rest_server_to` (KServe hard-codes 0.0.0.0), and
  gRPC is off unless ``--enable_grpc true`` is passed (KServe's gRPC server binds ``[::]``);
- no model-repository fallback when the model file is missing (it exits instead).

Run: ``python -m tests.foreign.kserve_sklearn --model_name sklearn-iris --model_dir DIR --http_port N``
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
from typing import Any

import joblib
import kserve
from kserve import logging
from kserve.errors import InferenceError, ModelMissingError
from kserve.utils.utils import get_predict_input, get_predict_response

from harness.serving.kserve_patches import bind_rest_server_to

MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")  # as upstream's model.py
ENV_PREDICT_PROBA = "PREDICT_PROBA"


class SKLearnModel(kserve.Model):
    """Upstream's ``SKLearnModel``: load the one model file, predict; any failure is a 500."""

    def __init__(self, name: str, model_dir: str) -> None:
        super().__init__(name)
        self.name = name
        self.model_dir = model_dir
        self.ready = False

    def load(self) -> bool:
        model_path = pathlib.Path(self.model_dir)
        files = [p for p in model_path.iterdir() if p.is_file() and p.name.endswith(MODEL_EXTENSIONS)]
        if not files:
            raise ModelMissingError(str(model_path))
        if len(files) > 1:
            raise RuntimeError(f"More than one model file is detected, Only one is allowed within model_dir: {files}")
        self._model = joblib.load(files[0])
        self.ready = True
        return self.ready

    def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        try:
            instances = get_predict_input(payload)
            if os.environ.get(ENV_PREDICT_PROBA, "false").lower() == "true" and hasattr(self._model, "predict_proba"):
                result = self._model.predict_proba(instances)
            else:
                result = self._model.predict(instances)
            return get_predict_response(payload, result, self.name)
        except Exception as e:  # upstream: every failure becomes InferenceError (500)
            raise InferenceError(str(e)) from e


def main() -> None:
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--model_dir", required=True, help="A local path to the model binary")
    parser.add_argument("--http_host", default="127.0.0.1", help="Address to bind (not upstream's).")
    args, _ = parser.parse_known_args()
    if args.configure_logging:
        logging.configure_logging(args.log_config_file)
    bind_rest_server_to(args.http_host)
    model = SKLearnModel(args.model_name, args.model_dir)
    model.load()
    grpc = "--enable_grpc" in sys.argv and args.enable_grpc  # off by default here: it would bind [::]
    kserve.ModelServer(enable_grpc=grpc).start([model])


if __name__ == "__main__":
    main()
