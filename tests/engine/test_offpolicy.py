"""Off-policy valuation: folds, the cross-fitted outcome model, the logging propensities and the doubly robust
value with its standard error."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine import offpolicy
from tests.engine.helpers import featurizer_for, random_world


def test_person_folds_are_balanced_and_deterministic():
    people = np.arange(100, 200)
    folds = offpolicy.person_folds(people, 3, random_state=4)
    assert np.bincount(folds).tolist() == [34, 33, 33]
    assert (folds == offpolicy.person_folds(people, 3, random_state=4)).all()
    assert not (folds == offpolicy.person_folds(people, 3, random_state=5)).all()


@pytest.fixture(scope="module")
def small():
    world = random_world(5, 400, 60, 1200)
    return world, featurizer_for(world)


def test_cross_fitted_model_never_saw_its_folds_outcomes(small):
    """Flip every outcome of fold 0's people: fold 0's values stay exactly as they were (its model never saw
    them), while the other folds' values move (their models did)."""
    world, featurizer = small
    h = world.history
    base = np.arange(len(h.stayed)) < 800
    test = ~base
    people = np.unique(h.candidate_index[test])
    fold_of_person = offpolicy.person_folds(people, 3)
    test_fold = fold_of_person[np.searchsorted(people, h.candidate_index[test])]
    query_c = np.repeat(people, 5)
    query_s = np.tile(np.arange(5), len(people))
    query_fold = np.repeat(fold_of_person, 5)

    def run(test_y):
        return offpolicy.cross_fit_outcomes(
            featurizer, base_c=h.candidate_index[base], base_s=h.slot_index[base], base_y=h.stayed[base],
            test_c=h.candidate_index[test], test_s=h.slot_index[test], test_y=test_y, test_fold=test_fold,
            query_c=query_c, query_s=query_s, query_fold=query_fold, k=3)

    first = run(h.stayed[test])
    flipped_y = np.where(test_fold == 0, ~h.stayed[test], h.stayed[test])
    second = run(flipped_y)
    assert first.trained_rows == tuple(800 + int((test_fold != f).sum()) for f in range(3))
    assert np.array_equal(first.mu[query_fold == 0], second.mu[query_fold == 0])
    assert not np.allclose(first.mu[query_fold != 0], second.mu[query_fold != 0])
    assert ((first.mu > 0) & (first.mu < 1)).all()


def test_dr_terms_by_hand():
    # Person 0: plan pair logged, m 0.4, stayed, weight 4. Person 1: plan pair not logged, m 0.3.
    # Person 2: plan pair logged, m 0.5, left, weight 1 (certain to be referred).
    terms = offpolicy.dr_terms(3, np.array([0, 1, 2]), np.array([0.4, 0.3, 0.5]), np.array([True, False, True]),
                               np.array([1.0, 0.0, 0.0]), np.array([4.0, 7.0, 1.0]))
    assert terms.fixed.tolist() == pytest.approx([0.4, 0.3, 0.5])
    assert terms.correction.tolist() == pytest.approx([4 * 0.6, 0.0, -0.5])
    assert terms.value == pytest.approx(0.4 + 2.4 + 0.3 + 0.0)
    # The same number read as realised + model where unrealised + weighted correction.
    assert terms.realised == 1.0 and terms.direct_unlogged == pytest.approx(0.3)
    assert terms.weighted_correction == pytest.approx(3 * 0.6 + 0 * -0.5)
    assert terms.realised + terms.direct_unlogged + terms.weighted_correction == pytest.approx(terms.value)
    assert terms.logged_in_plan == 2
    psi = np.array([2.4, 0.0, -0.5])
    assert offpolicy.standard_error(psi) == pytest.approx(np.sqrt(3 / 2 * ((psi - psi.mean()) ** 2).sum()))
    assert offpolicy.interval(10.0, 1.0) == pytest.approx((10 - 1.96, 10 + 1.96), abs=1e-3)


def test_dr_corrects_a_biased_outcome_model_where_the_direct_method_cannot():
    """A bandit with known truth and logging policy: the outcome model overstates every pair by 0.15. The direct
    method is off by 0.15 per person; DR with the true propensities is not, and its interval covers the truth."""
    rng = np.random.default_rng(0)
    n, actions = 6000, 4
    mu = rng.uniform(0.1, 0.6, size=(n, actions))
    logits = rng.normal(0, 1, size=(n, actions))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    logged_action = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    y = rng.random(n) < mu[np.arange(n), logged_action]
    target = mu.argmax(axis=1)  # the plan: each person's best action
    truth = mu[np.arange(n), target].sum()
    m = mu[np.arange(n), target] + 0.15
    logged = logged_action == target
    terms = offpolicy.dr_terms(n, np.arange(n), m, logged, y.astype(float), 1 / p[np.arange(n), target])
    se = offpolicy.standard_error(terms.correction)
    low, high = offpolicy.interval(terms.value, se)
    assert abs(m.sum() - truth) == pytest.approx(0.15 * n)
    assert abs(terms.value - truth) < 0.15 * n / 5
    assert low <= truth <= high


def test_logging_propensities_follow_the_choices(small):
    """Choices drawn from a known conditional logit on the propensity features are recovered: chosen pairs get
    higher propensities than the rest, each person's single-choice propensities sum to 1, and the fitted
    propensities track the true ones."""
    world, featurizer = small
    rng = np.random.default_rng(1)
    people = np.arange(300)
    edge_c = np.repeat(people, 40)
    edge_s = np.tile(np.arange(40), len(people))
    X = offpolicy._propensity_matrix(featurizer, edge_c, edge_s)
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1)
    theta = np.zeros(X.shape[1])
    theta[[-7, -5, -3]] = [1.5, -1.0, 1.0]  # first wish, log distance, nearest of its course
    u = (X @ theta).reshape(len(people), 40)
    q = np.exp(u) / np.exp(u).sum(axis=1, keepdims=True)
    choice = (rng.random(len(people))[:, None] > np.cumsum(q, axis=1)).sum(axis=1)
    logged = np.zeros(len(edge_c), bool)
    logged[people * 40 + choice] = True
    p = offpolicy.logging_propensities(featurizer, edge_c, edge_s, logged)
    assert p.reshape(len(people), 40).sum(axis=1) == pytest.approx(np.ones(len(people)))
    assert p[logged].mean() > 2 * p[~logged].mean()
    assert np.corrcoef(p, q.ravel())[0, 1] > 0.8
