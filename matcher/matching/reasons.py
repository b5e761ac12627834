"""Reasons in words: the engine's reason codes (why a score, why a pair is not eligible) as text.

The engine gives codes and numbers (`engine.explain.Reason`, `engine.eligibility.Ineligible`); the words live
here, as gettext messages whose English text is the msgid (Chinese in translations/zh/parts/reasons.po).
Every function speaks the current locale, or the one it is given ("zh" or "en"). Course names are data, not
messages: the caller passes them ({code: (Chinese, English)}), and a course without one is shown by its code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext

from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l

from matcher.engine.eligibility import Ineligible
from matcher.engine.explain import Reason

CourseNames = Mapping[str, tuple[str, str]]

REASON_TEXTS = {
    "no_skills_required": _l("No skills required"),
    "skill_match": _l("Skills matched %(matched)s/%(total)s"),
    "skill_match_unknown": _l("Skills matched %(matched)s/%(total)s (%(unknown)s outside the skill list: not known)"),
    "skill_match_partial": _l("Skills matched %(matched)s/%(total)s (%(partial)s more below the level)"),
    "skill_match_related": _l("Skills matched %(matched)s/%(total)s (%(related)s more related)"),
    "text_match": _l("Own skills text %(percent)s%% similar to the slot"),
    "certified_skill": _l("Holds a certificate for a required skill"),
    "no_certified_skill": _l("No certificate for the required skills"),
    "course_first_choice": _l("First-choice course: %(course)s"),
    "course_second_choice": _l("Second-choice course: %(course)s"),
    "course_third_choice": _l("Third-choice course: %(course)s"),
    "course_not_wished": _l("Not a wished course: %(course)s"),
    "distance_unknown": _l("Distance unknown"),
    "distance": _l("%(km)s km from home"),
    "over_travel": _l("%(km)s km beyond the travel limit"),
    "within_travel": _l("Within the travel limit (%(limit_km)s km)"),
    "housing_needed_not_provided": _l("Needs housing, none provided"),
    "housing_needed_provided": _l("Needs housing, housing provided"),
    "no_housing_needed": _l("No housing needed"),
    "training_no_pay": _l("Training slot, no pay"),
    "pay_unknown": _l("Pay unknown"),
    "pay": _l("Pay about %(cny)s CNY a month"),
    "pay_above": _l("Pay about %(cny)s CNY a month, above the usual %(reference)s"),
    "pay_below": _l("Pay about %(cny)s CNY a month, below the usual %(reference)s"),
    "education": _l("Education: %(level)s"),
    "certificate_awarded": _l("Awards a certificate (training subsidy)"),
    "no_certificate": _l("No certificate awarded"),
    "base_no_record": _l("The base has no placement record yet"),
    "base_stay_rate": _l("Base's past stay rate %(percent)s%% (%(stayed)s/%(placements)s)"),
    "training_slot": _l("Training slot"),
    "job_slot": _l("Job slot"),
}

# Lower-case: they stand inside "Education: %(level)s".
EDUCATION_TEXTS = {
    "none": _l("no schooling"), "primary": _l("primary school"), "junior_secondary": _l("junior secondary"),
    "senior_secondary": _l("senior secondary"), "vocational": _l("vocational school"), "college": _l("college"),
    "bachelor_or_above": _l("bachelor's or above"),
}

INELIGIBLE_TEXTS = {
    Ineligible.SLOT_NOT_OPEN: _l("The slot is not open"),
    Ineligible.NO_FREE_SEATS: _l("No free seats"),
    Ineligible.BASE_NOT_CERTIFIED: _l("The base is not certified or its certification has lapsed"),
    Ineligible.CANDIDATE_INACTIVE: _l("The candidate is not currently seeking work"),
    Ineligible.NOT_AVAILABLE_BY_START: _l("Not available by the start date"),
    Ineligible.BELOW_MINIMUM_AGE: _l("Below the minimum age for this work"),
    Ineligible.OCCUPATIONAL_BAN: _l("An occupational ban applies"),
    Ineligible.COURSE_PREREQUISITE: _l("Course prerequisites not met"),
}

UNSPECIFIED_COURSE = _l("unspecified")  # the slot names no course


@contextmanager
def _speaking(locale: str | None) -> Iterator[None]:
    with force_locale(locale) if locale else nullcontext():
        yield


def _chinese() -> bool:
    return str(get_locale() or "").lower().startswith("zh")


def _course(code: str | None, course_names: CourseNames | None) -> str:
    if not code:
        return str(UNSPECIFIED_COURSE)
    names = (course_names or {}).get(code)
    if not names:
        return code
    return names[0] if _chinese() else names[1]


def _words(reason: Reason, course_names: CourseNames | None) -> str:
    message = REASON_TEXTS.get(reason.code)
    if message is None:  # a code this application has no words for: say the code rather than nothing
        return reason.code
    params = dict(reason.params)
    if "course" in params:
        params["course"] = _course(params["course"], course_names)
    if "level" in params:
        level = EDUCATION_TEXTS.get(params["level"])
        params["level"] = str(level) if level is not None else params["level"]
    if "km" in params:
        params["km"] = f"{params['km']:.1f}"
    if "limit_km" in params:
        params["limit_km"] = f"{params['limit_km']:g}"
    if "cny" in params:
        params["cny"] = f"{params['cny']:,.0f}"
    if "reference" in params:
        params["reference"] = f"{params['reference']:,.0f}"
    return str(message) % params


def reason_text(reason: Reason, course_names: CourseNames | None = None, locale: str | None = None) -> str:
    """One reason for a score, in the current locale or in `locale` ("zh", "en")."""
    with _speaking(locale):
        return _words(reason, course_names)


def sentence(reasons: Iterable[Reason], course_names: CourseNames | None = None, locale: str | None = None) -> str:
    """The reasons as one line: "技能匹配 3/4；距住处 6.2 公里；首选课程：烹饪" (English: joined by "; ")."""
    with _speaking(locale):
        separator = "；" if _chinese() else "; "
        return separator.join(_words(reason, course_names) for reason in reasons)


# The reference every arrow is measured against, in words (engine.explain.REFERENCE).
REFERENCE_TEXT = _l("Each arrow compares this slot with a plain one: the person holds every required skill, it is "
                    "at home (no travel, within the travel limit), needs no housing the slot lacks, pays the usual "
                    "%(pay)s CNY, is not a wished course, awards no certificate, and its base has no record yet.")
FOR_IT = _l("For it: %(reasons)s")
AGAINST_IT = _l("Against it: %(reasons)s")
NOTHING_STANDS_OUT = _l("Nothing stands out either way.")


def summary(reasons: Iterable[Reason], course_names: CourseNames | None = None, locale: str | None = None,
            limit: int = 3) -> str:
    """The reasons in plain words, what works for the pair first and what works against it second, each the
    `limit` strongest: "有利：首选课程：烹饪；基地以往留任率 75%（15/20）。不利：超出可接受通勤距离 1.2 公里。"."""
    reasons = list(reasons)
    ups = sorted((r for r in reasons if r.effect > 0), key=lambda r: -r.effect)[:limit]
    downs = sorted((r for r in reasons if r.effect < 0), key=lambda r: r.effect)[:limit]
    with _speaking(locale):
        chinese = _chinese()
        separator, stop = ("；", "。") if chinese else ("; ", ".")
        parts = []
        if ups:
            parts.append(str(FOR_IT) % {"reasons": separator.join(_words(r, course_names) for r in ups)} + stop)
        if downs:
            parts.append(str(AGAINST_IT) % {"reasons": separator.join(_words(r, course_names) for r in downs)}
                         + stop)
        return ("" if chinese else " ").join(parts) or str(NOTHING_STANDS_OUT)


def ineligible_text(code: Ineligible | str, locale: str | None = None) -> str:
    """Why a pair is not eligible, in the current locale or in `locale` ("zh", "en")."""
    try:
        message = INELIGIBLE_TEXTS[Ineligible(code)]
    except (ValueError, KeyError):  # a code this application has no words for: say the code
        return str(code)
    with _speaking(locale):
        return str(message)


@dataclasses.dataclass(frozen=True)
class ReasonInWords:
    """A reason as the API and the pages give it: the feature (`code`, as it has always been), its value and
    effect, and its words in both languages."""

    code: str
    value: float
    effect: float
    text_zh: str
    text_en: str


def all_in_both_languages(reasons: list[Reason], course_names: CourseNames | None = None
                          ) -> tuple[list[ReasonInWords], str, str]:
    """Every reason of a pair in both languages, and its `summary` in each: the language switched once each, not
    once per reason (a page of recommendations words some 500 of them)."""
    texts, summaries = {}, {}
    for locale in ("zh", "en"):
        with _speaking(locale):
            texts[locale] = [_words(reason, course_names) for reason in reasons]
            summaries[locale] = summary(reasons, course_names)
    return ([ReasonInWords(code=r.feature, value=r.value, effect=r.effect, text_zh=zh, text_en=en)
             for r, zh, en in zip(reasons, texts["zh"], texts["en"], strict=True)], summaries["zh"], summaries["en"])


# ---- a base's answers (matcher.bases.answers): not a model feature, a factor of the value ranked by --------------

ANSWER_RATE = _l("Base's recent response rate %(percent)s%% (target %(target)s%%)")
ANSWER_RATE_DEMOTED = _l("Base's recent response rate %(percent)s%% (target %(target)s%%): ranked lower")
MONTH_FULL = _l("The base has had its %(cap)s referrals for this month (%(count)s made)")


def _percent(share: float) -> str:
    return f"{share * 100:.0f}"


def answer_rate_reason(standing, effect: float) -> ReasonInWords:
    """The base's response rate (answered of those due, twelve months) against the target, in both languages.
    `value` is the smoothed chance that it answers, `effect` what that takes off the value ranked by."""
    message = ANSWER_RATE_DEMOTED if standing.demoted else ANSWER_RATE
    params = {"percent": _percent(standing.share_answered or 0.0), "target": _percent(standing.target_share)}
    texts = {}
    for locale in ("zh", "en"):
        with _speaking(locale):
            texts[locale] = str(message) % params
    return ReasonInWords(code="base_answer_rate", value=float(standing.p_answer), effect=float(effect),
                         text_zh=texts["zh"], text_en=texts["en"])


def month_full_reason(standing) -> ReasonInWords:
    params = {"cap": standing.monthly_cap, "count": standing.month_count}
    texts = {}
    for locale in ("zh", "en"):
        with _speaking(locale):
            texts[locale] = str(MONTH_FULL) % params
    return ReasonInWords(code="base_month_full", value=float(standing.month_count), effect=0.0,
                         text_zh=texts["zh"], text_en=texts["en"])
