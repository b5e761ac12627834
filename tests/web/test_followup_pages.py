"""Follow-up pages: the office's checks (overdue first, quick actions), the base's stays to confirm
(pseudonymous), the bureau's overdue counts by office; visits with the employment state and re-offences on
the candidate file."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from matcher.clock import today
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent


def html(response) -> str:
    return response.get_data(as_text=True)


def _ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


def place(session, world, *, days_ago: int, candidate=None, slot=None, cw="cw_a") -> Referral:
    from matcher.referrals.service import create_referral, transition

    candidate, slot = candidate or world.cand_a, slot or world.slot_a
    employer = world.accounts["emp_a" if slot.company_id == world.company_a.id else "emp_b"]
    referral = create_referral(session=session, actor=world.accounts[cw], candidate_id=candidate.id,
                               slot_id=slot.id, send=True)
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                    .values(on_date=_ago(days_ago + 1)))
    session.commit()
    for step in (ReferralStatus.OFFERED, ReferralStatus.STARTED):
        transition(session=session, actor=employer, referral_id=referral.id, to=step, on_date=_ago(days_ago))
    return referral


def tasks(session, referral_id: int) -> dict[int, FollowUpTask]:
    session.expire_all()
    return {t.days: t for t in session.scalars(select(FollowUpTask).where(FollowUpTask.referral_id == referral_id))}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_follow_up_page_renders(browser, world, session, lang):
    place(session, world, days_ago=40)
    place(session, world, days_ago=5, candidate=world.cand_b, slot=world.slot_b, cw="cw_b")
    for who, url in (("cw_a", "/caseworker/follow-up"), ("emp_a", "/employer/follow-up"),
                     ("admin", "/admin/follow-up"), ("admin", f"/admin/follow-up?office_id={world.office_a.id}"),
                     ("admin", "/admin/follow-up?district=330782"),
                     ("cw_a", f"/caseworker/candidates/{world.cand_a.id}")):
        response = browser(who, lang).get(url)
        assert response.status_code == 200, (url, html(response)[:2000])
        assert f'lang="{"en" if lang == "en" else "zh-CN"}"' in html(response)
        assert 'name="viewport"' in html(response)


def test_other_roles_get_the_not_found_page(browser, world):
    assert browser("emp_a").get("/caseworker/follow-up").status_code == 404
    assert browser("cw_a").get("/employer/follow-up").status_code == 404
    assert browser("cw_a").get("/admin/follow-up").status_code == 404
    assert browser("org").get("/admin/follow-up").status_code == 404
    assert browser().get("/caseworker/follow-up").status_code == 302


def test_the_office_page_lists_overdue_first_then_this_week_then_later(browser, world, session):
    late = place(session, world, days_ago=35)  # 30-day check 5 days overdue
    soon = place(session, world, days_ago=27, slot=world.slot_b)  # 30-day check in 3 days
    place(session, world, days_ago=5, candidate=world.cand_b, cw="cw_b")  # another office's
    page = html(browser("cw_a", "en").get("/caseworker/follow-up"))
    overdue, week, later = (page.index(f'data-testid="group-{key}"') for key in ("overdue", "week", "later"))
    assert overdue < week < later
    late_30 = page.index(f'id="task-{tasks(session, late.id)[30].id}"')
    soon_30 = page.index(f'id="task-{tasks(session, soon.id)[30].id}"')
    assert overdue < late_30 < week < soon_30 < later
    assert "5 days overdue" in page
    assert world.cand_a.name in page and world.cand_b.name not in page
    assert f'/caseworker/candidates/{world.cand_a.id}"' in page
    # Staying can be confirmed only once its days have passed: no button on the one due in 3 days.
    soon_card = page[soon_30:page.index("</article>", soon_30)]
    assert 'value="staying"' not in soon_card and "can be confirmed from" in soon_card
    late_card = page[late_30:page.index("</article>", late_30)]
    assert 'value="staying"' in late_card and 'value="unreachable"' in late_card and 'value="left"' in late_card


def test_quick_actions_on_the_office_page(browser, world, session):
    referral = place(session, world, days_ago=40)
    task_id = tasks(session, referral.id)[30].id
    page = browser("cw_a", "en")
    page.get("/caseworker/follow-up")
    noted = page.post(f"/caseworker/follow-up/{task_id}", {"result": "unreachable"})
    assert noted.status_code == 303 and noted.headers["Location"].endswith(f"#task-{task_id}")
    after = html(page.get("/caseworker/follow-up"))
    assert "The attempt is noted" in after and f"Not reached yet: {today().isoformat()}" in after
    assert tasks(session, referral.id)[30].status == TaskStatus.OPEN

    missing = page.post(f"/caseworker/follow-up/{task_id}", {"result": "left"})
    assert missing.status_code == 422
    assert "choose a reason" in html(missing) and 'data-testid="task-error"' in html(missing)

    done = page.post(f"/caseworker/follow-up/{task_id}", {"result": "staying"})
    assert done.status_code == 303
    assert "Confirmed: Stayed 30 days." in html(page.get("/caseworker/follow-up"))
    session.expire_all()
    assert session.get(Referral, referral.id).status == ReferralStatus.STAYED_30
    assert page.post(f"/caseworker/follow-up/{task_id}", {"result": "staying"}).status_code == 409

    later = tasks(session, referral.id)[90].id
    early = page.post(f"/caseworker/follow-up/{later}", {"result": "staying"})
    assert early.status_code == 422 and "can be confirmed from" in html(early)
    left = page.post(f"/caseworker/follow-up/{later}", {"result": "left", "reason_code": "other_job",
                                                          "note": "去外地打工", "on_date": today().isoformat()})
    assert left.status_code == 303
    session.expire_all()
    assert (session.get(Referral, referral.id).status, session.get(Referral, referral.id).end_code) == (
        ReferralStatus.LEFT, "other_job")
    assert "Nothing here." in html(page.get("/caseworker/follow-up"))


def test_a_check_of_another_office_is_not_found(browser, world, session):
    referral = place(session, world, days_ago=40, candidate=world.cand_b, cw="cw_b")
    page = browser("cw_a")
    page.get("/caseworker/follow-up")
    assert page.post(f"/caseworker/follow-up/{tasks(session, referral.id)[30].id}",
                     {"result": "staying"}).status_code == 404
    assert page.post("/caseworker/follow-up/1", {"result": "staying"}, csrf=False).status_code == 400


def test_the_base_confirms_stays_on_pseudonymous_cards(browser, world, session):
    referral = place(session, world, days_ago=31)
    place(session, world, days_ago=31, candidate=world.cand_b, slot=world.slot_b, cw="cw_b")  # base B's
    page = browser("emp_a", "en")
    text = html(page.get("/employer/follow-up"))
    assert world.cand_a.public_id in text and world.cand_a.name not in text
    assert world.cand_b.public_id not in text
    assert "Still with us" in text and "Could not reach" not in text
    task_id = tasks(session, referral.id)[30].id
    assert page.post(f"/employer/follow-up/{task_id}", {"result": "staying"}).status_code == 303
    session.expire_all()
    assert session.get(Referral, referral.id).status == ReferralStatus.STAYED_30
    assert page.post(f"/employer/follow-up/{task_id}", {"result": "unreachable"}).status_code == 409
    later = tasks(session, referral.id)[90].id
    assert page.post(f"/employer/follow-up/{later}", {"result": "unreachable"}).status_code == 403
    left = page.post(f"/employer/follow-up/{later}", {"result": "left", "reason_code": "contract_ended",
                                                        "note": "合同到期未续"})
    assert left.status_code == 303
    session.expire_all()
    assert session.get(Referral, referral.id).status == ReferralStatus.LEFT


def test_the_bureau_sees_overdue_counts_by_office_and_drills_down(browser, world, session):
    place(session, world, days_ago=100)  # office A: 2 overdue
    place(session, world, days_ago=35, candidate=world.cand_b, cw="cw_b")  # office B: 1 overdue
    page = browser("admin", "en")
    text = html(page.get("/admin/follow-up"))
    table = text[text.index('data-testid="overdue-by-office"'):]
    assert table.index(world.office_a.name) < table.index(world.office_b.name)
    assert "3 overdue" in text and "6 open checks" in text
    drill = html(page.get(f"/admin/follow-up?office_id={world.office_b.id}"))
    listing = drill[drill.index('data-testid="overdue-list"'):]
    assert world.cand_b.name in listing and world.cand_a.name not in listing and "5 days overdue" in listing
    assert "Nothing overdue" not in listing
    empty = html(page.get("/admin/follow-up?district=330783"))
    assert "No open checks here." in empty
    bad = page.get("/admin/follow-up?district=500151")
    assert bad.status_code == 422 and "Choose a district of your bureau" in html(bad)


def test_the_visit_form_records_the_employment_state(browser, world, session):
    referral = place(session, world, days_ago=40)
    page = browser("cw_a", "en")
    text = html(page.get(f"/caseworker/candidates/{world.cand_a.id}"))
    assert "Placement looked at" in text and f'<option value="{referral.id}"' in text
    response = page.post(f"/caseworker/candidates/{world.cand_a.id}/visits", {
        "visited_on": today().isoformat(), "kind": "workplace", "referral_id": str(referral.id),
        "employment_state": "working", "note": "在岗"})
    assert response.status_code == 302, html(response)[:2000]
    session.expire_all()
    assert session.get(Referral, referral.id).status == ReferralStatus.STAYED_30
    assert "Still working" in html(page.get(f"/caseworker/candidates/{world.cand_a.id}"))

    refused = page.post(f"/caseworker/candidates/{world.cand_a.id}/visits", {
        "visited_on": _ago(60).isoformat(), "kind": "home", "referral_id": str(referral.id),
        "employment_state": "left"})
    assert refused.status_code == 422
    assert 'id="visit-visited_on-error"' in html(refused)


def test_the_file_records_a_re_offence(browser, world, session):
    page = browser("cw_a", "en")
    text = html(page.get(f"/caseworker/candidates/{world.cand_a.id}"))
    assert "No re-offence recorded." in text and "Record a re-offence" in text
    done = page.post(f"/caseworker/candidates/{world.cand_a.id}/reoffences",
                     {"recorded_on": today().isoformat(), "note": "涉嫌盗窃被刑事拘留"})
    assert done.status_code == 302
    assert "涉嫌盗窃被刑事拘留" in html(page.get(f"/caseworker/candidates/{world.cand_a.id}"))
    refused = page.post(f"/caseworker/candidates/{world.cand_a.id}/reoffences", {"recorded_on": ""})
    assert refused.status_code == 422 and 'id="reoffence-recorded_on-error"' in html(refused)
    # The household office reads the file of a dual registration but records nothing on it.
    dual = html(page.get(f"/caseworker/candidates/{world.cand_dual.id}"))
    assert "Record a re-offence" not in dual
    assert page.post(f"/caseworker/candidates/{world.cand_dual.id}/reoffences",
                     {"recorded_on": today().isoformat()}).status_code == 403  # refused by scope: the status says so


def test_ticked_checks_are_confirmed_at_once_and_a_refused_one_says_why(browser, world, session, kit):
    # Two people reached and still working (their 30-day checks due), one whose 30 days have not passed.
    second = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=51, name="王二")
    due_a = tasks(session, place(session, world, days_ago=40).id)[30].id
    due_b = tasks(session, place(session, world, days_ago=45, candidate=second, slot=world.slot_b).id)[30].id
    early = tasks(session, place(session, world, days_ago=3, candidate=world.cand_dual, slot=world.slot_b,
                                 cw="cw_b").id)[30]
    page = browser("cw_a", "zh")
    body = html(page.get("/caseworker/follow-up"))
    assert 'data-testid="bulk-staying"' in body and "勾选" in body
    assert body.count('data-testid="tick"') == 2  # only checks that are due can be ticked
    done = page.post("/caseworker/follow-up/staying", {"task_id": [str(due_a), str(due_b), str(early.id)]})
    assert done.status_code == 303
    after = html(page.get("/caseworker/follow-up"))
    assert "已确认仍在岗：2 项" in after
    assert f"第 {early.id} 项" in after  # another office's check: not found, and said so
    session.expire_all()
    assert {session.get(FollowUpTask, t).status for t in (due_a, due_b)} == {TaskStatus.DONE}
    assert session.get(FollowUpTask, early.id).status == TaskStatus.OPEN
    nothing = page.post("/caseworker/follow-up/staying", {})
    assert nothing.status_code == 303 and "请先勾选" in html(page.get("/caseworker/follow-up"))
