"""The notifications page (every role, both languages), marking read, the unread badge in the header, and that
nobody marks another's notification."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from matcher.clock import today
from matcher.notify.models import Notification


def html(response) -> str:
    return response.get_data(as_text=True)


def badge(page_html: str) -> str | None:
    found = re.search(r'data-testid="notifications-badge"[^>]*>(\d+)<', page_html)
    return found.group(1) if found else None


def refer(world, session, candidate=None, slot=None, who="cw_a"):
    from matcher.referrals.service import create_referral

    referral = create_referral(session=session, actor=world.accounts[who], candidate_id=(candidate or world.cand_a).id,
                               slot_id=(slot or world.slot_a).id, send=True)
    session.commit()
    return referral


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("who", ["admin", "cw_a", "emp_a", "org"])
def test_the_page_renders_for_every_role(browser, world, session, who, lang):
    page = browser(who, lang)
    response = page.get("/notifications")
    assert response.status_code == 200, html(response)[:1000]
    body = html(response)
    assert ("No notifications here." if lang == "en" else "这里没有通知。") in body
    assert 'data-testid="notifications-link"' in body and badge(body) is None


def test_an_employer_sees_the_new_referral_with_a_link_and_a_badge(browser, world, session):
    referral = refer(world, session)
    page = browser("emp_a", "en")
    home = html(page.get("/employer"))
    assert badge(home) == "1"
    body = html(page.get("/notifications"))
    assert f"New referral: {world.cand_a.public_id} for 厨师A" in body
    assert f'href="/employer/referrals/{referral.id}"' in body
    assert 'data-unread="true"' in body
    assert world.cand_a.name not in body
    zh = html(browser("emp_a", "zh").get("/notifications"))
    assert f"新推荐：{world.cand_a.public_id} 应聘“厨师A”" in zh and "标为已读" in zh


def test_mark_read_and_mark_all_read(browser, world, session):
    refer(world, session)
    refer(world, session, candidate=world.cand_dual, who="cw_b")
    first = session.scalars(select(Notification).order_by(Notification.id)).first()
    page = browser("emp_a", "en")
    page.get("/notifications")
    done = page.post(f"/notifications/{first.id}/read", {"show": "all"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/notifications")
    body = html(page.get("/notifications"))
    assert badge(body) == "1" and body.count('data-unread="true"') == 1 and "Unread (1)" in body
    # Unread first: the unread notice comes before the read one.
    assert body.index('data-unread="true"') < body.index('data-unread="false"')
    only_unread = html(page.get("/notifications?show=unread"))
    assert only_unread.count("<tr data-kind") == 1
    done = page.post("/notifications/read-all", {"show": "unread"})
    assert done.status_code == 303 and "show=unread" in done.headers["Location"]
    body = html(page.get("/notifications"))
    assert "Marked read: 1." in body and badge(body) is None and 'data-unread="true"' not in body


def test_marking_needs_the_csrf_token(browser, world, session):
    refer(world, session)
    notice_id = session.scalar(select(Notification.id))
    page = browser("emp_a", "en")
    assert page.post(f"/notifications/{notice_id}/read", {}, csrf=False).status_code == 400
    assert page.post("/notifications/read-all", {}, csrf=False).status_code == 400
    assert session.scalar(select(Notification.read_at)) is None


@pytest.mark.parametrize("who", ["emp_b", "cw_a", "admin"])
def test_nobody_marks_anothers_notification(browser, world, session, who):
    refer(world, session)
    notice_id = session.scalar(select(Notification.id))
    page = browser(who, "en")
    page.get("/notifications")
    assert page.post(f"/notifications/{notice_id}/read").status_code == 404
    assert "New referral" not in html(page.get("/notifications"))
    session.expire_all()
    assert session.scalar(select(Notification.read_at)) is None


def test_a_caseworker_and_an_administrator_follow_links_to_their_pages(browser, world, session):
    from matcher.bases.service import decide_certification
    from matcher.notify.scheduler import run_sweep
    from matcher.referrals.service import transition

    referral = refer(world, session)
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="offered")
    transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="started")
    decide_certification(session=session, actor=world.accounts["admin"], company_id=world.company_b.id,
                         action="certify", valid_until=today() + dt.timedelta(days=40))
    run_sweep(session, as_of=today() + dt.timedelta(days=25))
    session.commit()
    caseworker = html(browser("cw_a", "en").get("/notifications"))
    assert f"30-day check due: {world.cand_a.public_id}" in caseworker
    assert f'href="/caseworker/referrals/{referral.id}"' in caseworker
    admin = html(browser("admin", "zh").get("/notifications"))
    assert "认定即将到期：乙汽车服务有限公司" in admin
    assert f'href="/admin/bases/{world.company_b.id}"' in admin
    employer = html(browser("emp_b", "en").get("/notifications"))
    assert "Your base&#39;s certification ends on" in employer and 'href="/employer"' in employer


def test_the_list_pages(browser, world, session):
    from matcher.notify.service import notify

    for n in range(55):
        notify(session, account_ids=[world.accounts["org"].id], kind="fair_invitation", key=f"k{n}",
               params={"public_id": f"XT-{n:04d}", "fair_date": "2026-05-01"})
    session.commit()
    page = browser("org", "en")
    first = html(page.get("/notifications"))
    assert first.count("<tr data-kind") == 50 and "Older" in first and badge(first) == "55"
    second = html(page.get("/notifications?page=2"))
    assert second.count("<tr data-kind") == 5 and "Newer" in second


def test_the_badge_costs_one_query_and_none_when_logged_out(browser, world, session, app):
    from sqlalchemy import event

    from matcher.extensions import db

    refer(world, session)
    page = browser("emp_a", "en")
    statements = []

    def count(conn, cursor, statement, *args):
        if "notifications" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page.get("/employer/profile")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "count(" in statements[0].lower()
    assert browser().get("/login").status_code == 200
