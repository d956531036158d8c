"""An example of a user's own pipeline: scikit-learn's wine data (13 features, 3 classes).

``load`` writes the data set to CSV, ``train`` fits a scaler and an SVC on a stratified split
and saves ``model.joblib`` in its ``Output[Model]`` (the layout KServe's sklearn runtime
loads), ``evaluate`` logs held-out accuracy and fails the run below ``min_accuracy``.
Validate it (contract.toml says what the model takes and returns):

    mlharness run --pipeline examples/wine/pipeline.py:wine_pipeline --contract examples/wine/contract.toml
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

BASE_IMAGE = "python:3.11.10-slim-bookworm"
PACKAGES = ["pandas==2.3.3", "scikit-learn==1.9.1"]


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def load(data: Output[Dataset]):
    """Write the wine data set, 13 features and the label, to CSV."""
    from sklearn import datasets

    wine = datasets.load_wine(as_frame=True)
    frame = wine.frame.rename(columns={"target": "label"})
    frame.to_csv(data.path, index=False)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def train(data: Input[Dataset], model: Output[Model], test_size: float = 0.3, seed: int = 42):
    """Fit StandardScaler + SVC on a stratified train split; save it as ``model.joblib``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["label"]).to_numpy(), df["label"].to_numpy()
    x_train, _, y_train, _ = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    clf = make_pipeline(StandardScaler(), SVC(gamma="scale", random_state=seed)).fit(x_train, y_train)
    os.makedirs(model.path, exist_ok=True)
    joblib.dump(clf, os.path.join(model.path, "model.joblib"))
    model.metadata["framework"] = "sklearn"


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def evaluate(data: Input[Dataset], model: Input[Model], metrics: Output[Metrics], min_accuracy: float = 0.9,
             test_size: float = 0.3, seed: int = 42):
    """Held-out accuracy; the task (and so the run) fails below ``min_accuracy``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["label"]).to_numpy(), df["label"].to_numpy()
    _, x_test, _, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    clf = joblib.load(os.path.join(model.path, "model.joblib"))
    accuracy = float((clf.predict(x_test) == y_test).mean())
    metrics.log_metric("accuracy", accuracy)
    if accuracy < min_accuracy:
        raise ValueError(f"accuracy {accuracy:.4f} is below the threshold {min_accuracy}")


@dsl.pipeline(name="wine", description="Train and evaluate a scaled SVC on scikit-learn's wine data.")
def wine_pipeline(min_accuracy: float = 0.9):
    load_task = load()
    train_task = train(data=load_task.outputs["data"])
    eval_task = evaluate(data=load_task.outputs["data"], model=train_task.outputs["model"], min_accuracy=min_accuracy)
    for task in (load_task, train_task, eval_task):
        task.set_cpu_request("100m").set_cpu_limit("1")
        task.set_memory_request("256M").set_memory_limit("1G")
