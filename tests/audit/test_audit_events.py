"""Reads of sensitive fields and every change leave an audit event: who, what, which record, from where; never
the values."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from matcher import clock
from matcher.audit.models import AuditEvent
from matcher.audit.service import SENSITIVE_FIELDS, record, verify
from matcher.extensions import db

ADDRESS = "幸福路88号3幢"


@pytest.fixture
def file_a(world, session, kit):
    """A candidate with every sensitive field set, and the values that must never reach the log."""
    number = kit.make_id_number(seq=77)
    candidate = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=77,
                                  id_number=number, residence_address=ADDRESS, offence_category="fraud",
                                  risk_grade="yellow", hukou=kit.JIANGDONG)
    return candidate, (number, candidate.id_number_masked, ADDRESS, "fraud", "yellow", kit.JIANGDONG)


def _events(session, **where) -> list[AuditEvent]:
    session.expire_all()
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, key) == value)
    return list(session.scalars(stmt))


def _no_values(session, values) -> None:
    """No column of any audit row holds a sensitive value."""
    rows = session.execute(text("SELECT * FROM audit_events")).all()
    assert rows
    dump = "\n".join(repr(tuple(row)) for row in rows)
    for value in values:
        assert str(value) not in dump, value


def test_intake_and_api_read_and_list(world, session, api, file_a):
    candidate, values = file_a
    created = _events(session, object_type="candidate", object_id=candidate.id, action="create")
    assert len(created) == 1
    assert {"id_number", "offence_category", "residence_address", "hukou", "risk_grade"} <= \
        set(created[0].fields.split(","))
    assert created[0].actor_id == world.accounts["cw_a"].id and created[0].actor_role == "caseworker"

    session.commit()
    assert api.get(f"/api/v1/candidates/{candidate.id}", headers=world.h("cw_a")).status_code == 200
    [read] = _events(session, object_id=candidate.id, action="read")
    assert read.fields == ",".join(sorted(SENSITIVE_FIELDS))
    assert read.remote_addr == "127.0.0.1"

    assert api.get("/api/v1/candidates", headers=world.h("cw_a")).status_code == 200
    [listed] = _events(session, object_type="candidate", object_id=None, action="read")
    assert listed.actor_id == world.accounts["cw_a"].id

    # Out of scope: not found, and nothing read.
    assert api.get(f"/api/v1/candidates/{candidate.id}", headers=world.h("cw_b")).status_code == 404
    assert len(_events(session, action="read")) == 2
    _no_values(session, values)
    assert verify(session)[0]


def test_changes_record_the_names_of_changed_fields(world, session, api, file_a):
    candidate, values = file_a
    session.commit()
    h = world.h("cw_a")
    response = api.patch(f"/api/v1/candidates/{candidate.id}", headers=h,
                         json={"residence_address": "光明路1号", "phone": "13800000000", "name": candidate.name})
    assert response.status_code == 200, response.json
    [update] = _events(session, object_id=candidate.id, action="update")
    assert update.fields == "phone,residence_address"  # the name was sent unchanged

    today = clock.today().isoformat()
    assert api.post(f"/api/v1/candidates/{candidate.id}/risk-assessments", headers=h,
                    json={"grade": "red", "assessed_on": today, "reason": "复查"}).status_code == 201
    assert api.post(f"/api/v1/candidates/{candidate.id}/consents", headers=h,
                    json={"kind": "referral", "granted": True, "recorded_on": today}).status_code == 201
    assert api.post(f"/api/v1/candidates/{candidate.id}/visits", headers=h,
                    json={"visited_on": today, "kind": "home", "note": "在家"}).status_code == 201
    assert api.get(f"/api/v1/candidates/{candidate.id}/risk-assessments", headers=h).status_code == 200
    kinds = [(e.action, e.fields) for e in _events(session, object_id=candidate.id)]
    assert kinds[-4:] == [("assess_risk", "risk_grade"), ("consent", "consents"), ("visit", "visits"),
                          ("read", "risk_grade")]
    _no_values(session, (*values, "光明路1号", "13800000000", "复查", "在家"))
    assert verify(session) == (True, None, len(_events(session)))


def test_logins_accounts_referral_moves_and_exports(world, session, api, kit, file_a):
    candidate, values = file_a
    session.commit()
    assert api.post("/api/v1/auth/tokens", json={"username": "cw_a", "password": kit.PASSWORD}).status_code == 201
    assert api.post("/api/v1/auth/tokens", json={"username": "cw_a", "password": "wrong-password!"}) \
        .status_code == 401
    assert api.post("/api/v1/auth/tokens", json={"username": "nobody", "password": "wrong-password!"}) \
        .status_code == 401
    logins = [(e.action, e.object_id) for e in _events(session, object_type="account")
              if e.action.startswith("login")]
    cw_id = world.accounts["cw_a"].id
    assert logins == [("login", cw_id), ("login_failed", cw_id), ("login_failed", None)]

    response = api.patch(f"/api/v1/accounts/{cw_id}", headers=world.h("admin"),
                         json={"is_active": False, "password": "another-password-1"})
    assert response.status_code == 200, response.json
    [change] = _events(session, object_type="account", object_id=cw_id, action="deactivate")
    # The new password revoked cw_a's live tokens with it (one issued by the world, one just above).
    assert change.fields == "api_tokens,is_active_account,password" and change.actor_id == world.accounts["admin"].id
    issued = _events(session, object_type="api_token", action="issue_token")
    assert [e.actor_id for e in issued].count(cw_id) >= 1

    created = api.post("/api/v1/referrals", headers=world.h("admin"),
                       json={"candidate_id": candidate.id, "slot_id": world.slot_a.id, "send": True})
    assert created.status_code == 201, created.json
    moves = _events(session, object_type="referral", object_id=created.json["id"], action="move")
    assert moves and all(e.fields == "status" for e in moves)

    personal = {"offence_category", "risk_grade", "id_number_masked", "hukou", "residence_address"}
    # A plain export is pseudonymous: its event names no personal column.
    assert api.get("/api/v1/exports/candidates?format=csv", headers=world.h("admin")).status_code == 200
    [export] = _events(session, object_type="export")
    assert not personal & set((export.fields or "").split(","))
    # An identified one goes through an approved request, and its download names the personal columns.
    asked = api.post("/api/v1/export-requests", headers=world.h("cw_b"), json={  # cw_a was deactivated above
        "kind": "candidates", "params": {"format": "csv"}, "reason": "移交档案"})
    assert asked.status_code == 201, asked.json
    approved = api.post(f"/api/v1/export-requests/{asked.json['id']}/approve", json={}, headers=world.h("admin"))
    assert approved.status_code == 200, approved.json
    assert api.get(f"/api/v1/export-requests/{asked.json['id']}/file", headers=world.h("cw_b")).status_code == 200
    identified = [e for e in _events(session, action="export") if e.actor_id == world.accounts["cw_b"].id]
    assert len(identified) == 1 and personal <= set(identified[0].fields.split(","))
    _no_values(session, (*values, "another-password-1", "wrong-password!", "nobody"))
    assert verify(session)[0]


def test_caseworker_pages_record_reads(world, session, browser, file_a):
    candidate, values = file_a
    page = browser("cw_a")
    assert page.get(f"/caseworker/candidates/{candidate.id}").status_code == 200
    # The file page shows its sensitive fields, and its consents, screenings, visits and re-offences.
    shown = [e.fields for e in _events(session, object_id=candidate.id, action="read")]
    assert sorted(shown) == sorted([",".join(sorted(SENSITIVE_FIELDS)), "consents", "risk_grade", "visits",
                                    "reoffences"])
    assert page.get(f"/caseworker/candidates/{candidate.id}/edit").status_code == 200
    assert [e.fields for e in _events(session, object_id=candidate.id, action="read")][len(shown):] == \
        [",".join(sorted(SENSITIVE_FIELDS))]
    assert page.get("/caseworker/candidates").status_code == 200
    assert _events(session, object_type="candidate", object_id=None, action="read")[-1].fields == "risk_grade"
    _no_values(session, values)


def test_record_keeps_field_names_short_and_never_more_than_the_column(app, session):
    event = record(session, actor=None, action="update", object_type="candidate", object_id=1,
                   fields=[f"field_{n:03d}" for n in range(60)])
    session.commit()
    assert len(event.fields) <= 300 and event.fields.endswith(",…")
    assert event.prev_hash == "0" * 64 and verify(session) == (True, None, 1)


def test_cleanup_of_the_suite_can_empty_the_table(app, session):
    record(session, actor=None, action="read", object_type="candidate")
    session.commit()
    assert db.session.scalar(select(AuditEvent.id)) is not None
