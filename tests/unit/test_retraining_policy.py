"""The retraining condition: parsing, precedence, and what each term reads."""

from __future__ import annotations

import pytest

from mlsql.monitoring.policy import Observations, Policy, PolicyError, parse_condition

DRIFT_ROWS = (
    {"input": "amount", "metric": "POPULATION_STABILITY_INDEX", "value": 0.4,
     "is_anomaly": True, "window_end": "2026-03-02"},
    {"input": "hour", "metric": "POPULATION_STABILITY_INDEX", "value": 0.1,
     "is_anomaly": False, "window_end": "2026-03-02"},
)
SEEN = Observations(quality={"roc_auc": 0.71, "recall": 0.4, "window_end": "2026-03-02",
                             "model_version": 3},
                    drift=DRIFT_ROWS, serving_age_seconds=3 * 86400)


@pytest.mark.parametrize("condition, fired", [
    ("roc_auc < 0.85", True),
    ("roc_auc < 0.7", False),
    ("roc_auc <= 0.71", True),
    ("recall >= 0.5", False),
    ("POPULATION_STABILITY_INDEX > 0.25", True),  # the largest over the inputs
    ("population_stability_index(hour) > 0.25", False),
    ("DRIFT", True),
    ("EVERY '7 days'", False),
    ("EVERY '2 d'", True),
    ("roc_auc < 0.7 OR recall < 0.5 AND DRIFT", True),  # AND binds tighter
    ("(roc_auc < 0.7 OR recall < 0.5) AND EVERY '7 days'", False),
    ("roc_auc < 0.7 or recall < 0.3", False),
])
def test_the_condition_judges_what_it_reads(condition, fired):
    assert parse_condition(condition).judge(SEEN).fired is fired


def test_the_reasons_name_the_values_and_the_window():
    verdict = parse_condition("roc_auc < 0.85 AND POPULATION_STABILITY_INDEX > 0.25").judge(SEEN)
    assert verdict.reasons == (
        "roc_auc = 0.71 < 0.85 (window ending 2026-03-02, version 3)",
        "POPULATION_STABILITY_INDEX = 0.4 > 0.25 (window ending 2026-03-02)")
    refused = parse_condition("roc_auc < 0.5").judge(SEEN)
    assert refused.reasons == ("roc_auc = 0.71 >= 0.5 (window ending 2026-03-02, version 3)",)


def test_missing_windows_do_not_fire_and_say_why():
    empty = Observations(quality_note="no quality window of version 4 yet")
    verdict = parse_condition("roc_auc < 0.85 OR DRIFT").judge(empty)
    assert not verdict.fired
    assert verdict.reasons == ("roc_auc < 0.85: no quality window of version 4 yet",
                               "DRIFT: no drift window yet")


@pytest.mark.parametrize("condition, message", [
    ("roc_auc <", "it ends too early"),
    ("roc_auc < high", "'high' is not a number"),
    ("roc_auc ! 0.5", "cannot read '! 0.5'"),
    ("EVERY 7", "EVERY takes a quoted duration"),
    ("EVERY '7 weeks'", "is not a duration"),
    ("recall(amount) > 0.1", "names an input of a drift statistic"),
    ("(DRIFT", "it ends too early"),
    ("DRIFT DRIFT", "unexpected 'DRIFT'"),
])
def test_a_condition_that_cannot_run_is_an_error(condition, message):
    with pytest.raises(PolicyError, match=message):
        parse_condition(condition)


def test_a_policy_needs_the_tables_its_condition_reads():
    with pytest.raises(PolicyError, match=r"needs retrain\.drift_table"):
        Policy.from_options({"when": "DRIFT", "training_data": "t"})
    with pytest.raises(PolicyError, match=r"needs retrain\.training_data"):
        Policy.from_options({"when": "EVERY '1 d'"})
    with pytest.raises(PolicyError, match="'soon' is not a duration"):
        Policy.from_options({"when": "EVERY '1 d'", "training_data": "t",
                             "min_interval": "soon"})
    policy = Policy.from_options({"when": "EVERY '1 d'", "training_data": "t",
                                  "gate_data": ""})
    assert policy.gate_data is None and policy.min_interval_seconds == 3600
