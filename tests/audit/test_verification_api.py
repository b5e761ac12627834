"""`GET /api/v1/audit-events/verification` reports the anchors beside the chain, in fields added to its answer."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from matcher.audit.keys import current_key
from matcher.audit.models import AuditEvent
from tests.audit.tampering import append_events, rehash, run_cli

URL = "/api/v1/audit-events/verification"


def test_an_intact_log_with_an_anchor(app, world, session, api):
    session.commit()
    assert run_cli(app, "checkpoint").exit_code == 0
    answer = api.get(URL, headers=world.h("admin")).json
    assert answer["ok"] is True and answer["first_bad_id"] is None and answer["checked"] > 0
    assert answer["key_id"] == current_key().key_id and answer["legacy_events"] == 0
    anchors = answer["anchors"]
    assert (anchors["ok"], anchors["checked"], anchors["failing_line"], anchors["problem"]) == (True, 1, None, None)
    latest = anchors["latest"]
    assert latest["events"] == answer["checked"] and latest["key_id"] == answer["key_id"]
    assert latest["at"].endswith("Z") and len(latest["hash"]) == 64


def test_no_anchor_yet(world, session, api):
    session.commit()
    answer = api.get(URL, headers=world.h("admin")).json
    assert answer["ok"] is True
    assert answer["anchors"] == {"ok": True, "checked": 0, "latest": None, "failing_line": None, "problem": None}


def test_a_cut_tail_fails_the_anchor_in_the_asker_s_language(app, world, session, api):
    ids = append_events(session, 4)
    assert run_cli(app, "checkpoint").exit_code == 0
    session.execute(delete(AuditEvent).where(AuditEvent.id >= ids[-2]))
    session.commit()
    answer = api.get(URL, headers=world.h("admin")).json
    assert answer["ok"] is False and answer["first_bad_id"] is None  # the chain alone looks fine
    anchors = answer["anchors"]
    assert anchors["ok"] is False and anchors["failing_line"] == 1
    assert anchors["problem"] == f"Event {ids[-1]}, anchored on line 1, is missing or was changed: the log was " \
                                 "cut or rewritten."
    chinese = api.get(URL, headers=world.h("admin", lang="zh")).json["anchors"]["problem"]
    assert str(ids[-1]) in chinese and "锚点" in chinese


def test_events_from_before_the_key_are_counted(world, session, api):
    append_events(session, 3)
    rehash(session, start_id=session.scalar(select(func.min(AuditEvent.id))), key=None)
    legacy = session.scalar(select(func.count()).select_from(AuditEvent))
    append_events(session, 2)
    answer = api.get(URL, headers=world.h("admin")).json
    assert answer["ok"] is True and answer["legacy_events"] == legacy and answer["checked"] == legacy + 2
