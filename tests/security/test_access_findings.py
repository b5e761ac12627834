"""What an outside test of who-sees-what found, one test each (issue 13): free text reaching a base, a district
bureau's administrator reading the whole city, wildcards in a search, a declined referral still naming the person,
and refusals and sensitive reads missing from the audit log."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.audit.models import AuditEvent
from matcher.extensions import db

DONGYANG, YIWU = "330783", "330782"
VISIT_NOTE, CHECK_NOTE, OFFICE_NOTE = "精神病复发住院", "住院 精神科", "家庭矛盾，内部掌握"


@pytest.fixture
def district_admins(world, session):
    """The Yiwu and Dongyang bureaus' administrators beside the city's (`admin`, 330700)."""
    from matcher.auth.service import create_account, issue_token

    for username, code in (("admin_yiwu", YIWU), ("admin_dongyang", DONGYANG)):
        account = create_account(session=session, actor=None, data=dict(
            username=username, display_name=username, password="correct-horse-battery", role="administrator",
            bureau_code=code))
        world.accounts[username] = account
        world.tokens[username] = issue_token(session=session, account=account, ttl_days=1)[0]
    session.commit()
    return world


def _placed(api, world, session, days_ago=40):
    """cand_a started at base A `days_ago` days ago: a referral with its follow-up checks."""
    import datetime as dt

    from sqlalchemy import update

    from matcher.clock import today
    from matcher.referrals.models import Referral, ReferralEvent
    from matcher.referrals.service import create_referral, transition

    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    start = today() - dt.timedelta(days=days_ago)
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                    .values(on_date=start - dt.timedelta(days=5)))
    session.commit()
    for to in ("offered", "started"):
        transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to=to, on_date=start)
    session.commit()
    return session.get(Referral, referral.id)


def _everything_the_base_reads(api, world, referral_id) -> str:
    """The referral and follow-up API, both export formats and the base's pages, as one text."""
    from tests.web.conftest import PageClient

    texts = [api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("emp_a")).get_data(as_text=True),
             api.get("/api/v1/referrals", headers=world.h("emp_a")).get_data(as_text=True),
             api.get("/api/v1/follow-up-tasks", headers=world.h("emp_a")).get_data(as_text=True)]
    for task in api.get("/api/v1/follow-up-tasks", headers=world.h("emp_a")).json:
        texts.append(api.get(f"/api/v1/follow-up-tasks/{task['id']}", headers=world.h("emp_a")).get_data(as_text=True))
    texts.append(api.get("/api/v1/exports/referrals", headers=world.h("emp_a")).get_data(as_text=True))
    book = load_workbook(io.BytesIO(api.get("/api/v1/exports/referrals?format=xlsx", headers=world.h("emp_a")).data))
    texts += [str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row]
    page = PageClient(api.application, "zh").login("emp_a")
    for url in (f"/employer/referrals/{referral_id}", "/employer/referrals?show=all", "/employer/follow-up"):
        texts.append(page.get(url).get_data(as_text=True))
    return "\n".join(texts)


def test_a_visit_note_never_reaches_the_base(api, world, session):
    referral = _placed(api, world, session)
    visit = api.post(f"/api/v1/candidates/{world.cand_a.id}/visits", headers=world.h("cw_a"), json={
        "visited_on": referral.started_on.isoformat(), "kind": "home", "referral_id": referral.id,
        "employment_state": "left", "note": VISIT_NOTE})
    assert visit.status_code == 201, visit.json
    seen = _everything_the_base_reads(api, world, referral.id)
    assert VISIT_NOTE not in seen
    assert api.get(f"/api/v1/referrals/{referral.id}", headers=world.h("emp_a")).json["end_code"] == "other"


def test_a_follow_up_note_never_reaches_the_base(api, world, session):
    referral = _placed(api, world, session)
    task_id = api.get("/api/v1/follow-up-tasks", headers=world.h("cw_a")).json[0]["id"]
    noted = api.post(f"/api/v1/follow-up-tasks/{task_id}/complete", headers=world.h("cw_a"),
                     json={"result": "unreachable", "note": CHECK_NOTE})
    assert noted.status_code == 200 and CHECK_NOTE in noted.json["note"]
    assert CHECK_NOTE not in _everything_the_base_reads(api, world, referral.id)


def test_the_office_notes_on_a_referral_stay_with_the_office(api, world, session):
    created = api.post("/api/v1/referrals", headers=world.h("cw_a"), json={
        "candidate_id": world.cand_a.id, "slot_id": world.slot_a.id, "send": True,
        "shared_note": "请上午来电", "internal_note": OFFICE_NOTE})
    assert created.status_code == 201, created.json
    referral_id = created.json["id"]
    withdrawn = api.post(f"/api/v1/referrals/{referral_id}/transitions", headers=world.h("cw_a"), json={
        "to": "withdrawn", "reason_code": "family", "internal_note": OFFICE_NOTE + "（撤回）"})
    assert withdrawn.status_code == 200, withdrawn.json
    seen = _everything_the_base_reads(api, world, referral_id)
    assert OFFICE_NOTE not in seen
    base = api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("emp_a")).json
    assert base["shared_note"] == "请上午来电" and base["end_code"] == "family"
    assert api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("cw_a")).json["internal_note"] == OFFICE_NOTE


def test_a_district_administrator_keeps_to_its_district(api, district_admins, session):
    world = district_admins
    _placed(api, world, session)
    for who, sees in (("admin", True), ("admin_yiwu", True), ("admin_dongyang", False)):
        file = api.get(f"/api/v1/candidates/{world.cand_a.id}", headers=world.h(who))
        assert file.status_code == (200 if sees else 404), who
        listed = api.get("/api/v1/candidates?page_size=200", headers=world.h(who)).json
        assert bool(listed) == sees, who
        referrals = api.get("/api/v1/referrals?page_size=200", headers=world.h(who)).json
        assert bool(referrals) == sees, who
        export = api.get("/api/v1/exports/candidates", headers=world.h(who)).get_data(as_text=True)
        assert (world.cand_a.public_id in export) == sees, who
        tasks = api.get("/api/v1/follow-up-tasks", headers=world.h(who)).json
        assert bool(tasks) == sees, who
    # A Dongyang administrator cannot certify Yiwu's bases (it may read the ones certified now, as any staff).
    decided = api.post(f"/api/v1/bases/{world.company_a.id}/certification", headers=world.h("admin_dongyang"),
                       json={"action": "suspend", "reason": "检查"})
    assert decided.status_code == 403
    assert api.get(f"/api/v1/bases/{world.company_applied.id}", headers=world.h("admin_dongyang")).status_code == 404


def test_wildcards_in_a_search_are_plain_characters(api, world):
    everyone = api.get("/api/v1/candidates?page_size=200", headers=world.h("admin")).json
    assert len(everyone) == 3
    for wildcard in ("%", "_", "测%", "测试_"):
        assert api.get("/api/v1/candidates", query_string={"q": wildcard}, headers=world.h("admin")).json == []
    assert len(api.get("/api/v1/candidates", query_string={"q": "测试1"}, headers=world.h("admin")).json) == 3


def test_a_declined_referral_no_longer_names_the_person_to_the_base(api, world, session):
    from matcher.clock import today

    created = api.post("/api/v1/referrals", headers=world.h("cw_a"), json={
        "candidate_id": world.cand_a.id, "slot_id": world.slot_a.id, "send": True}).json
    consent = api.post(f"/api/v1/candidates/{world.cand_a.id}/consents", headers=world.h("cw_a"), json={
        "kind": "disclose_identity", "granted": True, "base_id": world.company_a.id, "purpose": "interview",
        "recorded_on": today().isoformat()})
    assert consent.status_code == 201, consent.json
    named = api.get(f"/api/v1/referrals/{created['id']}", headers=world.h("emp_a")).json["candidate"]
    assert named["name"] == world.cand_a.name
    declined = api.post(f"/api/v1/referrals/{created['id']}/transitions", headers=world.h("emp_a"),
                        json={"to": "declined", "reason_code": "not_suitable"})
    assert declined.status_code == 200
    assert world.cand_a.name not in declined.get_data(as_text=True)
    assert world.cand_a.name not in _everything_the_base_reads(api, world, created["id"])


def test_refusals_of_objects_outside_ones_scope_are_in_the_audit_log(api, world, session):
    before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    assert api.get(f"/api/v1/candidates/{world.cand_b.id}", headers=world.h("cw_a")).status_code == 404
    assert api.get(f"/api/v1/slots/{world.draft_a.id}", headers=world.h("emp_b")).status_code == 404
    assert api.get("/api/v1/candidates", headers=world.h("emp_a")).status_code == 404
    assert api.get("/api/v1/candidates/99999", headers=world.h("cw_a")).status_code == 404  # no such file
    session.expire_all()
    refused = session.scalars(select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "refused")
                              .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.object_type, e.object_id) for e in refused] == [
        (world.accounts["cw_a"].id, "candidate", world.cand_b.id),
        (world.accounts["emp_b"].id, "slot", world.draft_a.id),
        (world.accounts["emp_a"].id, "candidate", None)]
    assert all(e.fields is None for e in refused)  # names and ids only


@pytest.mark.parametrize(("path", "field"), [("visits", "visits"), ("consents", "consents"),
                                             ("reoffences", "reoffences"), ("bans", "occupational_bans"),
                                             ("risk-assessments", "risk_grade")])
def test_sensitive_reads_are_in_the_audit_log(api, world, session, path, field):
    before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    response = api.get(f"/api/v1/candidates/{world.cand_a.id}/{path}", headers=world.h("cw_a"))
    assert response.status_code == 200, (path, response.json)
    session.expire_all()
    reads = session.scalars(select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "read")).all()
    assert [(e.object_type, e.object_id, e.fields) for e in reads] == [("candidate", world.cand_a.id, field)]
    db.session.rollback()
