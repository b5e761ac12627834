"""One person, one file, however the ID number is written; and opening a file never tells a caseworker more
about a file outside the office's scope than "registered elsewhere", each such answer audited and bounded per
account and China day."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

import matcher.web.candidates  # noqa: F401 - registers the pages on the blueprint before the app is made
from matcher import clock
from matcher.audit.models import AuditEvent
from matcher.candidates.models import Candidate
from matcher.clock import today
from matcher.extensions import db
from matcher.identifiers import mask_id_number

ELSEWHERE = "This person is registered elsewhere: the file must be transferred to your office through the bureau."
ON_FILE = "A file for this ID number already exists."


def full_width(number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in number.lower())  # ３３０７…ｘ


def arabic_indic(number: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in number)


def spread_out(number: str) -> str:
    return f"\u202a {number[:6]} \u200b{number[6:14]}\u2060 {number[14:]}\ufeff\u200f"


WAYS = {"full-width": full_width, "arabic-indic": arabic_indic, "spaces and zero-width": spread_out}


def intake(kit, id_number: str, **fields) -> dict:
    body = {"name": "李四", "id_number": id_number, "education": "senior_secondary",
            "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG},
            "release_date": (today() - dt.timedelta(days=30)).isoformat(), "offence_category": "fraud"}
    body.update(fields)
    return body


def files() -> int:
    return db.session.scalar(select(func.count()).select_from(Candidate))


def lookups(account_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "id_lookup",
                                                            AuditEvent.actor_id == account_id)))


@pytest.mark.parametrize("way", WAYS)
def test_the_same_number_written_another_way_finds_the_same_file(api, world, kit, way):
    before = files()
    number = WAYS[way](kit.make_id_number(seq=11))  # cand_a's, kept by office A
    response = api.post("/api/v1/candidates", json=intake(kit, number), headers=world.h("cw_a"))
    assert response.status_code == 409, response.json
    assert response.json["errors"] == {"id_number": [ON_FILE]}
    assert files() == before
    assert lookups(world.accounts["cw_a"].id) == []  # a file in scope is no lookup elsewhere


@pytest.mark.parametrize("way", WAYS)
def test_a_file_opened_with_another_way_of_writing_is_kept_in_ascii(api, world, kit, way):
    number = kit.make_id_number(born="19850615", seq=402)
    response = api.post("/api/v1/candidates", json=intake(kit, WAYS[way](number)), headers=world.h("cw_a"))
    assert response.status_code == 201, response.json
    masked = response.json["id_number_masked"]
    assert masked == mask_id_number(number) == number[:4] + "*" * 12 + number[-2:] and masked.isascii()
    assert response.json["birth_year"] == 1985 and response.json["sex"] == "female"
    again = api.post("/api/v1/candidates", json=intake(kit, number, name="王五"), headers=world.h("cw_a"))
    assert again.status_code == 409 and again.json["errors"] == {"id_number": [ON_FILE]}


def test_a_file_outside_the_scope_is_only_registered_elsewhere_and_the_lookup_audited(api, world, kit):
    before = files()
    number = arabic_indic(kit.make_id_number(seq=12))  # cand_b's, kept by office B (佛堂): not cw_a's to see
    for lang in ("en", "zh"):
        response = api.post("/api/v1/candidates", json=intake(kit, number), headers=world.h("cw_a", lang))
        assert response.status_code == 409, response.json
        body = response.get_data(as_text=True)
        for secret in (world.cand_b.name, world.cand_b.public_id, world.office_b.name, "佛堂",
                       world.cand_b.id_number_masked):
            assert secret not in body
    assert response.json["errors"]["id_number"] == ["此人已在其他地方登记建档：请通过司法局将档案移交至本所。"]
    assert files() == before
    events = lookups(world.accounts["cw_a"].id)
    assert [(e.object_type, e.object_id, e.fields, e.actor_role) for e in events] == \
        [("candidate", world.cand_b.id, None, "caseworker")] * 2
    # A file the office reads under dual registration is in scope: named as existing, not counted.
    dual = api.post("/api/v1/candidates", json=intake(kit, kit.make_id_number(seq=13)), headers=world.h("cw_a"))
    assert dual.status_code == 409 and dual.json["errors"] == {"id_number": [ON_FILE]}
    assert len(lookups(world.accounts["cw_a"].id)) == 2


def test_changing_a_files_number_to_one_kept_elsewhere_is_answered_the_same_way(api, world, kit):
    response = api.patch(f"/api/v1/candidates/{world.cand_a.id}",
                         json={"id_number": full_width(kit.make_id_number(seq=12))}, headers=world.h("cw_a"))
    assert response.status_code == 409 and response.json["errors"] == {"id_number": [ELSEWHERE]}
    assert [e.object_id for e in lookups(world.accounts["cw_a"].id)] == [world.cand_b.id]
    db.session.expire_all()
    assert db.session.get(Candidate, world.cand_a.id).id_number_masked == mask_id_number(kit.make_id_number(seq=11))


def test_lookups_elsewhere_are_bounded_per_account_and_china_day(api, world, kit, app, monkeypatch,
                                                                  time_machine):
    monkeypatch.setitem(app.config, "ID_LOOKUPS_PER_DAY", 2)
    late = clock.china_midnight(today()) + dt.timedelta(hours=23, minutes=30)  # 23:30 in China, today
    time_machine.move_to(late, tick=False)
    before = files()
    elsewhere = intake(kit, kit.make_id_number(seq=12))
    for _ in range(2):
        response = api.post("/api/v1/candidates", json=elsewhere, headers=world.h("cw_a"))
        assert response.status_code == 409 and response.json["errors"] == {"id_number": [ELSEWHERE]}
    refused = api.post("/api/v1/candidates", json=elsewhere, headers=world.h("cw_a"))
    assert refused.status_code == 429
    assert refused.json["errors"]["id_number"][0].startswith("Refused, and nothing was changed: your account has "
                                                             "reached today's limit of 2 ID numbers")
    refused_zh = api.post("/api/v1/candidates", json=elsewhere, headers=world.h("cw_a", "zh"))
    assert refused_zh.status_code == 429 and "今日" in refused_zh.json["message"]
    # Every lookup is on record, the refused ones too; a new file in scope is still opened.
    assert len(lookups(world.accounts["cw_a"].id)) == 4
    assert api.post("/api/v1/candidates", json=intake(kit, kit.make_id_number(seq=404)),
                    headers=world.h("cw_a")).status_code == 201
    assert files() == before + 1
    # Another account has its own count; the next China day (00:30) starts afresh.
    other = api.post("/api/v1/candidates", json=intake(kit, kit.make_id_number(seq=11), residence={"code": kit.FOTANG},
                                                        hukou={"code": kit.FOTANG}), headers=world.h("cw_b"))
    assert other.status_code == 409 and other.json["errors"] == {"id_number": [ELSEWHERE]}
    time_machine.move_to(late + dt.timedelta(hours=1), tick=False)
    assert clock.today() == clock.china_date(late) + dt.timedelta(days=1)
    again = api.post("/api/v1/candidates", json=elsewhere, headers=world.h("cw_a"))
    assert again.status_code == 409 and again.json["errors"] == {"id_number": [ELSEWHERE]}


def test_the_intake_page_says_registered_elsewhere_next_to_the_field(world, kit, browser):
    cw = browser("cw_a", "en")
    cw.get("/caseworker/candidates/new")
    form = {"name": "张三", "id_number": full_width(kit.make_id_number(seq=12)), "education": "junior_secondary",
            "hukou": kit.CHOUCHENG, "residence": kit.CHOUCHENG, "release_date": "2025-01-10",
            "offence_category": "theft", "max_travel_km": "20", "risk_grade": "green"}
    response = cw.post("/caseworker/candidates/new", form)
    body = response.get_data(as_text=True)
    assert response.status_code == 409  # a conflict with a file elsewhere: the status says so
    assert re.search(r'id="id_number-error" class="field-error"[^>]*>This person is registered elsewhere', body)
    assert world.cand_b.name not in body and world.office_b.name not in body
    assert [e.object_id for e in lookups(world.accounts["cw_a"].id)] == [world.cand_b.id]
