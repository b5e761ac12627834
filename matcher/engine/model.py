"""Scoring: the probability that a placement starts and stays the horizon (90 days by default).

Two estimators, both following scikit-learn's rules (parameters in `__init__`, `fit` returns self,
learned attributes end in `_`, fixed `random_state`):

- `RulePrior`: a transparent hand-weighted logistic score that serves before there is enough history.
- `StayModel`: gradient-boosted trees (HistGradientBoostingClassifier) with monotone constraints from
  `features.MONOTONE` and, by default, no feature interactions, i.e. a generalised additive model: the
  score's logit is a sum of one monotone step function per feature. That keeps it explainable and lets
  `fit` compile the trees into per-feature lookup tables, so scoring 10,000 pairs takes about a
  millisecond. Probabilities are then calibrated (isotonic regression on out-of-fold predictions), which
  is increasing and so keeps every monotone constraint.

Selection bias: history only holds referrals that caseworkers chose to make (mostly a wished course,
mostly nearby). `propensity_weights` models that logging policy and `train_scorer` passes inverse
propensity weights as `sample_weight`, so rarely-referred kinds of pairs count for more (see its
docstring; the model card states the method).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_array, check_is_fitted
from threadpoolctl import threadpool_limits  # scikit-learn's own dependency for OpenMP thread control

from matcher import clock
from matcher.engine.eligibility import PERSON_RULES, Ineligible, eligible_mask
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
# The neutral reference pair for the prior's explanations: half the skills, between a first and a third
# wish, 10 km away within the travel limit, no housing gap, an average base, no certificate.
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


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return expit(z)  # 1 / (1 + e^-z) without overflowing for very negative z


def _as_x(X, n_features: int | None = None) -> np.ndarray:
    X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=0)
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, the model expects {n_features}")
    return X


class RulePrior(ClassifierMixin, BaseEstimator):
    """Transparent prior: logistic of PRIOR_INTERCEPT + sum(PRIOR_WEIGHTS[f] * x_f); unknown values add 0."""

    def __init__(self, feature_names: tuple[str, ...] | None = None):
        self.feature_names = feature_names

    def fit(self, X, y=None, sample_weight=None):
        names = tuple(self.feature_names or FEATURE_NAMES)
        X = _as_x(X, len(names))
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([False, True])
        self.feature_names_ = names
        self.coef_ = np.array([PRIOR_WEIGHTS.get(name, 0.0) for name in names])
        self.intercept_ = PRIOR_INTERCEPT
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = _as_x(X, self.n_features_in_)
        return self.intercept_ + np.nan_to_num(X, nan=0.0) @ self.coef_

    def predict_proba(self, X) -> np.ndarray:
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X)[:, 1] >= 0.5


# ---- the learned model -----------------------------------------------------------------------------

TIE_BREAK = 1e-6  # isotonic steps are flat; this much of the raw score keeps the trees' order inside a step


class StayModel(ClassifierMixin, BaseEstimator):
    """Calibrated, monotone gradient-boosted stay model.

    Parameters: `horizon_days` (the label's horizon, recorded only), `max_iter` and `learning_rate` (of the
    boosting), `random_state`, `calibration` ("isotonic", "sigmoid" or "none"), `cv` (folds for the
    out-of-fold predictions the calibrator learns from), `interactions` ("none": an additive model compiled
    to lookup tables; "all": unconstrained trees, slower to score), `feature_names` (default FEATURE_NAMES;
    monotone constraints follow `features.MONOTONE` by name), `n_threads` (OpenMP threads while fitting;
    None: the library default). One thread is the default: these small single-feature trees gain nothing
    from a second one (100,000 rows fit as fast), and OpenMP's busy-waiting makes a shared, loaded machine
    up to fifty times slower with two.
    """

    def __init__(self, horizon_days: int = 90, max_iter: int = 200, learning_rate: float = 0.1,
                 random_state: int = 0, calibration: str = "isotonic", cv: int = 3, interactions: str = "none",
                 feature_names: tuple[str, ...] | None = None, n_threads: int | None = 1):
        self.horizon_days = horizon_days
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.calibration = calibration
        self.cv = cv
        self.interactions = interactions
        self.feature_names = feature_names
        self.n_threads = n_threads

    def _booster(self) -> HistGradientBoostingClassifier:
        names = tuple(self.feature_names or FEATURE_NAMES)
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.random_state,
            monotonic_cst=[MONOTONE.get(name, 0) for name in names], min_samples_leaf=40, l2_regularization=1.0,
            interaction_cst="no_interactions" if self.interactions == "none" else None,
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=15)

    def fit(self, X, y, sample_weight=None):
        limit = threadpool_limits(limits=self.n_threads, user_api="openmp") if self.n_threads else nullcontext()
        with limit:
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight=None):
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValueError(f"calibration must be 'isotonic', 'sigmoid' or 'none', not {self.calibration!r}")
        if self.interactions not in ("none", "all"):
            raise ValueError(f"interactions must be 'none' or 'all', not {self.interactions!r}")
        names = tuple(self.feature_names or FEATURE_NAMES)
        X = _as_x(X, len(names))
        y = np.asarray(y).astype(bool).ravel()
        if len(np.unique(y)) < 2:
            raise ValueError("StayModel needs both outcomes (stayed and not) in the training data")
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.n_features_in_ = X.shape[1]
        self.feature_names_ = names
        self.classes_ = np.array([False, True])
        booster = self._booster()
        self.booster_ = clone(booster).fit(X, y, sample_weight=sw)
        self.tables_ = _compile_additive(self.booster_, X.shape[1]) if self.interactions == "none" else None
        self.calibrator_ = None
        if self.calibration != "none":
            folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            oof = cross_val_predict(booster, X, y, cv=folds, method="predict_proba",
                                    params=None if sw is None else {"sample_weight": sw})[:, 1]
            if self.calibration == "isotonic":
                self.calibrator_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
                self.calibrator_.fit(oof, y, sample_weight=sw)
            else:
                self.calibrator_ = LogisticRegression(C=1e6).fit(_logit(oof)[:, None], y, sample_weight=sw)
        return self

    def raw_proba(self, X) -> np.ndarray:
        """The boosted trees' own (uncalibrated) probability of staying."""
        check_is_fitted(self, "booster_")
        X = _as_x(X, self.n_features_in_)
        if self.tables_ is None:
            return self.booster_.predict_proba(X)[:, 1]
        return _sigmoid(_lookup(self.tables_, X))

    def predict_proba(self, X) -> np.ndarray:
        raw = self.raw_proba(X)
        if self.calibrator_ is None:
            p = raw
        elif isinstance(self.calibrator_, IsotonicRegression):
            p = np.clip(self.calibrator_.predict(raw) + TIE_BREAK * (raw - 0.5), 0.0, 1.0)
        else:
            p = self.calibrator_.predict_proba(_logit(raw)[:, None])[:, 1]
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X)[:, 1] >= 0.5


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _compile_additive(booster: HistGradientBoostingClassifier, n_features: int) -> dict[str, Any]:
    """Turn an additive (no-interaction) booster into one step function per feature on the logit scale.

    Every tree splits on one feature only, so raw(x) = raw(r) + sum_j [raw(r with x_j) - raw(r)] for any
    reference row r. For each feature the thresholds the trees use cut the line into intervals; the table
    holds the contribution on each interval (index = searchsorted(thresholds, x, "left")), plus one for NaN.
    """
    thresholds: list[list[float]] = [[] for _ in range(n_features)]
    for predictors in booster._predictors:
        for predictor in predictors:
            nodes = predictor.nodes
            splits = nodes[nodes["is_leaf"] == 0]
            for feature, threshold in zip(splits["feature_idx"], splits["num_threshold"], strict=True):
                thresholds[int(feature)].append(float(threshold))
    reference = np.zeros((1, n_features))
    base = float(booster._raw_predict(reference).ravel()[0])
    cuts, values = [], []
    for j in range(n_features):
        t = np.unique(np.asarray(thresholds[j], dtype=np.float64))
        last = t[-1] + max(1.0, abs(t[-1])) if len(t) else 0.0
        points = np.concatenate([t, [last, np.nan]])
        rows = np.repeat(reference, len(points), axis=0)
        rows[:, j] = points
        values.append(booster._raw_predict(rows).ravel() - base)
        cuts.append(t)
    return {"intercept": base, "thresholds": cuts, "values": values}


def _lookup(tables: dict[str, Any], X: np.ndarray) -> np.ndarray:
    raw = np.full(len(X), tables["intercept"], dtype=np.float64)
    for j, (t, v) in enumerate(zip(tables["thresholds"], tables["values"], strict=True)):
        x = X[:, j]
        index = np.searchsorted(t, x, side="left")
        index[np.isnan(x)] = len(t) + 1
        raw += v[index]
    return raw


# ---- selection bias -------------------------------------------------------------------------------

def propensity_weights(featurizer: PairFeaturizer, history: History, candidates_count: int, slots_count: int,
                       random_state: int = 0, negatives_per_positive: int = 2,
                       clip: tuple[float, float] = (0.05, 1.0)) -> np.ndarray:
    """Inverse-propensity weights (float64 [h], mean 1) for the referrals in `history`.

    The "logging policy" (which pairs caseworkers chose to refer) is modelled by a logistic regression on
    the pair features: referred pairs against `negatives_per_positive` random unreferred pairs per referral
    (the same candidate, a random slot that was legally open to them: minimum age, bans and prerequisites,
    and the person available by the slot's start). Each referral gets 1 / clip(p), p its predicted chance
    of being referred, so kinds of pairs that were rarely referred (far away, an unwished course) are not
    drowned out by the kinds caseworkers favoured. Clipping bounds the variance. Use: pass the result as
    `sample_weight` to `StayModel.fit` (as `train_scorer` does).
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
    keep &= eligible_mask(candidates, slots, neg_c, neg_s, 1, rules={Ineligible.NOT_AVAILABLE_BY_START})
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
        prior = RulePrior().fit(np.zeros((0, len(FEATURE_NAMES))))
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
        prior = _metrics(y[test], RulePrior().fit(X[:0]).predict_proba(X[test])[:, 1])
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
