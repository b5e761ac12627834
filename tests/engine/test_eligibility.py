"""Eligibility: every rule triggers with its reason code; the mask and why_not agree."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from matcher.engine.eligibility import (
    AVAILABILITY_GRACE_DAYS,
    Ineligible,
    eligible_mask,
    fitting_start,
    not_available_by_start,
    why_not,
)
from matcher.engine.types import Ban
from tests.engine.helpers import replace_row


def test_the_base_case_is_eligible(tiny):
    candidates, slots, _, _, today = tiny
    assert why_not(candidates, slots, 0, 0, today) == []
    assert eligible_mask(candidates, slots, np.array([0, 0, 0]), np.array([0, 1, 2]), today).all()


@pytest.mark.parametrize("table, row, change, reason", [
    ("slots", 0, {"open": False}, Ineligible.SLOT_NOT_OPEN),
    ("slots", 0, {"seats_free": 0}, Ineligible.NO_FREE_SEATS),
    ("slots", 0, {"base_in_force": False}, Ineligible.BASE_NOT_CERTIFIED),
    ("candidates", 0, {"active": False}, Ineligible.CANDIDATE_INACTIVE),
    ("slots", 0, {"min_age": 40}, Ineligible.BELOW_MINIMUM_AGE),
])
def test_each_rule_triggers(tiny, table, row, change, reason):
    candidates, slots, _, _, today = tiny
    if table == "slots":
        slots = replace_row(slots, row, **change)
    else:
        candidates = replace_row(candidates, row, **change)
    assert why_not(candidates, slots, 0, 0, today) == [reason]
    assert not eligible_mask(candidates, slots, np.array([0]), np.array([0]), today)[0]


def test_availability_has_a_grace_period_after_the_start(tiny):
    candidates, slots, _, _, today = tiny
    start = int(slots.starts_on[0])
    on_time = replace_row(candidates, 0, available_from=start + AVAILABILITY_GRACE_DAYS)
    late = replace_row(candidates, 0, available_from=start + AVAILABILITY_GRACE_DAYS + 1)
    assert why_not(on_time, slots, 0, 0, today) == []
    assert why_not(late, slots, 0, 0, today) == [Ineligible.NOT_AVAILABLE_BY_START]
    # A slot that started in the past counts from today.
    started = replace_row(slots, 0, starts_on=today - 100)
    assert why_not(replace_row(candidates, 0, available_from=today + 20), started, 0, 0, today) == []


def test_minimum_age_counts_calendar_years(tiny):
    candidates, slots, _, _, today = tiny
    year = dt.date.fromordinal(today).year
    assert why_not(replace_row(candidates, 0, birth_year=year - 16), slots, 0, 0, today) == []
    assert why_not(replace_row(candidates, 0, birth_year=year - 15), slots, 0, 0, today) == \
        [Ineligible.BELOW_MINIMUM_AGE]


def test_bans_block_their_courses_and_occupations_until_they_end(tiny):
    candidates, slots, _, _, today = tiny
    # Candidate 1 carries a permanent food-safety ban on cooking: slots 0 and 1 (cooking), not 2 (welding).
    assert why_not(candidates, slots, 1, 0, today) == [Ineligible.OCCUPATIONAL_BAN]
    assert why_not(candidates, slots, 1, 2, today) == []
    mask = eligible_mask(candidates, slots, np.array([1, 1, 1, 0]), np.array([0, 1, 2, 0]), today)
    assert mask.tolist() == [False, False, True, True]
    ended = replace_row(candidates, 1, bans=(Ban(kind="court_order", courses=frozenset({"cooking"}),
                                                 until=today - 1),))
    assert why_not(ended, slots, 1, 0, today) == []
    last_day = replace_row(candidates, 1, bans=(Ban(kind="court_order", courses=frozenset({"cooking"}),
                                                    until=today),))
    assert why_not(last_day, slots, 1, 0, today) == [Ineligible.OCCUPATIONAL_BAN]
    by_occupation = replace_row(slots, 2, occupation="6-18-02-04")
    banned = replace_row(candidates, 0, bans=(Ban(kind="statutory", occupations=frozenset({"6-18-02-04"})),))
    assert why_not(banned, by_occupation, 0, 2, today) == [Ineligible.OCCUPATIONAL_BAN]
    assert why_not(banned, by_occupation, 0, 0, today) == []


def test_course_prerequisites(tiny):
    candidates, slots, _, _, today = tiny
    prerequisites = {"welding": frozenset({"arc_welding"}), "cooking": frozenset({"food_hygiene"})}
    # Candidate 0 lacks food_hygiene (cooking) and arc_welding (welding); candidate 1 holds arc_welding.
    assert why_not(candidates, slots, 0, 1, today, prerequisites) == [Ineligible.COURSE_PREREQUISITE]
    assert why_not(candidates, slots, 0, 2, today, prerequisites) == [Ineligible.COURSE_PREREQUISITE]
    assert why_not(candidates, slots, 1, 2, today, prerequisites) == []
    certified = replace_row(candidates, 0, certified_skills=frozenset({"food_hygiene"}))
    assert why_not(certified, slots, 0, 1, today, prerequisites) == []


def test_several_reasons_are_listed_in_order(tiny):
    candidates, slots, _, _, today = tiny
    slots = replace_row(replace_row(slots, 0, open=False), 0, seats_free=0)
    candidates = replace_row(candidates, 0, active=False)
    assert why_not(candidates, slots, 0, 0, today) == [Ineligible.SLOT_NOT_OPEN, Ineligible.NO_FREE_SEATS,
                                                       Ineligible.CANDIDATE_INACTIVE]


def test_reasons_are_codes_not_words():
    """The engine gives codes; the application words them (tests/matching/test_reasons.py)."""
    assert [reason.value for reason in Ineligible] == ["slot_not_open", "no_free_seats", "base_not_certified",
                                                       "candidate_inactive", "not_available_by_start",
                                                       "below_minimum_age", "occupational_ban",
                                                       "course_prerequisite"]
    assert not hasattr(Ineligible.NO_FREE_SEATS, "text")


def test_mask_agrees_with_why_not_on_random_pairs(world):
    rng = np.random.default_rng(1)
    ci = rng.integers(0, len(world.candidates), 400)
    si = rng.integers(0, len(world.slots), 400)
    prerequisites = {"welding": frozenset({"arc_welding"})}
    mask = eligible_mask(world.candidates, world.slots, ci, si, world.today, prerequisites)
    expected = [not why_not(world.candidates, world.slots, c, s, world.today, prerequisites)
                for c, s in zip(ci.tolist(), si.tolist(), strict=True)]
    assert mask.tolist() == expected
    assert 0 < mask.mean() < 1


def test_a_recurring_slot_starts_at_the_intake_that_fits_the_person(tiny):
    """Intakes: a person available after the first start but before a later one is not late (the old rule read
    the first date only); after the last intake the usual grace applies."""
    candidates, slots, _, _, today = tiny
    first, second = today + 10, today + 200
    recurring = dataclasses.replace(slots, intake_starts=((first, second), (), ()))
    between = replace_row(candidates, 0, available_from=today + 120)
    assert why_not(between, slots, 0, 0, today) == [Ineligible.NOT_AVAILABLE_BY_START]  # one start only
    assert why_not(between, recurring, 0, 0, today) == []
    after_all = replace_row(candidates, 0, available_from=second + AVAILABILITY_GRACE_DAYS + 1)
    assert why_not(after_all, recurring, 0, 0, today) == [Ineligible.NOT_AVAILABLE_BY_START]
    assert fitting_start(between, recurring, np.array([0, 0]), np.array([0, 1])).tolist() == [
        second, int(slots.starts_on[1])]


def test_history_is_judged_on_its_own_day(tiny):
    """A slot that started years before the person's release is open to them on the day they were referred (a
    per-pair day), however it reads against the slot's start alone."""
    candidates, slots, _, _, today = tiny
    old = replace_row(slots, 0, starts_on=today - 1000)
    released = replace_row(candidates, 0, available_from=today - 300)
    assert not_available_by_start(released, old, np.array([0]), np.array([0]), 1)[0]
    assert not not_available_by_start(released, old, np.array([0, 0]), np.array([0, 0]),
                                      np.array([today - 310, today - 200])).any()
