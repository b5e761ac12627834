"""Reasons in words: the engine's codes and numbers become Chinese and English text through Flask-Babel."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.engine.eligibility import Ineligible
from matcher.engine.explain import REASON_CODES, Reason, explain_pairs
from matcher.engine.features import EDUCATION_LEVELS, FEATURE_NAMES, PairFeaturizer
from matcher.engine.model import train_scorer
from matcher.engine.types import History
from matcher.matching import reasons
from tests.engine.helpers import tiny_tables

COURSES = {"cooking": ("烹饪", "Cooking"), "welding": ("焊工", "Welding")}
CJK = ("\u4e00", "\u9fff")


def _has_chinese(text: str) -> bool:
    return any(CJK[0] <= ch <= CJK[1] for ch in text)


@pytest.fixture()
def explained():
    candidates, slots, taxonomy, names, _ = tiny_tables()
    empty = np.zeros(0, np.int64)
    prior = train_scorer(None, None, History(empty, empty, empty, np.zeros(0, bool)))
    f = PairFeaturizer(candidates, slots, taxonomy=taxonomy, skill_names=names)
    return f, {pair: explain_pairs(prior, f, np.array([pair[0]]), np.array([pair[1]]), top=len(FEATURE_NAMES))[0]
               for pair in ((0, 0), (0, 1), (0, 2))}


def test_reasons_read_with_their_numbers_in_both_languages(ctx, explained):
    _, pairs = explained
    by_feature = {r.feature: r for r in pairs[(0, 1)]}

    def both(feature):
        reason = by_feature[feature]
        return reasons.reason_text(reason, COURSES, "zh"), reasons.reason_text(reason, COURSES, "en")

    assert "skill_match" not in by_feature  # every required skill held: the reference pair, so no reason
    assert both("course_rank") == ("首选课程：烹饪", "First-choice course: Cooking")
    assert both("distance_km") == ("距住处 6.2 公里", "6.2 km from home")
    assert both("over_travel_km")[0] == "超出可接受通勤距离 1.2 公里"
    assert both("base_stay_rate") == ("基地以往留任率 75%（15/20）", "Base's past stay rate 75% (15/20)")
    # Partial skills, and a course named by its code when no name is given.
    partial = {r.feature: r for r in pairs[(0, 0)]}
    assert reasons.reason_text(Reason("skill_match_partial", "skill_match", 0.3, 0.1,
                                      {"matched": 1, "total": 4, "partial": 1}), locale="zh") == \
        "技能匹配 1/4（另有 1 项等级不足）"
    # 在厨房帮过工 reads as the kitchen help the slot asks for: 2 of 4.
    assert reasons.reason_text(partial["skill_match"], locale="zh") == "技能匹配 2/4（另有 1 项等级不足）"
    assert partial["skill_match"].effect < 0  # a missing skill only ever lowers the chance
    second = {r.feature: r for r in pairs[(0, 2)]}["course_rank"]
    assert reasons.reason_text(second, locale="zh") == "第二意向课程：welding"
    assert reasons.reason_text(second, COURSES, "en") == "Second-choice course: Welding"


def test_sentences_join_in_the_language(ctx, explained):
    _, pairs = explained
    top = pairs[(0, 1)][:3]
    zh = reasons.sentence(top, COURSES, "zh")
    assert zh == "；".join(reasons.reason_text(r, COURSES, "zh") for r in top)
    assert reasons.sentence(top, COURSES, "en") == "; ".join(reasons.reason_text(r, COURSES, "en") for r in top)
    assert "距住处 6.2 公里" in zh and "首选课程：烹饪" in zh
    # The summary says what works for the slot and what works against it, in that order.
    summary = reasons.summary(pairs[(0, 1)], COURSES, "zh")
    assert summary.startswith("有利：首选课程：烹饪；") and "。不利：" in summary
    assert summary.index("超出可接受通勤距离 1.2 公里") > summary.index("不利：")
    assert reasons.summary(pairs[(0, 1)], COURSES, "en").startswith("For it: First-choice course: Cooking; ")
    assert reasons.summary([], COURSES, "zh") == "没有明显有利或不利的因素。"


def test_the_current_locale_is_the_default(app, explained):
    _, pairs = explained
    reason = {r.feature: r for r in pairs[(0, 1)]}["distance_km"]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert reasons.reason_text(reason) == "6.2 km from home"
        assert reasons.ineligible_text(Ineligible.NO_FREE_SEATS) == "No free seats"
        assert reasons.reason_text(reason, locale="zh") == "距住处 6.2 公里"  # a fixed language when asked
        assert reasons.reason_text(reason) == "6.2 km from home"  # and back
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert reasons.reason_text(reason) == "距住处 6.2 公里"
        assert reasons.ineligible_text(Ineligible.NO_FREE_SEATS) == "该岗位已满"


def test_every_code_has_words_in_both_languages(ctx):
    codes = {code for codes in REASON_CODES.values() for code in codes}
    assert codes == set(reasons.REASON_TEXTS)
    for code in reasons.REASON_TEXTS:
        params = {"matched": 1, "total": 2, "partial": 1, "related": 1, "unknown": 1, "percent": 40,
                  "course": "cooking", "rank": 1, "km": 3.25, "limit_km": 10.0, "cny": 5200.0,
                  "reference": 4800.0, "level": "college", "stayed": 2, "placements": 5}
        reason = Reason(code=code, feature="x", value=0.0, effect=0.0, params=params)
        zh, en = reasons.reason_text(reason, COURSES, "zh"), reasons.reason_text(reason, COURSES, "en")
        assert _has_chinese(zh) and not _has_chinese(en) and "%(" not in zh + en, code
    assert set(reasons.EDUCATION_TEXTS) == set(EDUCATION_LEVELS)
    for reason in Ineligible:
        zh, en = reasons.ineligible_text(reason, "zh"), reasons.ineligible_text(reason, "en")
        assert _has_chinese(zh) and en and not _has_chinese(en)
    assert reasons.ineligible_text(Ineligible.NO_FREE_SEATS, "zh") == "该岗位已满"
    assert reasons.ineligible_text(Ineligible.NO_FREE_SEATS, "en") == "No free seats"
    assert reasons.ineligible_text("not_a_rule", "zh") == "not_a_rule"


def test_unknown_skills_are_told_as_unknown(ctx):
    unknown = Reason("skill_match_unknown", "skill_match", 0.0, -0.1, {"matched": 0, "total": 2, "unknown": 2})
    assert reasons.reason_text(unknown, locale="zh") == "技能匹配 0/2（另有 2 项不在技能目录中，无法判断）"
    assert reasons.reason_text(unknown, locale="en") == "Skills matched 0/2 (2 outside the skill list: not known)"


def test_numbers_are_formatted_for_reading(ctx):
    pay = Reason(code="pay", feature="pay", value=0.4, effect=0.01, params={"cny": 5200.0})
    assert reasons.reason_text(pay, locale="zh") == "月薪约 5,200 元"
    within = Reason(code="within_travel", feature="over_travel_km", value=0.0, effect=0.01, params={"limit_km": 30.0})
    assert reasons.reason_text(within, locale="en") == "Within the travel limit (30 km)"
    education = Reason(code="education", feature="education", value=0.5, effect=0.01, params={"level": "vocational"})
    assert reasons.reason_text(education, locale="zh") == "学历：中专/技校"
    unknown = Reason(code="from_a_newer_engine", feature="x", value=0.0, effect=0.0)
    assert reasons.reason_text(unknown, locale="zh") == "from_a_newer_engine"
