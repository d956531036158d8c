"""The load runner: locust in its own processes, exact figures, a clean master/worker seam.

``run_load`` drives a load window from this host (targets place theirs: ``Target.load_generator``). ``LoadPlan``,
``locust_argv``, ``locust_env`` and ``LOCUSTFILE`` let another launcher (a Kubernetes Job)
start the same master and workers; ``read_worker_files`` + ``merge_worker_files`` turn
their result files into figures. Importing this package never imports locust.
"""

from harness.load.plan import LOCUSTFILE, LoadPlan, locust_argv, locust_env
from harness.load.results import (
    FailureKind,
    KindSummary,
    LatencySummary,
    LoadResult,
    TimelinePoint,
    merge_worker_files,
    read_worker_files,
)
from harness.load.run import run_load, run_plan

__all__ = [
    "LOCUSTFILE",
    "FailureKind",
    "KindSummary",
    "LatencySummary",
    "LoadPlan",
    "LoadResult",
    "TimelinePoint",
    "locust_argv",
    "locust_env",
    "merge_worker_files",
    "read_worker_files",
    "run_load",
    "run_plan",
]
