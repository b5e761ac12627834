"""Reasons for a score: the features that moved it, as codes with the numbers that go with them.

Every reason is measured against a reference pair a person can picture, never against an average pair
(`REFERENCE`): a slot for which the person holds every required skill, at home (no distance, so within the
travel limit), with no housing gap, at the usual pay, in a course the person did not wish for, awarding no
certificate, at a base with no record yet. A feature's effect is the change in predicted probability when that
feature alone is moved from the reference to the pair's value. Because the model is monotone in each of these
features (`features.MONOTONE`), the sign of an effect follows from the fact itself: a distance, a distance over
the travel limit, a housing gap or a missing skill can only lower the chance, a wished course or a certificate
only raise it; the effect is clipped to that sign, so rounding can never show a penalty as raising the chance.
Features without a direction (education, the slot's kind) and unknown values (a distance that cannot be
computed) are not given as reasons: there is no reference a reader could check them against.

Interaction pairs (`model.INTERACTION_PAIRS`, e.g. needing housing x distance): a model with named pairs adds a 2-D
table per pair to the per-feature tables. A pair's contribution is split, exactly and by the same rule: each of its
two features' effect is the change when that feature alone moves to the reference, so it carries the pair's table
at (the reference value, the partner's actual value); e.g. a housing gap's effect is measured at the slot's real
distance, so a far slot shows a larger housing penalty than a near one. The effects of one pair's two features need
not add up to the pair's whole contribution (what they add only together, measured from the reference, is shown in
neither); every effect shown is nevertheless a true change of the model's prediction, and the monotone constraints,
which hold for pairs too, keep its sign.

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

from matcher.engine.features import (
    BASE_PRIOR_STAY_RATE,
    FEATURE_NAMES,
    MONOTONE,
    PairFeaturizer,
)

# The reference pair (see the module's docstring); a feature not named here is never given as a reason.
REFERENCE: dict[str, float] = {
    "skill_match": 1.0,  # holds every required skill
    "text_match": 0.0,  # the person's own words say nothing about the slot
    "certified_skill": 0.0,  # no certificate for a required skill
    "course_rank": 0.0,  # not a wished course
    "distance_km": 0.0,  # no travel
    "over_travel_km": 0.0,  # within the travel limit
    "housing_gap": 0.0,  # no housing gap
    "pay": 0.0,  # the reference pay (features.PAY_REFERENCE_CNY)
    "certificate_subsidy": 0.0,  # awards no certificate
    "base_stay_rate": BASE_PRIOR_STAY_RATE,  # a base with no record yet
}

# Every code `reason_code` can give, by feature (the application has words for each).
REASON_CODES: dict[str, tuple[str, ...]] = {
    "skill_match": ("no_skills_required", "skill_match", "skill_match_unknown", "skill_match_partial",
                    "skill_match_related"),
    "text_match": ("text_match",),
    "certified_skill": ("certified_skill", "no_certified_skill"),
    "course_rank": ("course_first_choice", "course_second_choice", "course_third_choice", "course_not_wished"),
    "distance_km": ("distance_unknown", "distance"),
    "over_travel_km": ("distance_unknown", "over_travel", "within_travel"),
    "housing_gap": ("housing_needed_not_provided", "housing_needed_provided", "no_housing_needed"),
    "pay": ("training_no_pay", "pay_unknown", "pay_above", "pay_below", "pay"),
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
    effect: float  # signed change in probability against the reference pair (REFERENCE)
    params: Mapping[str, Any] = field(default_factory=dict)  # the numbers and codes the words need


def reason_code(feature: str, facts: dict) -> tuple[str, dict[str, Any]]:
    """(code, params) of what one feature says about one pair, from `PairFeaturizer.describe` facts."""
    if feature == "skill_match":
        total, matched = facts["skills_required"], facts["skills_matched"]
        if total == 0:
            return "no_skills_required", {}
        if facts.get("skills_unknown"):
            # Said first: a requirement nobody can check must never read as held.
            return "skill_match_unknown", {"matched": matched, "total": total, "unknown": facts["skills_unknown"]}
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
        reference = facts.get("pay_reference")
        # A training seat's stipend is the money it pays, measured against none: "pay about ... a month".
        if facts["is_training"] or reference is None or facts["pay_mid"] == reference:
            return "pay", {"cny": facts["pay_mid"]}
        return ("pay_above" if facts["pay_mid"] > reference else "pay_below"), {"cny": facts["pay_mid"],
                                                                             "reference": reference}
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


def reference_row(featurizer: PairFeaturizer | None = None) -> np.ndarray:
    """float64 [features]: the reference pair's values (NaN for a feature that is never explained); the base
    with no record is the featurizer's smoothing prior."""
    row = np.array([REFERENCE.get(name, np.nan) for name in FEATURE_NAMES], dtype=np.float64)
    if featurizer is not None:
        row[FEATURE_NAMES.index("base_stay_rate")] = featurizer.base_prior_rate
    return row


def effects(scorer, X: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """float64 [p, features]: prediction minus the prediction with that feature moved to the reference pair's
    value; 0 for a feature without a reference or an unknown (NaN) value, and clipped to the sign the feature's
    monotone direction gives (a penalty never raises, a bonus never lowers)."""
    p, d = X.shape
    reference = reference_row() if reference is None else np.asarray(reference, np.float64)
    explained = np.flatnonzero(~np.isnan(reference))
    stacked = np.repeat(X[None, :, :], len(explained) + 1, axis=0)  # slice 0 is the pair itself
    for k, j in enumerate(explained):
        stacked[k + 1, :, j] = reference[j]
    proba = scorer.estimator.predict_proba(stacked.reshape(-1, d))[:, 1].reshape(len(explained) + 1, p)
    moved = np.zeros((p, d))
    moved[:, explained] = proba[0][:, None] - proba[1:].T
    direction = np.array([MONOTONE.get(name, 0) for name in FEATURE_NAMES], dtype=np.float64)
    # +1 when the pair's value is on the side of the reference where the feature raises the chance, -1 where it
    # lowers it, 0 at the reference.
    side = np.sign(np.nan_to_num(X - reference[None, :], nan=0.0)) * direction[None, :]
    moved = np.where(side > 0, np.maximum(moved, 0.0), np.where(side < 0, np.minimum(moved, 0.0), 0.0))
    moved[np.isnan(X)] = 0.0
    return moved


def explain_pairs(scorer, featurizer: PairFeaturizer, candidate_index: np.ndarray, slot_index: np.ndarray,
                  top: int | None = 3) -> list[list[Reason]]:
    """For each pair, the `top` reasons (all with `top=None`) with the largest |effect|, largest first (ties:
    feature order); a feature that moved nothing against the reference pair is no reason."""
    ci = np.asarray(candidate_index, np.int64).ravel()
    si = np.asarray(slot_index, np.int64).ravel()
    if len(ci) == 0:
        return []
    X = featurizer.features(ci, si)
    moved = effects(scorer, X, reference_row(featurizer))
    out = []
    for row in range(len(ci)):
        order = sorted(range(len(FEATURE_NAMES)), key=lambda j: (-abs(moved[row, j]), j))
        order = [j for j in order if abs(moved[row, j]) > 1e-9][:top]
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
