"""The examples run as plain Python, in this process, with no AWS: the debug loop users rely on."""

from __future__ import annotations

import pytest

from examples.approval_release import approval_release
from examples.etl_s3 import EmptyFileError, etl_s3
from examples.hpo_fanout import SearchRequest, hpo_fanout
from examples.ml_training import TrainingRequest, ml_training
from examples.model_family import churn_baseline, churn_with_embeddings, churn_with_hpo


def test_ml_training_releases_a_good_model_and_rejects_bad_data() -> None:
    assert ml_training(TrainingRequest()).startswith("s3://model-registry/tumor-classifier/")
    assert ml_training(TrainingRequest(max_null_fraction=0.0)) == "rejected-data"
    assert ml_training(TrainingRequest(min_auc=0.99)) == "rejected-model"


def test_the_model_family_shares_its_steps() -> None:
    for workflow in (churn_baseline, churn_with_embeddings, churn_with_hpo):
        assert workflow().startswith("s3://model-registry/")


def test_hpo_fans_out_and_picks_the_best() -> None:
    assert hpo_fanout(SearchRequest()).startswith("registered s3://model-registry/")


def test_etl_loads_quarantines_and_fails_as_written() -> None:
    assert etl_s3() == "analytics.daily_sales"
    assert etl_s3(key="sales/broken.csv") == "quarantined"
    with pytest.raises(EmptyFileError):
        etl_s3(key="sales/empty.csv")


def test_approval_gate_follows_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTONE_APPROVE", "yes")
    assert approval_release().startswith("released churn-classifier")
    monkeypatch.setenv("STEPSTONE_APPROVE", "no")
    assert approval_release().endswith("rejected by the reviewer")


def test_parameters_are_validated_before_anything_runs() -> None:
    from compiler import ParamsError

    with pytest.raises(ParamsError, match="min_auc"):
        ml_training.validate_params({"min_auc": 2})
    assert ml_training.validate_params({})["min_auc"] == 0.75
