"""The pages: pseudonymous downloads and identified requests (/exports), approvals (/admin/export-requests)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from matcher.exports.models import ExportRequest
from tests.web.test_fair_pages import get_bytes


@pytest.fixture
def admin2(world, session):
    from matcher.auth.service import create_account

    account = create_account(session=session, actor=None, data=dict(
        username="admin2", display_name="Admin 2", password="correct-horse-battery", role="administrator",
        bureau_code="330700"))
    session.commit()
    return account


def test_a_caseworker_asks_an_administrator_approves_and_the_caseworker_downloads_once(browser, world, session,
                                                                                      admin2):
    cw = browser("cw_a")
    page = cw.get("/exports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "数据导出" in html and "申请实名导出" in html
    assert 'href="/exports"' in cw.get("/caseworker").get_data(as_text=True)  # the menu links to it
    # The pseudonymous file at once: no names.
    plain = cw.get("/exports/candidates.csv")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-store"
    assert world.cand_a.public_id in plain.data.decode("utf-8-sig")
    assert world.cand_a.name not in plain.data.decode("utf-8-sig")
    # A request without a reason is shown again with the error next to the field.
    refused = cw.post("/exports/requests", {"kind": "candidates", "format": "csv", "reason": ""})
    assert refused.status_code == 422 and "必须填写理由" in refused.get_data(as_text=True)
    sent = cw.post("/exports/requests", {"kind": "candidates", "format": "csv", "reason": "交人社局核对"})
    assert sent.status_code == 303
    request = session.scalar(select(ExportRequest))
    assert request.status.value == "pending"
    listing = cw.get("/exports").get_data(as_text=True)
    assert "交人社局核对" in listing and "待审批" in listing and "下载（仅一次）" not in listing

    admin = browser("admin")
    approvals = admin.get("/admin/export-requests")
    assert approvals.status_code == 200 and "导出审批" in approvals.get_data(as_text=True)
    assert "交人社局核对" in approvals.get_data(as_text=True)
    assert admin.post(f"/admin/export-requests/{request.id}/refuse", {"note": ""}).status_code == 422
    assert admin.post(f"/admin/export-requests/{request.id}/approve", {"note": "同意"}).status_code == 303

    listing = cw.get("/exports").get_data(as_text=True)
    assert "已批准" in listing and "下载（仅一次）" in listing
    file = cw.get(f"/exports/requests/{request.id}/file")
    assert file.status_code == 200 and file.headers["Cache-Control"] == "no-store"
    assert world.cand_a.name in file.data.decode("utf-8-sig")
    again = cw.get(f"/exports/requests/{request.id}/file")
    assert again.status_code == 303  # back to the page, with the reason
    assert "已经下载过" in cw.get("/exports").get_data(as_text=True)


def test_an_administrator_cannot_approve_their_own_request_on_the_page(browser, world, session, admin2):
    admin = browser("admin", lang="en")
    assert admin.post("/exports/requests", {"kind": "referrals", "format": "xlsx",
                                            "reason": "annual check"}).status_code == 303
    request = session.scalar(select(ExportRequest))
    page = admin.get("/admin/export-requests").get_data(as_text=True)
    assert "Your own request: another administrator decides it." in page
    response = admin.post(f"/admin/export-requests/{request.id}/approve", {"note": ""})
    assert response.status_code == 403 and "another administrator" in response.get_data(as_text=True)
    other = browser("admin2", lang="en")
    assert other.post(f"/admin/export-requests/{request.id}/approve", {"note": "ok"}).status_code == 303
    file = get_bytes(admin, f"/exports/requests/{request.id}/file")
    assert file.status_code == 200
    from openpyxl import load_workbook

    header = [c.value for c in load_workbook(io.BytesIO(file.data)).worksheets[0][1]]
    assert "candidate_name" in header  # the identified referral history, in the language of the page that asked


def test_who_sees_the_pages(browser, world):
    assert browser("emp_a").get("/exports").status_code == 404
    assert browser("cw_a").get("/admin/export-requests").status_code == 404
    org = browser("org").get("/exports").get_data(as_text=True)
    assert "招聘会面试安排" in org and "帮教对象档案" not in org.split("申请实名导出")[1]
    assert browser().get("/exports").status_code == 302
