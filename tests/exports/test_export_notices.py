"""The second administrator is told of an export request, and the requester of the approval, the refusal or the
expiry; each notice is a task that is done when the request is decided, downloaded or expired."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from matcher import clock
from matcher.auth.models import Account
from matcher.exports.models import ExportRequest
from matcher.notify.models import Notification, NotificationKind
from tests.exports.test_export_requests import BASE, ask, ok

K = NotificationKind


def notices(session, request_id=None) -> list[tuple[str, str, bool]]:
    """(username, kind, open) of every notice about export requests."""
    session.expire_all()
    stmt = (select(Account.username, Notification.kind, Notification.done_at)
            .join(Account, Account.id == Notification.account_id)
            .where(Notification.subject_type == "export_request"))
    if request_id is not None:
        stmt = stmt.where(Notification.subject_id == request_id)
    return sorted((username, kind.value, done is None) for username, kind, done in session.execute(stmt))


def test_both_administrators_are_told_and_the_requester_learns_the_approval(api, admins, session):
    world = admins
    request = ok(ask(api, world), 201)
    assert notices(session) == [("admin", "export_requested", True), ("admin2", "export_requested", True)]
    ok(api.post(f"{BASE}/{request['id']}/approve", json={"note": "同意"}, headers=world.h("admin2")))
    assert notices(session) == [("admin", "export_requested", False), ("admin2", "export_requested", False),
                                ("cw_a", "export_approved", True)]
    # The requester's notice, in Chinese, says what and until when; it leads to the exports page.
    listed = api.get("/api/v1/notifications", headers={**world.h("cw_a"), "Accept-Language": "zh-CN"}).json
    [approved] = [n for n in listed if n["kind"] == "export_approved"]
    assert approved["subject"] == f"导出已获批准：第 {request['id']} 号申请"
    assert "帮教对象档案" in approved["body"] and "前到“数据导出”页面下载" in approved["body"]
    assert approved["open"] is True
    assert api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a")).status_code == 200
    assert notices(session)[-1] == ("cw_a", "export_approved", False)  # downloaded: done


def test_an_administrators_own_request_goes_to_the_others_only(api, admins, session):
    world = admins
    request = ok(ask(api, world, who="admin"), 201)
    assert notices(session, request["id"]) == [("admin2", "export_requested", True)]


def test_the_requester_learns_a_refusal(api, admins, session):
    world = admins
    request = ok(ask(api, world), 201)
    ok(api.post(f"{BASE}/{request['id']}/refuse", json={"note": "理由不充分"}, headers=world.h("admin")))
    assert ("cw_a", "export_refused", True) in notices(session)
    assert ("admin2", "export_requested", False) in notices(session)
    listed = api.get("/api/v1/notifications", headers={**world.h("cw_a"), "Accept-Language": "zh-CN"}).json
    [refused] = [n for n in listed if n["kind"] == "export_refused"]
    assert refused["subject"] == f"导出被驳回：第 {request['id']} 号申请" and "理由不充分" not in refused["body"]


def test_the_requester_learns_an_expiry_and_the_approval_notice_closes(api, admins, session):
    world = admins
    request = ok(ask(api, world), 201)
    ok(api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin")))
    session.execute(update(ExportRequest).where(ExportRequest.id == request["id"])
                    .values(expires_at=clock.now() - dt.timedelta(seconds=1)))
    session.commit()
    # The daily sweep expires it though nobody looks (a download refused with a 409 leaves nothing behind).
    assert api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a")).status_code == 409
    from matcher.notify.scheduler import run_sweep

    run_sweep(session)
    session.commit()
    mine = [n for n in notices(session) if n[0] == "cw_a"]
    assert mine == [("cw_a", "export_approved", False), ("cw_a", "export_expired", True)]
    assert ok(api.get(f"{BASE}/{request['id']}", headers=world.h("cw_a")))["status"] == "expired"


def test_the_approvals_page_is_where_the_notice_leads(browser, admins, session, api):
    world = admins
    ok(ask(api, world), 201)
    page = browser("admin2")
    body = page.get("/notifications").get_data(as_text=True)
    assert "待审批的导出：第" in body and 'href="/admin/export-requests"' in body
    assert "cw_a 申请实名导出（帮教对象档案）" in body
