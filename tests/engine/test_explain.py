"""Explanations: the features that moved a score most, with zh/en text carrying the right numbers."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.explain import Reason, effects, explain_pairs, reason_text, sentence
from matcher.engine.features import FEATURE_NAMES, PairFeaturizer
from matcher.engine.model import train_scorer
from matcher.engine.types import History

COURSES = {"cooking": ("烹饪", "Cooking"), "welding": ("焊工", "Welding")}


@pytest.fixture()
def prior():
    empty = np.zeros(0, np.int64)
    return train_scorer(None, None, History(empty, empty, empty, np.zeros(0, bool)))


def test_reasons_carry_numbers_in_both_languages(tiny, prior):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    [reasons] = explain_pairs(prior, f, np.array([0]), np.array([1]), top=len(FEATURE_NAMES), course_names=COURSES)
    texts_zh = {r.code: r.text_zh for r in reasons}
    texts_en = {r.code: r.text_en for r in reasons}
    assert texts_zh["skill_match"] == "技能匹配 1/1" and texts_en["skill_match"] == "Skills matched 1/1"
    assert texts_zh["course_rank"] == "首选课程：烹饪" and texts_en["course_rank"] == "First-choice course: Cooking"
    assert texts_zh["distance_km"] == "距住处 6.2 公里" and texts_en["distance_km"] == "6.2 km from home"
    assert texts_zh["over_travel_km"] == "超出可接受通勤距离 1.2 公里"
    assert texts_zh["base_stay_rate"] == "基地以往留任率 75%（15/20）"
    by_code = {r.code: r for r in reasons}
    assert by_code["skill_match"].effect > 0 and by_code["over_travel_km"].effect < 0
    assert by_code["skill_match"].value == 1.0
    # Largest first.
    assert [abs(r.effect) for r in reasons] == sorted((abs(r.effect) for r in reasons), reverse=True)


def test_top_three_and_sentences(tiny, prior):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    explained = explain_pairs(prior, f, np.array([0, 0]), np.array([1, 0]), course_names=COURSES)
    assert len(explained) == 2 and all(len(r) == 3 for r in explained)
    assert all(isinstance(r, Reason) for r in explained[0])
    assert sentence(explained[0], "zh") == "；".join(r.text_zh for r in explained[0])
    assert sentence(explained[0], "en") == "; ".join(r.text_en for r in explained[0])
    assert "技能匹配 1/1" in sentence(explained[0], "zh") and "首选课程：烹饪" in sentence(explained[0], "zh")
    # Partial and related skills are told apart.
    assert reason_text("skill_match", f.describe(0, 0)) == ("技能匹配 1/4（另有 1 项等级不足）",
                                                            "Skills matched 1/4 (1 more below the level)")
    # A feature at its neutral reference moved nothing and is not given as a reason (0.5 = prior baseline).
    [all_reasons] = explain_pairs(prior, f, np.array([0]), np.array([0]), top=len(FEATURE_NAMES))
    assert "skill_match" not in {r.code for r in all_reasons}


def test_course_names_fall_back_to_codes(tiny, prior):
    candidates, slots, taxonomy, names, _ = tiny
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    [reasons] = explain_pairs(prior, f, np.array([0]), np.array([2]), top=len(FEATURE_NAMES))
    assert {r.code: r.text_zh for r in reasons}["course_rank"] == "第二意向课程：welding"


def test_learned_effects_are_prediction_changes(learned, featurizer, world):
    X = featurizer.features(world.history.candidate_index[:5], world.history.slot_index[:5])
    moved = effects(learned, X)
    p = learned.estimator.predict_proba(X)[:, 1]
    j = FEATURE_NAMES.index("skill_match")
    X_ref = X.copy()
    X_ref[:, j] = learned.baseline[j]
    np.testing.assert_allclose(moved[:, j], p - learned.estimator.predict_proba(X_ref)[:, 1])
    explained = explain_pairs(learned, featurizer, world.history.candidate_index[:5], world.history.slot_index[:5])
    assert all(1 <= len(r) <= 3 for r in explained)
    assert all(sentence(r, "zh") and sentence(r, "en") for r in explained)


def test_no_pairs_no_reasons(learned, featurizer):
    assert explain_pairs(learned, featurizer, np.zeros(0, np.int64), np.zeros(0, np.int64)) == []
