"""Off-policy valuation of assignment plans from logged referrals: an outcome model trained apart from the model
under test (cross-fitted over people), the logging policy's propensities, and the doubly robust value of a plan
with its standard error.

The setting. In a test period caseworkers referred some people to some slots (the *logged* pairs) and we know
whether each referral started and stayed. A plan puts each person on at most one slot. Its value is the sum over
its pairs of the true probability of staying, mu(c, s). A pair of the plan that was really referred has its
realised outcome; the others have none, and an outcome model must stand in.

The doubly robust (DR) estimate of a plan's value is::

    V = sum over plan pairs of m(c, s)  +  sum over logged pairs in the plan of w(c, s) * (y - m(c, s))

with m the cross-fitted outcome model and w = 1 / clip(p) the inverse of the logging policy's propensity p(c, s)
(the chance that caseworkers referred that pair). It is the same number as

    realised outcomes of the plan's logged pairs                        (what really happened)
  + m over the plan's pairs that were not logged                        (the outcome model, cross-fitted)
  + sum over the plan's logged pairs of (w - 1) * (y - m)               (the model's error on the logged pairs,
                                                                         weighted to stand for the unlogged ones)

so it values a pair by its realised outcome where one exists and by the outcome model elsewhere, corrected by
how wrong that model was where the truth is known. It is unbiased when either m or p is right (hence "doubly").

Cross-fitting: the test period's people are split into K folds; the outcome model that values fold k's pairs is
trained on the training period and the other folds' outcomes, never on fold k's, and it is a different learner
(gradient-boosted trees with interactions and the slot's course, `OUTCOME_LEARNER`) from the model under test.
Given those models, the people's terms are independent, so the estimate's standard error is the spread of the
per-person correction terms (the DR estimator's influence function, finite-population form); a difference
between two plans uses the per-person difference of their terms (paired). That interval does not count the
outcome model's own error on pairs nobody was referred to, nor the bias clipping brings: on the simulator it
covers the truth for plans near what caseworkers do and too rarely for a random plan (bench/bench_evaluation.py).

Clipping: caseworkers choose among ~100 slots, so most propensities are small (median about 0.03 on the
simulator, where the conditional logit recovers the true ones with a log-correlation of 0.97). Unclipped, a few
referred pairs with weights in the hundreds decide the estimate; `PROPENSITY_CLIP` = 0.2 (weights at most 5)
gave the smallest errors with intervals that still cover (0.1, 0.2 and 0.35 tried on 6 cities, 0.05 on 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits  # scikit-learn's own dependency for OpenMP thread control

from matcher.engine.features import FEATURE_NAMES, MONOTONE, PairFeaturizer, feature_index

DEFAULT_FOLDS = 3
PROPENSITY_CLIP = 0.2  # weights are 1 / max(p, clip): at most 5 (chosen on the simulator: bench/bench_evaluation.py)
Z95 = 1.959963984540054
OUTCOME_LEARNER = ("gradient-boosted trees with interactions (depth 3) on the pair features and the slot's "
                   "course, monotone where common sense says so")
PROPENSITY_METHOD = ("conditional logit of each referral among the person's eligible slots of the test period "
                     "(wished course, distance and its rank within the course, skills, housing, pay, base record, "
                     "training); p = 1 - (1 - q)^n for a person referred n times")


def person_folds(people: np.ndarray, k: int, random_state: int = 0) -> np.ndarray:
    """int [len(people)]: each person's fold 0..k-1, balanced and shuffled by `random_state`."""
    people = np.asarray(people)
    k = max(2, int(k))
    rng = np.random.default_rng(random_state)
    folds = np.arange(len(people)) % k
    return folds[rng.permutation(len(people))]


# ---- the outcome model ---------------------------------------------------------------------------------

def _course_codes(featurizer: PairFeaturizer) -> np.ndarray:
    """int [m]: each slot's course as a small category number (0: none)."""
    courses = featurizer.slots.course
    names = sorted({c for c in courses if c})
    number = {name: i + 1 for i, name in enumerate(names)}
    return np.array([number.get(c, 0) if c else 0 for c in courses], dtype=np.float64)


def _outcome_matrix(featurizer: PairFeaturizer, course_codes: np.ndarray, ci, si) -> np.ndarray:
    return np.column_stack([featurizer.features(ci, si), course_codes[np.asarray(si, np.int64)]])


def fit_outcome_model(X: np.ndarray, y: np.ndarray, *, sample_weight: np.ndarray | None = None,
                      random_state: int = 0) -> HistGradientBoostingClassifier | float:
    """The evaluator's learner on `_outcome_matrix` rows; the base rate (a float) when y holds one outcome."""
    y = np.asarray(y, bool)
    if len(y) == 0:
        return 0.0
    if y.all() or not y.any():
        return float(y.mean())
    monotone = [MONOTONE.get(name, 0) for name in FEATURE_NAMES] + [0]
    categorical = [False] * len(FEATURE_NAMES) + [True]
    learner = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.08, max_depth=3, min_samples_leaf=30, l2_regularization=1.0,
        monotonic_cst=monotone, categorical_features=categorical, early_stopping=len(y) >= 1000,
        validation_fraction=0.15, n_iter_no_change=15, random_state=random_state)
    # One thread: small trees gain nothing from a second and OpenMP's busy-waiting hurts a shared machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        return learner.fit(X, y, sample_weight=sample_weight)


def predict_outcome(model, X: np.ndarray) -> np.ndarray:
    if isinstance(model, float):
        return np.full(len(X), model)
    if len(X) == 0:
        return np.zeros(0)
    with threadpool_limits(limits=1, user_api="openmp"):
        return model.predict_proba(X)[:, 1]


@dataclass(frozen=True)
class CrossFit:
    """Cross-fitted outcome predictions: `mu` for the query pairs, `fold_of_query` the fold whose model valued
    each, and per fold how many rows its model learned from (and that none of them were the fold's own)."""

    mu: np.ndarray
    fold_of_query: np.ndarray
    trained_rows: tuple[int, ...]
    learner: str = OUTCOME_LEARNER


def cross_fit_outcomes(featurizer: PairFeaturizer, *, base_c, base_s, base_y, test_c, test_s, test_y,
                       test_fold, query_c, query_s, query_fold, k: int, random_state: int = 0,
                       base_weight: np.ndarray | None = None, test_weight: np.ndarray | None = None) -> CrossFit:
    """Predict the stay probability of each query pair with a model that never saw its fold's outcomes.

    `base_*` are rows every fold's model may learn from (the training period); `test_*` the test period's rows,
    `test_fold` the fold of each (its person's); `query_*` the pairs to value, `query_fold` their person's fold.
    The model for fold f learns from the base rows and the test rows of the other folds.
    """
    codes = _course_codes(featurizer)
    base_c, base_s = np.asarray(base_c, np.int64), np.asarray(base_s, np.int64)
    test_c, test_s = np.asarray(test_c, np.int64), np.asarray(test_s, np.int64)
    query_c, query_s = np.asarray(query_c, np.int64), np.asarray(query_s, np.int64)
    test_fold, query_fold = np.asarray(test_fold), np.asarray(query_fold)
    X_base = _outcome_matrix(featurizer, codes, base_c, base_s)
    X_test = _outcome_matrix(featurizer, codes, test_c, test_s)
    y_base, y_test = np.asarray(base_y, bool), np.asarray(test_y, bool)
    mu = np.zeros(len(query_c))
    trained = []
    for fold in range(k):
        others = test_fold != fold
        weight = (None if base_weight is None or test_weight is None
                  else np.concatenate([base_weight, np.asarray(test_weight)[others]]))
        model = fit_outcome_model(np.vstack([X_base, X_test[others]]), np.concatenate([y_base, y_test[others]]),
                                  sample_weight=weight, random_state=random_state + fold)
        trained.append(int(len(y_base) + others.sum()))
        rows = np.flatnonzero(query_fold == fold)
        if len(rows):
            mu[rows] = predict_outcome(model, _outcome_matrix(featurizer, codes, query_c[rows], query_s[rows]))
    return CrossFit(mu=mu, fold_of_query=query_fold.copy(), trained_rows=tuple(trained))


# ---- the logging policy ----------------------------------------------------------------------------------

def _propensity_matrix(featurizer: PairFeaturizer, edge_c: np.ndarray, edge_s: np.ndarray) -> np.ndarray:
    """What caseworkers choose by: the pair features, the log distance, and the slot's distance rank among the
    person's slots of the same course and how many there are (caseworkers mostly refer to a near slot of a wished
    course)."""
    X = featurizer.features(edge_c, edge_s)
    distance = X[:, feature_index("distance_km")]
    distance = np.where(np.isfinite(distance), distance, np.nanmedian(distance) if np.isfinite(distance).any() else 0)
    codes = _course_codes(featurizer)[edge_s]
    order = np.lexsort((distance, codes, edge_c))
    key_c, key_k = edge_c[order], codes[order]
    new_group = np.r_[True, (key_c[1:] != key_c[:-1]) | (key_k[1:] != key_k[:-1])]
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.empty(len(order))
    rank[order] = np.arange(len(order)) - np.repeat(starts, sizes)
    in_course = np.empty(len(order))
    in_course[order] = np.repeat(sizes, sizes)
    rank_value = X[:, feature_index("course_rank")]
    columns = [X[:, feature_index(name)] for name in ("skill_match", "over_travel_km", "housing_gap", "pay",
                                                       "base_stay_rate", "is_training", "certificate_subsidy")]
    # The nearest of n slots of a course is picked far more often when n is small: rank alone cannot say that.
    extra = [rank_value == 1.0, (rank_value > 0) & (rank_value < 1.0), np.log1p(distance), np.log1p(rank),
             rank == 0, np.log(in_course), rank / in_course]
    out = np.column_stack([*columns, *extra]).astype(np.float64)
    return np.nan_to_num(out)


def logging_propensities(featurizer: PairFeaturizer, edge_c: np.ndarray, edge_s: np.ndarray, logged: np.ndarray,
                         *, l2: float = 1.0) -> np.ndarray:
    """P(the pair was referred at least once) for every edge, from a conditional logit of the logged choices.

    Each referral is taken as one choice among the person's edges, q(s | c) = softmax(theta . x(c, s)); a person
    referred n times (n distinct logged pairs) has p(c, s) = 1 - (1 - q)^n. People with no logged pair get 0.
    """
    edge_c = np.asarray(edge_c, np.int64)
    edge_s = np.asarray(edge_s, np.int64)
    logged = np.asarray(logged, bool)
    if len(edge_c) == 0:
        return np.zeros(0)
    order = np.argsort(edge_c, kind="stable")
    c_sorted = edge_c[order]
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    group = np.repeat(np.arange(len(starts)), sizes)
    X = _propensity_matrix(featurizer, edge_c, edge_s)[order]
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    X = (X - mean) / scale
    chosen = logged[order]
    n_chosen = np.bincount(group, weights=chosen, minlength=len(starts))
    chosen_sum = X[chosen].sum(axis=0)

    def loss(theta):
        u = X @ theta
        lse = _logsumexp_by_group(u, starts, group)
        q = np.exp(u - lse[group])
        value = -(u[chosen].sum() - n_chosen @ lse) + 0.5 * l2 * theta @ theta
        grad = -(chosen_sum - (q * n_chosen[group]) @ X) + l2 * theta
        return value, grad

    theta = minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B").x
    u = X @ theta
    q = np.exp(u - _logsumexp_by_group(u, starts, group)[group])
    p_sorted = 1.0 - (1.0 - np.clip(q, 0.0, 1.0)) ** n_chosen[group]
    p = np.empty(len(order))
    p[order] = p_sorted
    return p


def _logsumexp_by_group(u: np.ndarray, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """log(sum(exp(u))) over each person's run of edges (edges sorted by person; `starts` their first rows)."""
    top = np.maximum.reduceat(u, starts)
    return top + np.log(np.add.reduceat(np.exp(u - top[group]), starts))


# ---- the doubly robust value ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanTerms:
    """A plan's DR value split per person: `fixed[i]` (the outcome model over person i's plan pairs) and
    `correction[i]` (weighted residuals of person i's logged pairs in the plan), and the three parts of the
    value: realised outcomes, the model where nothing was realised, and the weighted correction."""

    fixed: np.ndarray
    correction: np.ndarray
    realised: float
    direct_unlogged: float
    weighted_correction: float
    logged_in_plan: int

    @property
    def value(self) -> float:
        return float(self.fixed.sum() + self.correction.sum())


def dr_terms(n_people: int, plan_person: np.ndarray, plan_mu: np.ndarray, plan_logged: np.ndarray,
             plan_y: np.ndarray, plan_weight: np.ndarray) -> PlanTerms:
    """The DR terms of one plan. Arrays are aligned with the plan's pairs: the person (0..n_people-1), the
    outcome model's value m, whether the pair was logged, its outcome (read only where logged) and its weight
    1 / clip(p) (read only where logged; 1 for a pair that was certain to be logged)."""
    person = np.asarray(plan_person, np.int64)
    mu = np.asarray(plan_mu, float)
    logged = np.asarray(plan_logged, bool)
    y = np.asarray(plan_y, float)
    w = np.asarray(plan_weight, float)
    residual = np.where(logged, y - mu, 0.0)
    fixed = np.bincount(person, weights=mu, minlength=n_people)
    correction = np.bincount(person, weights=np.where(logged, w * residual, 0.0), minlength=n_people)
    return PlanTerms(fixed=fixed, correction=correction, realised=float(y[logged].sum()),
                     direct_unlogged=float(mu[~logged].sum()),
                     weighted_correction=float(((w - 1) * residual)[logged].sum()),
                     logged_in_plan=int(logged.sum()))


def standard_error(correction: np.ndarray) -> float:
    """sqrt(n / (n - 1) * sum (psi_i - mean psi)^2): the spread of independent per-person correction terms."""
    n = len(correction)
    if n < 2:
        return 0.0
    centred = correction - correction.mean()
    return float(np.sqrt(n / (n - 1) * (centred @ centred)))


def interval(value: float, se: float, z: float = Z95) -> tuple[float, float]:
    return value - z * se, value + z * se
