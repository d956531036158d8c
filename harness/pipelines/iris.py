"""The reference pipeline: the seed's iris pipeline, fixed and completed for KFP v2.

``load`` writes iris to CSV and ``print_head`` prints it, as in the seed; ``train`` fits an
SVC and saves ``model.joblib`` in its ``Output[Model]`` directory (the layout KServe's
sklearn runtime loads); ``evaluate`` logs held-out accuracy and fails below a threshold.

What changed from the seed, and why (``mlharness compile`` flags each in the seed's code):
- ``kfp.v2.dsl`` is gone in KFP 2: import from ``kfp.dsl``.
- ``PipelineExecutionMode.V2_COMPATIBLE`` was removed in KFP 2: compile with the plain compiler.
- the pip package ``sklearn`` is deprecated and no longer installs: ask for ``scikit-learn``.
- the seed labels the columns petal/petal/sepal/sepal, but iris's features come
  sepal length, sepal width, petal length, petal width: take the names from the data set.
- packages and the base image are pinned, so a run today trains what a run next year trains.
"""


from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

from harness.pipelines.versions import BASE_IMAGE, PANDAS, SCIKIT_LEARN

PIPELINE_NAME = "iris"
DEFAULT_MIN_ACCURACY = 0.9


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[PANDAS, SCIKIT_LEARN])
def load(data: Output[Dataset]):
    """Write the iris data set, features and label, to CSV."""
    import pandas as pd
    from sklearn import datasets

    iris = datasets.load_iris()
    columns = [name.replace(" (cm)", "").replace(" ", "_") for name in iris.feature_names]
    df = pd.DataFrame(data=iris.data, columns=columns)
    df["species"] = iris.target
    df.to_csv(data.path, index=False)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[PANDAS])
def print_head(data: Input[Dataset]):
    """Print the first rows, as the seed does."""
    import pandas as pd

    print(pd.read_csv(data.path).head())


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[PANDAS, SCIKIT_LEARN])
def train(data: Input[Dataset], model: Output[Model], test_size: float = 0.3, seed: int = 42):
    """Fit an SVC on a stratified train split; save it as ``model.joblib``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["species"]).to_numpy(), df["species"].to_numpy()
    x_train, _, y_train, _ = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y
    )
    clf = SVC(gamma="scale", random_state=seed).fit(x_train, y_train)
    os.makedirs(model.path, exist_ok=True)
    joblib.dump(clf, os.path.join(model.path, "model.joblib"))
    model.metadata["framework"] = "sklearn"
    model.metadata["n_train"] = len(x_train)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=[PANDAS, SCIKIT_LEARN])
def evaluate(
    data: Input[Dataset],
    model: Input[Model],
    metrics: Output[Metrics],
    min_accuracy: float = 0.9,
    test_size: float = 0.3,
    seed: int = 42,
):
    """Held-out accuracy; the task (and so the run) fails below ``min_accuracy``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["species"]).to_numpy(), df["species"].to_numpy()
    _, x_test, _, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    clf = joblib.load(os.path.join(model.path, "model.joblib"))
    accuracy = float((clf.predict(x_test) == y_test).mean())
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("n_test", len(x_test))
    print(f"held-out accuracy {accuracy:.4f} (threshold {min_accuracy})")
    if accuracy < min_accuracy:
        raise ValueError(f"accuracy {accuracy:.4f} is below the threshold {min_accuracy}")


@dsl.pipeline(name=PIPELINE_NAME, description="Train and evaluate an SVC on iris.")
def iris_pipeline(min_accuracy: float = DEFAULT_MIN_ACCURACY):
    load_task = load()
    head_task = print_head(data=load_task.outputs["data"])
    train_task = train(data=load_task.outputs["data"])
    eval_task = evaluate(
        data=load_task.outputs["data"],
        model=train_task.outputs["model"],
        min_accuracy=min_accuracy,
    )
    for task in (load_task, head_task, train_task, eval_task):
        task.set_cpu_request("100m").set_cpu_limit("1")
        task.set_memory_request("256M").set_memory_limit("1G")
