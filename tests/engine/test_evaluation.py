"""Evaluation: metrics, calibration table, precision at k, per-group figures, and the history replay."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from matcher.engine.evaluation import calibration_table, evaluate_scorer, format_table, precision_at_k, replay
from tests.engine.helpers import featurizer_for, random_world


def test_precision_at_k_by_hand():
    y = np.array([1, 0, 0, 1, 1, 0, 0], bool)
    p = np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.6, 0.5])
    q = np.array([1, 1, 1, 1, 2, 2, 2])
    # Query 1 top 2: rows 0 (1), 1 (0) -> 0.5; query 2 top 2: rows 4 (1), 5 (0) -> 0.5.
    assert precision_at_k(y, p, q, 2) == pytest.approx(0.5)
    # k beyond a query's size: divide by the rows it has. Query 1: 2/4, query 2: 1/3.
    assert precision_at_k(y, p, q, 10) == pytest.approx((2 / 4 + 1 / 3) / 2)


def test_calibration_table_bins():
    table = calibration_table(np.array([0, 1, 1, 0]), np.array([0.05, 0.95, 0.92, 0.5]))
    assert len(table) == 10
    assert table[0]["n"] == 1 and table[0]["observed"] == 0.0
    assert table[9]["n"] == 2 and table[9]["mean_predicted"] == pytest.approx(0.935)
    assert table[3]["n"] == 0 and table[3]["observed"] is None


def test_evaluate_scorer_report_and_groups():
    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = rng.random(500) < p
    sex = np.where(rng.random(500) < 0.3, "female", "male")
    report = evaluate_scorer(y, p, {"sex": sex}, query_ids=rng.integers(0, 40, 500))
    assert {"n", "base_rate", "roc_auc", "brier", "calibration", "precision_at_5", "precision_at_10",
            "groups", "mean_predicted"} <= set(report)
    assert report["roc_auc"] > 0.7
    assert set(report["groups"]["sex"]) == {"female", "male"}
    assert report["groups"]["sex"]["female"]["n"] == (sex == "female").sum()
    assert "precision_at_5" in report["groups"]["sex"]["male"]
    json.dumps(report)  # plain JSON
    legacy = evaluate_scorer(y, p, None, rng.integers(0, 40, 500))
    assert legacy["precision_at_5"] is not None and legacy["groups"] == {}
    one_class = evaluate_scorer(np.zeros(5, bool), np.full(5, 0.2))
    assert one_class["roc_auc"] is None and "precision_at_5" not in one_class


@pytest.fixture(scope="module")
def replayed():
    """One replay of a small simulated city whose truth is known, shared by the tests below (a replay trains)."""
    world = random_world(11, 900, 150, 2000)
    split = int(np.quantile(world.history.referred_on, 0.75))
    sex = np.where(np.arange(2000) % 4 == 0, "female", "male")
    report = replay(world.candidates, world.slots, world.history, split, groups={"sex": sex},
                    featurizer=featurizer_for(world), truth=world.stay_probability)
    return world, report


def test_replay_compares_plans(replayed):
    _world, report = replayed
    assert report["n_train"] + report["n_test"] == 2000
    assert report["model_kind"] in ("learned", "prior")  # the per-bureau switch decides (model.SWITCH_RULE)
    assert {"roc_auc", "brier", "calibration", "precision_at_5"} <= set(report["model"])
    assert report["prior"]["roc_auc"] is not None
    assert set(report["model"]["groups"]["sex"]) == {"female", "male"}
    plans = report["assignment"]["plans"]
    assert set(plans) == {"model (exact)", "greedy (model scores)", "nearest preferred course", "random",
                          "historic referrals"}
    seats = report["assignment"]["seats"]
    for name, row in plans.items():
        assert {"assigned", "expected_stays", "matched_referrals", "realised_stays", "vs_rule", "ci95", "se",
                "vs_rule_ci95", "vs_rule_stays", "vs_rule_stays_ci95", "vs_model_stays", "vs_model_stays_ci95",
                "realised_part", "model_part", "correction_part"} <= set(row)
        if name != "historic referrals":
            assert row["assigned"] <= min(seats, report["assignment"]["candidates"])
        low, high = row["ci95"]
        assert low < row["expected_stays"] < high
        assert row["realised_part"] + row["model_part"] + row["correction_part"] == pytest.approx(row["expected_stays"])
    # What caseworkers did is valued by what happened to it, exactly.
    assert plans["historic referrals"]["expected_stays"] == pytest.approx(plans["historic referrals"]["realised_stays"])
    assert plans["nearest preferred course"]["vs_rule"] == 0.0
    assert plans["model (exact)"]["vs_model_stays"] == 0.0
    # The exact plan maximises the model's own objective; greedy cannot beat it.
    assert plans["model (exact)"]["model_objective"] >= plans["greedy (model scores)"]["model_objective"] - 1e-6
    assert plans["model (exact)"]["expected_stays"] > plans["random"]["expected_stays"]
    assert plans["model (exact)"]["expected_stays"] > plans["nearest preferred course"]["expected_stays"]
    valuation = report["assignment"]["valuation"]
    assert valuation["folds"] == 3 and len(valuation["fold_training_rows"]) == 3
    assert valuation["propensity_clip"] == 0.2 and valuation["max_weight"] <= 5 + 1e-9
    text = format_table(report)
    assert "nearest preferred course" in text and "ROC AUC" in text and "by sex" in text
    assert "95 % interval" in text and "doubly robust" in text and "never the model under test" in text
    json.dumps(report)


def test_replay_valuation_is_close_to_the_truth(replayed):
    """On a simulated city the truth is known: the cross-fitted DR values land near each plan's true expected
    stays and their 95 % intervals cover it, for every plan but random (whose pairs nobody was referred to: the
    interval does not count the outcome model's error there, as the README says). Whether DR is closer than the
    old evaluator (the model trained on all history) is a statement over many worlds: bench/bench_evaluation.py;
    here the case that matters most is tested below, a model under test that is wrong about its own plan."""
    _world, report = replayed
    plans = report["assignment"]["plans"]
    for name in ("model (exact)", "greedy (model scores)", "nearest preferred course", "historic referrals"):
        truth = plans[name]["true_expected_stays"]
        low, high = plans[name]["ci95"]
        assert low <= truth <= high, name
        assert abs(plans[name]["expected_stays"] - truth) <= 0.12 * truth, name
        low, high = plans[name]["vs_rule_stays_ci95"]
        true_difference = truth - plans["nearest preferred course"]["true_expected_stays"]
        assert low <= true_difference <= high, name


def test_replay_never_grades_a_model_with_itself(monkeypatch):
    """A model under test that claims every pair stays (p = 0.95): its plan's value must come from the outcomes
    and an evaluator trained apart, not from its own claim (the old replay, whose evaluator was the same model
    trained on all history, reported about 0.95 per person)."""
    import matcher.engine.evaluation as evaluation

    world = random_world(7, 300, 60, 700)
    real_train = evaluation.train_scorer

    class Boastful:
        def predict_proba(self, X):
            return np.column_stack([np.full(len(X), 0.05), np.full(len(X), 0.95)])

    def boastful_train(*args, **kwargs):
        scorer = real_train(*args, **kwargs)
        return dataclasses.replace(scorer, estimator=Boastful())

    monkeypatch.setattr(evaluation, "train_scorer", boastful_train)
    split = int(np.quantile(world.history.referred_on, 0.75))
    report = replay(world.candidates, world.slots, world.history, split, featurizer=featurizer_for(world),
                    truth=world.stay_probability, all_history_evaluator=True)
    plan = report["assignment"]["plans"]["model (exact)"]
    assert plan["model_objective"] == pytest.approx(0.95 * plan["assigned"])
    # The old evaluator, the same kind of model trained on all history, believes it too.
    assert plan["all_history_model_stays"] == pytest.approx(0.95 * plan["assigned"])
    truth = plan["true_expected_stays"]
    assert truth < 0.6 * plan["assigned"]
    assert abs(plan["expected_stays"] - truth) < 0.2 * abs(plan["all_history_model_stays"] - truth)
    assert plan["ci95"][0] <= truth <= plan["ci95"][1]


def test_replay_keeps_history_whose_slots_started_before_the_release():
    """The issue's city: every slot started years ago (one start date on file), and people were released just
    before they were referred. In today's terms each person is "not available by the start"; on each referral's
    own day they were, and the referrals happened. The replay keeps every real pair and assigns the test period's
    people (evaluation once kept 24,939 pairs and assigned 93 of 801)."""
    world = random_world(3, 500, 90, 1600)
    history = world.history
    first = {}
    for person, day in zip(history.candidate_index.tolist(), history.referred_on.tolist(), strict=True):
        first.setdefault(person, day)
    available = world.candidates.available_from.copy()
    for person, day in first.items():
        available[person] = day - 5  # released five days before the first referral
    candidates = dataclasses.replace(world.candidates, available_from=available)
    slots = dataclasses.replace(world.slots, starts_on=np.full(len(world.slots), int(history.referred_on.min()) - 400))
    split = int(np.quantile(history.referred_on, 0.75))
    report = replay(candidates, slots, history, split, featurizer=featurizer_for(world, candidates, slots))
    test = history.referred_on >= split
    real_pairs = len(set(zip(history.candidate_index[test].tolist(), history.slot_index[test].tolist(),
                             strict=True)))
    plans = report["assignment"]["plans"]
    assert report["assignment"]["eligible_pairs"] >= real_pairs
    assert plans["model (exact)"]["assigned"] >= 0.95 * report["assignment"]["candidates"]
    assert plans["nearest preferred course"]["assigned"] >= 0.9 * report["assignment"]["candidates"]
