"""Reasons for a score: the few features that moved it most, as data and as Chinese and English text.

A feature's effect is the change in predicted probability when that feature alone is replaced by a
neutral reference value: the training mean stored on the scorer (`TrainedScorer.baseline`; for the rule
prior the documented `model.PRIOR_BASELINE`). Positive effects raised the score, negative ones lowered it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from matcher.engine.features import FEATURE_NAMES, PairFeaturizer

_ORDINAL_ZH = {1: "首选", 2: "第二意向", 3: "第三意向"}
_ORDINAL_EN = {1: "First-choice", 2: "Second-choice", 3: "Third-choice"}
_EDUCATION = {
    "none": ("未受教育", "no schooling"), "primary": ("小学", "primary school"),
    "junior_secondary": ("初中", "junior secondary"), "senior_secondary": ("高中", "senior secondary"),
    "vocational": ("中专/技校", "vocational school"), "college": ("大专", "college"),
    "bachelor_or_above": ("本科及以上", "bachelor's or above"),
}


@dataclass(frozen=True)
class Reason:
    code: str  # the feature name
    value: float  # the feature's value for this pair
    effect: float  # signed change in probability against the neutral reference
    text_zh: str
    text_en: str


def _km(value: float) -> str:
    return f"{value:.1f}"


def _course(code: str | None, course_names: Mapping[str, tuple[str, str]] | None) -> tuple[str, str]:
    if not code:
        return "未指定", "unspecified"
    zh, en = (course_names or {}).get(code, (code, code))
    return zh, en


def reason_text(code: str, facts: dict, course_names: Mapping[str, tuple[str, str]] | None = None) -> tuple[str, str]:
    """(zh, en) text of one feature for one pair, from `PairFeaturizer.describe` facts."""
    if code == "skill_match":
        total, matched = facts["skills_required"], facts["skills_matched"]
        if total == 0:
            return "无技能要求", "No skills required"
        zh, en = f"技能匹配 {matched}/{total}", f"Skills matched {matched}/{total}"
        if facts["skills_partial"]:
            zh += f"（另有 {facts['skills_partial']} 项等级不足）"
            en += f" ({facts['skills_partial']} more below the level)"
        elif facts["skills_related"]:
            zh += f"（另有 {facts['skills_related']} 项相关技能）"
            en += f" ({facts['skills_related']} more related)"
        return zh, en
    if code == "text_match":
        share = round(100 * facts["text_similarity"])
        return f"自述技能与岗位描述相似度 {share}%", f"Own skills text {share}% similar to the slot"
    if code == "certified_skill":
        if facts["certified_required"]:
            return "持有所需技能证书", "Holds a certificate for a required skill"
        return "无所需技能证书", "No certificate for the required skills"
    if code == "course_rank":
        zh, en = _course(facts["course"], course_names)
        rank = facts["course_rank"]
        if rank:
            return f"{_ORDINAL_ZH[rank]}课程：{zh}", f"{_ORDINAL_EN[rank]} course: {en}"
        return f"非意向课程：{zh}", f"Not a wished course: {en}"
    if code == "distance_km":
        if facts["distance_km"] is None:
            return "距离未知", "Distance unknown"
        return f"距住处 {_km(facts['distance_km'])} 公里", f"{_km(facts['distance_km'])} km from home"
    if code == "over_travel_km":
        if facts["over_travel_km"] is None:
            return "距离未知", "Distance unknown"
        if facts["over_travel_km"] > 0:
            return (f"超出可接受通勤距离 {_km(facts['over_travel_km'])} 公里",
                    f"{_km(facts['over_travel_km'])} km beyond the travel limit")
        limit = f"{facts['max_travel_km']:g}"
        return f"在可接受通勤距离内（{limit} 公里）", f"Within the travel limit ({limit} km)"
    if code == "housing_gap":
        if facts["needs_housing"] and not facts["housing_provided"]:
            return "需要住宿但岗位不提供", "Needs housing, none provided"
        if facts["needs_housing"]:
            return "需要住宿，岗位提供住宿", "Needs housing, housing provided"
        return "无需住宿", "No housing needed"
    if code == "pay":
        if facts["pay_mid"] is None:
            return ("培训岗位，无薪资" if facts["is_training"] else "薪资未知",
                    "Training slot, no pay" if facts["is_training"] else "Pay unknown")
        pay = f"{facts['pay_mid']:,.0f}"
        return f"月薪约 {pay} 元", f"Pay about {pay} CNY a month"
    if code == "education":
        zh, en = _EDUCATION.get(facts["education_level"], (facts["education_level"],) * 2)
        return f"学历：{zh}", f"Education: {en}"
    if code == "certificate_subsidy":
        if facts["certificate_awarded"]:
            return "结业可获证书（可申请培训补贴）", "Awards a certificate (training subsidy)"
        return "不颁发证书", "No certificate awarded"
    if code == "base_stay_rate":
        if facts["base_placements"] == 0:
            return "基地尚无安置记录", "The base has no placement record yet"
        share = round(100 * facts["base_stayed"] / facts["base_placements"])
        return (f"基地以往留任率 {share}%（{facts['base_stayed']}/{facts['base_placements']}）",
                f"Base's past stay rate {share}% ({facts['base_stayed']}/{facts['base_placements']})")
    if code == "is_training":
        return ("培训岗位", "Training slot") if facts["is_training"] else ("就业岗位", "Job slot")
    return code, code


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
                  top: int = 3, course_names: Mapping[str, tuple[str, str]] | None = None) -> list[list[Reason]]:
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
            zh, en = reason_text(FEATURE_NAMES[j], facts, course_names)
            value = float(X[row, j])
            reasons.append(Reason(code=FEATURE_NAMES[j], value=value if np.isfinite(value) else float("nan"),
                                  effect=float(moved[row, j]), text_zh=zh, text_en=en))
        out.append(reasons)
    return out


def sentence(reasons: list[Reason], lang: str = "zh") -> str:
    """The reasons as one line: "技能匹配 3/4；距住处 6.2 公里；首选课程：烹饪" (en: joined by "; ")."""
    if lang.lower().startswith("zh"):
        return "；".join(r.text_zh for r in reasons)
    return "; ".join(r.text_en for r in reasons)
