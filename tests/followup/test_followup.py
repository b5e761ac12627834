"""Follow-up checks at 30/90/180 days: who sees which (office, base, bureau), overdue and due-soon filters,
completing a check (staying, left, unreachable) through the referral lifecycle, the bureau's overdue counts
per office, and re-offence records."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date
from sqlalchemy import select, update

from matcher.candidates.models import ConsentKind, DisclosurePurpose
from matcher.clock import today
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import ReferralEvent


def _ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


def place(session, world, *, started_days_ago: int, candidate=None, slot=None, cw="cw_a"):
    """A referral sent, offered and started `started_days_ago` days ago (each step a recorded move)."""
    from matcher.referrals.service import create_referral, transition

    candidate, slot = candidate or world.cand_a, slot or world.slot_a
    employer = world.accounts["emp_a" if slot.company_id == world.company_a.id else "emp_b"]
    referral = create_referral(session=session, actor=world.accounts[cw], candidate_id=candidate.id,
                               slot_id=slot.id, send=True)
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                    .values(on_date=_ago(started_days_ago + 2)))
    session.commit()
    transition(session=session, actor=employer, referral_id=referral.id, to=ReferralStatus.OFFERED,
               on_date=_ago(started_days_ago + 1))
    transition(session=session, actor=employer, referral_id=referral.id, to=ReferralStatus.STARTED,
               on_date=_ago(started_days_ago))
    return referral


def tasks_of(session, referral_id: int) -> dict[int, FollowUpTask]:
    session.expire_all()
    return {t.days: t for t in session.scalars(select(FollowUpTask).where(FollowUpTask.referral_id == referral_id))}


def _list(api, world, who, **query):
    response = api.get("/api/v1/follow-up-tasks", query_string=query, headers=world.h(who))
    assert response.status_code == 200, response.json
    return response.json


def _complete(api, world, who, task_id, **body):
    return api.post(f"/api/v1/follow-up-tasks/{task_id}/complete", json=body, headers=world.h(who))


# ---- scheduling and reading ---------------------------------------------------------------------

def test_a_start_schedules_three_checks_that_the_office_sees(api, world, session):
    referral = place(session, world, started_days_ago=40)
    tasks = tasks_of(session, referral.id)
    assert {days: t.due_on for days, t in tasks.items()} == {30: _ago(10), 90: _ago(-50), 180: _ago(-140)}
    listed = _list(api, world, "cw_a")
    assert [(t["days"], t["status"], t["overdue"]) for t in listed] == [
        (30, "open", True), (90, "open", False), (180, "open", False)]
    first = listed[0]
    assert first["candidate"]["id"] == world.cand_a.id and first["candidate"]["name"] == world.cand_a.name
    assert first["office"]["id"] == world.office_a.id
    assert first["referral"] == {"id": referral.id, "status": "started", "started_on": _ago(40).isoformat(),
                                 "slot": first["referral"]["slot"]}
    assert first["referral"]["slot"]["id"] == world.slot_a.id
    one = api.get(f"/api/v1/follow-up-tasks/{first['id']}", headers=world.h("cw_a"))
    assert one.status_code == 200 and one.json == first


def test_scope_other_office_other_base_and_organisers_see_nothing(api, world, session):
    referral = place(session, world, started_days_ago=40)
    task_id = tasks_of(session, referral.id)[30].id
    for who in ("cw_b", "emp_b", "org"):
        assert api.get(f"/api/v1/follow-up-tasks/{task_id}", headers=world.h(who)).status_code == 404, who
        assert _complete(api, world, who, task_id, result="staying").status_code == 404, who
        assert _list(api, world, who) == []
    assert api.get(f"/api/v1/follow-up-tasks/{task_id}").status_code == 401
    assert api.get("/api/v1/follow-up-tasks/999999", headers=world.h("admin")).status_code == 404
    assert tasks_of(session, referral.id)[30].status == TaskStatus.OPEN


def test_the_household_office_of_a_dual_registration_does_not_follow_up(api, world, session):
    # cand_dual lives in office B's township (B keeps the file) and is registered in A's: A reads the file,
    # B does the follow-up.
    place(session, world, started_days_ago=5, candidate=world.cand_dual, cw="cw_b")
    assert len(_list(api, world, "cw_b")) == 3
    assert _list(api, world, "cw_a") == []


def test_an_employer_sees_its_own_bases_checks_pseudonymously(api, world, session):
    place(session, world, started_days_ago=40)
    place(session, world, started_days_ago=40, candidate=world.cand_b, slot=world.slot_b, cw="cw_b")
    mine = _list(api, world, "emp_a")
    assert len(mine) == 3 and {t["referral"]["slot"]["id"] for t in mine} == {world.slot_a.id}
    card = mine[0]["candidate"]
    assert card["public_id"] == world.cand_a.public_id
    assert card.get("id") is None and card.get("name") is None and mine[0].get("office") is None
    assert "offence_category" not in card and "risk_grade" not in card
    assert {t["referral"]["slot"]["id"] for t in _list(api, world, "emp_b")} == {world.slot_b.id}

    from matcher.candidates.service import record_consent

    def disclose(purpose):
        record_consent(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                       data={"kind": ConsentKind.DISCLOSE_IDENTITY, "granted": True, "recorded_on": today(),
                             "base_id": world.company_a.id, "purpose": purpose})

    disclose(DisclosurePurpose.INTERVIEW)  # the placement has started: an interview consent is not enough
    assert _list(api, world, "emp_a")[0]["candidate"].get("name") is None
    disclose(DisclosurePurpose.EMPLOYMENT)
    assert _list(api, world, "emp_a")[0]["candidate"]["name"] == world.cand_a.name


def test_an_administrator_sees_the_bureau_area_only(api, world, session):
    from matcher.auth.service import create_account, issue_token

    place(session, world, started_days_ago=40)
    assert len(_list(api, world, "admin")) == 3  # bureau 330700 (金华市) holds 义乌
    other = create_account(session=session, actor=None, data=dict(
        username="admin_cq", display_name="CQ", password="correct-horse-battery", role="administrator",
        bureau_code="500100"))
    token = issue_token(session=session, account=other, ttl_days=1)[0]
    session.commit()
    response = api.get("/api/v1/follow-up-tasks", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json == []


def test_overdue_and_due_soon_filters_follow_the_dates(api, world, session):
    late = place(session, world, started_days_ago=100)  # 30 and 90 overdue, 180 due in 80 days
    soon = place(session, world, started_days_ago=25, candidate=world.cand_b, slot=world.slot_a, cw="cw_b")
    overdue = _list(api, world, "admin", overdue="true")
    assert [(t["referral"]["id"], t["days"]) for t in overdue] == [(late.id, 30), (late.id, 90)]
    assert all(t["overdue"] for t in overdue)
    not_overdue = _list(api, world, "admin", overdue="false")
    assert len(not_overdue) == 4 and not any(t["overdue"] for t in not_overdue)
    # Due from today to today + 5: the 30-day check of the placement started 25 days ago.
    assert [(t["referral"]["id"], t["days"], t["due_on"]) for t in _list(api, world, "admin", due_within=5)] == [
        (soon.id, 30, _ago(-5).isoformat())]
    assert _list(api, world, "admin", due_within=4) == []
    assert len(_list(api, world, "admin", office_id=world.office_b.id)) == 3
    assert len(_list(api, world, "admin", office_id=world.office_a.id, status="open")) == 3
    assert _list(api, world, "admin", status="done") == []
    assert [t["days"] for t in _list(api, world, "admin", referral_id=late.id, sort="-due_on")] == [180, 90, 30]
    assert len(_list(api, world, "admin", candidate_id=world.cand_b.id)) == 3
    # Both offices are in 义乌市 (330782); 东阳市 (330783) has none; 重庆 is not this bureau's.
    assert len(_list(api, world, "admin", district="330782")) == 6
    assert _list(api, world, "admin", district="330783") == []
    refused = api.get("/api/v1/follow-up-tasks", query_string={"district": "500151"}, headers=world.h("admin"))
    assert refused.status_code == 422 and "district" in refused.json["errors"]


def test_a_check_due_today_is_not_overdue(api, world, session):
    place(session, world, started_days_ago=30)
    first = _list(api, world, "cw_a")[0]
    assert (first["due_on"], first["overdue"]) == (today().isoformat(), False)
    assert _list(api, world, "cw_a", overdue="true") == []


@pytest.mark.parametrize("query", [{"due_within": -1}, {"due_within": 400}, {"status": "late"}, {"sort": "days"},
                                   {"district": "3307"}, {"overdue": "maybe"}])
def test_bad_filters_are_refused(api, world, query):
    response = api.get("/api/v1/follow-up-tasks", query_string=query, headers=world.h("cw_a"))
    assert response.status_code == 422, query


# ---- completing a check -------------------------------------------------------------------------

def test_staying_before_the_days_have_passed_is_refused_clearly(api, world, session):
    referral = place(session, world, started_days_ago=20)
    task_id = tasks_of(session, referral.id)[30].id
    refused = _complete(api, world, "cw_a", task_id, result="staying")
    assert refused.status_code == 422, refused.json
    # "can be confirmed from <day> on", the day written as each language writes dates (never ISO: issue 15, item 6)
    day = _ago(-10)
    assert format_date(day, "medium", locale="en") in refused.json["errors"]["on_date"][0]
    assert day.isoformat() not in refused.json["errors"]["on_date"][0]
    zh = api.post(f"/api/v1/follow-up-tasks/{task_id}/complete", json={"result": "staying"},
                  headers=world.h("cw_a", "zh"))
    assert zh.status_code == 422 and "稳岗" in zh.json["errors"]["on_date"][0]
    assert f"{day.year}年{day.month}月{day.day}日" in zh.json["errors"]["on_date"][0]
    assert tasks_of(session, referral.id)[30].status == TaskStatus.OPEN
    session.refresh(referral)
    assert referral.status == ReferralStatus.STARTED


def test_staying_confirms_the_stay_and_completes_the_check(api, world, session):
    referral = place(session, world, started_days_ago=35)
    task_id = tasks_of(session, referral.id)[30].id
    done = _complete(api, world, "emp_a", task_id, result="staying", note="表现良好")
    assert done.status_code == 200, done.json
    # The base reads the check's state, not who closed it nor the office's note; its own words go to the office
    # with the stay it confirmed.
    assert (done.json["status"], done.json["done_on"]) == ("done", today().isoformat())
    assert "done_by_id" not in done.json and "note" not in done.json
    office_view = api.get(f"/api/v1/follow-up-tasks/{task_id}", headers=world.h("cw_a")).json
    assert (office_view["done_by_id"], office_view["note"]) == (world.accounts["emp_a"].id, None)
    assert done.json["referral"]["status"] == "stayed_30"
    tasks = tasks_of(session, referral.id)
    assert [tasks[d].status for d in (30, 90, 180)] == [TaskStatus.DONE, TaskStatus.OPEN, TaskStatus.OPEN]
    events = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                             .order_by(ReferralEvent.id)).all()
    assert (events[-1].from_status, events[-1].to_status, events[-1].actor_id, events[-1].shared_note) == (
        ReferralStatus.STARTED, ReferralStatus.STAYED_30, world.accounts["emp_a"].id, "表现良好")
    again = _complete(api, world, "cw_a", task_id, result="staying")
    assert again.status_code == 409


def test_a_later_check_confirms_the_earlier_stays_first_all_or_nothing(api, world, session):
    referral = place(session, world, started_days_ago=95)
    tasks = tasks_of(session, referral.id)
    done = _complete(api, world, "cw_a", tasks[90].id, result="staying", on_date=_ago(1).isoformat())
    assert done.status_code == 200, done.json
    assert done.json["referral"]["status"] == "stayed_90"
    statuses = [e.to_status for e in session.scalars(select(ReferralEvent).where(
        ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id))]
    assert statuses[-2:] == [ReferralStatus.STAYED_30, ReferralStatus.STAYED_90]
    tasks = tasks_of(session, referral.id)
    assert [tasks[d].status for d in (30, 90, 180)] == [TaskStatus.DONE, TaskStatus.DONE, TaskStatus.OPEN]

    # Day 50 of 90: the 30-day stay could be confirmed, the 90-day one not; nothing is recorded.
    other = place(session, world, started_days_ago=50, candidate=world.cand_b, cw="cw_b")
    refused = _complete(api, world, "cw_b", tasks_of(session, other.id)[90].id, result="staying")
    assert refused.status_code == 422
    session.refresh(other)
    assert other.status == ReferralStatus.STARTED


def test_left_needs_a_reason_ends_the_placement_and_frees_the_seat(api, world, session):
    referral = place(session, world, started_days_ago=40)
    task_id = tasks_of(session, referral.id)[30].id
    no_reason = _complete(api, world, "cw_a", task_id, result="left")
    assert no_reason.status_code == 422 and "reason_code" in no_reason.json["errors"]
    left = _complete(api, world, "cw_a", task_id, result="left", reason_code="moved_away", note="回老家",
                     on_date=_ago(2).isoformat())
    assert left.status_code == 200, left.json
    assert (left.json["status"], left.json["referral"]["status"]) == ("done", "left")
    session.expire_all()
    session.refresh(referral)
    assert (referral.end_code, referral.ended_on, referral.holds_seat) == ("moved_away", _ago(2), False)
    assert tasks_of(session, referral.id)[30].note == "回老家"  # the office's note stays on its check
    assert referral.slot.seats_taken == 0
    tasks = tasks_of(session, referral.id)
    assert [tasks[d].status for d in (30, 90, 180)] == [TaskStatus.DONE, TaskStatus.CANCELLED, TaskStatus.CANCELLED]


def test_leaving_found_before_the_check_was_due_completes_that_check(api, world, session):
    referral = place(session, world, started_days_ago=10)
    task_id = tasks_of(session, referral.id)[30].id
    left = _complete(api, world, "emp_a", task_id, result="left", reason_code="personal", note="不适应")
    assert left.status_code == 200, left.json
    tasks = tasks_of(session, referral.id)
    assert [tasks[d].status for d in (30, 90, 180)] == [TaskStatus.DONE, TaskStatus.CANCELLED, TaskStatus.CANCELLED]


def test_unreachable_is_noted_and_the_check_stays_open(api, world, session):
    referral = place(session, world, started_days_ago=40)
    task_id = tasks_of(session, referral.id)[30].id
    noted = _complete(api, world, "cw_a", task_id, result="unreachable", note="电话未接")
    assert noted.status_code == 200, noted.json
    assert (noted.json["status"], noted.json["note"], noted.json["referral"]["status"]) == (
        "open", f"{today().isoformat()} 电话未接", "started")
    assert noted.json["overdue"] is True
    refused = _complete(api, world, "emp_a", task_id, result="unreachable")
    assert refused.status_code == 403
    assert _complete(api, world, "cw_a", task_id, result="maybe").status_code == 422
    future = _complete(api, world, "cw_a", task_id, result="unreachable", on_date=_ago(-1).isoformat())
    assert future.status_code == 422 and "on_date" in future.json["errors"]


def test_the_household_office_cannot_complete_a_check(api, world, session):
    referral = place(session, world, started_days_ago=40, candidate=world.cand_dual, cw="cw_b")
    task_id = tasks_of(session, referral.id)[30].id
    assert _complete(api, world, "cw_a", task_id, result="staying").status_code == 404
    assert _complete(api, world, "cw_b", task_id, result="staying").status_code == 200


# ---- the bureau's overdue counts ---------------------------------------------------------------

def test_overdue_counts_per_office(api, world, session):
    place(session, world, started_days_ago=100)  # office A: 2 overdue of 3 open
    place(session, world, started_days_ago=35, candidate=world.cand_b, cw="cw_b")  # office B: 1 of 3
    place(session, world, started_days_ago=5, candidate=world.cand_dual, slot=world.slot_b, cw="cw_b")  # B: 0 of 3
    response = api.get("/api/v1/follow-up-tasks/overdue-by-office", headers=world.h("admin"))
    assert response.status_code == 200, response.json
    assert [(row["office"]["id"], row["overdue"], row["open"], row["oldest_due_on"]) for row in response.json] == [
        (world.office_a.id, 2, 3, _ago(70).isoformat()), (world.office_b.id, 1, 6, _ago(5).isoformat())]
    by_district = api.get("/api/v1/follow-up-tasks/overdue-by-office", query_string={"district": "330783"},
                          headers=world.h("admin"))
    assert by_district.status_code == 200 and by_district.json == []
    own = api.get("/api/v1/follow-up-tasks/overdue-by-office", headers=world.h("cw_b")).json
    assert [row["office"]["id"] for row in own] == [world.office_b.id]
    for who in ("emp_a", "org"):
        assert api.get("/api/v1/follow-up-tasks/overdue-by-office", headers=world.h(who)).status_code == 404
    bad = api.get("/api/v1/follow-up-tasks/overdue-by-office", query_string={"district": "330700"},
                  headers=world.h("admin"))
    assert bad.status_code == 422


# ---- re-offending -------------------------------------------------------------------------------

def _reoffence(api, world, who, candidate_id, **body):
    return api.post(f"/api/v1/candidates/{candidate_id}/reoffences",
                    json={"recorded_on": today().isoformat(), **body}, headers=world.h(who))


def test_reoffences_are_recorded_by_the_keeping_office_or_the_bureau(api, world):
    created = _reoffence(api, world, "cw_a", world.cand_a.id, note="盗窃被刑拘")
    assert created.status_code == 201, created.json
    assert (created.json["candidate_id"], created.json["note"], created.json["recorded_by_id"]) == (
        world.cand_a.id, "盗窃被刑拘", world.accounts["cw_a"].id)
    assert _reoffence(api, world, "admin", world.cand_a.id, recorded_on=_ago(3).isoformat()).status_code == 201
    listed = api.get(f"/api/v1/candidates/{world.cand_a.id}/reoffences", headers=world.h("cw_a"))
    assert [r["recorded_on"] for r in listed.json] == [today().isoformat(), _ago(3).isoformat()]
    # The household office reads the file but does not change it; others do not see it at all.
    assert _reoffence(api, world, "cw_a", world.cand_dual.id).status_code == 403
    assert api.get(f"/api/v1/candidates/{world.cand_dual.id}/reoffences", headers=world.h("cw_a")).status_code == 200
    for who in ("cw_b", "emp_a", "org"):
        assert _reoffence(api, world, who, world.cand_a.id).status_code == 404, who
        assert api.get(f"/api/v1/candidates/{world.cand_a.id}/reoffences", headers=world.h(who)).status_code == 404
    future = _reoffence(api, world, "cw_a", world.cand_a.id, recorded_on=_ago(-1).isoformat())
    assert future.status_code == 422 and "recorded_on" in future.json["errors"]
    before_release = _reoffence(api, world, "cw_a", world.cand_a.id, recorded_on=_ago(200).isoformat())
    assert before_release.status_code == 422
    assert _reoffence(api, world, "cw_a", world.cand_a.id, extra=1).status_code == 422
