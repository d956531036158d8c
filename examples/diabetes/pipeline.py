"""An example of a user's own regressor: scikit-learn's diabetes data (10 features, a
disease-progression score).

``load`` writes the data set to CSV, ``fit`` trains a ridge regression and saves
``model.joblib`` in its ``Output[Model]`` (named ``regressor``, not ``model``: the harness
finds the model by its type, ``dsl.Model``), ``score`` logs held-out R² and fails the run
below ``min_r2``. Validate it:

    mlharness run --pipeline examples/diabetes/pipeline.py:diabetes_pipeline --contract examples/diabetes/contract.toml
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

BASE_IMAGE = "python:3.11.10-slim-bookworm"
PACKAGES = ["pandas==2.3.3", "scikit-learn==1.9.1"]


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def load(data: Output[Dataset]):
    """Write the diabetes data set (scaled features, as scikit-learn ships them) and its target to CSV."""
    from sklearn import datasets

    diabetes = datasets.load_diabetes(as_frame=True)
    frame = diabetes.frame.rename(columns={"target": "label"})
    frame.to_csv(data.path, index=False)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def fit(data: Input[Dataset], regressor: Output[Model], test_size: float = 0.3, seed: int = 42):
    """Fit a ridge regression on a train split; save it as ``model.joblib``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["label"]).to_numpy(), df["label"].to_numpy()
    x_train, _, y_train, _ = train_test_split(x, y, test_size=test_size, random_state=seed)
    model = Ridge(alpha=0.1).fit(x_train, y_train)
    os.makedirs(regressor.path, exist_ok=True)
    joblib.dump(model, os.path.join(regressor.path, "model.joblib"))
    regressor.metadata["framework"] = "sklearn"


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def score(data: Input[Dataset], regressor: Input[Model], metrics: Output[Metrics], min_r2: float = 0.3,
          test_size: float = 0.3, seed: int = 42):
    """Held-out R²; the task (and so the run) fails below ``min_r2``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["label"]).to_numpy(), df["label"].to_numpy()
    _, x_test, _, y_test = train_test_split(x, y, test_size=test_size, random_state=seed)
    model = joblib.load(os.path.join(regressor.path, "model.joblib"))
    r2 = float(r2_score(y_test, model.predict(x_test)))
    metrics.log_metric("r2", r2)
    if r2 < min_r2:
        raise ValueError(f"R² {r2:.4f} is below the threshold {min_r2}")


@dsl.pipeline(name="diabetes", description="Train and score a ridge regression on scikit-learn's diabetes data.")
def diabetes_pipeline(min_r2: float = 0.3):
    load_task = load()
    fit_task = fit(data=load_task.outputs["data"])
    score_task = score(data=load_task.outputs["data"], regressor=fit_task.outputs["regressor"], min_r2=min_r2)
    for task in (load_task, fit_task, score_task):
        task.set_cpu_request("100m").set_cpu_limit("1")
        task.set_memory_request("256M").set_memory_limit("1G")
