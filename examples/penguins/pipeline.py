"""An example of a mixed-type tabular model: a penguins-like table with text and numeric columns.

``load`` writes the table (generated deterministically with the standard library's ``random``,
no download: the same 300 rows as ``data.csv`` beside this file), ``train`` fits a scikit-learn
Pipeline on the DataFrame (OneHotEncoder on ``island`` and ``sex``, StandardScaler on the three
measurements, LogisticRegression) and saves ``model.joblib`` in its ``Output[Model]``;
``evaluate`` logs held-out accuracy and fails the run below ``min_accuracy``. The model takes
named columns (``feature_names_in_``), strings among them: the harness sends one input per
column (V2, the pandas content type) and named rows (V1). Validate it:

    mlharness run --pipeline examples/penguins/pipeline.py:penguins_pipeline --contract examples/penguins/contract.toml
"""

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

BASE_IMAGE = "python:3.11.10-slim-bookworm"
PACKAGES = ["pandas==2.3.3", "scikit-learn==1.9.1"]


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def load(data: Output[Dataset], rows: int = 300, seed: int = 7):
    """Write the penguins-like table: island, sex (text), three measurements, the species label."""
    import csv
    import random

    rng = random.Random(seed)
    # species: (islands it lives on, bill length, flipper length, body mass) as (mean, sd)
    species = {
        "Adelie": (("Biscoe", "Dream", "Torgersen"), (38.8, 2.6), (190.0, 6.5), (3700, 450)),
        "Chinstrap": (("Dream",), (48.8, 3.3), (196.0, 7.1), (3730, 380)),
        "Gentoo": (("Biscoe",), (47.5, 3.1), (217.0, 6.5), (5080, 500)),
    }
    names = sorted(species)
    with open(data.path, "w", newline="") as file:
        out = csv.writer(file)
        out.writerow(["island", "sex", "bill_length_mm", "flipper_length_mm", "body_mass_g", "label"])
        for i in range(rows):
            label = names[i % len(names)]
            islands, bill, flipper, mass = species[label]
            sex = rng.choice(("female", "male"))
            bigger = 1.0 if sex == "male" else -1.0
            out.writerow([
                rng.choice(islands), sex,
                round(rng.gauss(bill[0] + bigger * 1.2, bill[1]), 1),
                round(rng.gauss(flipper[0] + bigger * 2.5, flipper[1]), 1),
                int(rng.gauss(mass[0] + bigger * 250, mass[1])),
                label,
            ])


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def train(data: Input[Dataset], model: Output[Model], test_size: float = 0.3, seed: int = 42):
    """Fit OneHotEncoder (text) + StandardScaler (numbers) + LogisticRegression on a DataFrame split."""
    import os

    import joblib
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["label"]), df["label"]
    x_train, _, y_train, _ = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    columns = ColumnTransformer([
        ("text", OneHotEncoder(handle_unknown="ignore"), ["island", "sex"]),
        ("numbers", StandardScaler(), ["bill_length_mm", "flipper_length_mm", "body_mass_g"]),
    ])
    clf = Pipeline([("columns", columns), ("classify", LogisticRegression(max_iter=1000))]).fit(x_train, y_train)
    os.makedirs(model.path, exist_ok=True)
    joblib.dump(clf, os.path.join(model.path, "model.joblib"))
    model.metadata["framework"] = "sklearn"


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def evaluate(data: Input[Dataset], model: Input[Model], metrics: Output[Metrics], min_accuracy: float = 0.85,
             test_size: float = 0.3, seed: int = 42):
    """Held-out accuracy; the task (and so the run) fails below ``min_accuracy``."""
    import os

    import joblib
    import pandas as pd
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(data.path)
    x, y = df.drop(columns=["label"]), df["label"]
    _, x_test, _, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    clf = joblib.load(os.path.join(model.path, "model.joblib"))
    accuracy = float((clf.predict(x_test) == y_test).mean())
    metrics.log_metric("accuracy", accuracy)
    if accuracy < min_accuracy:
        raise ValueError(f"accuracy {accuracy:.4f} is below the threshold {min_accuracy}")


@dsl.pipeline(name="penguins", description="A mixed-type Pipeline (one-hot text, scaled numbers, logistic regression).")
def penguins_pipeline(min_accuracy: float = 0.85):
    load_task = load()
    train_task = train(data=load_task.outputs["data"])
    eval_task = evaluate(data=load_task.outputs["data"], model=train_task.outputs["model"], min_accuracy=min_accuracy)
    for task in (load_task, train_task, eval_task):
        task.set_cpu_request("100m").set_cpu_limit("1")
        task.set_memory_request("256M").set_memory_limit("1G")
