"""Evaluation: metrics, calibration table, precision at k, per-group figures, and the history replay."""

from __future__ import annotations

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


def test_replay_compares_plans(tmp_path):
    world = random_world(11, 900, 150, 2000)
    split = int(np.quantile(world.history.referred_on, 0.75))
    sex = np.where(np.arange(2000) % 4 == 0, "female", "male")
    report = replay(world.candidates, world.slots, world.history, split, groups={"sex": sex},
                    featurizer=featurizer_for(world))
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
        assert {"assigned", "expected_stays", "matched_referrals", "realised_stays", "vs_rule"} <= set(row)
        if name != "historic referrals":
            assert row["assigned"] <= min(seats, report["assignment"]["candidates"])
    # The exact plan maximises the model's own objective; greedy cannot beat it.
    assert plans["model (exact)"]["model_objective"] >= plans["greedy (model scores)"]["model_objective"] - 1e-6
    assert plans["model (exact)"]["expected_stays"] > plans["random"]["expected_stays"]
    assert plans["model (exact)"]["expected_stays"] > plans["nearest preferred course"]["expected_stays"]
    text = format_table(report)
    assert "nearest preferred course" in text and "ROC AUC" in text and "by sex" in text
    json.dumps(report)


def test_replay_keeps_history_whose_slots_started_before_the_release():
    """The issue's city: every slot started years ago (one start date on file), and people were released just
    before they were referred. In today's terms each person is "not available by the start"; on each referral's
    own day they were, and the referrals happened. The replay keeps every real pair and assigns the test period's
    people (evaluation once kept 24,939 pairs and assigned 93 of 801)."""
    import dataclasses

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
