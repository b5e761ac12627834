"""Administrators search the audit log (API, page, command); everyone else does not know it exists."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from matcher.audit.models import AuditEvent
from matcher.audit.service import record
from matcher.extensions import db


def _some_events(world, session):
    cw, admin = world.accounts["cw_a"], world.accounts["admin"]
    record(session, actor=cw, action="read", object_type="candidate", object_id=world.cand_a.id,
           fields=("risk_grade",))
    record(session, actor=admin, action="update", object_type="account", object_id=cw.id, fields=("email",))
    session.commit()


def test_api_search_filters_and_pages(world, session, api):
    _some_events(world, session)
    h = world.h("admin")
    everything = api.get("/api/v1/audit-events?page_size=5", headers=h)
    assert everything.status_code == 200 and "X-Pagination" in everything.headers
    ids = [e["id"] for e in everything.json]
    assert ids == sorted(ids, reverse=True)  # newest first
    found = api.get(f"/api/v1/audit-events?object_type=candidate&object_id={world.cand_a.id}&action=read",
                    headers=h).json
    assert [(e["actor_id"], e["fields"]) for e in found] == [(world.accounts["cw_a"].id, ["risk_grade"])]
    by_actor = api.get(f"/api/v1/audit-events?actor_id={world.accounts['admin'].id}&object_type=account",
                       headers=h).json
    assert [e["action"] for e in by_actor] == ["update"]
    assert api.get("/api/v1/audit-events?date_from=2000-01-01&date_to=2000-12-31", headers=h).json == []
    assert api.get("/api/v1/audit-events/verification", headers=h).json["ok"] is True


@pytest.mark.parametrize("who", ["cw_a", "emp_a", "org"])
def test_api_is_not_found_for_everyone_else(world, api, who):
    assert api.get("/api/v1/audit-events", headers=world.h(who)).status_code == 404
    assert api.get("/api/v1/audit-events/verification", headers=world.h(who)).status_code == 404


def test_page_filters_and_verifies(world, session, browser):
    _some_events(world, session)
    page = browser("admin", lang="en")
    listing = page.get(f"/admin/audit?actor=cw_a&object_type=candidate&object_id={world.cand_a.id}")
    body = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "risk_grade" in body and f"candidate:{world.cand_a.id}" in body
    assert "account:" not in body
    assert "/admin/audit" in page.get("/admin").get_data(as_text=True)  # the nav link
    verified = page.post("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert 'data-testid="audit-verified"' in verified
    assert 'data-testid="audit-no-anchor"' in verified or 'data-testid="audit-anchored"' in verified
    first = session.query(AuditEvent).order_by(AuditEvent.id).first()
    session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(fields="name"))
    session.commit()
    broken = page.post("/admin/audit/verify", follow_redirects=True).get_data(as_text=True)
    assert 'data-testid="audit-broken"' in broken and str(first.id) in broken


@pytest.mark.parametrize("who", ["cw_a", "emp_a", "org"])
def test_page_is_not_found_for_everyone_else(world, browser, who):
    page = browser(who)
    assert page.get("/admin/audit").status_code == 404
    assert page.post("/admin/audit/verify").status_code == 404


def test_cli_verify_and_search(app, world, session):
    _some_events(world, session)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "ok" in result.output
    found = runner.invoke(args=["audit", "search", "--actor", "cw_a", "--object", f"candidate:{world.cand_a.id}",
                                "--action", "read", "--since", "2000-01-01"])
    assert found.exit_code == 0
    lines = found.output.strip().splitlines()
    assert len(lines) == 1 and "\tcw_a\tcaseworker\tread\tcandidate:" in lines[0]
    assert runner.invoke(args=["audit", "search", "--actor", "nobody"]).exit_code == 2
    assert runner.invoke(args=["audit", "search", "--object", "candidate:x"]).exit_code == 2

    event_id = session.query(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1).scalar()
    session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(object_id=1))
    session.commit()
    db.session.remove()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and f"BROKEN at event {event_id}" in broken.output
