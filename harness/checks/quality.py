"""``predict.quality``: how good the *served* model is on the contract's labelled data.

A classifier is judged by accuracy (and, when ``min_recall`` is set, the recall of every
class; the per-class recall is always in the details); a regressor by MAE, RMSE and R², each
against its threshold where one is set. The figures are scikit-learn's definitions, computed
once (:mod:`harness.contract.metrics`, which the release diff uses too). Answers are read as the contract's output and compared as canonical labels.
"""

from __future__ import annotations

from typing import Any

from harness.checks.predict import NAMES, _protocol_names, _timed, served
from harness.contract import ModelContract
from harness.contract.metrics import classification_figures, regression_figures
from harness.inference.client import InferenceClient
from harness.results import CheckResult, CheckStatus

SHOWN = 5  # rows outside the contract named in the message; all are in the details


def check_quality(client: InferenceClient, contract: ModelContract) -> CheckResult:
    """``predict.quality``: the served model's quality on the contract's data, against its
    thresholds, over every protocol spoken (the first that falls short fails it, named; each
    one's figures are in ``details.by_protocol``). An answer the contract does not allow (null,
    a class not in ``classes``, a regressor's non-number...) fails it with the rows named:
    a server that breaks its contract on a few rows does not pass on the accuracy of the rest."""

    def run() -> tuple[CheckStatus, str, dict[str, Any]]:
        data = contract.labelled()
        protocols = client.endpoint.protocols or (client.endpoint.primary_protocol,)
        details: dict[str, Any] = {"task": contract.task, "rows": len(data), "data": data.source,
                                   "protocol": protocols[0], "protocols": list(protocols), "thresholds": contract.thresholds.as_dict()}
        by_protocol: dict[str, dict[str, Any]] = {}
        judged: list[tuple[str, list[str], str]] = []
        reader = client.reader.for_contract(contract)
        for protocol in protocols:
            answers = served(client, data.rows, protocol)
            outside = reader.outside(answers)
            if outside:  # an answer the contract does not allow is not a miss among others: the server breaks the contract
                shown = "; ".join(f"row {i}: {why}" for i, why in outside[:SHOWN]) + (" ..." if len(outside) > SHOWN else "")
                return CheckStatus.FAILED, (f"{len(outside)} of {len(answers)} answers over {NAMES.get(protocol, protocol)} are not predictions "
                                            f"the contract allows: {shown}"), \
                    {**details, "protocol": protocol, "outside_contract": [{"row": i, "problem": why} for i, why in outside]}
            if contract.is_classifier:
                labels = client.reader.canonical(data.labels)
                classes = client.reader.canonical(contract.classes)
                figures: dict[str, Any] = classification_figures(labels, answers, classes)
                failures = _classifier_failures(figures, contract)
                summary = f"accuracy {figures['accuracy']:.4f}"
            else:
                figures = regression_figures([float(v) for v in data.labels], [float(a) for a in answers])
                failures = _regressor_failures(figures, contract)
                summary = f"MAE {figures['mae']:.4g}, RMSE {figures['rmse']:.4g}, R² {figures['r2']:.4f}"
            by_protocol[protocol] = figures
            judged.append((protocol, failures, summary))
        details["by_protocol"] = by_protocol
        failing = next(((p, f, s) for p, f, s in judged if f), None)
        if failing is not None:
            protocol, failures, summary = failing
            details.update(by_protocol[protocol], protocol=protocol)
            return CheckStatus.FAILED, f"{'; '.join(failures)} on {len(data)} labelled rows over {NAMES.get(protocol, protocol)} ({summary})", details
        details.update(by_protocol[protocols[0]])
        return CheckStatus.PASSED, f"{judged[0][2]} on {len(data)} labelled rows over {_protocol_names(protocols)}, within the thresholds", details

    return _timed("predict.quality", run)


def _classifier_failures(figures: dict[str, Any], contract: ModelContract) -> list[str]:
    limits = contract.thresholds
    failures = []
    if limits.min_accuracy is not None and figures["accuracy"] < limits.min_accuracy:
        failures.append(f"accuracy {figures['accuracy']:.4f} < threshold {limits.min_accuracy}")
    if limits.min_recall is not None:
        low = {c: r for c, r in figures["recall"].items() if r is not None and r < limits.min_recall}
        if low:
            failures.append("recall below " + f"{limits.min_recall} for class(es) " + ", ".join(f"{c} ({r:.4f})" for c, r in low.items()))
    return failures


def _regressor_failures(figures: dict[str, float], contract: ModelContract) -> list[str]:
    limits = contract.thresholds
    failures = []
    if limits.max_mae is not None and figures["mae"] > limits.max_mae:
        failures.append(f"MAE {figures['mae']:.4g} > threshold {limits.max_mae}")
    if limits.max_rmse is not None and figures["rmse"] > limits.max_rmse:
        failures.append(f"RMSE {figures['rmse']:.4g} > threshold {limits.max_rmse}")
    if limits.min_r2 is not None and figures["r2"] < limits.min_r2:
        failures.append(f"R² {figures['r2']:.4f} < threshold {limits.min_r2}")
    return failures
