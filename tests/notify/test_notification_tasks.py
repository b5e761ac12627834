"""An inbox that clears itself: a notice names the task it announces and is done, in the same unit of work, when
the task is (a referral answered, a check recorded, a certification decided); one that only informs is done once
read; the list shows open notices first and done ones closed; the badge counts open unread ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from matcher.clock import today
from matcher.notify.models import Notification, NotificationKind
from tests.notify.test_notifications import _refer, _start, _sweep
from tests.web.test_notify_pages import badge, html

K = NotificationKind


def _of(session, kind, username=None) -> list[Notification]:
    from matcher.auth.models import Account

    stmt = select(Notification).where(Notification.kind == kind)
    if username:
        stmt = stmt.join(Account, Account.id == Notification.account_id).where(Account.username == username)
    session.expire_all()
    return list(session.scalars(stmt.order_by(Notification.id)))


def test_answering_a_referral_closes_its_notice_in_the_same_unit_of_work(session, world):
    """Today the employer's "新推荐" stays unread after they have answered the referral."""
    from matcher.referrals.service import transition

    referral = _refer(session, world)
    session.commit()
    [notice] = _of(session, K.NEW_REFERRAL)
    assert notice.task_key == f"referral:{referral.id}:sent" and notice.done_at is None
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="interview")
    # Not committed yet: the notice is done in the unit of work that answered, and goes with it on a rollback.
    assert session.scalar(select(Notification.done_at).where(Notification.id == notice.id)) is not None
    session.rollback()
    assert session.scalar(select(Notification.done_at).where(Notification.id == notice.id)) is None
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="interview")
    session.commit()
    [notice] = _of(session, K.NEW_REFERRAL)
    assert notice.done_at is not None and notice.read_at is not None  # done is read too


def test_an_answer_due_notice_closes_when_the_referral_moves_on(session, world):
    from matcher.referrals.models import ReferralEvent
    from matcher.referrals.service import transition

    referral = _refer(session, world)
    session.execute(ReferralEvent.__table__.update().where(ReferralEvent.referral_id == referral.id)
                    .values(on_date=today() - dt.timedelta(days=10)))
    session.commit()
    _sweep(session, today())
    [due] = _of(session, K.ANSWER_DUE)
    assert due.task_key == f"referral:{referral.id}:sent" and due.done_at is None
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="declined",
               reason_code="not_suitable")
    session.commit()
    assert all(n.done_at is not None for n in _of(session, K.ANSWER_DUE) + _of(session, K.NEW_REFERRAL))


def test_recording_a_check_closes_the_check_notices(session, world):
    from matcher.followup.models import FollowUpTask
    from matcher.followup.service import complete_task

    referral = _start(session, world, started_days_ago=31)
    _sweep(session, today())
    overdue = [n for n in _of(session, K.CHECK_OVERDUE) if n.key.startswith("task:")]
    assert overdue and all(n.task_key.startswith("follow_up:") and n.done_at is None for n in overdue)
    task = session.scalar(select(FollowUpTask).where(FollowUpTask.referral_id == referral.id, FollowUpTask.days == 30))
    complete_task(session=session, actor=world.accounts["cw_a"], task_id=task.id, result="staying")
    session.commit()
    assert all(n.done_at is not None for n in _of(session, K.CHECK_OVERDUE) if n.task_key == f"follow_up:{task.id}")


def test_a_confirmed_stay_closes_the_base_check_notice(session, world):
    from matcher.referrals.service import transition

    referral = _start(session, world, started_days_ago=31)
    _sweep(session, today() - dt.timedelta(days=3))  # the 30-day check was due in a few days: the base is asked
    employer_notice = _of(session, K.CHECK_DUE, "emp_a")
    assert employer_notice and employer_notice[0].done_at is None
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="stayed_30")
    session.commit()
    assert all(n.done_at is not None for n in _of(session, K.CHECK_DUE))


def test_deciding_a_certification_closes_its_expiry_notice(session, world):
    from matcher.bases.service import decide_certification

    until = today() + dt.timedelta(days=20)
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=until)
    session.commit()
    _sweep(session, today())
    notices = _of(session, K.CERTIFICATION_EXPIRING)
    assert notices and all(n.done_at is None for n in notices)
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_a.id,
                         action="certify", valid_until=today() + dt.timedelta(days=400))
    session.commit()
    assert all(n.done_at is not None for n in _of(session, K.CERTIFICATION_EXPIRING))


def test_an_informing_notice_is_done_once_read_and_a_task_stays_open(session, world):
    from matcher.notify.service import mark_all_read, mark_read, notify, unread_count

    admin = world.accounts["admin"]
    notify(session, account_ids=[admin.id], kind=K.BASE_FLAGGED, key="flag:1", subject_type="company",
           subject_id=world.company_a.id, params={"company": "A", "flags": ["never_answers"]})
    notify(session, account_ids=[admin.id], kind=K.EXPORT_REQUESTED, key="export_request:99",
           subject_type="export_request", subject_id=99, params={"number": 99, "export": "candidates"})
    session.commit()
    assert unread_count(session=session, actor=admin) == 2
    [flag] = _of(session, K.BASE_FLAGGED)
    mark_read(session=session, actor=admin, notification_id=flag.id)
    mark_all_read(session=session, actor=admin)
    session.commit()
    [flag], [task] = _of(session, K.BASE_FLAGGED), _of(session, K.EXPORT_REQUESTED)
    assert flag.done_at is not None
    assert task.read_at is not None and task.done_at is None  # read, but still to do
    assert unread_count(session=session, actor=admin) == 0


def test_the_page_lists_open_first_and_done_closed_and_the_badge_counts_open_ones(browser, world, session):
    from matcher.referrals.service import transition

    first = _refer(session, world)
    session.commit()
    transition(session=session, actor=world.accounts["emp_a"], referral_id=first.id, to="interview")
    session.commit()
    page = browser("emp_a", "zh")
    body = html(page.get("/notifications"))
    rows = body.split('data-testid="notifications"', 1)[1].split("<tr data-kind=")[1:]
    states = [('data-open="true"' in row) for row in rows]
    assert states == sorted(states, reverse=True)  # open ones first
    done = [row for row in rows if 'data-open="false"' in row]
    assert done and "notification-done" in done[0] and "✓ 已完成" in done[0]
    assert f"新推荐：{world.cand_a.public_id}" in done[0]
    assert badge(html(page.get("/employer"))) is None  # nothing open and unread: no badge
    closed = html(page.get("/notifications?show=done"))
    assert closed.count("<tr data-kind=") == 1
    assert "待办（" in body and "已完成" in body  # the tabs


def test_the_list_searches_and_sorts(browser, world, session):
    _refer(session, world)
    session.commit()
    page = browser("emp_a", "zh")
    found = html(page.get(f"/notifications?q={world.cand_a.public_id}"))
    assert found.count("<tr data-kind=") == 1
    assert html(page.get("/notifications?q=没有这个")).count("<tr data-kind=") == 0
    oldest = html(page.get("/notifications?sort=created_at"))
    assert 'aria-sort="ascending"' in oldest
    assert page.get("/notifications?sort=bogus").status_code == 200


def test_the_api_says_what_is_open(api, session, world):
    _refer(session, world)
    session.commit()
    h = world.h("emp_a")
    [item] = api.get("/api/v1/notifications?show=open", headers=h).json
    assert item["open"] is True and item["task_key"].startswith("referral:") and item["done_at"] is None
    assert api.get("/api/v1/notifications?show=done", headers=h).json == []
    assert api.get("/api/v1/notifications?show=bogus", headers=h).status_code == 422
