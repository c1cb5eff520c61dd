"""Three workflows, one set of steps: a model family that grows without copying code.

- ``churn_baseline``: authenticate, pull the data, train, evaluate, release.
- ``churn_with_embeddings``: the same, with segment embeddings pulled in parallel with the data.
- ``churn_with_hpo``: tunes hyper-parameters before training, and skips the GPU entirely
  when even the best candidate cannot reach the bar.

Every step comes from ``shared_steps.py``; the workflows differ only in how they wire them.
The parameters here are plain annotated arguments with defaults (compare ``ml_training.py``,
which takes one pydantic model).

Run it in-process (no AWS needed):  python -m examples.model_family
"""

from examples.shared_steps import (
    authenticate,
    evaluate,
    pull_data,
    pull_embeddings,
    release_model,
    report_rejection,
    train,
    tune_hyperparameters,
)
from stepstone import cron, rate, workflow


@workflow(schedule=cron("0 4 ? * MON *", timezone="Europe/London"))
def churn_baseline(project: str = "churn", table: str = "customers", rows: int = 500, seed: int = 11,
                   min_auc: float = 0.7) -> str:
    session = authenticate(project)
    dataset = pull_data(session, table=table, rows=rows, seed=seed)
    model = train(dataset, name="churn-baseline")
    evaluation = evaluate(model)
    if evaluation.auc < min_auc:
        report_rejection(evaluation, min_auc=min_auc)
        return "rejected"
    return release_model(model)


@workflow(schedule=rate(1, "day"))
def churn_with_embeddings(project: str = "churn", table: str = "customers", rows: int = 500, seed: int = 11,
                          min_auc: float = 0.75) -> str:
    session = authenticate(project)
    dataset = pull_data(session, table=table, rows=rows, seed=seed)
    embeddings = pull_embeddings(session, dim=4, seed=seed)      # runs in parallel with pull_data
    model = train(dataset, name="churn-embeddings", embeddings=embeddings)
    evaluation = evaluate(model)
    if evaluation.auc < min_auc:
        report_rejection(evaluation, min_auc=min_auc)
        return "rejected"
    return release_model(model)


@workflow(schedule=cron("0 1 1 * ? *", timezone="America/New_York", params={"rows": 2000}))
def churn_with_hpo(project: str = "churn", table: str = "customers", rows: int = 500, seed: int = 11,
                   min_auc: float = 0.75) -> str:
    session = authenticate(project)
    dataset = pull_data(session, table=table, rows=rows, seed=seed)
    embeddings = pull_embeddings(session, dim=4, seed=seed)
    best = tune_hyperparameters(dataset, embeddings=embeddings)
    if best.validation_auc < min_auc:
        return "rejected-before-training"                        # no GPU hours spent
    model = train(dataset, name="churn-hpo", embeddings=embeddings, params=best)
    evaluation = evaluate(model)
    if evaluation.auc < min_auc:
        report_rejection(evaluation, min_auc=min_auc)
        return "rejected"
    return release_model(model)


if __name__ == "__main__":
    for run in (churn_baseline, churn_with_embeddings, churn_with_hpo):
        print(f"{run.name}: {run()}")
