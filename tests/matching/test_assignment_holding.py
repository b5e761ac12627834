"""Batch assignment on a rolling horizon: a person released soon competes with the people available now for a slot
that starts after the release, a scarce seat is held for the better fit, and the planner sees the expected gain and
the held seats by pseudonym and release date, never a name."""

from __future__ import annotations

import csv
import datetime as dt

from matcher import clock
from tests.conftest import CHOUCHENG, new_candidate, new_slot


def scarce_seat(session, world):
    """One seat starting in 30 days; a weak fit available now and a strong fit released in 10 days."""
    seat = new_slot(session, world.accounts["emp_a"], title="厨师一席", seats=1,
                    starts_on=clock.today() + dt.timedelta(days=30))
    now = new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=61, skills=[],
                        preferred_courses=["auto_repair"])
    soon = new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=62,
                         release_date=clock.today() + dt.timedelta(days=10),
                         skills=[{"skill_code": "chinese_cooking", "level": 4}], preferred_courses=["cooking"])
    return seat, now, soon


def plan(api, world, who, **params):
    return api.post("/api/v1/assignments", headers=world.h(who), json=params)


def test_a_scarce_seat_is_held_for_the_better_fit_released_soon(api, world, session):
    seat, now, soon = scarce_seat(session, world)
    named = {"candidate_ids": [now.id, soon.id], "slot_ids": [seat.id]}
    held = plan(api, world, "admin", hold_seats=True, **named)
    assert held.status_code == 201, held.json
    holding = held.json["holding"]
    assert holding["hold_seats"] and holding["holding"] and holding["seats_held"] == 1
    assert holding["present"] == 1 and holding["arriving"] == 1 and holding["horizon_days"] == 90
    assert holding["expected_gain"] > 0.05
    assert holding["expected_stays_with_holding"] > holding["expected_stays_without_holding"]
    assert holding["held"] == [{"candidate_public_id": soon.public_id, "release_date": soon.release_date.isoformat(),
                                "slot_id": seat.id, "slot_title": "厨师一席", "company_name": seat.company.name,
                                "starts_on": seat.starts_on.isoformat(), "score": holding["held"][0]["score"]}]
    assert held.json["items"] == []  # the seat is not referred now
    assert "holding" not in held.json["summary"] and "gain_over_greedy" not in held.json["summary"]

    # Looking ahead without holding: the person available now is referred, and the gain forgone is told.
    ahead = plan(api, world, "admin", horizon_days=60, **named)
    assert ahead.status_code == 201, ahead.json
    assert [item["candidate_id"] for item in ahead.json["items"]] == [now.id]
    assert not ahead.json["holding"]["holding"] and ahead.json["holding"]["expected_gain"] > 0.05
    assert ahead.json["holding"]["held"] == []

    # A plain plan knows nothing of the horizon: both compete now, as before.
    plain = plan(api, world, "admin", **named)
    assert plain.json["holding"] is None and len(plain.json["items"]) == 1


def test_an_organiser_sees_the_holding_by_pseudonym_and_release_date_only(api, world, session):
    seat, now, soon = scarce_seat(session, world)
    answer = plan(api, world, "org", hold_seats=True, candidate_ids=[now.id, soon.id], slot_ids=[seat.id])
    assert answer.status_code == 201, answer.json
    assert set(answer.json) == {"holding"}  # the draft's other fields are the administrators'
    seat_json = answer.json["holding"]["held"][0]
    assert seat_json["candidate_public_id"] == soon.public_id and seat_json["release_date"]
    assert soon.name not in str(answer.json) and "candidate_id" not in seat_json


def test_bad_horizon_settings_are_all_named(api, world):
    answer = plan(api, world, "admin", hold_seats="maybe", horizon_days=3, base_cap=0)
    assert answer.status_code == 422
    assert {"hold_seats", "horizon_days", "base_cap"} <= set(answer.json["errors"])
    capped = plan(api, world, "admin", hold_seats=True, base_cap=2)
    assert capped.status_code == 422 and set(capped.json["errors"]) == {"base_cap"}


def test_assign_on_the_command_line_writes_the_held_seats(app, world, session, tmp_path):
    seat, now, soon = scarce_seat(session, world)
    output = tmp_path / "plan.csv"
    result = app.test_cli_runner().invoke(args=["assign", "--hold-seats", "--candidates", f"{now.id},{soon.id}",
                                                "--slots", str(seat.id), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "holding seats: on" in result.output and "seats held 1" in result.output
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert rows == [{"candidate_id": "", "candidate_public_id": soon.public_id, "candidate_external_id": "",
                     "slot_id": str(seat.id), "slot_external_id": "", "score": rows[0]["score"], "action": "hold",
                     "release_date": soon.release_date.isoformat()}]
    refused = app.test_cli_runner().invoke(args=["assign", "--horizon-days", "5", "-o", str(output)])
    assert refused.exit_code != 0 and "--horizon-days" in refused.output


def test_a_seat_is_held_at_the_intake_that_starts_after_the_release(api, world, session):
    """A recurring course (开班日期): its first intake starts before the person is released, its second after; the
    seat is held for the second."""
    day = clock.today()
    course = new_slot(session, world.accounts["emp_a"], title="烹饪培训班", kind="training", seats=1, pay_min=None,
                      pay_max=None, starts_on=day + dt.timedelta(days=5), ends_on=day + dt.timedelta(days=25),
                      intakes=[day + dt.timedelta(days=5), day + dt.timedelta(days=40)])
    _, now, soon = scarce_seat(session, world)
    answer = plan(api, world, "admin", hold_seats=True, candidate_ids=[now.id, soon.id], slot_ids=[course.id])
    assert answer.status_code == 201, answer.json
    held = answer.json["holding"]["held"]
    assert [(s["candidate_public_id"], s["starts_on"]) for s in held] == [
        (soon.public_id, (day + dt.timedelta(days=40)).isoformat())]
