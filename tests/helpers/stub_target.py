"""What every test's stand-in target shares: the parts of the Target protocol a test does not play with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.results import Endpoint


class StubTargetBase:
    """A target that runs no pipeline, serves nothing itself and loads from this host."""

    name = "stub"
    runs_pipelines = False
    deploys = True
    deploy_failure_is_infrastructure = False
    serves_with_this_python = False
    work_dir: Path | None = None

    def serving_runtime(self) -> None:
        return None

    def model_artifact(self) -> Path | None:
        return None

    def deploy_candidate(self, artifact: Path) -> Endpoint:
        from harness.errors import ConfigError

        raise ConfigError("a stub target serves no candidate", "candidate_artifact")

    def resource_monitor(self) -> None:
        """No server process of its own to sample."""
        return None

    def load_generator(self, endpoint: Endpoint) -> Any:
        from harness.config import HarnessConfig
        from harness.load.plan import LoadPlan
        from harness.load.run import LocalLoad

        return LocalLoad(LoadPlan.from_config(endpoint, HarnessConfig(), os.cpu_count() or 1), (self.work_dir or Path(".")) / "load")
