"""Arranging an interview for a referral over the API: the base proposes, the office confirms or asks for another
time, either cancels, attendance after the time; the other side's notices; the refusals (422 with every wrong field,
past times, the wrong side)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.notify.models import Notification, NotificationKind


def _refer(api, world, who="cw_a", candidate=None, slot=None):
    answer = api.post("/api/v1/referrals", json={"candidate_id": (candidate or world.cand_a).id,
                                                  "slot_id": (slot or world.slot_a).id, "send": True},
                      headers=world.h(who))
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def _when(days=2, hour=9, minute=30) -> str:
    day = clock.today() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00+08:00"


def _propose(api, world, referral_id, who="emp_a", **extra):
    body = {"starts_at": _when(), "place": "义乌市稠城街道工人路 8 号 二楼", "contact_name": "王经理",
            "contact_phone": "0579-85123456"} | extra
    return api.post(f"/api/v1/referrals/{referral_id}/interviews", json=body, headers=world.h(who))


def _act(api, world, interview_id, who, action, **extra):
    return api.post(f"/api/v1/referral-interviews/{interview_id}/actions", json={"action": action, **extra},
                    headers=world.h(who))


def _kinds(session, account) -> list[str]:
    return [n.kind.value for n in session.scalars(select(Notification).where(Notification.account_id == account.id)
                                                  .order_by(Notification.id))]


def test_the_base_proposes_the_office_confirms_and_each_side_is_told(api, world, session):
    referral_id = _refer(api, world)
    proposed = _propose(api, world, referral_id)
    assert proposed.status_code == 201, proposed.json
    interview = proposed.json
    assert interview["status"] == "proposed"
    # Stored as UTC: 09:30 in China is 01:30 UTC.
    assert interview["starts_at"].endswith("T01:30:00Z")
    assert api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("cw_a")).json["status"] == "interview"
    assert "interview_proposed" in _kinds(session, world.accounts["cw_a"])
    notice = session.scalar(select(Notification).where(Notification.kind == NotificationKind.INTERVIEW_PROPOSED))
    assert "09:30" in notice.params_json and world.cand_a.name not in notice.params_json

    # The base cannot confirm its own proposal; another office does not even see it.
    assert _act(api, world, interview["id"], "emp_a", "confirm").status_code == 403
    assert _act(api, world, interview["id"], "cw_b", "confirm").status_code == 404
    assert _act(api, world, interview["id"], "emp_b", "cancel").status_code == 404

    confirmed = _act(api, world, interview["id"], "cw_a", "confirm")
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "confirmed"
    assert "interview_confirmed" in _kinds(session, world.accounts["emp_a"])
    # Attendance waits for the time to come.
    assert _act(api, world, interview["id"], "emp_a", "attended").status_code == 409
    # The base reads the appointment but not the office's record of the texts sent to the person.
    read = api.get(f"/api/v1/referrals/{referral_id}/interviews", headers=world.h("emp_a")).json[0]
    assert read["place"].startswith("义乌市") and "text_error" not in read and "appointment_texted_at" not in read
    assert "appointment_texted_at" in api.get(f"/api/v1/referrals/{referral_id}/interviews",
                                              headers=world.h("cw_a")).json[0]


def _happened(session, interview_id):
    """As if the interview's time had come an hour ago."""
    from matcher.interviews.models import ReferralInterview

    session.execute(update(ReferralInterview).where(ReferralInterview.id == interview_id)
                    .values(starts_at=clock.now() - dt.timedelta(hours=1)))
    session.commit()


def test_attendance_after_the_time(api, world, session):
    referral_id = _refer(api, world)
    interview_id = _propose(api, world, referral_id).json["id"]
    assert _act(api, world, interview_id, "cw_a", "confirm").status_code == 200
    _happened(session, interview_id)
    answer = _act(api, world, interview_id, "emp_a", "no_show")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "no_show"
    assert _act(api, world, interview_id, "cw_a", "attended").status_code == 409  # recorded once


def test_another_time_then_a_new_proposal_and_a_cancellation(api, world, session):
    referral_id = _refer(api, world)
    first = _propose(api, world, referral_id).json["id"]
    assert _propose(api, world, referral_id, starts_at=_when(3)).status_code == 409  # one live interview
    asked = _act(api, world, first, "cw_a", "other_time", note="周三上午本人要报到，请改到下午")
    assert asked.json["status"] == "other_time"
    assert "interview_other_time" in _kinds(session, world.accounts["emp_a"])
    second = _propose(api, world, referral_id, starts_at=_when(2, 14, 0))
    assert second.status_code == 201
    cancelled = _act(api, world, second.json["id"], "emp_a", "cancel", note="岗位调整")
    assert cancelled.json["status"] == "cancelled"
    assert "interview_cancelled" in _kinds(session, world.accounts["cw_a"])
    assert "interview_cancelled" not in _kinds(session, world.accounts["emp_a"])


def test_bad_input_is_422_with_every_field_at_once(api, world):
    referral_id = _refer(api, world)
    past = (clock.now() - dt.timedelta(hours=1)).isoformat()
    answer = _propose(api, world, referral_id, starts_at=past, place="", contact_phone="call me")
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert set(errors) >= {"starts_at", "place", "contact_phone"}
    missing = api.post(f"/api/v1/referrals/{referral_id}/interviews", json={}, headers=world.h("emp_a"))
    assert missing.status_code == 422
    assert set(missing.json["errors"]) == {"starts_at", "place", "contact_name", "contact_phone"}
    body = {"starts_at": past, "place": "x", "contact_name": "王", "contact_phone": "123456"}
    zh = api.post(f"/api/v1/referrals/{referral_id}/interviews", json=body, headers=world.h("emp_a", lang="zh"))
    assert zh.status_code == 422 and "将来" in zh.json["errors"]["starts_at"][0]


def test_only_the_base_proposes_and_only_while_the_referral_waits(api, world, session):
    referral_id = _refer(api, world)
    assert _propose(api, world, referral_id, who="cw_a").status_code == 403
    assert _propose(api, world, referral_id, who="emp_b").status_code == 404
    api.post(f"/api/v1/referrals/{referral_id}/transitions", json={"to": "withdrawn", "reason_code": "other_job"},
             headers=world.h("cw_a"))
    assert _propose(api, world, referral_id).status_code == 409


def test_a_time_before_the_referral_is_refused(api, world, session):
    from matcher.interviews.service import propose
    from matcher.referrals.models import Referral

    referral_id = _refer(api, world)
    session.execute(update(Referral).where(Referral.id == referral_id)
                    .values(created_at=clock.now() + dt.timedelta(days=5)))
    session.commit()
    import pytest

    from matcher.errors import Invalid

    with pytest.raises(Invalid) as refused:
        propose(session=session, actor=world.accounts["emp_a"], referral_id=referral_id,
                starts_at=clock.now() + dt.timedelta(days=1), place="x", contact_name="王", contact_phone="123456")
    assert "starts_at" in refused.value.errors
    session.rollback()


def test_candidate_phone_stays_with_the_office(api, world, session):
    session.execute(update(Candidate).where(Candidate.id == world.cand_a.id).values(phone="13800000000"))
    session.commit()
    referral_id = _refer(api, world)
    _propose(api, world, referral_id)
    for who in ("emp_a",):
        listed = api.get(f"/api/v1/referrals/{referral_id}/interviews", headers=world.h(who))
        assert "13800000000" not in listed.get_data(as_text=True)


def _open_notices(session, account, kind) -> int:
    session.expire_all()
    return len(session.scalars(select(Notification).where(
        Notification.account_id == account.id, Notification.kind == kind, Notification.done_at.is_(None))).all())


def test_a_notice_asking_for_a_step_is_done_when_the_step_is_taken(api, world, session):
    """The inbox clears itself: the office's "proposed" notice closes on its answer, the base's "another time" notice
    on its new proposal."""
    referral_id = _refer(api, world)
    first = _propose(api, world, referral_id).json
    assert _open_notices(session, world.accounts["cw_a"], NotificationKind.INTERVIEW_PROPOSED) == 1
    assert _act(api, world, first["id"], "cw_a", "other_time").status_code == 200
    assert _open_notices(session, world.accounts["cw_a"], NotificationKind.INTERVIEW_PROPOSED) == 0
    assert _open_notices(session, world.accounts["emp_a"], NotificationKind.INTERVIEW_OTHER_TIME) == 1
    second = _propose(api, world, referral_id, starts_at=_when(days=3))
    assert second.status_code == 201, second.json
    assert _open_notices(session, world.accounts["emp_a"], NotificationKind.INTERVIEW_OTHER_TIME) == 0
    assert _open_notices(session, world.accounts["cw_a"], NotificationKind.INTERVIEW_PROPOSED) == 1
    assert _act(api, world, second.json["id"], "cw_a", "confirm").status_code == 200
    assert _open_notices(session, world.accounts["cw_a"], NotificationKind.INTERVIEW_PROPOSED) == 0
