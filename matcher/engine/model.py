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


class QuantisedBoosting(_LogitClassifier):
    """HistGradientBoostingClassifier on features cut into cells, compiled to lookup tables when additive.

    `fit` cuts each feature into at most `max_cells` cells (boundaries from the training values) and fits
    the trees on the cell numbers, so the trees only ever see the values 0, 1, ..., k-1 (and NaN). With
    `interactions="none"` the model's logit is intercept + sum_j f_j(cell_j): evaluating the fitted trees
    through their public `decision_function` once per cell of each feature (the others held at cell 0)
    gives every f_j exactly, and `decision_function` then only looks values up. With "all" it asks the
    trees every time. `tree_decision_function` always asks the trees (the reference the tables are tested
    against).
    """

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, random_state: int = 0,
                 monotonic_cst: tuple[int, ...] | None = None, interactions: str = "none",
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
        if self.interactions not in ("none", "all"):
            raise ValueError(f"interactions must be 'none' or 'all', not {self.interactions!r}")
        if not 2 <= int(self.max_cells) <= MAX_CELLS:
            raise ValueError(f"max_cells must be between 2 and {MAX_CELLS}, not {self.max_cells!r}")
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        self.classes_, encoded = _binary_classes(self, y)
        weights = _sample_weight(sample_weight, len(X))
        self.cuts_ = [_cuts(X[:, j], int(self.max_cells)) for j in range(X.shape[1])]
        self.booster_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.random_state,
            monotonic_cst=None if self.monotonic_cst is None else list(self.monotonic_cst),
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            interaction_cst="no_interactions" if self.interactions == "none" else None,
            early_stopping=bool(self.early_stopping) and len(X) >= EARLY_STOPPING_MIN_ROWS,
            validation_fraction=0.1, n_iter_no_change=15,
        ).fit(self._cells(X), encoded, sample_weight=weights)
        self.n_iter_ = self.booster_.n_iter_
        self.tables_ = self._compile() if self.interactions == "none" else None
        return self

    def _cells(self, X: np.ndarray) -> np.ndarray:
        """The cell number of every value (float64, NaN where the value is NaN): what the trees see."""
        cells = np.empty_like(X, dtype=np.float64)
        for j, cuts in enumerate(self.cuts_):
            cells[:, j] = np.searchsorted(cuts, X[:, j], side="left")
        cells[np.isnan(X)] = np.nan
        return cells

    def _compile(self) -> dict[str, Any]:
        """One table per feature: its contribution to the logit in each cell, then in the NaN slot.

        Every tree splits on one feature only, so raw(x) = raw(r) + sum_j [raw(r with x_j) - raw(r)] for the
        reference row r (every feature in cell 0); the grid holds every cell the trees can ever be given.
        """
        n = len(self.cuts_)
        sizes = [len(cuts) + 2 for cuts in self.cuts_]  # k cells, then NaN
        grid = np.zeros((1 + sum(sizes), n))  # row 0: the reference
        start = 1
        for j, size in enumerate(sizes):
            grid[start:start + size - 1, j] = np.arange(size - 1)
            grid[start + size - 1, j] = np.nan
            start += size
        raw = self.booster_.decision_function(grid)
        base = float(raw[0])
        values, start = [], 1
        for size in sizes:
            values.append(raw[start:start + size] - base)
            start += size
        return {"intercept": base, "values": values}

    def _lookup(self, X: np.ndarray) -> np.ndarray:
        raw = np.full(len(X), self.tables_["intercept"], dtype=np.float64)
        for j, (cuts, values) in enumerate(zip(self.cuts_, self.tables_["values"], strict=True)):
            x = X[:, j]
            index = np.searchsorted(cuts, x, side="left")
            index[np.isnan(x)] = len(values) - 1
            raw += values[index]
        return raw

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
    model compiled to lookup tables; "all": unconstrained trees, slower to score), `n_threads` (OpenMP
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
                 random_state: int = 0, calibration: str = "sigmoid", cv: int = 3, interactions: str = "none",
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
        if self.interactions not in ("none", "all"):
            raise ValueError(f"interactions must be 'none' or 'all', not {self.interactions!r}")
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        self.classes_, _ = _binary_classes(self, y)
        weights = _sample_weight(sample_weight, len(X))
        names = _feature_names(self)
        trees = QuantisedBoosting(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.random_state,
            monotonic_cst=tuple(MONOTONE.get(name, 0) for name in names) if names else None,
            interactions=self.interactions, min_samples_leaf=self.min_samples_leaf)
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
    """A ready-to-score model and the facts its card reports. `kind` is "learned" or "prior" (the switch)."""

    kind: str
    estimator: Any
    feature_names: tuple[str, ...]
    metrics: dict
    training_data_hash: str
    horizon_days: int
    propensity: str
    created_at: str
    baseline: tuple[float, ...] = field(default_factory=lambda: tuple(PRIOR_BASELINE[n] for n in FEATURE_NAMES))


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


def train_scorer(candidates: CandidateTable | None, slots: SlotTable | None, history: History, *,
                 horizon_days: int = 90, random_state: int = 0, min_history: int = 300,
                 featurizer: PairFeaturizer | None = None, refit: bool = True) -> TrainedScorer:
    """Train on the referral history (outcomes known at the horizon) and measure on a temporal hold-out.

    The latest fifth of history (by referral date) is held out: metrics (ROC AUC, Brier score, and the
    prior's on the same rows) come from a model trained on the rest; with `refit` the served model is then
    trained on all of history. Fewer than `min_history` referrals, or a single outcome, gives the rule
    prior instead (kind "prior").
    """
    y = np.asarray(history.stayed, dtype=bool)
    ci = np.asarray(history.candidate_index, np.int64)
    si = np.asarray(history.slot_index, np.int64)
    data_hash = history_hash(candidates, slots, history, horizon_days)
    k = 2
    propensity = PROPENSITY_METHOD.format(lo=0.05, hi=1.0, k=k)
    base = {"n_history": int(len(y)), "base_rate": float(y.mean()) if len(y) else None,
            "label": LABEL_DEFINITION.format(horizon=horizon_days)}
    enough = candidates is not None and slots is not None and len(y) >= min_history and len(np.unique(y)) == 2
    if not enough:
        prior = rule_prior()
        metrics = {**base, "n_train": 0, "n_test": int(len(y)),
                   "why_prior": f"{len(y)} referrals with known outcomes (fewer than {min_history})"
                   if len(y) < min_history else "history without both outcomes"}
        if candidates is not None and slots is not None and len(y):
            featurizer = featurizer or PairFeaturizer(candidates, slots)
            metrics.update(_metrics(y, prior.predict_proba(featurizer.features(ci, si))[:, 1]))
        return TrainedScorer(kind="prior", estimator=prior, feature_names=FEATURE_NAMES, metrics=metrics,
                             training_data_hash=data_hash, horizon_days=horizon_days,
                             propensity="none (rule prior: not fitted)", created_at=_now())
    featurizer = featurizer or PairFeaturizer(candidates, slots)
    X = featurizer.features(ci, si)
    weights = propensity_weights(featurizer, history, len(candidates), len(slots), random_state=random_state,
                                 negatives_per_positive=k)
    test = temporal_split(history.referred_on)
    train = ~test
    model = StayModel(horizon_days=horizon_days, random_state=random_state)
    metrics = {**base, "n_train": int(train.sum()), "n_test": int(test.sum()),
               "split_on": dt.date.fromordinal(int(np.min(np.asarray(history.referred_on)[test]))).isoformat()}
    if len(np.unique(y[train])) == 2 and test.any():
        held = clone(model).fit(X[train], y[train], sample_weight=weights[train])
        metrics.update(_metrics(y[test], held.predict_proba(X[test])[:, 1]))
        prior = _metrics(y[test], rule_prior().predict_proba(X[test])[:, 1])
        metrics.update({"prior_roc_auc": prior["roc_auc"], "prior_brier": prior["brier"],
                        "base_rate_test": float(y[test].mean())})
        final = clone(model).fit(X, y, sample_weight=weights) if refit else held
    else:
        final = clone(model).fit(X, y, sample_weight=weights)
    metrics["weights_max"] = float(weights.max())
    baseline = tuple(float(v) for v in np.nan_to_num(np.nanmean(X, axis=0)))
    return TrainedScorer(kind="learned", estimator=final, feature_names=FEATURE_NAMES, metrics=metrics,
                         training_data_hash=data_hash, horizon_days=horizon_days, propensity=propensity,
                         created_at=_now(), baseline=baseline)


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
