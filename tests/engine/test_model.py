"""Scoring models: estimator rules, monotonicity, calibration, fairness, learned beats prior, the switch."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import brier_score_loss, roc_auc_score

from matcher.engine.eligibility import eligible_mask
from matcher.engine.features import FEATURE_NAMES, feature_index
from matcher.engine.model import (
    INTERACTION_PAIRS,
    PRIOR_WEIGHTS,
    QuantisedBoosting,
    RulePrior,
    StayModel,
    choose_variant,
    history_hash,
    propensity_weights,
    rule_prior,
    score,
    train_scorer,
)
from matcher.engine.synthetic import make_world
from matcher.engine.types import History
from tests.engine.helpers import featurizer_for, random_world, replace_row


def _synthetic_xy(seed: int, n: int, coefs: dict[str, float], intercept: float = -0.5):
    """Rows drawn from a known logistic truth over the features (a truth the rule prior does not know)."""
    world = random_world(seed, 800, 150, 0)
    f = featurizer_for(world)
    rng = np.random.default_rng(seed)
    X = f.features(rng.integers(0, 800, n), rng.integers(0, 150, n))
    logit = intercept + sum(w * X[:, feature_index(name)] for name, w in coefs.items())
    p = 1 / (1 + np.exp(-logit))
    return X, rng.random(n) < p, p


TRUTH = {"pay": 1.2, "is_training": -1.0, "skill_match": 1.5, "over_travel_km": -0.1, "education": 1.0}


@pytest.mark.parametrize("estimator", [StayModel(max_iter=30), RulePrior()])
def test_estimator_rules(estimator):
    X, y, _ = _synthetic_xy(1, 600, TRUTH)
    params = estimator.get_params()
    assert clone(estimator).get_params() == params
    with pytest.raises(NotFittedError):
        clone(estimator).predict_proba(X)
    fitted = clone(estimator)
    assert fitted.fit(X, y) is fitted
    assert fitted.get_params() == params  # fit does not touch parameters
    assert fitted.n_features_in_ == len(FEATURE_NAMES)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1) and (proba >= 0).all()
    assert list(fitted.classes_) == [False, True]
    again = clone(estimator).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(proba, again)  # fixed random_state: deterministic


def test_stay_model_rejects_bad_parameters_and_one_class():
    X, y, _ = _synthetic_xy(1, 200, TRUTH)
    with pytest.raises(ValueError):
        StayModel(calibration="platt").fit(X, y)
    with pytest.raises(ValueError):
        StayModel().fit(X, np.zeros(len(X), bool))


def _unseen_rows(X: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Held-out rows whose values fall between the training values, on them, beyond both ends, and NaN."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, X.shape[1]))
    for j in range(X.shape[1]):
        column = X[:, j]
        values = np.unique(column[~np.isnan(column)])
        low, high = values[0], values[-1]
        span = max(high - low, 1.0)
        between = (values[:-1] + values[1:]) / 2 if len(values) > 1 else values
        choices = [rng.choice(values, n), rng.choice(between, n), rng.uniform(low - span, high + span, n),
                   np.nextafter(rng.choice(values, n), np.inf), np.nextafter(rng.choice(values, n), -np.inf)]
        kind = rng.integers(0, len(choices), n)
        out[:, j] = np.choose(kind, choices)
        out[rng.random(n) < 0.05, j] = np.nan
    return out


@pytest.mark.parametrize("calibration", ["none", "isotonic", "sigmoid"])
def test_compiled_tables_agree_with_the_trees(calibration, monkeypatch):
    """The lookup tables are exact: scoring through them and through the fitted trees themselves (public
    `decision_function` of HistGradientBoosting) agree to 1e-9 on pairs the model never saw, including values
    between and beyond the training values and unknown (NaN) ones. A scikit-learn release that changed how the
    trees are evaluated or how missing values are routed would fail here."""
    X, y, _ = _synthetic_xy(2, 3000, TRUTH)
    X[:20, feature_index("distance_km")] = np.nan  # unknown distances take the trees' missing-value branch
    X[20:40, feature_index("over_travel_km")] = np.nan
    weights = np.random.default_rng(2).uniform(0.2, 5.0, len(X))
    model = StayModel(calibration=calibration).fit(X, y, sample_weight=weights)
    held = np.vstack([_synthetic_xy(7, 1000, TRUTH)[0], _unseen_rows(X, 3000, seed=8)])
    trees = model.booster_
    np.testing.assert_allclose(trees.decision_function(held), trees.tree_decision_function(held), rtol=0, atol=1e-9)
    compiled = model.predict_proba(held)[:, 1]
    assert compiled.std() > 0.01  # a model that says something
    monkeypatch.setattr(QuantisedBoosting, "decision_function", QuantisedBoosting.tree_decision_function)
    np.testing.assert_allclose(compiled, model.predict_proba(held)[:, 1], rtol=0, atol=1e-9)


def test_the_trees_see_only_grid_cells():
    """What makes the tables exact: every feature is cut into at most 255 cells before the trees see it."""
    X, y, _ = _synthetic_xy(2, 2000, TRUTH)
    trees = QuantisedBoosting(max_iter=20).fit(X, y)
    for j, cuts in enumerate(trees.cuts_):
        assert len(cuts) + 1 <= 255 and np.all(np.diff(cuts) > 0), FEATURE_NAMES[j]
    assert trees.n_iter_ >= 1
    with pytest.raises(ValueError, match="interactions"):
        QuantisedBoosting(interactions="some").fit(X, y)
    slow = QuantisedBoosting(max_iter=20, interactions="all").fit(X, y)
    assert slow.tables_ is None and slow.predict_proba(X).shape == (len(X), 2)


def test_feature_names_come_from_the_input():
    import pandas as pd

    X, y, _ = _synthetic_xy(3, 1500, TRUTH)
    frame = pd.DataFrame(X, columns=list(FEATURE_NAMES))[list(reversed(FEATURE_NAMES))]
    prior = RulePrior().fit(frame)
    assert list(prior.feature_names_in_) == list(reversed(FEATURE_NAMES))
    np.testing.assert_allclose(prior.predict_proba(frame), rule_prior().predict_proba(X))
    # A plain array as wide as FEATURE_NAMES is read in that order (how the engine passes its matrices).
    assert not hasattr(rule_prior(), "feature_names_in_")
    # Monotone constraints follow the names, wherever the column is.
    model = StayModel(max_iter=40, calibration="none").fit(frame, y)
    rows = frame.iloc[:50].copy()
    grid = np.linspace(0, 80, 21)
    p = np.column_stack([model.predict_proba(rows.assign(distance_km=d))[:, 1] for d in grid])
    assert (np.diff(p, axis=1) <= 1e-12).all()
    # Other inputs: no names, no constraints and no prior weights, but a working estimator.
    narrow = RulePrior().fit(X[:, :3], y)
    assert (narrow.coef_ == 0).all() and list(narrow.classes_) == [False, True]
    assert StayModel(max_iter=10, calibration="none").fit(X[:, :3], y).predict_proba(X[:5, :3]).shape == (5, 2)


def test_sample_weights_reach_the_trees_and_the_calibration():
    import warnings

    X, y, _ = _synthetic_xy(4, 2000, TRUTH)
    weights = np.where(X[:, feature_index("is_training")] > 0, 5.0, 0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # CalibratedClassifierCV warns when it cannot pass weights on
        weighted = StayModel(max_iter=50).fit(X, y, sample_weight=weights).predict_proba(X)[:, 1]
    plain = StayModel(max_iter=50).fit(X, y).predict_proba(X)[:, 1]
    assert np.abs(weighted - plain).max() > 1e-3


def test_monotone_on_a_grid(learned, featurizer, world):
    """More skill match never lowers the learned score; longer distance or travel never raises it."""
    rng = np.random.default_rng(4)
    base = featurizer.features(rng.integers(0, len(world.candidates), 60), rng.integers(0, len(world.slots), 60))
    grids = {"skill_match": (np.linspace(0, 1, 21), 1), "course_rank": (np.array([0, 0.33, 0.66, 1.0]), 1),
             "distance_km": (np.linspace(0, 80, 41), -1), "over_travel_km": (np.linspace(0, 60, 31), -1),
             "housing_gap": (np.array([0.0, 1.0]), -1), "base_stay_rate": (np.linspace(0, 1, 21), 1)}
    for name, (grid, sign) in grids.items():
        j = feature_index(name)
        X = np.repeat(base, len(grid), axis=0)
        X[:, j] = np.tile(grid, len(base))
        p = learned.estimator.predict_proba(X)[:, 1].reshape(len(base), len(grid))
        steps = np.diff(p, axis=1) * sign
        assert (steps >= -1e-12).all(), name


def test_calibration_does_not_worsen_brier():
    X, y, _ = _synthetic_xy(3, 6000, TRUTH)
    X_test, y_test, _ = _synthetic_xy(4, 6000, TRUTH)
    raw = StayModel(calibration="none").fit(X, y).predict_proba(X_test)[:, 1]
    calibrated = StayModel(calibration="isotonic").fit(X, y).predict_proba(X_test)[:, 1]
    sigmoid = StayModel(calibration="sigmoid").fit(X, y).predict_proba(X_test)[:, 1]
    assert brier_score_loss(y_test, calibrated) <= brier_score_loss(y_test, raw) + 0.003
    assert brier_score_loss(y_test, sigmoid) <= brier_score_loss(y_test, raw) + 0.003
    # Reliability: mean predicted close to the observed rate.
    assert abs(calibrated.mean() - y_test.mean()) < 0.02


def test_learned_model_beats_the_prior_on_a_known_truth():
    X, y, _ = _synthetic_xy(5, 5000, TRUTH)
    X_test, y_test, p_true = _synthetic_xy(6, 5000, TRUTH)
    model = StayModel().fit(X, y).predict_proba(X_test)[:, 1]
    prior = RulePrior().fit(X).predict_proba(X_test)[:, 1]
    assert roc_auc_score(y_test, model) > roc_auc_score(y_test, prior) + 0.03
    assert brier_score_loss(y_test, model) < brier_score_loss(y_test, prior)
    assert roc_auc_score(y_test, model) > roc_auc_score(y_test, p_true) - 0.03  # close to the truth's


def test_trained_scorer_reports_held_out_metrics(learned, world):
    m = learned.metrics
    assert learned.kind == "learned" and learned.feature_names == FEATURE_NAMES
    assert m["n_train"] + m["n_test"] == len(world.history.stayed)
    assert 0.6 < m["roc_auc"] < 1 and 0 < m["brier"] < 0.25
    assert m["prior_roc_auc"] is not None and 0 < m["base_rate"] < 1
    assert len(learned.training_data_hash) == 64
    assert "inverse-propensity" in learned.propensity
    assert len(learned.baseline) == len(FEATURE_NAMES)
    assert learned.created_at.endswith("+00:00")


def test_small_history_gives_the_prior_and_says_so(world):
    history = world.history
    few = History(history.candidate_index[:100], history.slot_index[:100], history.referred_on[:100],
                  history.stayed[:100])
    scorer = train_scorer(world.candidates, world.slots, few)
    assert scorer.kind == "prior" and isinstance(scorer.estimator, RulePrior)
    assert "fewer than 300" in scorer.metrics["why_prior"]
    empty = np.zeros(0, np.int64)
    assert train_scorer(None, None, History(empty, empty, empty, np.zeros(0, bool))).kind == "prior"
    one_class = History(history.candidate_index, history.slot_index, history.referred_on,
                        np.zeros(len(history.stayed), bool))
    assert train_scorer(world.candidates, world.slots, one_class).kind == "prior"


def test_prior_is_the_documented_weighted_sum():
    prior = rule_prior()
    x = np.zeros((1, len(FEATURE_NAMES)))
    base = prior.decision_function(x)[0]
    for name, weight in PRIOR_WEIGHTS.items():
        x2 = x.copy()
        x2[0, feature_index(name)] = 1.0
        assert prior.decision_function(x2)[0] - base == pytest.approx(weight)
    x[0, feature_index("distance_km")] = np.nan  # unknown adds nothing
    assert prior.decision_function(x)[0] == pytest.approx(base)


def test_changing_birth_year_changes_no_score_of_eligible_pairs(learned, world, featurizer):
    """The fairness contract: age beyond the legal minimum does not move a score."""
    slots = np.arange(len(world.slots))
    for row in (0, 1, 2):
        older = replace_row(world.candidates, row, birth_year=int(world.candidates.birth_year[row]) - 20)
        ci = np.full(len(slots), row)
        both = eligible_mask(world.candidates, world.slots, ci, slots, world.today) & \
            eligible_mask(older, world.slots, ci, slots, world.today)
        before = score(learned, featurizer, ci[both], slots[both])
        after = score(learned, featurizer_for(world, candidates=older), ci[both], slots[both])
        np.testing.assert_array_equal(before, after)


def test_propensity_weights(world, featurizer):
    w = propensity_weights(featurizer, world.history, len(world.candidates), len(world.slots))
    assert w.shape == world.history.stayed.shape and np.isfinite(w).all()
    assert w.mean() == pytest.approx(1.0) and w.min() > 0
    assert w.max() / w.min() <= 20 + 1e-9  # clip (0.05, 1.0) bounds the spread
    X = featurizer.features(world.history.candidate_index, world.history.slot_index)
    # The logging policy favoured wished courses: referrals outside them are rarer and weigh more.
    unwished = X[:, feature_index("course_rank")] == 0
    assert w[unwished].mean() > w[~unwished].mean()
    np.testing.assert_array_equal(w, propensity_weights(featurizer, world.history, len(world.candidates),
                                                        len(world.slots)))


def test_history_hash_changes_with_the_data(world):
    h = world.history
    a = history_hash(world.candidates, world.slots, h, 90)
    flipped = History(h.candidate_index, h.slot_index, h.referred_on, ~h.stayed)
    assert a == history_hash(world.candidates, world.slots, h, 90)
    assert a != history_hash(world.candidates, world.slots, flipped, 90)
    assert a != history_hash(world.candidates, world.slots, h, 30)


def test_score_handles_empty_input(learned, featurizer):
    assert score(learned, featurizer, np.zeros(0, np.int64), np.zeros(0, np.int64)).shape == (0,)


# ---- named interaction pairs and the per-bureau switch -----------------------------------------------------

PAIR_TRUTH = {"pay": 0.8, "skill_match": 1.5, "housing_gap": -0.4, "distance_km": -0.02, "is_training": -0.3}


def _interacting_xy(seed: int, n: int):
    """Rows whose truth has a housing x distance interaction the additive model cannot hold."""
    X, _, _ = _synthetic_xy(seed, n, {})
    rng = np.random.default_rng(seed + 100)
    logit = -0.3 + sum(w * np.nan_to_num(X[:, feature_index(name)]) for name, w in PAIR_TRUTH.items())
    near = np.minimum(1, np.nan_to_num(X[:, feature_index("distance_km")]) / 15)
    logit -= 2.0 * X[:, feature_index("housing_gap")] * near
    logit -= 1.2 * X[:, feature_index("skill_match")] * X[:, feature_index("is_training")]
    return X, rng.random(n) < 1 / (1 + np.exp(-logit))


@pytest.fixture(scope="module")
def paired():
    X, y = _interacting_xy(3, 2500)
    X[:20, feature_index("distance_km")] = np.nan
    return X, y, StayModel(interactions=INTERACTION_PAIRS, max_iter=60).fit(X, y)


def test_pair_tables_agree_with_the_trees(paired, monkeypatch):
    """Per-pair 2-D tables are exact: the same logit as the constrained trees, on rows never seen, NaN included."""
    X, y, model = paired
    trees = model.booster_
    assert [tuple(FEATURE_NAMES[j] for j in pair) for pair in trees.pairs_] == [
        tuple(sorted(pair, key=FEATURE_NAMES.index)) for pair in INTERACTION_PAIRS]
    held = np.vstack([_interacting_xy(9, 500)[0], _unseen_rows(X, 2000, seed=10)])
    np.testing.assert_allclose(trees.decision_function(held), trees.tree_decision_function(held), rtol=0, atol=1e-9)
    contributions = trees.pair_contributions(held)
    assert contributions.shape == (len(held), len(INTERACTION_PAIRS)) and np.abs(contributions).max() > 0.05
    compiled = model.predict_proba(held)[:, 1]
    monkeypatch.setattr(QuantisedBoosting, "decision_function", QuantisedBoosting.tree_decision_function)
    np.testing.assert_allclose(compiled, model.predict_proba(held)[:, 1], rtol=0, atol=1e-9)


def test_no_interaction_outside_the_named_pairs(paired):
    """A pair of features that is not named never interacts: moving both moves the logit by the sum of moving
    each (exactly: the decomposition has no other term)."""
    X, _, model = paired
    trees = model.booster_
    rows = X[:200].copy()
    a, b = feature_index("course_rank"), feature_index("distance_km")
    both, only_a, only_b = rows.copy(), rows.copy(), rows.copy()
    for r in (both, only_a):
        r[:, a] = 1.0
    for r in (both, only_b):
        r[:, b] = 30.0
    f = trees.tree_decision_function
    np.testing.assert_allclose(f(both) - f(rows), (f(only_a) - f(rows)) + (f(only_b) - f(rows)), atol=1e-9)
    # ... while a named pair may: its own 2-D table is not zero off the reference cells.
    assert np.abs(trees.tables_["pairs"][0]).max() > 0 or np.abs(trees.tables_["pairs"][1]).max() > 0


def test_pair_model_stays_monotone(paired):
    X, _, model = paired
    rows = X[:100]
    for name, direction in (("housing_gap", -1), ("distance_km", -1), ("skill_match", 1), ("pay", 1)):
        j = feature_index(name)
        grid = np.linspace(np.nanmin(X[:, j]), np.nanmax(X[:, j]), 12)
        p = []
        for value in grid:
            moved = rows.copy()
            moved[:, j] = value
            p.append(model.predict_proba(moved)[:, 1])
        steps = np.diff(np.array(p), axis=0) * direction
        assert (steps >= -1e-12).all(), name


def test_interactions_parameter_is_checked():
    X, y, _ = _synthetic_xy(1, 300, TRUTH)
    for bad in ("pairs", (("skill_match", "skill_match"),), (("skill_match", "nope"),), (("skill_match",),)):
        with pytest.raises(ValueError):
            StayModel(max_iter=5, calibration="none", interactions=bad).fit(X, y)


def test_switch_rule_needs_a_gain_beyond_noise():
    rng = np.random.default_rng(0)
    y = rng.random(4000) < 0.4
    truth = np.where(y, 0.6, 0.3)
    noisy = np.clip(truth + rng.normal(0, 0.02, 4000), 0.01, 0.99)
    flat = np.full(4000, 0.4)
    ones = np.ones(4000)
    winner, steps = choose_variant(y, {"prior": flat, "additive": noisy, "interaction": noisy + 1e-5}, ones)
    assert winner == "additive" and steps[0]["replaced"] and not steps[1]["replaced"]
    winner, steps = choose_variant(y[:40], {"prior": flat[:40], "additive": flat[:40] + 0.001}, ones[:40])
    assert winner == "prior" and steps[0]["log_loss_gain"] < steps[0]["margin"]


def test_the_switch_records_every_candidate():
    world = make_world(4, 800, 120, 1200, truth="interactions")
    learned = train_scorer(world.candidates, world.slots, world.history, featurizer=featurizer_for(world))
    m = learned.metrics
    assert m["variant"] == learned.variant in ("prior", "additive", "interaction")
    assert learned.kind == ("prior" if learned.variant == "prior" else "learned")
    assert set(m["candidates"]) == {"prior", "additive", "interaction"} and len(m["switch"]) == 2
    for figures in m["candidates"].values():
        assert {"log_loss", "log_loss_weighted", "brier", "roc_auc"} <= set(figures)
    assert m["why"].startswith(f"{learned.variant} chosen") and "standard errors" in m["switch_rule"]
    assert m["brier"] == m["candidates"][learned.variant]["brier"]
    assert m["prior_brier"] == m["candidates"]["prior"]["brier"]


def test_thin_history_keeps_the_prior_with_its_reason(world, featurizer):
    history = world.history
    few = History(*(np.asarray(a)[:350] for a in (history.candidate_index, history.slot_index,
                                                  history.referred_on, history.stayed)))
    scorer = train_scorer(world.candidates, world.slots, few, featurizer=featurizer,
                          variants=("prior", "additive"))
    assert scorer.kind == "prior" and scorer.variant == "prior" and isinstance(scorer.estimator, RulePrior)
    assert "did not beat prior" in scorer.metrics["why"]
    assert set(scorer.metrics["candidates"]) == {"prior", "additive"}
    with pytest.raises(ValueError):
        train_scorer(world.candidates, world.slots, few, variants=("additive", "boosted"))


def test_an_interaction_model_saves_loads_and_says_what_it_is(paired, tmp_path):
    from matcher.engine import artifacts
    from matcher.engine.model import TrainedScorer

    X, _, model = paired
    scorer = TrainedScorer(kind="learned", estimator=model, feature_names=FEATURE_NAMES, metrics={"n_history": 1},
                           training_data_hash="0" * 64, horizon_days=90, propensity="none", created_at="",
                           variant="interaction")
    artifacts.save(scorer, tmp_path, "v1")
    card = artifacts.read_card(tmp_path, "v1")
    assert card["variant"] == "interaction" and "No other interaction" in card["can_represent"]
    assert sorted(map(tuple, card["interactions"])) == sorted(tuple(sorted(p, key=FEATURE_NAMES.index))
                                                              for p in INTERACTION_PAIRS)
    loaded = artifacts.load(tmp_path, "v1")
    assert loaded.variant == "interaction"
    np.testing.assert_array_equal(loaded.estimator.predict_proba(X[:200]), model.predict_proba(X[:200]))
