"""The example models (examples/wine, examples/diabetes, examples/penguins) trained as their pipelines train them,
and their injected faults: a classifier fitted on shuffled labels, a regressor whose answers
are offset. Shared by tests/test_contract_runs.py and tests/foreign/test_contract_foreign.py."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WINE = REPO / "examples" / "wine"
DIABETES = REPO / "examples" / "diabetes"
PENGUINS = REPO / "examples" / "penguins"


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


def train_penguins(out_dir: Path, *, shuffled: bool = False) -> Path:
    """The mixed-type Pipeline as ``penguins_pipeline``'s ``train`` fits it, on a DataFrame (so it has
    ``feature_names_in_``): OneHotEncoder on island and sex, StandardScaler on the measurements,
    LogisticRegression; ``shuffled``: on permuted labels."""
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(PENGUINS / "data.csv")
    x, y = frame.drop(columns=["label"]), frame["label"]
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.3, random_state=42, stratify=y)
    if shuffled:
        y_train = pd.Series(np.random.default_rng(0).permutation(y_train.to_numpy()), index=y_train.index)
    columns = ColumnTransformer([
        ("text", OneHotEncoder(handle_unknown="ignore"), ["island", "sex"]),
        ("numbers", StandardScaler(), ["bill_length_mm", "flipper_length_mm", "body_mass_g"]),
    ])
    model = Pipeline([("columns", columns), ("classify", LogisticRegression(max_iter=1000))]).fit(x_train, y_train)
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out_dir / "model.joblib")
    return out_dir
