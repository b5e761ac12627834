"""The caseworker's candidate list: a filter bar Pico does not squeeze into one pill, search by any part of a name
or file number, a file found by its full ID number through the keyed hash (posted, never in an address or log),
sortable columns headed 姓名, and the way to ask for the transfer of a file registered elsewhere."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

import matcher.web.candidates  # noqa: F401 - registers the pages on the blueprint before the app is made
from matcher.audit.models import AuditEvent
from matcher.extensions import db
from matcher.notify.models import Notification, NotificationKind
from tests.web import test_caseworker_pages as page_tests

browser, cw, text = page_tests.browser, page_tests.cw, page_tests.text  # the page tests' logged-in client


def _rows(body: str) -> list[str]:
    return re.findall(r'<a href="/caseworker/candidates/\d+">([^<]+)</a>', body)


def test_the_filter_bar_is_a_search_landmark_not_a_pico_input_group(cw):
    body = text(cw.get("/caseworker/candidates"))
    assert "<search" in body and 'class="filter-bar"' in body
    assert 'role="search"' not in body  # Pico draws [role=search] as one rounded group: "状/态", circles, half-disc
    # The person column is headed 姓名, not 名称.
    header = re.search(r"<thead>.*?</thead>", body, re.S).group(0)
    assert "姓名" in header and "名称" not in header


def test_search_finds_any_part_of_a_name_and_of_a_file_number(world, cw, kit):
    zhou = kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=41, name="周红")
    kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=42, name="李明")
    assert _rows(text(cw.get("/caseworker/candidates?q=红"))) == ["周红"]  # "红" finds 周红
    part = zhou.public_id[4:8].lower()
    assert "周红" in _rows(text(cw.get(f"/caseworker/candidates?q={part}")))
    assert _rows(text(cw.get("/caseworker/candidates?q=%25"))) == []  # a wildcard is a character, not "anything"
    # An ID number typed into the search box is not searched there, and the page says where to look it up.
    response = cw.get(f"/caseworker/candidates?q={kit.make_id_number(seq=41)}")
    assert response.status_code == 422 and "按身份证号查找档案" in re.search(
        r'id="f-q-error"[^>]*>([^<]+)<', text(response)).group(1)


def test_columns_sort_and_say_so(world, cw, kit):
    kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=43, name="红色甲",
                      risk_grade="red")
    body = text(cw.get("/caseworker/candidates?sort=-risk_grade"))
    assert re.search(r'<th scope="col" aria-sort="descending">\s*<a href="[^"]*sort=risk_grade', body)
    assert _rows(body)[0] == "红色甲"  # red first
    body = text(cw.get("/caseworker/candidates?sort=name"))
    assert 'aria-sort="ascending"' in body
    names = _rows(body)
    assert names == sorted(names)
    assert cw.get("/caseworker/candidates?sort=offence_category").status_code == 422  # not a column to sort by


def test_a_file_is_found_by_its_full_id_number_without_the_number_in_an_address_or_log(world, cw, kit, caplog):
    number = kit.make_id_number(seq=11)  # 测试11, kept by this office
    caplog.set_level(logging.DEBUG)
    response = cw.form_post("/caseworker/candidates/lookup", {"id_number": number}, page="/caseworker/candidates")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/caseworker/candidates/{world.cand_a.id}")
    assert number not in caplog.text and number not in response.headers["Location"]
    unknown = kit.make_id_number(seq=99)
    response = cw.form_post("/caseworker/candidates/lookup", {"id_number": unknown}, page="/caseworker/candidates")
    assert response.status_code == 404 and "没有身份证号为此号码的档案" in text(response)
    response = cw.form_post("/caseworker/candidates/lookup", {"id_number": "123"}, page="/caseworker/candidates")
    assert response.status_code == 422 and 'id="lookup-id_number-error"' in text(response)


def test_a_file_registered_elsewhere_leads_to_a_transfer_request(world, cw, kit):
    number = kit.make_id_number(seq=12)  # 测试12 lives in 佛堂: office B keeps it
    response = cw.form_post("/caseworker/candidates/lookup", {"id_number": number}, page="/caseworker/candidates")
    body = text(response)
    assert response.status_code == 409
    assert "测试12" not in body and world.cand_b.public_id not in body  # nothing of the other file
    assert 'data-testid="transfer-request"' in body and "请县（区）司法局移交此档案" in body
    response = cw.form_post("/caseworker/candidates/transfer-requests", {"id_number": number},
                            page="/caseworker/candidates")
    assert response.status_code == 302
    assert "已请司法局将档案移交本所" in text(cw.get("/caseworker/candidates"))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "transfer_request"))
    assert event.object_id == world.cand_b.id and event.actor_id == world.accounts["cw_a"].id
    told = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.TRANSFER_REQUEST))
    assert [n.account_id for n in told] == [world.accounts["admin"].id]


def test_intake_of_a_number_registered_elsewhere_offers_the_transfer(world, cw, kit):
    form = {"name": "重复", "id_number": kit.make_id_number(seq=12), "education": "primary",
            "hukou": kit.CHOUCHENG, "residence": kit.CHOUCHENG, "release_date": "2025-01-10",
            "offence_category": "fraud"}
    response = cw.form_post("/caseworker/candidates/new", form)
    body = text(response)
    assert response.status_code == 409
    assert 'id="id_number-error"' in body and 'data-testid="transfer-request"' in body
    assert "测试12" not in body


def test_the_api_gives_the_transfer_link_in_the_error_body(api, world, kit):
    number = kit.make_id_number(seq=12)
    response = api.post("/api/v1/candidates/lookup", json={"id_number": number}, headers=world.h("cw_a"))
    assert response.status_code == 409
    assert response.json["links"] == {"transfer_request": "/api/v1/candidates/transfer-requests"}
    assert "测试12" not in response.get_data(as_text=True)
    body = {"name": "重复", "id_number": number, "education": "primary", "hukou": {"code": kit.CHOUCHENG},
            "residence": {"code": kit.CHOUCHENG}, "release_date": "2025-01-10", "offence_category": "fraud"}
    response = api.post("/api/v1/candidates", json=body, headers=world.h("cw_a"))
    assert response.status_code == 409 and "transfer_request" in response.json["links"]
    response = api.post("/api/v1/candidates/transfer-requests", json={"id_number": number}, headers=world.h("cw_a"))
    assert response.status_code == 204, response.get_data(as_text=True)
    found = api.post("/api/v1/candidates/lookup", json={"id_number": kit.make_id_number(seq=11)},
                     headers=world.h("cw_a"))
    assert found.status_code == 200 and found.json["id"] == world.cand_a.id
    missing = api.post("/api/v1/candidates/lookup", json={"id_number": kit.make_id_number(seq=98)},
                       headers=world.h("cw_a"))
    assert missing.status_code == 404
    # Only a judicial office asks; its own files need no transfer.
    assert api.post("/api/v1/candidates/transfer-requests", json={"id_number": kit.make_id_number(seq=11)},
                    headers=world.h("cw_a")).status_code == 409
    assert api.post("/api/v1/candidates/transfer-requests", json={"id_number": number},
                    headers=world.h("admin")).status_code == 404  # administrators move files themselves


def test_certificates_show_the_skills_name_never_its_code(world, cw, kit, api):
    candidate = kit.new_candidate(db.session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=44, name="证书甲",
                                  certificates=[{"name": "forklift_operation职业技能等级证书",
                                                 "skill_code": "forklift_operation"},
                                                {"name": "上岗证", "skill_code": "forklift_operation"}])
    body = text(cw.get(f"/caseworker/candidates/{candidate.id}"))
    assert "forklift_operation" not in body
    assert "叉车操作职业技能等级证书" in body and "上岗证（叉车操作）" in body
    english = text(cw.get(f"/caseworker/candidates/{candidate.id}", headers={"Accept-Language": "en"}))
    assert "forklift_operation" not in english and "Forklift operation" in english
