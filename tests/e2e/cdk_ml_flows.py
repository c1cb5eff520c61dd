"""A scikit-learn pipeline deployed as a user deploys it (``stepstone deploy --localstack``,
tests/e2e/test_cdk_packages.py): its steps import scikit-learn, pandas and numpy from the
packages this file declares, locked in ``cdk_ml_flows.lock`` and installed for Lambda's
platform; too large for a zip, the function is a container image on AWS and, on
LocalStack, a function whose packages are that image's, in a folder of their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import stepstone
from stepstone import step, workflow

stepstone.packages("scikit-learn", "pandas", "numpy", "pyarrow")


@step
def cancer_frame(rows: int) -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    return frame.sample(n=min(rows, len(frame)), random_state=7)


@step
def fit(frame: pd.DataFrame) -> Pipeline:
    train, _ = train_test_split(frame, test_size=0.25, random_state=7)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return model.fit(train.drop(columns="target"), train["target"])


@step
def held_out_accuracy(model: Pipeline, frame: pd.DataFrame) -> dict[str, float | str]:
    _, test = train_test_split(frame, test_size=0.25, random_state=7)
    predicted = model.predict(test.drop(columns="target"))
    return {"accuracy": round(float(np.mean(predicted == test["target"])), 4),
            "sklearn": __import__("sklearn").__version__, "numpy": np.__version__,
            "python": __import__("platform").python_version(), "pandas_from": str(Path(pd.__file__).parent)}


@workflow
def cancer_model(rows: int = 400) -> dict[str, float | str]:
    frame = cancer_frame(rows)
    model = fit(frame)
    return held_out_accuracy(model, frame)
