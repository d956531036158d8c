"""``mlharness serve``: train (or reuse the last model) and keep it served until Ctrl-C."""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path

from rich.text import Text

from harness.cli.common import add_settings, config_from_args, console, line
from harness.contract.golden import SEED_INSTANCES
from harness.errors import InfrastructureError, PipelineError, require_extra
from harness.pipelines.compile import compile_pipeline
from harness.pipelines.local_run import run_local
from harness.serving.local import LocalModelServer

NAME = "serve"
HELP = ("Train a model with the pipeline (--pipeline; default the built-in iris) or take one (--model-dir), "
        "and serve it locally with KServe's model server on 127.0.0.1 until Ctrl-C.")
SERVE_DIR = Path("reports") / "serve"


def register(parser: argparse.ArgumentParser) -> None:
    add_settings(parser, ("core", "local"))
    parser.add_argument("--retrain", action="store_true", help="Run the pipeline even if a trained model exists.")
    parser.add_argument("--model-dir", help="Serve this model directory (holding model.joblib) instead of training.")


def last_model(base: Path) -> Path | None:
    """The newest ``model.joblib`` directory under ``base``."""
    models = sorted(base.glob("**/train/model/model.joblib"), key=lambda p: p.stat().st_mtime)
    return models[-1].parent if models else None


def main(args: argparse.Namespace) -> int:
    require_extra("local", "mlharness serve")
    cfg = config_from_args(args)
    work = Path(cfg.core.report_dir) if cfg.core.report_dir else SERVE_DIR
    model_dir = Path(args.model_dir) if args.model_dir else (None if args.retrain else last_model(work))
    if model_dir is None:
        with console.status("training: compiling and running the pipeline with kfp.local"):
            compiled = compile_pipeline(cfg.core.pipeline, work)
            run = run_local(compiled.path, work, arguments={"min_accuracy": cfg.model.min_accuracy}, timeout=cfg.core.pipeline_timeout, isolation=cfg.local.pipeline_isolation)
        if not run.succeeded or not run.model_uri:
            raise PipelineError(f"the pipeline failed: {run.message}; see {work / 'pipeline.log'}")
        model_dir = Path(run.model_uri)
        console.print(Text(f"trained: {model_dir}"), soft_wrap=True)
    else:
        console.print(Text(f"reusing model: {model_dir} (--retrain to train again)"), soft_wrap=True)
    if not (model_dir / "model.joblib").is_file() and not model_dir.is_file():
        raise InfrastructureError(f"no model.joblib in {model_dir}")
    server = LocalModelServer(
        model_dir, cfg.core.model_name, work / "server.log", port=cfg.local.port, workers=cfg.local.server_workers,
        log_requests=cfg.local.server_log_requests, grpc=cfg.local.server_grpc,
    )
    with console.status(Text(f"starting the model server on {server.url}")):
        endpoint = server.start(cfg.core.ready_timeout)
    body = '{"instances": [' + ", ".join(str(list(r)) for r in SEED_INSTANCES) + "]}"
    console.print(line("serving ", (cfg.core.model_name, "cyan"), " at ", (endpoint.base_url, "bold"), f" (log: {server.log_path})"), soft_wrap=True)
    console.print("try:")
    console.print(
        Text(f"  curl -H 'Content-Type: application/json' {endpoint.base_url}/v1/models/{cfg.core.model_name}:predict -d {shlex.quote(body)}"),
        soft_wrap=True,
    )
    if endpoint.grpc_url:
        console.print(Text(f"V2 gRPC (GRPCInferenceService) at {endpoint.grpc_url}: mlharness run --target endpoint --url {endpoint.base_url} --grpc-url {endpoint.grpc_url}"), soft_wrap=True)
    console.print("Ctrl-C stops the server.")
    try:
        while server.proc is not None and server.proc.poll() is None:
            time.sleep(0.5)
        raise InfrastructureError(f"the model server exited unexpectedly; see {server.log_path}")
    finally:
        server.stop()
