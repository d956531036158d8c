"""``deploy.compat``: will the serving side load, and answer like, the model the pipeline trained?

scikit-learn only promises that a pickle loads in the version that wrote it: another version
warns (``InconsistentVersionWarning``) or fails to unpickle. Before a deploy this check
compares what trained the artifact with what will serve it:

- **trained**: the scikit-learn version an estimator pickles in its state
  (``BaseEstimator.__getstate__`` adds ``_sklearn_version``), read from the artifact's
  pickle stream with :mod:`pickletools`, without executing it; the numpy major from the
  module the arrays name (numpy 2 pickles ``numpy._core``, which numpy 1 cannot import).
  Without a local artifact (cluster targets keep it in the object store), the pins of the
  pipeline's ``train`` component (``scikit-learn==…`` in its pip install, the Python of its
  base image) stand in.
- **serving**: the local runtime's own interpreter and packages; for KServe, the sklearn
  server image of the pinned release (:mod:`harness.cluster.provision.versions`, with its source).

A version mismatch is a warning naming both; an artifact the serving side cannot load (not
a complete pickle stream, numpy 2 arrays for a numpy 1 server, or, on the local runtime, a
real ``joblib.load`` that raises) is a failure. Compressed joblib files (zlib, gzip, bz2,
xz, lzma) are decompressed first; lz4 and joblib's pre-0.10 multi-file format are not read
(the check says so and does not fail).
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import lzma
import pickletools
import re
import time
import warnings
import zlib
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.results import CheckResult, CheckStatus
from harness.targets.base import RuntimeVersions

CHECK = "deploy.compat"
# The files KServe's sklearn server loads from the model directory, first match wins
# (kserve/kserve python/sklearnserver/sklearnserver/model.py: MODEL_EXTENSIONS).
MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")
_KEY = b"_sklearn_version"
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_MEMO_OPS = {"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"}
_PIN = re.compile(r"""['"]?(scikit-learn|numpy)==([0-9][^'"\s]*)""")


class ArtifactUnreadable(Exception):
    """The artifact is not a pickle stream a serving runtime can load."""


def model_file(artifact: Path) -> Path:
    """The file the sklearn server would load: ``artifact`` itself, or the first model file in it."""
    if artifact.is_dir():
        found = sorted(p for p in artifact.iterdir() if p.is_file() and p.name.endswith(MODEL_EXTENSIONS))
        if not found:
            raise ArtifactUnreadable(f"no {'/'.join(MODEL_EXTENSIONS)} file in {artifact}")
        return found[0]
    return artifact


def _decompress(data: bytes) -> bytes:
    # joblib's compressor prefixes (joblib/compressor.py).
    try:
        if data.startswith(b"\x78"):
            return zlib.decompress(data)
        if data.startswith(b"\x1f\x8b"):
            return gzip.decompress(data)
        if data.startswith(b"BZ"):
            return bz2.decompress(data)
        if data.startswith(b"\xfd7zXZ") or data.startswith(b"\x5d\x00"):
            return lzma.decompress(data)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise ArtifactUnreadable(f"compressed, but does not decompress: {exc}") from None
    if data.startswith(b"\x04\x22\x4d\x18"):
        raise NotImplementedError("lz4-compressed joblib file (not read: lz4 is not a dependency)")
    if data.startswith(b"ZF"):
        raise NotImplementedError("joblib's pre-0.10 compressed format (not read)")
    return data


@dataclasses.dataclass(frozen=True)
class PickleFacts:
    """What a model file's pickle stream says about the versions that wrote it."""

    sklearn: tuple[str, ...]  # every distinct _sklearn_version, in stream order
    numpy_major: int | None  # 2 if the stream names numpy._core, 1 if numpy.core, else None


def _value_after_key(data: bytes, start: int) -> str | None:
    """Decode the ``_sklearn_version`` key op at ``start`` and the string op that follows it."""
    ops = pickletools.genops(data[start:])
    try:
        first = next(ops)
        if first[0].name not in _STRING_OPS or first[1] != _KEY.decode():
            return None
        for opcode, arg, _pos in ops:
            if opcode.name in _MEMO_OPS:
                continue
            return str(arg) if opcode.name in _STRING_OPS else None
    except (ValueError, StopIteration):
        return None
    return None


def _key_starts(data: bytes) -> list[int]:
    """Offsets of the string ops that hold the ``_sklearn_version`` key (protocols 0-5)."""
    starts, at = [], data.find(_KEY)
    while at >= 0:
        if at >= 2 and data[at - 2] == 0x8C and data[at - 1] == len(_KEY):  # SHORT_BINUNICODE
            starts.append(at - 2)
        elif at >= 5 and data[at - 5:at - 4] in (b"X", b"T") and int.from_bytes(data[at - 4:at], "little") == len(_KEY):
            starts.append(at - 5)  # BINUNICODE / BINSTRING
        elif at >= 1 and data[at - 1:at] in (b"V", b"S"):
            starts.append(at - 1)  # protocol 0 UNICODE / STRING
        at = data.find(_KEY, at + 1)
    return starts


def read_pickle_facts(path: Path) -> PickleFacts:
    """The scikit-learn versions and numpy major a model file's pickle stream records.

    Reads, never unpickles. joblib writes numpy arrays as raw bytes between pickle ops, so
    the stream is not walked whole: each ``_sklearn_version`` key is decoded where it stands.

    Raises:
        ArtifactUnreadable: not a complete pickle stream (garbage, truncated, bad compression).
        NotImplementedError: a compression this check does not read (lz4, joblib < 0.10).
    """
    data = _decompress(path.read_bytes())
    if len(data) < 2 or not (data[0] == 0x80 and data[1] <= 5) and data[:1] not in (b"(", b"c", b"}", b"]"):
        raise ArtifactUnreadable(f"{path.name} does not start like a pickle stream")
    if not data.endswith(b"."):
        raise ArtifactUnreadable(f"{path.name} does not end with the pickle STOP opcode: truncated or not a pickle")
    versions: list[str] = []
    for start in _key_starts(data):
        value = _value_after_key(data, start)
        if value and value not in versions:
            versions.append(value)
    numpy_major = 2 if b"numpy._core" in data else 1 if b"numpy.core" in data else None
    return PickleFacts(tuple(versions), numpy_major)


def pipeline_training(package: Path, task: str = "train") -> RuntimeVersions | None:
    """What the pipeline's ``task`` installs: its pip pins and its base image's Python."""
    import yaml

    spec = yaml.safe_load(package.read_text()) or {}
    ref = ((spec.get("root", {}).get("dag", {}).get("tasks", {}) or {}).get(task) or {}).get("componentRef", {}).get("name")
    label = (spec.get("components", {}).get(ref) or {}).get("executorLabel") if ref else None
    container = ((spec.get("deploymentSpec", {}).get("executors", {}) or {}).get(label) or {}).get("container", {})
    if not container:
        return None
    pins = dict(_PIN.findall(" ".join(str(c) for c in container.get("command", []) + container.get("args", []))))
    image = str(container.get("image", ""))
    py = re.match(r"(?:.*/)?python:(\d+\.\d+(?:\.\d+)?)", image)
    return RuntimeVersions(f"the pipeline's {task} task ({image})", pins.get("scikit-learn"), py.group(1) if py else None,
                           pins.get("numpy"), f"{package.name}: pip pins and base image of {label}")


def _minor(v: str | None) -> tuple[int, ...] | None:
    if not v:
        return None
    try:
        return Version(v).release[:2]
    except InvalidVersion:
        return None


def _same(a: str | None, b: str | None, *, minor: bool = False) -> bool | None:
    if not a or not b:
        return None
    if minor:
        return _minor(a) == _minor(b)
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _local_load(path: Path) -> tuple[str | None, list[str]]:
    """Load the file as the local runtime does (``joblib.load``); (error, warnings)."""
    import joblib

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            joblib.load(path)
        except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
            return f"{type(exc).__name__}: {exc}", []
    return None, sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:200]}" for w in caught})


def compare(trained: RuntimeVersions, serving: RuntimeVersions, *, numpy_major: int | None = None) -> CheckResult:
    """The verdict of ``trained`` against ``serving`` (no file involved)."""
    details: dict[str, Any] = {"trained": dataclasses.asdict(trained), "serving": dataclasses.asdict(serving)}
    serving_numpy = _minor(serving.numpy)
    if numpy_major == 2 and serving_numpy is not None and serving_numpy[0] < 2:
        return CheckResult(CHECK, CheckStatus.FAILED, f"the artifact's arrays need numpy 2 (it names numpy._core) but "
                           f"{serving.where} runs numpy {serving.numpy}: it cannot unpickle them", details=details)
    mismatches = []
    if _same(trained.sklearn, serving.sklearn) is False:
        mismatches.append(f"scikit-learn {trained.sklearn} trained it, {serving.where} serves with scikit-learn {serving.sklearn}")
    if _same(trained.python, serving.python, minor=True) is False:
        mismatches.append(f"Python {trained.python} trained it, {serving.where} runs Python {serving.python}")
    if _same(trained.numpy, serving.numpy, minor=True) is False:
        mismatches.append(f"numpy {trained.numpy} trained it, {serving.where} runs numpy {serving.numpy}")
    if mismatches:
        return CheckResult(CHECK, CheckStatus.WARNED, "; ".join(mismatches) + " (scikit-learn only promises to load "
                           "pickles of its own version: expect InconsistentVersionWarning, or a failed load)", details=details)
    if trained.sklearn is None:
        return CheckResult(CHECK, CheckStatus.SKIPPED, f"the scikit-learn that trained the model is unknown ({trained.where})",
                           details=details)
    return CheckResult(CHECK, CheckStatus.PASSED, f"scikit-learn {trained.sklearn} trained it and {serving.where} "
                       f"serves with scikit-learn {serving.sklearn}", details=details)


def check_artifact(artifact: Path | None, package: Path | None, serving: RuntimeVersions | None, *,
                   load: bool = False) -> CheckResult:
    """``deploy.compat`` for a model ``artifact`` (file or directory) and/or the compiled ``package``.

    Args:
        serving: what will serve it (None: unknown, the check is skipped).
        load: also ``joblib.load`` it here (the serving runtime is this interpreter).
    """
    started = time.perf_counter()
    if serving is None:
        return CheckResult(CHECK, CheckStatus.SKIPPED, "the serving runtime's versions are unknown on this target")
    facts: PickleFacts | None = None
    trained = pipeline_training(package) if package is not None else None
    note = ""
    if artifact is not None:
        try:
            path = model_file(artifact)
            facts = read_pickle_facts(path)
        except ArtifactUnreadable as exc:
            return CheckResult(CHECK, CheckStatus.FAILED, f"{serving.where} cannot load the model artifact: {exc}",
                               round(time.perf_counter() - started, 3), {"artifact": str(artifact)})
        except NotImplementedError as exc:
            note = f"; versions not read from the artifact: {exc}"
        if facts is not None and facts.sklearn:  # the artifact's own record beats the pipeline's pins
            trained = RuntimeVersions(f"the artifact {path.name}", facts.sklearn[0],
                                      source=f"_sklearn_version pickled in {path}")
        if load and facts is not None:
            error, caught = _local_load(path)
            if error:
                return CheckResult(CHECK, CheckStatus.FAILED, f"{serving.where} cannot load {path.name}: {error}",
                                   round(time.perf_counter() - started, 3), {"artifact": str(path)})
            note += f"; loading it warned: {'; '.join(caught)}" if caught else ""
    if trained is None:
        return CheckResult(CHECK, CheckStatus.SKIPPED, "no model artifact and no pipeline spec to read the training versions from")
    result = compare(trained, serving, numpy_major=facts.numpy_major if facts else None)
    details = {**result.details, **({"pickled_sklearn_versions": list(facts.sklearn)} if facts else {})}
    return dataclasses.replace(result, message=result.message + note, duration_s=round(time.perf_counter() - started, 3),
                               details=details)


def deploy_compat(serving: RuntimeVersions | None, serves_with_this_python: bool, artifact: Path | None,
                  package: Path | None) -> CheckResult:
    """The check as the run calls it, just before deploy: ``serving`` is what the target says serves
    the model; where that is this interpreter (the local target), the artifact is also loaded here."""
    return check_artifact(artifact, package, serving, load=serves_with_this_python and artifact is not None)
