"""The batch assignment hands the engine its tie-breaks: which wish a training slot's course is, the distance and
the days waited; the plan's summary says how finely they were told apart."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.matching import pipeline
from matcher.slots.models import Slot
from tests.conftest import CHOUCHENG, new_candidate, new_slot


def test_tie_breaks_of_the_pairs(world, session):
    course = new_slot(session, world.accounts["emp_a"], title="烹饪培训", kind="training", pay_min=None,
                      pay_max=None)
    candidates = select(Candidate).where(Candidate.id.in_([world.cand_a.id, world.cand_b.id])).order_by(Candidate.id)
    slots = pipeline.open_slots().where(Slot.id.in_([world.slot_a.id, world.slot_b.id, course.id]))
    tables = pipeline.load(session, candidates, slots)
    assert len(tables.slots.table) == 3
    ci, si = pipeline.all_pairs(len(tables.candidates.table), len(tables.slots.table))
    ties = pipeline.tie_breaks(tables, ci, si, day=clock.today())
    wish = {(int(c), int(tables.slots.table.ids[s])): int(w) for c, s, w in zip(ci, si, ties.wish_rank, strict=True)}
    # Everyone of the world wishes for cooking first: the cooking course is that wish, the cooking job is not a
    # course (a job slot carrying a course code grants no wish), auto repair was not wished.
    assert wish[(0, course.id)] == 1 and wish[(1, course.id)] == 1
    assert wish[(0, world.slot_a.id)] == 0 and wish[(0, world.slot_b.id)] == 0
    assert ties.waiting_days.tolist() == [100.0, 100.0]  # released 100 days ago
    # Every slot is in 稠城 (township centres): 0 km for the person of 稠城, about 12 km for the one of 佛堂.
    assert np.allclose(ties.distance_km[ci == 0], 0.0)
    assert np.all((ties.distance_km[ci == 1] > 5) & (ties.distance_km[ci == 1] < 30))


def test_the_plan_summary_reports_the_tie_levels(api, world):
    answer = api.post("/api/v1/assignments", headers=world.h("admin"), json={})
    assert answer.status_code == 201, answer.json
    levels = answer.json["summary"]["tie_levels"]
    assert set(levels) == {"wish", "distance", "waiting"} and all(v >= 1 for v in levels.values())


def test_of_two_people_alike_the_one_who_waited_longer_gets_the_one_seat(api, world, session):
    """Alike in every feature, so equal in expected stays: the seat goes to the one released earlier, whichever
    was registered first."""
    seat = new_slot(session, world.accounts["emp_a"], title="厨师一席", seats=1)
    for waited_longer_first in (False, True):
        days = (400, 60) if waited_longer_first else (60, 400)
        people = [new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG,
                                seq=40 + i + 2 * waited_longer_first,
                                release_date=clock.today() - dt.timedelta(days=d)) for i, d in enumerate(days)]
        answer = api.post("/api/v1/assignments", headers=world.h("admin"),
                          json={"candidate_ids": [p.id for p in people], "slot_ids": [seat.id]})
        assert answer.status_code == 201, answer.json
        scores = {round(item["score"], 9) for item in answer.json["items"]}
        assert len(answer.json["items"]) == 1 and len(scores) == 1
        longer = people[0] if waited_longer_first else people[1]
        assert answer.json["items"][0]["candidate_id"] == longer.id
