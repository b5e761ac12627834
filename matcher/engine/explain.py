"""Reasons for a score: the few features that moved it most, as codes with the numbers that go with them.

A feature's effect is the change in predicted probability when that feature alone is replaced by a
neutral reference value: the training mean stored on the scorer (`TrainedScorer.baseline`; for the rule
prior the documented `model.PRIOR_BASELINE`). Positive effects raised the score, negative ones lowered it.

The engine speaks no language: each `Reason` carries a `code` saying which fact it states (e.g.
`skill_match_partial`) and `params`, the numbers and codes the words need (e.g. matched 1 of 4, 1 more
below the level). The application turns them into words in the reader's language
(`matcher.matching.reasons`); names from tables (a course's) are looked up there, by the code given here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.engine.features import FEATURE_NAMES, PairFeaturizer

# Every code `reason_code` can give, by feature (the application has words for each).
REASON_CODES: dict[str, tuple[str, ...]] = {
    "skill_match": ("no_skills_required", "skill_match", "skill_match_partial", "skill_match_related"),
    "text_match": ("text_match",),
    "certified_skill": ("certified_skill", "no_certified_skill"),
    "course_rank": ("course_first_choice", "course_second_choice", "course_third_choice", "course_not_wished"),
    "distance_km": ("distance_unknown", "distance"),
    "over_travel_km": ("distance_unknown", "over_travel", "within_travel"),
    "housing_gap": ("housing_needed_not_provided", "housing_needed_provided", "no_housing_needed"),
    "pay": ("training_no_pay", "pay_unknown", "pay"),
    "education": ("education",),
    "certificate_subsidy": ("certificate_awarded", "no_certificate"),
    "base_stay_rate": ("base_no_record", "base_stay_rate"),
    "is_training": ("training_slot", "job_slot"),
}
_WISH = {1: "course_first_choice", 2: "course_second_choice", 3: "course_third_choice"}


@dataclass(frozen=True)
class Reason:
    code: str  # which fact the reason states (see REASON_CODES)
    feature: str  # the feature it is about (a name in FEATURE_NAMES)
    value: float  # the feature's value for this pair
    effect: float  # signed change in probability against the neutral reference
    params: Mapping[str, Any] = field(default_factory=dict)  # the numbers and codes the words need


def reason_code(feature: str, facts: dict) -> tuple[str, dict[str, Any]]:
    """(code, params) of what one feature says about one pair, from `PairFeaturizer.describe` facts."""
    if feature == "skill_match":
        total, matched = facts["skills_required"], facts["skills_matched"]
        if total == 0:
            return "no_skills_required", {}
        if facts["skills_partial"]:
            return "skill_match_partial", {"matched": matched, "total": total, "partial": facts["skills_partial"]}
        if facts["skills_related"]:
            return "skill_match_related", {"matched": matched, "total": total, "related": facts["skills_related"]}
        return "skill_match", {"matched": matched, "total": total}
    if feature == "text_match":
        return "text_match", {"percent": round(100 * facts["text_similarity"])}
    if feature == "certified_skill":
        return ("certified_skill" if facts["certified_required"] else "no_certified_skill"), {}
    if feature == "course_rank":
        rank = facts["course_rank"]
        return _WISH.get(rank, "course_not_wished"), {"course": facts["course"], "rank": rank}
    if feature == "distance_km":
        if facts["distance_km"] is None:
            return "distance_unknown", {}
        return "distance", {"km": facts["distance_km"]}
    if feature == "over_travel_km":
        if facts["over_travel_km"] is None:
            return "distance_unknown", {}
        if facts["over_travel_km"] > 0:
            return "over_travel", {"km": facts["over_travel_km"]}
        return "within_travel", {"limit_km": facts["max_travel_km"]}
    if feature == "housing_gap":
        if facts["needs_housing"] and not facts["housing_provided"]:
            return "housing_needed_not_provided", {}
        return ("housing_needed_provided" if facts["needs_housing"] else "no_housing_needed"), {}
    if feature == "pay":
        if facts["pay_mid"] is None:
            return ("training_no_pay" if facts["is_training"] else "pay_unknown"), {}
        return "pay", {"cny": facts["pay_mid"]}
    if feature == "education":
        return "education", {"level": facts["education_level"]}
    if feature == "certificate_subsidy":
        return ("certificate_awarded" if facts["certificate_awarded"] else "no_certificate"), {}
    if feature == "base_stay_rate":
        if facts["base_placements"] == 0:
            return "base_no_record", {}
        return "base_stay_rate", {"percent": round(100 * facts["base_stayed"] / facts["base_placements"]),
                                  "stayed": facts["base_stayed"], "placements": facts["base_placements"]}
    if feature == "is_training":
        return ("training_slot" if facts["is_training"] else "job_slot"), {}
    return feature, {}


def _baseline(scorer) -> np.ndarray:
    baseline = np.asarray(getattr(scorer, "baseline", ()) or (), dtype=np.float64)
    if baseline.shape != (len(FEATURE_NAMES),):
        from matcher.engine.model import PRIOR_BASELINE

        baseline = np.array([PRIOR_BASELINE[name] for name in FEATURE_NAMES])
    return baseline


def effects(scorer, X: np.ndarray) -> np.ndarray:
    """float64 [p, features]: prediction minus the prediction with that feature set to its reference."""
    p, d = X.shape
    baseline = _baseline(scorer)
    stacked = np.repeat(X[None, :, :], d + 1, axis=0)  # [d + 1, p, d]; slice 0 is the pair itself
    for j in range(d):
        stacked[j + 1, :, j] = baseline[j]
    proba = scorer.estimator.predict_proba(stacked.reshape(-1, d))[:, 1].reshape(d + 1, p)
    return (proba[0][:, None] - proba[1:].T)


def explain_pairs(scorer, featurizer: PairFeaturizer, candidate_index: np.ndarray, slot_index: np.ndarray,
                  top: int = 3) -> list[list[Reason]]:
    """For each pair, the `top` reasons with the largest |effect|, largest first (ties: feature order)."""
    ci = np.asarray(candidate_index, np.int64).ravel()
    si = np.asarray(slot_index, np.int64).ravel()
    if len(ci) == 0:
        return []
    X = featurizer.features(ci, si)
    moved = effects(scorer, X)
    out = []
    for row in range(len(ci)):
        order = sorted(range(len(FEATURE_NAMES)), key=lambda j: (-abs(moved[row, j]), j))[:top]
        order = [j for j in order if abs(moved[row, j]) > 1e-9]
        facts = featurizer.describe(int(ci[row]), int(si[row])) if order else {}
        reasons = []
        for j in order:
            code, params = reason_code(FEATURE_NAMES[j], facts)
            value = float(X[row, j])
            reasons.append(Reason(code=code, feature=FEATURE_NAMES[j],
                                  value=value if np.isfinite(value) else float("nan"),
                                  effect=float(moved[row, j]), params=params))
        out.append(reasons)
    return out
