"""Scoring: the probability that a placement starts and stays the horizon (90 days by default).

Two estimators, both following scikit-learn's rules (parameters in `__init__`, `fit` returns self,
learned attributes end in `_`, fixed `random_state`) and both passing its `parametrize_with_checks`
(tests/engine/test_estimator_checks.py):

- `RulePrior`: a transparent hand-weighted logistic score that serves before there is enough history.
- `StayModel`: gradient-boosted trees (HistGradientBoostingClassifier) with monotone constraints from
  `features.MONOTONE` and, by default, no feature interactions, i.e. a generalised additive model: the
  score's logit is a sum of one monotone step function per feature. Every feature is first cut onto a
  grid of at most 255 cells (`QuantisedBoosting`), so the trees only ever see cell numbers; evaluating
  the fitted trees once per cell through their public `decision_function` gives per-feature lookup
  tables that are exact, and scoring 10,000 pairs takes a few milliseconds. Probabilities are then
  calibrated by scikit-learn's `CalibratedClassifierCV` (Platt's sigmoid by default, fitted on out-of-fold
  predictions; `ensemble=False`, so the served trees are refitted on all the data), which is strictly
  increasing and so keeps every monotone constraint and every difference the trees see: isotonic regression
  (still available) maps whole ranges of scores onto one flat step, so different people showed the same
  "37%"; on the demo city the sigmoid has the same ROC AUC and a lower Brier score.

Named interaction pairs (`INTERACTION_PAIRS`, `StayModel(interactions=...)`): the same trees, allowed to combine
only the features of a named pair, compile into one exact 2-D table per pair beside the per-feature tables, so
scoring stays a handful of lookups and explanations stay exact (`QuantisedBoosting`). `train_scorer` lets held-out
data choose, per training (i.e. per bureau's history), between the prior, the additive model and the interaction
model (`SWITCH_RULE`); the card records every candidate's held-out figures and why the winner won.

Feature names come from the input, as scikit-learn's conventions say: a DataFrame's columns, or for a
plain array of `len(FEATURE_NAMES)` columns the domain's order `FEATURE_NAMES` (how the engine passes
them). Names decide the monotone constraints and the prior's weights; unknown names get neither.

Selection bias: history only holds referrals that caseworkers chose to make (mostly a wished course,
mostly nearby). `propensity_weights` models that logging policy and `train_scorer` passes inverse
propensity weights as `sample_weight`, so rarely-referred kinds of pairs count for more (see its
docstring; the model card states the method).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import numbers
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits  # scikit-learn's own dependency for OpenMP thread control

from matcher import clock
from matcher.engine.eligibility import PERSON_RULES, Ineligible, eligible_mask, not_available_by_start
from matcher.engine.features import FEATURE_NAMES, MONOTONE, PairFeaturizer
from matcher.engine.types import CandidateTable, History, SlotTable

# ---- the rule prior ---------------------------------------------------------------------------------

# Hand-set weights on the logit scale: round rules of thumb a caseworker would state, deliberately not
# fitted to anything. A full skill match +1; a first wished course +1 (second +0.66, third +0.33); every km
# of travel -0.02 and every km beyond what the person accepts -0.05 more; needing housing that is not
# provided -1; the base's smoothed stay rate +1 per unit (a base at 75% against one at 50%: +0.25).
PRIOR_INTERCEPT = -1.0
PRIOR_WEIGHTS: dict[str, float] = {
    "skill_match": 1.0,
    "course_rank": 1.0,
    "distance_km": -0.02,
    "over_travel_km": -0.05,
    "housing_gap": -1.0,
    "base_stay_rate": 1.0,
}
# The prior's reference row, the `baseline` of a prior scorer (a learned one's is the training mean): kept on
# the card as the scorer's average pair. Explanations do not use it: they measure against `explain.REFERENCE`,
# a pair a person can picture.
PRIOR_BASELINE: dict[str, float] = {
    "skill_match": 0.5, "text_match": 0.0, "certified_skill": 0.0, "course_rank": 0.5, "distance_km": 10.0,
    "over_travel_km": 0.0, "housing_gap": 0.0, "pay": 0.0, "education": 0.5, "certificate_subsidy": 0.0,
    "base_stay_rate": 0.5, "is_training": 0.0,
}

LABEL_DEFINITION = "started and stayed {horizon} days"
PROPENSITY_METHOD = ("inverse-propensity weights, clipped to [{lo}, {hi}] and normalised to mean 1: a logistic "
                     "regression on the pair features separates referred pairs from {k} random unreferred pairs "
                     "per referral (same candidate, a slot legally open to them), and each referral is weighted "
                     "by 1 / clip(p(referred)) as sample_weight when training")


def _feature_names(estimator) -> tuple[str, ...] | None:
    """The names of the fitted input's columns: a DataFrame's, or FEATURE_NAMES for a plain array of that
    width (the engine's own matrices); None when they are not known."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return tuple(str(name) for name in names)
    if estimator.n_features_in_ == len(FEATURE_NAMES):
        return FEATURE_NAMES
    return None


def _binary_classes(estimator, y) -> tuple[np.ndarray, np.ndarray]:
    """(classes, y as 0/1) for a binary target; a clear error for anything else."""
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y", raise_unknown=True)
    if kind != "binary":
        raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) != 2:
        raise ValueError(f"{type(estimator).__name__} needs two classes (stayed and not) in y; got 1 class: "
                         f"{classes.tolist()}")
    return classes, encoded.ravel()


def _sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {weights.shape}, expected ({n_samples},)")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    if not weights.any():
        raise ValueError("sample_weight must contain at least one non-zero weight")
    return weights


class _LogitClassifier(ClassifierMixin, BaseEstimator):
    """A binary classifier of one outcome (stays or not) whose `decision_function` is the logit: the
    probabilities and labels follow from it, and NaN (an unknown value, e.g. a distance) is accepted."""

    def predict_proba(self, X) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(np.int64)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False  # one outcome's probability: stays or not
        return tags


class RulePrior(_LogitClassifier):
    """Transparent prior: logistic of PRIOR_INTERCEPT + sum(PRIOR_WEIGHTS[f] * x_f); unknown values add 0.

    `fit` learns nothing from the outcomes: it records the input's features (a feature whose name is not in
    PRIOR_WEIGHTS, or any feature of an input whose names are unknown, weighs 0) and, if `y` is given, its
    two class labels (otherwise False and True).
    """

    def fit(self, X, y=None, sample_weight=None):
        if y is None:
            X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
            self.classes_ = np.array([False, True])
        else:
            X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
            self.classes_, _ = _binary_classes(self, y)
        _sample_weight(sample_weight, len(X))
        names = _feature_names(self)
        self.coef_ = np.array([PRIOR_WEIGHTS.get(name, 0.0) for name in names] if names
                              else np.zeros(self.n_features_in_))
        self.intercept_ = PRIOR_INTERCEPT
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return self.intercept_ + np.nan_to_num(X, nan=0.0) @ self.coef_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # the prior is not fitted to outcomes
        tags.classifier_tags.poor_score = True  # hand-set weights: it does not learn from the data it is given
        return tags


def rule_prior() -> RulePrior:
    """The rule prior, ready to score the engine's feature matrices (FEATURE_NAMES order)."""
    reference = np.array([[PRIOR_BASELINE[name] for name in FEATURE_NAMES]])
    return RulePrior().fit(reference)


# ---- the learned model -----------------------------------------------------------------------------

MAX_CELLS = 255  # HistGradientBoosting's own maximum number of bins per feature
# Early stopping holds out a tenth of the rows; below this many rows that tenth is too small to judge by (and
# may miss an outcome altogether), so all max_iter rounds run.
EARLY_STOPPING_MIN_ROWS = 1000
# Isotonic steps are flat; this much of the raw score keeps the trees' order inside a step for ranking. It lies
# below the exact assignment's resolution (values rounded to 1e-6) on purpose: a plan breaks its ties by the
# stated rules of engine.assignment (wished course, distance, waiting), not by the trees' order.
TIE_BREAK = 1e-6


def _cuts(column: np.ndarray, max_cells: int) -> np.ndarray:
    """Cell boundaries for one feature: between neighbouring distinct values when there are at most
    `max_cells` of them, else at quantiles (cell = searchsorted(cuts, x, "left"), NaN kept apart)."""
    values = np.unique(column[~np.isnan(column)])
    if len(values) <= max_cells:
        return (values[:-1] + values[1:]) / 2
    inner = np.quantile(values, np.linspace(0, 1, max_cells + 1)[1:-1], method="midpoint")
    return np.unique(inner)


# The named pairs the interaction model may learn, each an interaction seen in real cities that a person can state:
# skills matter less on a training seat (the course teaches them); needing housing matters more the farther the
# slot (near, one commutes); a training seat's stipend is not a job's pay (features: "pay" is a stipend on a
# course). Every other feature acts alone.
INTERACTION_PAIRS: tuple[tuple[str, str], ...] = (
    ("skill_match", "is_training"),
    ("housing_gap", "distance_km"),
    ("pay", "is_training"),
)


def _resolve_pairs(interactions, names: tuple[str, ...] | None, n_features: int) -> tuple[tuple[int, int], ...]:
    """The column indices of `interactions`' named pairs: () for "none" and "all"; a clear error for anything
    that is not a sequence of two distinct known features."""
    if isinstance(interactions, str):
        if interactions not in ("none", "all"):
            raise ValueError(f"interactions must be 'none', 'all' or a sequence of feature pairs, not {interactions!r}")
        return ()
    resolved = []
    for pair in interactions:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"interactions must be pairs of features, not {pair!r}")
        index = []
        for feature in pair:
            if isinstance(feature, numbers.Integral) and 0 <= int(feature) < n_features:
                index.append(int(feature))
            elif isinstance(feature, str) and names is not None and feature in names:
                index.append(names.index(feature))
            else:
                raise ValueError(f"unknown feature {feature!r} in interactions (features: {names or n_features})")
        if index[0] == index[1]:
            raise ValueError(f"a pair needs two different features, not {pair!r}")
        resolved.append((min(index), max(index)))
    return tuple(dict.fromkeys(resolved))


class QuantisedBoosting(_LogitClassifier):
    """HistGradientBoostingClassifier on features cut into cells, compiled to lookup tables unless "all".

    `fit` cuts each feature into at most `max_cells` cells (boundaries from the training values) and fits
    the trees on the cell numbers, so the trees only ever see the values 0, 1, ..., k-1 (and NaN).

    `interactions`:
    - "none": every tree splits on one feature (`interaction_cst="no_interactions"`), so the logit is
      intercept + sum_j f_j(cell_j). Evaluating the fitted trees through their public `decision_function`
      once per cell of each feature (the others held at cell 0) gives every f_j exactly.
    - named pairs, e.g. (("housing_gap", "distance_km"), ("skill_match", "is_training")) (names, read from
      the input's feature names as `_feature_names` does, or column indices): the trees' `interaction_cst`
      is one group per pair and one group per other feature, so a tree's every path uses the features of one
      pair or one feature alone, and the logit is intercept + sum_j f_j(cell_j) + sum_(a,b) g_ab(cell_a,
      cell_b) with nothing else. Anchored at the reference row r (every cell 0), f_j(c) = F(r with x_j = c) -
      F(r) and g_ab(c, d) = F(r with x_a = c, x_b = d) - f_a(c) - f_b(d) - F(r), all read from the trees on a
      grid of every cell (and NaN) of each feature and every cell pair of each named pair: exact, as no
      three features ever meet in one path. A feature may sit in several pairs.
    - "all": unconstrained trees, asked every time (slow to score; no tables).

    `decision_function` then only looks values up (one 1-D table per feature, one 2-D table per pair).
    `tree_decision_function` always asks the trees (the reference the tables are tested against). Monotone
    constraints (`monotonic_cst`) hold for the whole function in every case, pairs included.
    """

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, random_state: int = 0,
                 monotonic_cst: tuple[int, ...] | None = None, interactions: str | tuple = "none",
                 min_samples_leaf: int = 40, l2_regularization: float = 1.0, early_stopping: bool = True,
                 max_cells: int = MAX_CELLS):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.monotonic_cst = monotonic_cst
        self.interactions = interactions
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.early_stopping = early_stopping
        self.max_cells = max_cells

    def fit(self, X, y, sample_weight=None):
        if not 2 <= int(self.max_cells) <= MAX_CELLS:
            raise ValueError(f"max_cells must be between 2 and {MAX_CELLS}, not {self.max_cells!r}")
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        self.classes_, encoded = _binary_classes(self, y)
        self.pairs_ = _resolve_pairs(self.interactions, _feature_names(self), X.shape[1])
        weights = _sample_weight(sample_weight, len(X))
        self.cuts_ = [_cuts(X[:, j], int(self.max_cells)) for j in range(X.shape[1])]
        if self.interactions == "all":
            constraint = None
        elif not self.pairs_:
            constraint = "no_interactions"
        else:  # one group per pair and one per other feature (HGB would put unlisted features in one group)
            paired = {j for pair in self.pairs_ for j in pair}
            constraint = [list(pair) for pair in self.pairs_] + [[j] for j in range(X.shape[1]) if j not in paired]
        self.booster_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.random_state,
            monotonic_cst=None if self.monotonic_cst is None else list(self.monotonic_cst),
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            interaction_cst=constraint,
            early_stopping=bool(self.early_stopping) and len(X) >= EARLY_STOPPING_MIN_ROWS,
            validation_fraction=0.1, n_iter_no_change=15,
        ).fit(self._cells(X), encoded, sample_weight=weights)
        self.n_iter_ = self.booster_.n_iter_
        self.tables_ = None if self.interactions == "all" else self._compile()
        return self

    def _cells(self, X: np.ndarray) -> np.ndarray:
        """The cell number of every value (float64, NaN where the value is NaN): what the trees see."""
        cells = np.empty_like(X, dtype=np.float64)
        for j, cuts in enumerate(self.cuts_):
            cells[:, j] = np.searchsorted(cuts, X[:, j], side="left")
        cells[np.isnan(X)] = np.nan
        return cells

    def _compile(self) -> dict[str, Any]:
        """One table per feature (its contribution to the logit in each cell, then in the NaN slot) and one 2-D
        table per named pair (what the pair adds beyond its two features' own tables), anchored at the reference
        row r (every feature in cell 0); the grid holds every cell the trees can ever be given (see the class's
        docstring for why this is exact)."""
        n = len(self.cuts_)
        sizes = [len(cuts) + 2 for cuts in self.cuts_]  # k cells, then NaN

        def cells(j: int) -> np.ndarray:
            values = np.arange(sizes[j], dtype=np.float64)
            values[-1] = np.nan
            return values

        blocks = [np.zeros((1, n))]  # row 0: the reference
        for j in range(n):
            block = np.zeros((sizes[j], n))
            block[:, j] = cells(j)
            blocks.append(block)
        for a, b in self.pairs_:
            block = np.zeros((sizes[a] * sizes[b], n))
            block[:, a] = np.repeat(cells(a), sizes[b])
            block[:, b] = np.tile(cells(b), sizes[a])
            blocks.append(block)
        raw = self.booster_.decision_function(np.vstack(blocks))
        base = float(raw[0])
        values, start = [], 1
        for size in sizes:
            values.append(raw[start:start + size] - base)
            start += size
        pairs = []
        for a, b in self.pairs_:
            size = sizes[a] * sizes[b]
            joint = raw[start:start + size].reshape(sizes[a], sizes[b])
            pairs.append(joint - values[a][:, None] - values[b][None, :] - base)
            start += size
        return {"intercept": base, "values": values, "pairs": pairs}

    def _indices(self, X: np.ndarray) -> list[np.ndarray]:
        """Each feature's table index per row: its cell, or the last slot for NaN."""
        out = []
        for j, cuts in enumerate(self.cuts_):
            x = X[:, j]
            index = np.searchsorted(cuts, x, side="left")
            index[np.isnan(x)] = len(cuts) + 1
            out.append(index)
        return out

    def _lookup(self, X: np.ndarray) -> np.ndarray:
        index = self._indices(X)
        raw = np.full(len(X), self.tables_["intercept"], dtype=np.float64)
        for j, values in enumerate(self.tables_["values"]):
            raw += values[index[j]]
        for (a, b), table in zip(getattr(self, "pairs_", ()), self.tables_.get("pairs", ()), strict=True):
            raw += table[index[a], index[b]]
        return raw

    def pair_contributions(self, X) -> np.ndarray:
        """float64 [p, pairs]: what each named pair adds to the logit beyond its two features' own tables (its
        2-D table's value; 0 at the reference cells). Empty columns for an additive model."""
        check_is_fitted(self, "booster_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if self.tables_ is None:
            raise ValueError("an unconstrained model ('all') has no pair tables")
        index = self._indices(X)
        out = np.zeros((len(X), len(self.pairs_)))
        for k, ((a, b), table) in enumerate(zip(self.pairs_, self.tables_["pairs"], strict=True)):
            out[:, k] = table[index[a], index[b]]
        return out

    def decision_function(self, X) -> np.ndarray:
        """The logit of the probability of classes_[1]: from the tables when additive, else from the trees."""
        check_is_fitted(self, "booster_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if self.tables_ is None:
            return self.booster_.decision_function(self._cells(X))
        return self._lookup(X)

    def tree_decision_function(self, X) -> np.ndarray:
        """The same logit, always evaluated by the trees themselves (slower; the tables' reference)."""
        check_is_fitted(self, "booster_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return self.booster_.decision_function(self._cells(X))


class StayModel(ClassifierMixin, BaseEstimator):
    """Calibrated, monotone gradient-boosted stay model.

    Parameters: `horizon_days` (the label's horizon, recorded only), `max_iter` and `learning_rate` (of the
    boosting), `min_samples_leaf`, `random_state`, `calibration` ("isotonic", "sigmoid" or "none"), `cv`
    (folds for the out-of-fold predictions the calibrator learns from), `interactions` ("none": an additive
    model compiled to lookup tables; named feature pairs, e.g. `INTERACTION_PAIRS`: additive plus one exact 2-D
    table per pair; "all": unconstrained trees, slower to score), `n_threads` (OpenMP
    threads while fitting; None: the library default). One thread is the default: these small
    single-feature trees gain nothing from a second one (100,000 rows fit as fast), and OpenMP's
    busy-waiting makes a shared, loaded machine up to fifty times slower with two. Monotone constraints
    follow `features.MONOTONE` by the input's feature names (see the module's docstring).

    Fitted: `booster_` (the `QuantisedBoosting` trees, fitted on all the data) and `calibrated_` (the
    `CalibratedClassifierCV` over the same trees; None without calibration). The calibrated model refits
    its own copy of the trees on all the data; `booster_` is that same fit (same data and random_state),
    kept to read the raw score through public API for the tie-break inside flat isotonic steps.
    """

    def __init__(self, horizon_days: int = 90, max_iter: int = 200, learning_rate: float = 0.1,
                 random_state: int = 0, calibration: str = "sigmoid", cv: int = 3, interactions: str | tuple = "none",
                 min_samples_leaf: int = 40, n_threads: int | None = 1):
        self.horizon_days = horizon_days
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.calibration = calibration
        self.cv = cv
        self.interactions = interactions
        self.min_samples_leaf = min_samples_leaf
        self.n_threads = n_threads

    def fit(self, X, y, sample_weight=None):
        limit = threadpool_limits(limits=self.n_threads, user_api="openmp") if self.n_threads else nullcontext()
        with limit:
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight=None):
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValueError(f"calibration must be 'isotonic', 'sigmoid' or 'none', not {self.calibration!r}")
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        self.classes_, _ = _binary_classes(self, y)
        weights = _sample_weight(sample_weight, len(X))
        names = _feature_names(self)
        # Named pairs are resolved here, by this model's input names, and given to the trees as column indices.
        pairs = _resolve_pairs(self.interactions, names, X.shape[1])
        trees = QuantisedBoosting(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.random_state,
            monotonic_cst=tuple(MONOTONE.get(name, 0) for name in names) if names else None,
            interactions=self.interactions if isinstance(self.interactions, str) else pairs,
            min_samples_leaf=self.min_samples_leaf)
        self.booster_ = clone(trees).fit(X, y, sample_weight=weights)
        self.n_iter_ = self.booster_.n_iter_
        self.calibrated_ = None
        if self.calibration != "none":
            # An int draws shuffled stratified folds from random_state; anything else is used as scikit-learn's
            # `cv` arguments are (a splitter or an iterable of (train, test) index arrays).
            folds = (StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
                     if isinstance(self.cv, numbers.Integral) else self.cv)
            self.calibrated_ = CalibratedClassifierCV(trees, method=self.calibration, cv=folds, ensemble=False)
            self.calibrated_.fit(X, y, sample_weight=weights)
        return self

    def raw_proba(self, X) -> np.ndarray:
        """The boosted trees' own (uncalibrated) probability of classes_[1] (staying)."""
        check_is_fitted(self, "booster_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return self.booster_.predict_proba(X)[:, 1]

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "booster_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if self.calibrated_ is None:
            p = self.booster_.predict_proba(X)[:, 1]
        else:
            p = self.calibrated_.predict_proba(X)[:, 1]
            if self.calibration == "isotonic":
                raw = self.booster_.predict_proba(X)[:, 1]
                p = np.clip(p + TIE_BREAK * (raw - 0.5), 0.0, 1.0)
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "booster_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN (an unknown distance) takes the trees' missing-value branch
        tags.classifier_tags.multi_class = False  # one outcome's probability: stays or not
        return tags


# ---- selection bias -------------------------------------------------------------------------------

def propensity_weights(featurizer: PairFeaturizer, history: History, candidates_count: int, slots_count: int,
                       random_state: int = 0, negatives_per_positive: int = 2,
                       clip: tuple[float, float] = (0.05, 1.0)) -> np.ndarray:
    """Inverse-propensity weights (float64 [h], mean 1) for the referrals in `history`.

    The "logging policy" (which pairs caseworkers chose to refer) is modelled by a logistic regression on
    the pair features: referred pairs against `negatives_per_positive` random unreferred pairs per referral
    (the same candidate, a random slot that was legally open to them: minimum age, bans and prerequisites,
    and the person available by the slot's start as it stood on the referral's own day). Each referral gets
    1 / clip(p), p its predicted chance of being referred, so kinds of pairs that were rarely referred (far
    away, an unwished course) are not drowned out by the kinds caseworkers favoured. Clipping bounds the
    variance. Use: pass the result as `sample_weight` to `StayModel.fit` (as `train_scorer` does).
    """
    y_len = len(history.stayed)
    if y_len == 0:
        return np.ones(0)
    rng = np.random.default_rng(random_state)
    ci = np.asarray(history.candidate_index, np.int64)
    si = np.asarray(history.slot_index, np.int64)
    k = max(1, int(negatives_per_positive))
    neg_c = np.repeat(ci, k)
    neg_s = rng.integers(0, slots_count, size=len(neg_c))
    referred = np.unique(ci * slots_count + si)
    keep = ~np.isin(neg_c * slots_count + neg_s, referred)
    candidates, slots = featurizer.candidates, featurizer.slots
    keep &= eligible_mask(candidates, slots, neg_c, neg_s, int(np.max(history.referred_on)),
                          rules=PERSON_RULES - {Ineligible.NOT_AVAILABLE_BY_START})
    # Open to them on the day of the referral it stands beside, never judged by today's calendar (history).
    keep &= ~not_available_by_start(candidates, slots, neg_c, neg_s,
                                    np.repeat(np.asarray(history.referred_on, np.int64), k))
    neg_c, neg_s = neg_c[keep], neg_s[keep]
    if len(neg_c) == 0:
        return np.ones(y_len)
    X = featurizer.features(np.concatenate([ci, neg_c]), np.concatenate([si, neg_s]))
    medians = np.nanmedian(X, axis=0)
    X = np.where(np.isnan(X), np.nan_to_num(medians)[None, :], X)
    target = np.concatenate([np.ones(y_len, bool), np.zeros(len(neg_c), bool)])
    policy = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    policy.fit(X, target)
    p = policy.predict_proba(X[:y_len])[:, 1]
    weights = 1.0 / np.clip(p, clip[0], clip[1])
    return weights / weights.mean()


# ---- training -------------------------------------------------------------------------------------

@dataclass
class TrainedScorer:
    """A ready-to-score model and the facts its card reports. `kind` is "learned" or "prior" (the switch);
    `variant` says which candidate won the held-out comparison: "prior", "additive" or "interaction"
    (`VARIANTS`)."""

    kind: str
    estimator: Any
    feature_names: tuple[str, ...]
    metrics: dict
    training_data_hash: str
    horizon_days: int
    propensity: str
    created_at: str
    baseline: tuple[float, ...] = field(default_factory=lambda: tuple(PRIOR_BASELINE[n] for n in FEATURE_NAMES))
    variant: str = ""

    def __post_init__(self) -> None:
        if not self.variant:  # scorers built before variants had names: the learned model was the additive one
            self.variant = "prior" if self.kind == "prior" else "additive"


def history_hash(candidates: CandidateTable | None, slots: SlotTable | None, history: History,
                 horizon_days: int) -> str:
    """sha256 of the training data: candidate and slot ids of each referral, its date and its outcome."""
    digest = hashlib.sha256(f"xintu-history-v1:{horizon_days}:".encode())
    ci = np.asarray(history.candidate_index, np.int64)
    si = np.asarray(history.slot_index, np.int64)
    cid = np.asarray(candidates.ids, np.int64)[ci] if candidates is not None and len(ci) else ci
    sid = np.asarray(slots.ids, np.int64)[si] if slots is not None and len(si) else si
    for array in (cid, sid, np.asarray(history.referred_on, np.int64), np.asarray(history.stayed, bool)):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _now() -> str:
    return clock.now().replace(microsecond=0).isoformat()


def _metrics(y: np.ndarray, p: np.ndarray) -> dict:
    both = len(np.unique(y)) == 2
    return {"roc_auc": float(roc_auc_score(y, p)) if both else None,
            "brier": float(brier_score_loss(y, p)) if len(y) else None}


def temporal_split(referred_on: np.ndarray, test_share: float = 0.2) -> np.ndarray:
    """bool mask of the test rows: the latest `test_share` of history by referral date."""
    referred_on = np.asarray(referred_on)
    if len(referred_on) == 0:
        return np.zeros(0, bool)
    cut = np.quantile(referred_on, 1 - test_share)
    test = referred_on >= cut
    if test.all() or not test.any():  # all on one day: fall back to the last rows in date order
        order = np.argsort(referred_on, kind="stable")
        test = np.zeros(len(referred_on), bool)
        test[order[int(len(order) * (1 - test_share)):]] = True
    return test


# The candidates of the per-bureau switch, and what a learned one's `interactions` are.
VARIANTS: tuple[str, ...] = ("prior", "additive", "interaction")
# The order the switch tries them in: the prior is the default; among the learned variants the interaction model
# comes first. It contains the additive model (a pair's table may be flat), its pairs are named in advance from
# what is known of real cities, and the hold-out, made of the referrals caseworkers chose (wished courses, nearby),
# rarely shows the interactions that matter for a plan: on the simulator it planned better than the additive model
# on all five worlds with interactions while its held-out log loss was often within noise of it
# (bench/results/models.txt). The additive model replaces it only when better beyond noise.
SWITCH_ORDER: tuple[str, ...] = ("prior", "interaction", "additive")
VARIANT_INTERACTIONS: dict[str, str | tuple[tuple[str, str], ...]] = {"additive": "none",
                                                                      "interaction": INTERACTION_PAIRS}
# A more complex candidate replaces the current choice only when its held-out log loss is lower by more than this
# many standard errors of the paired per-referral difference (about a one-sided 2.3% test): a gain within noise
# keeps the simpler model, so thin history keeps the prior.
SWITCH_MARGIN_SE = 2.0
SWITCH_RULE = ("candidates in the order prior, interaction, additive, each trained on the earlier referrals and "
               "measured on the latest fifth by log loss; a candidate replaces the current choice when its log "
               "loss is lower by more than {k:g} standard errors of the paired per-referral difference; fewer "
               "than {n} referrals (or one outcome only) keeps the prior untested")
_EPS = 1e-6


def _row_log_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return -np.where(y, np.log(p), np.log1p(-p))


def _weighted_mean_se(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """A weighted mean and its standard error (the delta method for a ratio of sums, rows independent)."""
    total = weights.sum()
    mean = float((weights * values).sum() / total)
    se = float(np.sqrt(((weights * (values - mean)) ** 2).sum()) / total)
    return mean, se


def _candidate_figures(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> dict:
    losses = _row_log_loss(y, p)
    weighted, _ = _weighted_mean_se(losses, weights)
    return {**_metrics(y, p), "log_loss": float(losses.mean()), "log_loss_weighted": weighted}


def choose_variant(y: np.ndarray, predictions: dict[str, np.ndarray], weights: np.ndarray, *,
                   margin_se: float = SWITCH_MARGIN_SE) -> tuple[str, list[dict]]:
    """The switch (`SWITCH_RULE`): the winning candidate of `predictions` (name -> held-out probabilities, in the
    order tried, the first being the default) and every comparison made, with its numbers. `weights` weigh the
    held-out rows (ones for the plain log loss)."""
    names = list(predictions)
    losses = {name: _row_log_loss(y, p) for name, p in predictions.items()}
    current, steps = names[0], []
    for name in names[1:]:
        gain, se = _weighted_mean_se(losses[current] - losses[name], weights)
        won = gain > margin_se * se
        steps.append({"candidate": name, "against": current, "log_loss_gain": gain, "se": se,
                      "margin": margin_se * se, "replaced": bool(won)})
        if won:
            current = name
    return current, steps


def _why(winner: str, steps: list[dict]) -> str:
    parts = []
    for step in steps:
        verb = "beat" if step["replaced"] else "did not beat"
        parts.append(f"{step['candidate']} {verb} {step['against']} (log loss lower by {step['log_loss_gain']:.4f}, "
                     f"needed more than {step['margin']:.4f} = {SWITCH_MARGIN_SE:g} x SE {step['se']:.4f})")
    return f"{winner} chosen: " + ("; ".join(parts) or "the only candidate")


def train_scorer(candidates: CandidateTable | None, slots: SlotTable | None, history: History, *,
                 horizon_days: int = 90, random_state: int = 0, min_history: int = 300,
                 featurizer: PairFeaturizer | None = None, refit: bool = True,
                 variants: tuple[str, ...] = VARIANTS, margin_se: float = SWITCH_MARGIN_SE) -> TrainedScorer:
    """Train on the referral history (outcomes known at the horizon) and let held-out data pick the model.

    The latest fifth of history (by referral date) is held out. Each candidate of `variants` (the rule prior, the
    model with the named pairs `INTERACTION_PAIRS`, the additive model; tried in `SWITCH_ORDER`) is trained on
    the rest and measured there;
    the switch (`SWITCH_RULE`, `choose_variant`) picks the winner, and with `refit` a learned winner is trained
    again on all of history. The metrics give every candidate's held-out figures (`candidates`), the comparisons
    (`switch`), why the winner won (`why`), and the winner's ROC AUC and Brier score beside the prior's. Fewer than
    `min_history` referrals, or a single outcome, gives the rule prior untested (kind "prior"). This runs once per
    training, i.e. per bureau's history: each bureau's own data decides.
    """
    if not variants or set(variants) - set(VARIANTS):
        raise ValueError(f"variants must be some of {VARIANTS}, not {variants!r}")
    # In the switch's order; without "prior" the first learned variant given is the default (no fallback to the
    # prior once history is enough: for tests and benches that need a learned model).
    variants = tuple(v for v in SWITCH_ORDER if v in variants)
    y = np.asarray(history.stayed, dtype=bool)
    ci = np.asarray(history.candidate_index, np.int64)
    si = np.asarray(history.slot_index, np.int64)
    data_hash = history_hash(candidates, slots, history, horizon_days)
    k = 2
    propensity = PROPENSITY_METHOD.format(lo=0.05, hi=1.0, k=k)
    rule = SWITCH_RULE.format(k=margin_se, n=min_history)
    base = {"n_history": int(len(y)), "base_rate": float(y.mean()) if len(y) else None,
            "label": LABEL_DEFINITION.format(horizon=horizon_days), "switch_rule": rule}
    enough = candidates is not None and slots is not None and len(y) >= min_history and len(np.unique(y)) == 2

    def prior_scorer(metrics: dict) -> TrainedScorer:
        return TrainedScorer(kind="prior", estimator=rule_prior(), feature_names=FEATURE_NAMES, metrics=metrics,
                             training_data_hash=data_hash, horizon_days=horizon_days,
                             propensity="none (rule prior: not fitted)", created_at=_now(), variant="prior")

    if not enough:
        metrics = {**base, "n_train": 0, "n_test": int(len(y)), "variant": "prior",
                   "why_prior": f"{len(y)} referrals with known outcomes (fewer than {min_history})"
                   if len(y) < min_history else "history without both outcomes"}
        metrics["why"] = f"prior chosen untested: {metrics['why_prior']}"
        if candidates is not None and slots is not None and len(y):
            featurizer = featurizer or PairFeaturizer(candidates, slots)
            metrics.update(_metrics(y, rule_prior().predict_proba(featurizer.features(ci, si))[:, 1]))
        return prior_scorer(metrics)
    featurizer = featurizer or PairFeaturizer(candidates, slots)
    X = featurizer.features(ci, si)
    weights = propensity_weights(featurizer, history, len(candidates), len(slots), random_state=random_state,
                                 negatives_per_positive=k)
    test = temporal_split(history.referred_on)
    train = ~test
    metrics = {**base, "n_train": int(train.sum()), "n_test": int(test.sum()),
               "split_on": dt.date.fromordinal(int(np.min(np.asarray(history.referred_on)[test]))).isoformat(),
               "weights_max": float(weights.max())}

    def model(variant: str) -> StayModel:
        return StayModel(horizon_days=horizon_days, random_state=random_state,
                         interactions=VARIANT_INTERACTIONS[variant])

    learned = [v for v in variants if v != "prior"]
    if not learned:
        return prior_scorer({**metrics, "variant": "prior", "why": "prior chosen: the only candidate"})
    held: dict[str, Any] = {}
    if len(np.unique(y[train])) == 2 and test.any():
        predictions = {"prior": rule_prior().predict_proba(X[test])[:, 1]}  # always measured, for the card
        for variant in learned:
            held[variant] = model(variant).fit(X[train], y[train], sample_weight=weights[train])
            predictions[variant] = held[variant].predict_proba(X[test])[:, 1]
        # Judged unweighted: the inverse-propensity weights (up to 20) made the comparison's standard error three
        # times larger on the simulator's worlds, so that real gains were lost in noise; the weighted log loss is
        # reported beside it.
        winner, steps = choose_variant(y[test], {v: predictions[v] for v in variants}, np.ones(int(test.sum())),
                                       margin_se=margin_se)
        figures = {name: _candidate_figures(y[test], p, weights[test]) for name, p in predictions.items()}
        metrics.update({"candidates": figures, "switch": steps, "why": _why(winner, steps),
                        "base_rate_test": float(y[test].mean()),
                        "roc_auc": figures[winner]["roc_auc"], "brier": figures[winner]["brier"],
                        "log_loss": figures[winner]["log_loss"],
                        "prior_roc_auc": figures["prior"]["roc_auc"], "prior_brier": figures["prior"]["brier"]})
    else:  # no hold-out to judge by (one outcome in the earlier referrals): the first learned variant, untested
        winner = learned[0]
        metrics["why"] = f"{winner} chosen untested: the earlier referrals hold one outcome only"
    metrics["variant"] = winner
    if winner == "prior":
        # As for a prior chosen untested, its ROC AUC and Brier score are over every referral (it learned from none,
        # so none is "training" data; the registry compares a prior's card on every row); held-out figures are in
        # `candidates`.
        metrics.update(_metrics(y, rule_prior().predict_proba(X)[:, 1]))
        return prior_scorer(metrics)
    final = model(winner).fit(X, y, sample_weight=weights) if refit or winner not in held else held[winner]
    baseline = tuple(float(v) for v in np.nan_to_num(np.nanmean(X, axis=0)))
    return TrainedScorer(kind="learned", estimator=final, feature_names=FEATURE_NAMES, metrics=metrics,
                         training_data_hash=data_hash, horizon_days=horizon_days, propensity=propensity,
                         created_at=_now(), baseline=baseline, variant=winner)


SCORE_CHUNK = 500_000


def score(scorer: TrainedScorer, featurizer: PairFeaturizer, candidate_index: np.ndarray,
          slot_index: np.ndarray) -> np.ndarray:
    """Probabilities (float64 [p]) that each pair starts and stays the scorer's horizon."""
    ci = np.asarray(candidate_index, np.int64).ravel()
    si = np.asarray(slot_index, np.int64).ravel()
    if len(ci) == 0:
        return np.zeros(0)
    if len(ci) <= SCORE_CHUNK:
        return scorer.estimator.predict_proba(featurizer.features(ci, si))[:, 1]
    # Millions of pairs (a province batch): score in chunks so the feature matrix stays small.
    out = np.empty(len(ci))
    for start in range(0, len(ci), SCORE_CHUNK):
        end = start + SCORE_CHUNK
        out[start:end] = scorer.estimator.predict_proba(featurizer.features(ci[start:end], si[start:end]))[:, 1]
    return out
