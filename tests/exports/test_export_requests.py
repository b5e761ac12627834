"""Identified exports: asked for with a reason, approved by another administrator, downloaded once."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select, update

from matcher import clock
from matcher.audit.models import AuditEvent
from matcher.exports.models import ExportRequest

BASE = "/api/v1/export-requests"


@pytest.fixture
def admins(world, session):
    """A second administrator, so that a request can be approved by someone other than its asker."""
    from matcher.auth.service import create_account, issue_token

    admin2 = create_account(session=session, actor=None, data=dict(
        username="admin2", display_name="Admin 2", password="correct-horse-battery", role="administrator",
        bureau_code="330700"))
    world.accounts["admin2"] = admin2
    world.tokens["admin2"] = issue_token(session=session, account=admin2, ttl_days=1)[0]
    session.commit()
    return world


def ask(api, world, who="cw_a", **body):
    data = {"kind": "candidates", "params": {"format": "csv"}, "reason": "移交县人社局核对就业登记"}
    data.update(body)
    return api.post(BASE, json=data, headers=world.h(who))


def ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def events(session, request_id):
    session.expire_all()
    return [(e.action, e.actor_id, e.fields) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "export_request", AuditEvent.object_id == request_id)
        .order_by(AuditEvent.id))]


def test_the_whole_way_ask_approve_download_once(api, admins, session):
    world = admins
    request = ok(ask(api, world), 201)
    assert request["status"] == "pending" and request["kind"] == "candidates"
    assert "name" in request["sensitive_columns"] and "offence_category" in request["sensitive_columns"]
    # Not downloadable before the decision.
    assert api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a")).status_code == 409
    approved = ok(api.post(f"{BASE}/{request['id']}/approve", json={"note": "同意"}, headers=world.h("admin")))
    assert approved["status"] == "approved" and approved["decided_by_id"] == world.accounts["admin"].id
    expires = dt.datetime.fromisoformat(approved["expires_at"])
    assert dt.timedelta(days=6, hours=23) < expires - dt.datetime.fromisoformat(approved["decided_at"]) \
        <= dt.timedelta(days=7)
    # Only the asker downloads it: the administrator who approved it may not.
    assert api.get(f"{BASE}/{request['id']}/file", headers=world.h("admin")).status_code == 403
    response = api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:4] == ["public_id", "external_id", "name", "id_number_masked"] and "offence_category" in header
    # A caseworker's identified file holds their office's files only (cand_dual: registered in office A).
    assert world.cand_a.name in text and world.cand_dual.name in text and world.cand_b.name not in text
    # Once.
    again = api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a"))
    assert again.status_code == 409
    assert ok(api.get(f"{BASE}/{request['id']}", headers=world.h("cw_a")))["status"] == "used"
    actions = events(session, request["id"])
    assert [a for a, _, _ in actions] == ["request", "approve", "export"]
    assert actions[2][1] == world.accounts["cw_a"].id and "name" in actions[2][2] and "phone" in actions[2][2]
    for _, _, names in actions:  # names of columns, never values
        assert world.cand_a.name not in (names or "")


def test_an_administrator_cannot_approve_their_own_request(api, admins):
    world = admins
    request = ok(ask(api, world, "admin", kind="referrals"), 201)
    response = api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin"))
    assert response.status_code == 403
    assert "another administrator" in response.get_json()["message"]
    zh = api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin", "zh"))
    assert zh.status_code == 403 and "其他管理员" in zh.get_json()["message"]
    approved = ok(api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin2")))
    assert approved["status"] == "approved"
    # Deciding twice is a conflict.
    assert api.post(f"{BASE}/{request['id']}/refuse", json={"note": "x"},
                    headers=world.h("admin2")).status_code == 409
    response = api.get(f"{BASE}/{request['id']}/file", headers=world.h("admin"))
    assert response.status_code == 200 and "candidate_name" in response.data.decode("utf-8-sig").splitlines()[0]


def test_refusing_needs_a_note_and_ends_the_request(api, admins, session):
    world = admins
    request = ok(ask(api, world), 201)
    response = api.post(f"{BASE}/{request['id']}/refuse", json={}, headers=world.h("admin"))
    assert response.status_code == 422 and "note" in response.get_json()["errors"]
    refused = ok(api.post(f"{BASE}/{request['id']}/refuse", json={"note": "理由不充分"}, headers=world.h("admin")))
    assert refused["status"] == "refused" and refused["decision_note"] == "理由不充分"
    assert api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a")).status_code == 409
    assert [a for a, _, _ in events(session, request["id"])] == ["request", "refuse"]


def test_an_approval_expires(api, admins, session):
    world = admins
    request = ok(ask(api, world), 201)
    ok(api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin")))
    session.execute(update(ExportRequest).where(ExportRequest.id == request["id"])
                    .values(expires_at=clock.now() - dt.timedelta(seconds=1)))
    session.commit()
    response = api.get(f"{BASE}/{request['id']}/file", headers=world.h("cw_a"))
    assert response.status_code == 409 and "expired" in response.get_json()["message"]
    assert ok(api.get(f"{BASE}/{request['id']}", headers=world.h("cw_a")))["status"] == "expired"


def test_the_approval_period_is_configurable(api, admins, app):
    world = admins
    request = ok(ask(api, world), 201)
    app.config["EXPORT_APPROVAL_DAYS"] = 2
    try:
        approved = ok(api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin")))
    finally:
        app.config["EXPORT_APPROVAL_DAYS"] = 7
    span = dt.datetime.fromisoformat(approved["expires_at"]) - dt.datetime.fromisoformat(approved["decided_at"])
    assert span == dt.timedelta(days=2)


def test_scope_of_requests(api, admins):
    world = admins
    mine = ok(ask(api, world, "cw_a"), 201)
    theirs = ok(ask(api, world, "cw_b"), 201)
    # Each caseworker sees their own requests; another's answers 404.
    assert [r["id"] for r in ok(api.get(BASE, headers=world.h("cw_a")))] == [mine["id"]]
    assert api.get(f"{BASE}/{theirs['id']}", headers=world.h("cw_a")).status_code == 404
    assert api.get(f"{BASE}/{theirs['id']}/file", headers=world.h("cw_a")).status_code == 404
    # Administrators see all of them; `mine` narrows to their own.
    assert {r["id"] for r in ok(api.get(BASE, headers=world.h("admin")))} == {mine["id"], theirs["id"]}
    assert ok(api.get(BASE, query_string={"mine": "true"}, headers=world.h("admin"))) == []
    assert [r["id"] for r in ok(api.get(BASE, query_string={"status": "pending"}, headers=world.h("admin")))] \
        == [theirs["id"], mine["id"]]
    # Deciding is the administrators' alone: to anyone else it does not exist.
    assert api.post(f"{BASE}/{mine['id']}/approve", json={}, headers=world.h("cw_a")).status_code == 404
    assert api.post(f"{BASE}/{mine['id']}/approve", json={}, headers=world.h("cw_b")).status_code == 404
    assert api.post(f"{BASE}/999999/approve", json={}, headers=world.h("admin")).status_code == 404
    assert api.get(BASE).status_code == 401


def test_who_may_ask_for_what(api, admins):
    world = admins
    assert ask(api, world, "emp_a", kind="referrals").status_code == 403
    assert ask(api, world, "org", kind="candidates").status_code == 403
    assert ask(api, world, "cw_a", kind="fair_plan", params={"fair_id": 1}).status_code == 403
    # Bases and slots hold no personal data: they are exported directly.
    response = ask(api, world, "admin", kind="bases")
    assert response.status_code == 422 and "kind" in response.get_json()["errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": ""}, "reason"),
    ({"reason": None}, "reason"),
    ({"reason": "x" * 301}, "reason"),
    ({"kind": None}, "kind"),
    ({"params": {"format": "pdf"}}, "params"),
    ({"params": {"colour": "red"}}, "params"),
])
def test_invalid_requests_name_the_field_in_english_and_chinese(api, admins, body, field):
    world = admins
    data = {"kind": "candidates", "params": {}, "reason": "核对"}
    data.update(body)
    data = {k: v for k, v in data.items() if v is not None}
    english = api.post(BASE, json=data, headers=world.h("cw_a", "en"))
    assert english.status_code == 422 and field in english.get_json()["errors"], english.get_json()
    chinese = api.post(BASE, json=data, headers=world.h("cw_a", "zh"))
    assert chinese.status_code == 422 and field in chinese.get_json()["errors"]
    assert chinese.get_json()["message"] != english.get_json()["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(chinese.get_json()["errors"][field]))


def test_a_missing_reason_says_so(api, admins):
    world = admins
    response = api.post(BASE, json={"kind": "candidates"}, headers=world.h("cw_a", "zh"))
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["reason"]


def test_the_plain_export_is_pseudonymous(api, admins):
    world = admins
    response = api.get("/api/v1/exports/candidates", headers=world.h("cw_a"))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = response.data.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    for column in ("name", "id_number_masked", "phone", "residence_address", "offence_category", "risk_grade",
                   "hukou", "ethnicity", "release_institution", "residence_lat"):
        assert column not in header
    assert world.cand_a.public_id in text and world.cand_a.name not in text
    assert world.cand_a.id_number_masked not in text


def test_the_openapi_document_lists_the_endpoints(api):
    spec = api.get("/api/openapi.json").get_json()
    for path in ("/api/v1/export-requests", "/api/v1/export-requests/{request_id}/approve",
                 "/api/v1/export-requests/{request_id}/refuse", "/api/v1/export-requests/{request_id}/file"):
        assert path in spec["paths"]


def test_the_identified_fair_plan_goes_through_approval(api, admins, session):
    from openpyxl import load_workbook

    from matcher.fairs import service as fairs

    world = admins
    org = world.accounts["org"]
    fair = fairs.create_fair(session=session, actor=org, data={
        "name": "春风行动", "held_on": clock.today() + dt.timedelta(days=1), "venue": "义乌市人力资源市场",
        "starts_at": dt.time(9), "n_blocks": 4, "block_minutes": 30, "max_interviews": 2})
    session.commit()
    pseudonymous = api.get(f"/api/v1/fairs/{fair.id}/plan.xlsx", headers=world.h("org"))
    assert pseudonymous.status_code == 200
    request = ok(ask(api, world, "org", kind="fair_plan", params={"fair_id": fair.id, "lang": "en"}), 201)
    assert ask(api, world, "org", kind="fair_plan", params={"fair_id": 999999}).status_code == 404
    assert ask(api, world, "org", kind="fair_plan", params={}).status_code == 422
    ok(api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin")))
    response = api.get(f"{BASE}/{request['id']}/file", headers=world.h("org"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert next(book["Unplaced"].iter_rows(values_only=True)) == ("Candidate no.", "Name", "Judicial office",
                                                                    "Reason")
    assert api.get(f"{BASE}/{request['id']}/file", headers=world.h("org")).status_code == 409


def test_the_command_line_writes_an_approved_file_once(app, api, admins, session, tmp_path):
    world = admins
    request = ok(ask(api, world, "cw_a"), 201)
    runner = app.test_cli_runner()
    target = tmp_path / "identified.csv"
    chinese_shell = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "zh_CN.UTF-8"}
    pending = runner.invoke(args=["export", "approved", str(request["id"]), "-o", str(target), "--as", "cw_a"],
                            env=chinese_shell)
    assert pending.exit_code == 1 and "等待管理员审批" in pending.output  # the shell's language: Chinese
    ok(api.post(f"{BASE}/{request['id']}/approve", json={}, headers=world.h("admin")))
    other = runner.invoke(args=["export", "approved", str(request["id"]), "-o", str(target), "--as", "cw_b"])
    assert other.exit_code == 1 and not target.exists()
    done = runner.invoke(args=["export", "approved", str(request["id"]), "-o", str(target), "--as", "cw_a"])
    assert done.exit_code == 0, done.output
    assert world.cand_a.name in target.read_text(encoding="utf-8-sig")
    again = runner.invoke(args=["export", "approved", str(request["id"]), "-o", str(target), "--as", "cw_a",
                                "--lang", "zh"])
    assert again.exit_code == 1 and "已经下载过" in again.output
    plain = tmp_path / "plain.csv"
    assert runner.invoke(args=["export", "candidates", "-o", str(plain), "--as", "cw_a"]).exit_code == 0
    assert world.cand_a.name not in plain.read_text(encoding="utf-8-sig")
