"""Bases that answer: a base that leaves referrals unanswered is paused (refused with a reason, the bureau told,
audited) and resumes when it answers or an administrator lifts the pause; monthly caps by size band; a base that
rarely answers is ranked lower, and the recommendation says why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from matcher.audit.models import AuditEvent
from matcher.bases import answers
from matcher.bases.models import Company
from matcher.clock import today
from matcher.extensions import db
from matcher.matching import pipeline
from matcher.notify.models import Notification, NotificationKind
from matcher.notify.service import render
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot


def unanswered(world, kit, employer: str, n: int, days_ago: int = 30) -> list[Referral]:
    """n referrals sent to the base `days_ago` days ago and never answered (one slot each)."""
    session = db.session
    made = []
    for i in range(n):
        slot = kit.new_slot(session, world.accounts[employer], open_it=False, title=f"旧岗位{i}")
        referral = Referral(candidate_id=world.cand_dual.id, slot_id=slot.id, status=S.SENT)
        on = today() - dt.timedelta(days=days_ago + i)
        referral.events = [ReferralEvent(to_status=S.PROPOSED, on_date=on),
                           ReferralEvent(from_status=S.PROPOSED, to_status=S.SENT, on_date=on,
                                         actor_id=world.accounts["cw_b"].id)]
        session.add(referral)
        made.append(referral)
    session.commit()
    return made


def refer(api, world, who: str, candidate, lang: str = "zh"):
    return api.post("/api/v1/referrals", json={"candidate_id": candidate.id, "slot_id": world.slot_a.id},
                    headers=world.h(who, lang))


def audited(action: str, company_id: int) -> int:
    return len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                           AuditEvent.object_type == "company",
                                                           AuditEvent.object_id == company_id)).all())


def test_a_base_that_leaves_referrals_unanswered_is_paused_told_refused_and_resumes_when_it_answers(
        api, world, kit, session):
    from matcher.notify.scheduler import run_sweep

    answers.set_rules(session=session, actor=world.accounts["admin"], data={"pause_after": 2})
    session.commit()
    waiting = unanswered(world, kit, "emp_a", 2)
    a = world.company_a.id

    run_sweep(session)  # the daily sweep finds it
    session.commit()
    assert session.get(Company, a).referrals_paused_on == today()
    assert audited("pause_referrals", a) == 1
    told = session.scalars(select(Notification).where(Notification.kind == NotificationKind.BASE_PAUSED)).all()
    assert {n.account_id for n in told} == {world.accounts["admin"].id, world.accounts["emp_a"].id}
    admin_notice = next(n for n in told if n.account_id == world.accounts["admin"].id)
    assert "甲餐饮有限公司" in render(admin_notice).subject
    # Its slots leave recommendations and assignment.
    assert world.slot_a.id not in set(session.scalars(pipeline.open_slots().with_only_columns(Slot.id)))

    refused = refer(api, world, "cw_a", world.cand_a, "zh")
    assert refused.status_code == 409, refused.json
    message = refused.json["errors"]["slot_id"][0]
    assert "暂停" in message and "2 份转介" in message and "管理员解除暂停" in message, message
    refused_en = refer(api, world, "cw_a", world.cand_a, "en")
    assert refused_en.status_code == 409
    assert "paused for new referrals since" in refused_en.json["message"]
    assert "answers the waiting referrals" in refused_en.json["message"]

    # The base answers one: below the limit, it resumes at once.
    moved = api.post(f"/api/v1/referrals/{waiting[0].id}/transitions", json={"to": "interview"},
                     headers=world.h("emp_a"))
    assert moved.status_code == 200, moved.json
    db.session.expire_all()
    assert db.session.get(Company, a).referrals_paused_on is None
    assert audited("resume_referrals", a) == 1
    assert refer(api, world, "cw_a", world.cand_a).status_code == 201


def test_an_administrator_lifts_a_pause(api, world, kit, session):
    answers.set_rules(session=session, actor=world.accounts["admin"], data={"pause_after": 2})
    session.commit()
    unanswered(world, kit, "emp_a", 3)
    assert refer(api, world, "cw_a", world.cand_a).status_code == 409  # paused when the referral is tried

    assert api.post(f"/api/v1/bases/{world.company_a.id}/pause/lift", headers=world.h("emp_a")).status_code == 404
    lifted = api.post(f"/api/v1/bases/{world.company_a.id}/pause/lift", headers=world.h("admin"))
    assert lifted.status_code == 200, lifted.json
    assert lifted.json["referrals_paused_on"] is None
    assert audited("lift_pause", world.company_a.id) == 1
    # The referrals waiting before the lift no longer count: referring works, and stays working.
    assert refer(api, world, "cw_a", world.cand_a).status_code == 201
    again = api.post(f"/api/v1/bases/{world.company_a.id}/pause/lift", headers=world.h("admin", "en"))
    assert again.status_code == 409 and "not paused" in again.json["message"]


def test_monthly_cap_by_size_band(api, world, session):
    a = world.company_a.id
    bad = api.put("/api/v1/base-size-bands", headers=world.h("admin", "en"),
                  json={"bands": [{"min_employees": 0, "monthly_referrals": -1}, {"min_employees": 5}]})
    assert bad.status_code == 422
    assert set(bad.json["errors"]["bands"]["0"]) == {"min_employees", "monthly_referrals"}
    assert "monthly_referrals" in bad.json["errors"]["bands"]["1"]
    gap = api.put("/api/v1/base-size-bands", headers=world.h("admin", "en"),
                  json={"bands": [{"min_employees": 10, "monthly_referrals": 3}]})
    assert gap.status_code == 422 and "start at 1 employee" in str(gap.json["errors"])
    bands = api.put("/api/v1/base-size-bands", headers=world.h("admin"),
                    json={"bands": [{"min_employees": 1, "monthly_referrals": 1},
                                    {"min_employees": 50, "monthly_referrals": 5}]})
    assert bands.status_code == 200 and bands.json["bands"][0] == {"min_employees": 1, "max_employees": 49,
                                                                    "monthly_referrals": 1}
    # The bureau records the size; the base cannot.
    assert api.patch(f"/api/v1/bases/{a}", json={"employees": 500}, headers=world.h("emp_a")).status_code == 422
    assert api.patch(f"/api/v1/bases/{a}", json={"employees": 12}, headers=world.h("admin")).json["employees"] == 12

    assert refer(api, world, "cw_a", world.cand_a).status_code == 201
    full = refer(api, world, "cw_b", world.cand_b, "zh")
    assert full.status_code == 409
    assert "本月已收到 1 份转介" in full.json["message"] and "1–49 人" in full.json["message"], full.json["message"]
    full_en = refer(api, world, "cw_b", world.cand_b, "en")
    assert "monthly limit for its size (1–49 employees: 1 a month)" in full_en.json["message"]
    next_month = answers.month_of(today())[1]
    assert str(next_month.year) in full_en.json["message"]

    record = next(r for r in api.get("/api/v1/base-records", headers=world.h("admin")).json if r["company_id"] == a)
    assert (record["employees"], record["monthly_cap"], record["month_count"]) == (12, 1, 1)


def test_a_base_that_rarely_answers_is_ranked_lower_and_told(world, kit, session):
    from matcher.matching.service import recommend_slots

    answers.set_rules(session=session, actor=world.accounts["admin"], data={"pause_after": 50})
    session.commit()
    twin = kit.new_slot(session, world.accounts["emp_b"], title="厨师A")  # slot_a's twin at base B
    unanswered(world, kit, "emp_a", 4)

    page = recommend_slots(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                           order="score", filters={"course": "cooking"})
    order = [item.slot.id for item in page.items]
    assert order.index(twin.id) < order.index(world.slot_a.id)
    a_item = page.items[order.index(world.slot_a.id)]
    b_item = page.items[order.index(twin.id)]
    assert a_item.score == pytest.approx(b_item.score)  # the same chance of staying: the base's answers decide
    assert a_item.demoted and a_item.value < a_item.score
    assert a_item.against_it[0].code == "base_answer_rate"
    assert a_item.against_it[0].text_zh == "该基地近期回复率 0%（目标 30%），排序下调"
    assert "ranked lower" in a_item.against_it[0].text_en
    assert not b_item.demoted and b_item.base_answer is None  # nothing due yet: judged by its city, not singled out


def test_one_base_s_standing_is_the_same_read_alone_or_with_every_base(world, kit, session):
    """A page about one base (its record, its referral) reads that base's figures alone and its city's rate
    from every base: the same standing as the whole city's reading gives it."""
    unanswered(world, kit, "emp_a", 3)
    unanswered(world, kit, "emp_b", 1, days_ago=20)
    answers.forget_standings()
    everyone = answers.standings(session)
    for company_id in (world.accounts["emp_a"].company_id, world.accounts["emp_b"].company_id):
        assert answers.standings(session, company_ids=[company_id]) == {company_id: everyone[company_id]}
    assert everyone[world.accounts["emp_a"].company_id].unanswered == 3
