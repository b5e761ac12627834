"""A visit says something (a note, or what it found about work), and a visit can be corrected: its date, kind and
note, by the office that keeps the file while the file is open, written to the audit log."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

import matcher.web.candidates  # noqa: F401 - registers the pages on the blueprint before the app is made
from matcher.audit.models import AuditEvent
from matcher.candidates.models import CandidateStatus, Visit
from matcher.clock import today
from matcher.extensions import db
from tests.web import test_caseworker_pages as page_tests

browser, cw, text = page_tests.browser, page_tests.cw, page_tests.text  # the page tests' logged-in client


def _visits() -> int:
    return db.session.scalar(select(func.count(Visit.id)))


def _visit(api, world, candidate_id, who="cw_a", **body):
    payload = {"visited_on": today().isoformat(), "kind": "home", **body}
    return api.post(f"/api/v1/candidates/{candidate_id}/visits", json=payload, headers=world.h(who))


# ---- an empty visit is not a visit ------------------------------------------------------------------------

def test_the_form_as_it_comes_records_nothing_and_says_why_next_to_the_note(world, cw):
    file_page = f"/caseworker/candidates/{world.cand_a.id}"
    before = _visits()
    # The form's defaults (today, home visit) and nothing else: one click used to save an empty visit.
    response = cw.form_post(f"{file_page}/visits", {"visited_on": today().isoformat(), "kind": "home", "note": " "},
                            page=file_page)
    body = text(response)
    assert response.status_code == 422 and _visits() == before
    # 请写下走访了解到的情况，或选择走访了解到的就业状态。
    assert re.search(r'id="visit-note-error" class="field-error"[^>]*>[^<]*走访', body)
    assert "<details open>" in body or re.search(r"<details\s+open", body)


def test_the_api_refuses_an_empty_visit_with_every_wrong_field(api, world):
    before = _visits()
    response = api.post(f"/api/v1/candidates/{world.cand_a.id}/visits", json={"kind": "nowhere"},
                        headers=world.h("cw_a"))
    assert response.status_code == 422
    assert {"visited_on", "kind", "note"} <= set(response.json["errors"])
    assert _visit(api, world, world.cand_a.id).status_code == 422 and _visits() == before
    assert _visit(api, world, world.cand_a.id, note="上门走访，情况稳定").status_code == 201


# ---- corrections --------------------------------------------------------------------------------------------

def test_a_visit_is_corrected_over_the_api_and_the_audit_log_says_so(api, world):
    visit = _visit(api, world, world.cand_a.id, note="电话回放").json
    path = f"/api/v1/candidates/{world.cand_a.id}/visits/{visit['id']}"
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    response = api.patch(path, json={"note": "电话回访，已就业", "kind": "phone", "visited_on": yesterday},
                         headers=world.h("cw_a"))
    assert response.status_code == 200, response.json
    assert (response.json["note"], response.json["kind"], response.json["visited_on"]) == \
        ("电话回访，已就业", "phone", yesterday)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update",
                                                         AuditEvent.object_id == world.cand_a.id)).all()
    assert any("visits" in (event.fields or "") for event in events)
    # Every wrong field at once; the note cannot be emptied; no date in the future.
    future = (today() + dt.timedelta(days=2)).isoformat()
    response = api.patch(path, json={"note": "", "visited_on": future}, headers=world.h("cw_a"))
    assert response.status_code == 422 and {"note", "visited_on"} <= set(response.json["errors"])


def test_only_the_keeping_office_corrects_and_only_while_the_file_is_open(api, world):
    visit = _visit(api, world, world.cand_dual.id, who="cw_b", note="走访").json
    path = f"/api/v1/candidates/{world.cand_dual.id}/visits/{visit['id']}"
    # Office A reads the file under dual registration but does not keep it.
    assert api.patch(path, json={"note": "改"}, headers=world.h("cw_a")).status_code == 403
    assert api.patch(f"/api/v1/candidates/{world.cand_a.id}/visits/{visit['id']}", json={"note": "改"},
                     headers=world.h("cw_a")).status_code == 404  # not this file's visit
    world.cand_dual.status = CandidateStatus.CLOSED
    db.session.commit()
    assert api.patch(path, json={"note": "改"}, headers=world.h("cw_b")).status_code == 409


def test_the_file_page_links_each_visit_to_its_correction(world, cw, api):
    visit = _visit(api, world, world.cand_a.id, note="第一次走访").json
    file_page = f"/caseworker/candidates/{world.cand_a.id}"
    assert 'data-testid="correct-visit"' in text(cw.get(file_page))
    edit = f"{file_page}/visits/{visit['id']}/edit"
    page = text(cw.get(edit))
    assert ">第一次走访</textarea>" in page and "更正走访记录" in page
    response = cw.form_post(edit, {"visited_on": today().isoformat(), "kind": "home", "note": ""})
    assert response.status_code == 422 and 'id="visit-note-error"' in text(response)
    response = cw.form_post(edit, {"visited_on": today().isoformat(), "kind": "office", "note": "第一次走访（更正）"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{file_page}#visit")
    db.session.expire_all()
    corrected = db.session.get(Visit, visit["id"])
    assert corrected.note == "第一次走访（更正）" and corrected.kind.value == "office"
