"""Changes made in a request to tables whose services do not audit themselves (bases, slots, fairs ...) are
audited all the same, by the flush listener: the table, the row, the columns' names, never their values."""

from __future__ import annotations

import datetime as dt

from matcher import clock
from matcher.audit.service import verify
from tests.audit.test_audit_events import _events


def test_base_slot_and_fair_changes_are_audited_with_column_names_only(world, session, api):
    session.commit()
    before = len(_events(session))
    emp = world.accounts["emp_a"]
    response = api.patch(f"/api/v1/bases/{world.company_a.id}", headers=world.h("emp_a"),
                         json={"description": "提供住宿的烹饪培训基地", "contact_phone": "0579-88886666"})
    assert response.status_code == 200, response.json
    [change] = _events(session, object_type="companies", action="update")
    assert change.object_id == world.company_a.id and change.actor_id == emp.id and change.actor_role == "employer"
    assert set(change.fields.split(",")) == {"contact_phone", "description"}

    response = api.post(f"/api/v1/slots/{world.slot_a.id}/status", headers=world.h("emp_a"), json={"status": "closed"})
    assert response.status_code == 200, response.json
    [closed] = _events(session, object_type="slots", action="update")
    assert closed.object_id == world.slot_a.id and "status" in closed.fields.split(",")

    held_on = (clock.today() + dt.timedelta(days=30)).isoformat()
    response = api.post("/api/v1/fairs", headers=world.h("org"), json={
        "name": "春风行动专场招聘会", "held_on": held_on, "venue": "人力资源市场三楼", "starts_at": "09:00"})
    assert response.status_code == 201, response.json
    [created] = _events(session, object_type="fairs", action="create")
    assert created.object_id == response.json["id"] and created.actor_id == world.accounts["org"].id

    new_events = _events(session)[before:]
    text = " ".join(f"{e.action} {e.object_type} {e.fields or ''}" for e in new_events)
    for value in ("提供住宿", "0579-88886666", "春风行动", "人力资源市场"):
        assert value not in text
    assert verify(session) == (True, None, len(_events(session)))


def test_a_refused_change_leaves_no_event(world, session, api):
    session.commit()
    before = len(_events(session))
    response = api.patch(f"/api/v1/bases/{world.company_a.id}", headers=world.h("emp_a"),
                         json={"contact_phone": "not a phone"})
    assert response.status_code == 422
    assert len(_events(session)) == before
