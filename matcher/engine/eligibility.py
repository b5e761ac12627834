"""Hard eligibility rules: which (candidate, slot) pairs may be scored at all, each with a reason code.

The rules (checked in this order; `why_not` lists every one a pair breaks):

- slot_not_open: the slot's status is not open.
- no_free_seats: the slot has no free seat.
- base_not_certified: the slot's base is not certified, or its certification is out of date.
- candidate_inactive: the candidate's file is closed (or the person is otherwise not seeking).
- not_available_by_start: the candidate is available (released, or earliest start) later than
  max(slot start, today) + AVAILABILITY_GRACE_DAYS. The grace lets a person released shortly after a slot
  starts still be matched (pre-release hand-over means matching may begin before release). A slot with intakes
  (a recurring course) starts, for each person, at the intake that fits them: the next on or after their
  earliest start (the last intake when none is left). History is judged on its own dates: a past referral's
  "today" is the day it was made (`not_available_by_start` with a day per pair), never the present.
- below_minimum_age: today's calendar year - birth year < the slot's minimum age (the legal minimum for
  the work or course; birth year is the only age fact the engine holds and this is its only use).
- occupational_ban: a ban (court order 从业禁止, the Food Safety Law, or a bureau-configured statutory ban)
  with no end date or an end date >= today covers the slot's course or occupation.
- course_prerequisite: `prerequisites` maps a course code to the skill codes a trainee must already hold
  (at any level, or certified); a candidate missing one of them is not eligible for that course's slots.

The employer learns only "eligible"; the reasons are for caseworkers and administrators, in words the
application gives each code (`matcher.matching.reasons`).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Iterable, Mapping
from enum import StrEnum

import numpy as np

from matcher.engine.types import CandidateTable, SlotTable

AVAILABILITY_GRACE_DAYS = 30


class Ineligible(StrEnum):
    SLOT_NOT_OPEN = "slot_not_open"
    NO_FREE_SEATS = "no_free_seats"
    BASE_NOT_CERTIFIED = "base_not_certified"
    CANDIDATE_INACTIVE = "candidate_inactive"
    NOT_AVAILABLE_BY_START = "not_available_by_start"
    BELOW_MINIMUM_AGE = "below_minimum_age"
    OCCUPATIONAL_BAN = "occupational_ban"
    COURSE_PREREQUISITE = "course_prerequisite"


# Rules about the person and the law, which hold whatever the slot's current status (used for history:
# propensity sampling and replay, where the slots have long closed).
PERSON_RULES = frozenset({Ineligible.NOT_AVAILABLE_BY_START, Ineligible.BELOW_MINIMUM_AGE,
                          Ineligible.OCCUPATIONAL_BAN, Ineligible.COURSE_PREREQUISITE})

_slot_codes: dict[int, tuple[weakref.ref, tuple]] = {}


def _codes(slots: SlotTable) -> tuple[dict[str, int], np.ndarray, dict[str, int], np.ndarray]:
    """Course and occupation codes of the slots as integer arrays (-1: none), computed once per table."""
    key = id(slots)
    hit = _slot_codes.get(key)
    if hit is not None and hit[0]() is slots:
        return hit[1]
    course_vocab = {c: i for i, c in enumerate(sorted({c for c in slots.course if c}))}
    occupation_vocab = {c: i for i, c in enumerate(sorted({c for c in slots.occupation if c}))}
    value = (course_vocab, np.array([course_vocab.get(c, -1) if c else -1 for c in slots.course], dtype=np.int64),
             occupation_vocab,
             np.array([occupation_vocab.get(c, -1) if c else -1 for c in slots.occupation], dtype=np.int64))
    if len(_slot_codes) > 64:
        _slot_codes.clear()
    _slot_codes[key] = (weakref.ref(slots), value)
    return value


def violations(candidates: CandidateTable, slots: SlotTable, candidate_index: np.ndarray, slot_index: np.ndarray,
               today: int, prerequisites: Mapping[str, Iterable[str]] | None = None,
               rules: Iterable[Ineligible] | None = None) -> dict[Ineligible, np.ndarray]:
    """For each rule checked, a bool array over the pairs: True where the pair breaks it."""
    ci = np.asarray(candidate_index, dtype=np.int64).ravel()
    si = np.asarray(slot_index, dtype=np.int64).ravel()
    rules = set(Ineligible) if rules is None else set(rules)
    out: dict[Ineligible, np.ndarray] = {}
    day = int(today)
    if Ineligible.SLOT_NOT_OPEN in rules:
        out[Ineligible.SLOT_NOT_OPEN] = ~np.asarray(slots.open, bool)[si]
    if Ineligible.NO_FREE_SEATS in rules:
        out[Ineligible.NO_FREE_SEATS] = np.asarray(slots.seats_free)[si] <= 0
    if Ineligible.BASE_NOT_CERTIFIED in rules:
        out[Ineligible.BASE_NOT_CERTIFIED] = ~np.asarray(slots.base_in_force, bool)[si]
    if Ineligible.CANDIDATE_INACTIVE in rules:
        out[Ineligible.CANDIDATE_INACTIVE] = ~np.asarray(candidates.active, bool)[ci]
    if Ineligible.NOT_AVAILABLE_BY_START in rules:
        out[Ineligible.NOT_AVAILABLE_BY_START] = not_available_by_start(candidates, slots, ci, si, day)
    if Ineligible.BELOW_MINIMUM_AGE in rules:
        age = dt.date.fromordinal(day).year - np.asarray(candidates.birth_year, np.int64)[ci]
        out[Ineligible.BELOW_MINIMUM_AGE] = age < np.asarray(slots.min_age, np.int64)[si]
    if Ineligible.OCCUPATIONAL_BAN in rules:
        out[Ineligible.OCCUPATIONAL_BAN] = _banned(candidates, slots, ci, si, day)
    if Ineligible.COURSE_PREREQUISITE in rules:
        out[Ineligible.COURSE_PREREQUISITE] = _missing_prerequisites(candidates, slots, ci, si, prerequisites)
    return out


def fitting_start(candidates: CandidateTable, slots: SlotTable, ci: np.ndarray, si: np.ndarray) -> np.ndarray:
    """int64 [p]: the start (date ordinal) of each pair's slot that fits the person: the slot's start, or for a slot
    with intakes the next intake on or after the person's earliest start (the last when none is left)."""
    start = np.asarray(slots.starts_on, np.int64)[si].copy()
    if not any(slots.intake_starts):
        return start
    available = np.asarray(candidates.available_from, np.int64)[ci]
    recurring = np.array([len(starts) > 1 for starts in slots.intake_starts], dtype=bool)
    pairs = np.flatnonzero(recurring[si])
    if not len(pairs):
        return start
    pairs = pairs[np.argsort(si[pairs], kind="stable")]  # grouped by slot: one search per recurring slot
    slot_of = si[pairs]
    bounds = np.r_[0, np.flatnonzero(slot_of[1:] != slot_of[:-1]) + 1, len(pairs)]
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        group = pairs[a:b]
        starts = np.asarray(slots.intake_starts[int(slot_of[a])], np.int64)
        which = np.minimum(np.searchsorted(starts, available[group], side="left"), len(starts) - 1)
        start[group] = starts[which]
    return start


def not_available_by_start(candidates: CandidateTable, slots: SlotTable, ci: np.ndarray, si: np.ndarray,
                           on: int | np.ndarray) -> np.ndarray:
    """bool [p]: the person is available later than max(the fitting start, `on`) + the grace. `on` is today, or
    for history each pair's own day (an int or an array over the pairs)."""
    ci = np.asarray(ci, dtype=np.int64).ravel()
    si = np.asarray(si, dtype=np.int64).ravel()
    latest = np.maximum(fitting_start(candidates, slots, ci, si), np.asarray(on, np.int64)) + AVAILABILITY_GRACE_DAYS
    return np.asarray(candidates.available_from, np.int64)[ci] > latest


_candidate_bans: dict[int, tuple[weakref.ref, list]] = {}


def _ban_rows(candidates: CandidateTable) -> list[tuple[int, float, frozenset[str], frozenset[str]]]:
    """(row, until or +inf, courses, occupations) of every ban in the table, computed once per table."""
    key = id(candidates)
    hit = _candidate_bans.get(key)
    if hit is not None and hit[0]() is candidates:
        return hit[1]
    rows = [(r, float("inf") if ban.until is None else float(ban.until), ban.courses, ban.occupations)
            for r, bans in enumerate(candidates.bans) for ban in bans]
    if len(_candidate_bans) > 64:
        _candidate_bans.clear()
    _candidate_bans[key] = (weakref.ref(candidates), rows)
    return rows


def _banned(candidates: CandidateTable, slots: SlotTable, ci: np.ndarray, si: np.ndarray, day: int) -> np.ndarray:
    blocked = np.zeros(len(ci), dtype=bool)
    if not len(candidates.bans) or not len(ci):
        return blocked
    rows = _ban_rows(candidates)
    if not rows:
        return blocked
    course_vocab, slot_course, occupation_vocab, slot_occupation = _codes(slots)
    n_courses, n_occupations = len(course_vocab) + 1, len(occupation_vocab) + 1
    course_keys, occupation_keys = [], []
    for c, until, courses, occupations in rows:
        if until < day:
            continue
        course_keys += [c * n_courses + course_vocab[x] for x in courses if x in course_vocab]
        occupation_keys += [c * n_occupations + occupation_vocab[x] for x in occupations if x in occupation_vocab]
    if course_keys:
        course = slot_course[si]
        blocked |= (course >= 0) & np.isin(ci * n_courses + course, course_keys)
    if occupation_keys:
        occupation = slot_occupation[si]
        blocked |= (occupation >= 0) & np.isin(ci * n_occupations + occupation, occupation_keys)
    return blocked


def _missing_prerequisites(candidates: CandidateTable, slots: SlotTable, ci: np.ndarray, si: np.ndarray,
                           prerequisites: Mapping[str, Iterable[str]] | None) -> np.ndarray:
    missing = np.zeros(len(ci), dtype=bool)
    if not prerequisites or not len(ci):
        return missing
    course_vocab, slot_course, _, _ = _codes(slots)
    course = slot_course[si]
    for code, needed in prerequisites.items():
        needed = frozenset(needed)
        if not needed or code not in course_vocab:
            continue
        pairs = np.flatnonzero(course == course_vocab[code])
        if not len(pairs):
            continue
        people, inverse = np.unique(ci[pairs], return_inverse=True)
        lacking = np.array([not all(s in candidates.skills[c] or s in candidates.certified_skills[c] for s in needed)
                            for c in people.tolist()], dtype=bool)
        missing[pairs] = lacking[inverse]
    return missing


def eligible_mask(candidates: CandidateTable, slots: SlotTable, candidate_index: np.ndarray, slot_index: np.ndarray,
                  today: int, prerequisites: Mapping[str, Iterable[str]] | None = None, *,
                  rules: Iterable[Ineligible] | None = None) -> np.ndarray:
    """bool [p]: True where the pair breaks none of the rules (all rules unless `rules` names a subset)."""
    broken = violations(candidates, slots, candidate_index, slot_index, today, prerequisites, rules)
    mask = np.ones(len(np.asarray(candidate_index).ravel()), dtype=bool)
    for value in broken.values():
        mask &= ~value
    return mask


def why_not(candidates: CandidateTable, slots: SlotTable, c: int, s: int, today: int,
            prerequisites: Mapping[str, Iterable[str]] | None = None) -> list[Ineligible]:
    """Every rule the pair (c, s) breaks, in the documented order; an empty list means eligible."""
    broken = violations(candidates, slots, np.array([c]), np.array([s]), today, prerequisites)
    return [rule for rule in Ineligible if rule in broken and bool(broken[rule][0])]
