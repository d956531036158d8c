"""The example models (examples/wine, examples/diabetes) trained as their pipelines train them,
and their injected faults: a classifier fitted on shuffled labels, a regressor whose answers
are offset. Shared by tests/test_contract_runs.py and tests/foreign/test_contract_foreign.py."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WINE = REPO / "examples" / "wine"
DIABETES = REPO / "examples" / "diabetes"


def _xy(data: Path) -> tuple[object, object]:
    import pandas as pd

    frame = pd.read_csv(data)
    return frame.drop(columns=["label"]).to_numpy(), frame["label"].to_numpy()


def train_wine(out_dir: Path, *, shuffled: bool = False) -> Path:
    """StandardScaler + SVC as ``wine_pipeline``'s ``train`` fits it; ``shuffled``: on permuted labels."""
    import joblib
    import numpy as np
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x, y = _xy(WINE / "data.csv")
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.3, random_state=42, stratify=y)
    if shuffled:
        y_train = np.random.default_rng(0).permutation(y_train)
    model = make_pipeline(StandardScaler(), SVC(gamma="scale", random_state=42)).fit(x_train, y_train)
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out_dir / "model.joblib")
    return out_dir


def train_diabetes(out_dir: Path, *, offset: float = 0.0) -> Path:
    """Ridge as ``diabetes_pipeline``'s ``fit`` fits it; ``offset`` is added to every answer."""
    import joblib
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

    x, y = _xy(DIABETES / "data.csv")
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.3, random_state=42)
    model = Ridge(alpha=0.1).fit(x_train, y_train)
    model.intercept_ = model.intercept_ + offset
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out_dir / "model.joblib")
    return out_dir
