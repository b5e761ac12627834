"""The candidate file over the API: intake, places, dual registration, dates, duplicates, risk grades,
consents, visits, and what caseworker answers and logs never hold."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from sqlalchemy import String, Text, select

from matcher.candidates.models import Candidate
from matcher.clock import today
from matcher.extensions import db

MASKED = re.compile(r"^\d{4}\*{12}[\dX]{2}$")


def _intake(kit, **fields) -> dict:
    body = {
        "name": "李四", "id_number": kit.make_id_number(born="19850615", seq=321),
        "education": "senior_secondary", "phone": "13800001111", "hukou": {"code": kit.CHOUCHENG},
        "residence": {"code": kit.CHOUCHENG},
        "residence_address": "稠城街道工人北路1号",
        "release_date": (today() - dt.timedelta(days=30)).isoformat(),
        "offence_category": "fraud", "skills": [{"skill_code": "pastry", "level": 2}],
        "preferred_courses": ["cooking", "ecommerce"], "consents": ["data_processing", "referral"],
    }
    body.update(fields)
    return body


def _create(api, world, kit, who: str = "cw_a", **fields):
    return api.post("/api/v1/candidates", json=_intake(kit, **fields), headers=world.h(who))


def test_intake_by_place_name(api, world, kit):
    place = {"name": "义乌市稠城街道"}
    response = _create(api, world, kit, residence=place, hukou=place)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["residence_code"] == body["hukou_code"] == kit.CHOUCHENG
    assert body["office"] == {"id": world.office_a.id, "name": "稠城司法所"}
    assert body["dual_registration"] is False
    assert body["status"] == "active"
    assert body["sex"] == "male" and body["birth_year"] == 1985  # read from the ID number
    assert body["public_id"].startswith("XT-")
    assert body["preferred_courses"] == ["cooking", "ecommerce"]
    assert body["risk_grade"] == "green"


def test_intake_by_coordinates_keeps_them_and_snaps_the_township(api, world, kit):
    response = _create(api, world, kit, residence={"lat": 29.3071, "lng": 120.0779})
    assert response.status_code == 201, response.json
    assert response.json["residence_code"] == kit.CHOUCHENG
    assert (response.json["residence_lat"], response.json["residence_lng"]) == (29.3071, 120.0779)


@pytest.mark.parametrize(("place", "message_part"), [
    ({"name": "城西街道"}, "ambiguous"),
    ({"name": "不存在街道"}, "No place"),
    ({"code": "330782999"}, "Unknown place code"),
    ({"code": "330782"}, "not a township"),
    ({"lat": 39.9, "lng": 116.4}, "outside"),
    ({"lat": 29.3}, "lng"),
    ({}, "Give a place"),
])
def test_a_residence_that_resolves_to_no_single_township_is_invalid(api, world, kit, place, message_part):
    response = _create(api, world, kit, residence=place)
    assert response.status_code == 422, response.json
    assert "residence" in response.json["errors"]
    assert message_part in str(response.json["errors"]["residence"])
    assert db.session.scalar(select(Candidate).where(Candidate.name == "李四")) is None


def test_dual_registration_file_goes_to_the_residence_office(api, world, kit):
    # cw_a registers someone household-registered in 稠城 who lives in 佛堂.
    response = _create(api, world, kit, residence={"code": kit.FOTANG}, hukou={"code": kit.CHOUCHENG})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["dual_registration"] is True
    assert body["office"]["id"] == world.office_b.id  # the residence office does the daily work
    candidate_id = body["id"]
    assert api.get(f"/api/v1/candidates/{candidate_id}", headers=world.h("cw_a")).status_code == 200
    refused = api.patch(f"/api/v1/candidates/{candidate_id}", json={"needs_housing": True},
                        headers=world.h("cw_a"))
    assert refused.status_code == 403
    assert api.patch(f"/api/v1/candidates/{candidate_id}", json={"needs_housing": True},
                     headers=world.h("cw_b")).status_code == 200
    listed = api.get("/api/v1/candidates?dual_registration=true", headers=world.h("cw_a")).json
    assert {c["id"] for c in listed} == {candidate_id, world.cand_dual.id}


def test_caseworker_cannot_open_a_file_outside_the_office(api, world, kit):
    response = _create(api, world, kit, residence={"code": kit.FOTANG}, hukou={"code": kit.FOTANG})
    assert response.status_code == 422
    assert "residence" in response.json["errors"]


@pytest.mark.parametrize("who", ["emp_a", "org"])
def test_only_caseworkers_and_administrators_open_files(api, world, kit, who):
    assert _create(api, world, kit, who=who).status_code == 404
    assert db.session.scalar(select(Candidate).where(Candidate.name == "李四")) is None


def test_administrator_may_place_a_file_in_any_office(api, world, kit):
    response = _create(api, world, kit, who="admin", office_id=world.office_b.id)
    assert response.status_code == 201
    assert response.json["office"]["id"] == world.office_b.id


def test_assistance_ends_five_years_after_release(api, world, kit):
    response = _create(api, world, kit, release_date="2024-02-29")
    assert response.json["assistance_ends_on"] == "2029-02-28"
    other = _create(api, world, kit, id_number=kit.make_id_number(seq=322), release_date="2023-07-15")
    assert other.json["assistance_ends_on"] == "2028-07-15"
    moved = api.patch(f"/api/v1/candidates/{other.json['id']}", json={"release_date": "2023-08-01"},
                      headers=world.h("cw_a"))
    assert moved.json["assistance_ends_on"] == "2028-08-01"


def test_release_in_the_future_is_a_pre_release_hand_over(api, world, kit):
    later = (today() + dt.timedelta(days=20)).isoformat()
    response = _create(api, world, kit, release_date=later)
    assert response.status_code == 201
    assert response.json["status"] == "pre_release"
    pre = api.get("/api/v1/candidates?status=pre_release", headers=world.h("cw_a")).json
    assert [c["id"] for c in pre] == [response.json["id"]]


def test_released_today_is_active(api, world, kit):
    assert _create(api, world, kit, release_date=today().isoformat()).json["status"] == "active"


def test_the_same_id_number_opens_only_one_file(api, world, kit):
    number = "11010519491231002X"
    assert _create(api, world, kit, who="admin", id_number=number).status_code == 201
    again = _create(api, world, kit, who="admin", id_number=number.lower(), name="另一个名字")
    assert again.status_code == 409
    assert "id_number" in again.json["errors"]
    assert db.session.scalar(select(Candidate).where(Candidate.name == "另一个名字")) is None


def test_changing_to_an_id_number_already_on_file_is_a_conflict(api, world, kit):
    cand_b_number = kit.make_id_number(seq=12)
    response = api.patch(f"/api/v1/candidates/{world.cand_a.id}", json={"id_number": cand_b_number},
                         headers=world.h("admin"))
    assert response.status_code == 409


@pytest.mark.parametrize(("fields", "bad"), [
    ({"id_number": "110105194912310021"}, "id_number"),  # wrong check digit
    ({"id_number": "110105199902300011"}, "id_number"),  # 30 February
    ({"id_number": "11010519491231002"}, "id_number"),  # 17 characters
    ({"birth_year": 1990}, "birth_year"),  # the ID number says 1985
    ({"sex": "female"}, "sex"),  # the ID number says male
    ({"offence_category": "piracy"}, "offence_category"),
    ({"education": "phd"}, "education"),
    ({"skills": [{"skill_code": "juggling"}]}, "skills"),
    ({"skills": [{"level": 2}]}, "skills"),
    ({"preferred_courses": ["cooking", "cooking"]}, "preferred_courses"),
    ({"preferred_courses": ["underwater_basket_weaving"]}, "preferred_courses"),
    ({"phone": "call me"}, "phone"),
    ({"max_travel_km": -1}, "max_travel_km"),
    ({"nickname": "四哥"}, "nickname"),
])
def test_intake_validation_names_the_field(api, world, kit, fields, bad):
    response = _create(api, world, kit, **fields)
    assert response.status_code == 422, response.json
    assert any(key.split(".")[0] == bad for key in response.json["errors"]), response.json
    assert db.session.scalar(select(Candidate).where(Candidate.name == "李四")) is None


def test_a_free_text_skill_naming_a_taxonomy_entry_becomes_that_entry(api, world, kit):
    response = _create(api, world, kit, skills=[{"free_text": "面点制作", "level": 3},
                                                {"free_text": "会开三轮车", "level": 2}])
    assert response.status_code == 201
    assert response.json["skills"] == [{"skill_code": "pastry", "free_text": None, "level": 3},
                                       {"skill_code": None, "free_text": "会开三轮车", "level": 2}]


def test_a_certificate_with_an_unknown_skill_is_invalid(api, world, kit):
    response = _create(api, world, kit, certificates=[{"name": "厨师证", "skill_code": "no_such_skill"}])
    assert response.status_code == 422, response.json
    assert any(key.startswith("certificates") for key in response.json["errors"])


def test_moving_house_moves_the_file(api, world, kit):
    response = api.patch(f"/api/v1/candidates/{world.cand_a.id}", json={"residence": {"code": kit.FOTANG}},
                         headers=world.h("cw_a"))
    assert response.status_code == 200
    assert response.json["office"]["id"] == world.office_b.id
    assert response.json["dual_registration"] is True  # still registered in 稠城
    # Now office B keeps it; office A still reads it (household registration) but no longer edits it.
    assert api.patch(f"/api/v1/candidates/{world.cand_a.id}", json={"needs_housing": True},
                     headers=world.h("cw_a")).status_code == 403
    assert api.patch(f"/api/v1/candidates/{world.cand_a.id}", json={"needs_housing": True},
                     headers=world.h("cw_b")).status_code == 200


def _grade(api, world) -> str:
    return api.get(f"/api/v1/candidates/{world.cand_a.id}", headers=world.h("cw_a")).json["risk_grade"]


def test_the_grade_is_not_patched_but_assessed(api, world):
    response = api.patch(f"/api/v1/candidates/{world.cand_a.id}", json={"risk_grade": "red"},
                         headers=world.h("cw_a"))
    assert response.status_code == 422
    assert "risk_grade" in response.json["errors"]
    assert _grade(api, world) == "green"


def test_risk_assessment_sets_the_current_grade_and_keeps_history(api, world):
    path = f"/api/v1/candidates/{world.cand_a.id}/risk-assessments"
    response = api.post(path, headers=world.h("cw_a"),
                        json={"grade": "red", "assessed_on": today().isoformat(), "reason": "月度研判：失业"})
    assert response.status_code == 201, response.json
    assert response.json["assessed_by_id"] == world.accounts["cw_a"].id
    assert _grade(api, world) == "red"
    # A late-recorded older screening joins the history without replacing the current grade.
    older = (today() - dt.timedelta(days=40)).isoformat()
    late = api.post(path, json={"grade": "yellow", "assessed_on": older}, headers=world.h("cw_a"))
    assert late.status_code == 201
    assert _grade(api, world) == "red"
    history = api.get(path, headers=world.h("cw_a")).json
    assert [(h["grade"], h["assessed_on"]) for h in history] == [
        ("yellow", older), ("green", today().isoformat()), ("red", today().isoformat())]
    # Office B reads the history of its dual file too, but office A's grade on it is refused.
    assert api.get(f"/api/v1/candidates/{world.cand_dual.id}/risk-assessments",
                   headers=world.h("cw_a")).status_code == 200


def test_risk_assessment_cannot_be_in_the_future(api, world):
    response = api.post(f"/api/v1/candidates/{world.cand_a.id}/risk-assessments", headers=world.h("cw_a"),
                        json={"grade": "orange", "assessed_on": (today() + dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 422
    assert "assessed_on" in response.json["errors"]


def test_consents_are_recorded_and_listed(api, world):
    path = f"/api/v1/candidates/{world.cand_a.id}/consents"
    response = api.post(path, headers=world.h("cw_a"), json={
        "kind": "disclose_identity", "granted": True, "recorded_on": today().isoformat(),
        "base_id": world.company_a.id, "purpose": "interview", "note": "本人签字同意"})
    assert response.status_code == 201
    kinds = [(c["kind"], c["granted"]) for c in api.get(path, headers=world.h("cw_a")).json]
    assert kinds == [("data_processing", True), ("referral", True), ("disclose_identity", True)]
    bad = api.post(path, json={"kind": "sell_data", "granted": True, "recorded_on": today().isoformat()},
                   headers=world.h("cw_a"))
    assert bad.status_code == 422 and "kind" in bad.json["errors"]


def test_visits_are_recorded_newest_first_and_never_in_the_future(api, world):
    path = f"/api/v1/candidates/{world.cand_a.id}/visits"
    for days_ago, kind in ((30, "home"), (2, "phone"), (10, "workplace")):
        day = (today() - dt.timedelta(days=days_ago)).isoformat()
        recorded = api.post(path, json={"visited_on": day, "kind": kind, "note": "走访"}, headers=world.h("cw_a"))
        assert recorded.status_code == 201
    listed = api.get(path, headers=world.h("cw_a")).json
    assert [v["kind"] for v in listed] == ["phone", "workplace", "home"]
    assert {v["candidate_id"] for v in listed} == {world.cand_a.id}
    future = api.post(path, json={"visited_on": (today() + dt.timedelta(days=1)).isoformat(), "kind": "home",
                                  "note": "走访"}, headers=world.h("cw_a"))
    assert future.status_code == 422 and "visited_on" in future.json["errors"]
    assert len(api.get(path, headers=world.h("cw_a")).json) == 3


@pytest.mark.parametrize(("query", "expected"), [
    ("course=cooking", {"cand_a", "cand_dual"}),
    ("course=auto_repair", set()),
    ("dual_registration=false", {"cand_a"}),
    ("q=测试11", {"cand_a"}),
    ("q=测试", {"cand_a", "cand_dual"}),
    ("key_subject=true", set()),
    ("risk_grade=green", {"cand_a", "cand_dual"}),
])
def test_candidate_list_filters(api, world, query, expected):
    names = {"cand_a": world.cand_a.id, "cand_dual": world.cand_dual.id}
    listed = api.get(f"/api/v1/candidates?{query}", headers=world.h("cw_a"))
    assert listed.status_code == 200
    assert {c["id"] for c in listed.json} == {names[n] for n in expected}


def test_candidate_list_filter_by_public_id(api, world):
    public_id = world.cand_a.public_id
    listed = api.get(f"/api/v1/candidates?q={public_id.lower()}", headers=world.h("cw_a")).json
    assert [c["id"] for c in listed] == [world.cand_a.id]


# ---- what answers and logs never hold -------------------------------------------------------------------

def test_caseworker_answers_never_hold_the_full_id_number(api, world, kit):
    number = kit.make_id_number(born="19850615", seq=321)
    created = _create(api, world, kit)
    candidate_id = created.json["id"]
    answers = [
        created,
        api.get(f"/api/v1/candidates/{candidate_id}", headers=world.h("cw_a")),
        api.get("/api/v1/candidates", headers=world.h("cw_a")),
        api.patch(f"/api/v1/candidates/{candidate_id}", json={"id_number": number}, headers=world.h("cw_a")),
        api.get(f"/api/v1/candidates/{candidate_id}", headers=world.h("admin")),
        api.get("/api/v1/exports/candidates", headers=world.h("cw_a")),
    ]
    for response in answers[:-1]:
        assert response.status_code in (200, 201), response.json
        assert number not in response.get_data(as_text=True)
        assert number[6:14] not in response.get_data(as_text=True)  # not even the birth date part
    assert number not in answers[-1].get_data(as_text=True)
    masked = answers[1].json["id_number_masked"]
    assert MASKED.match(masked), masked
    assert masked == number[:4] + "*" * 12 + number[-2:]
    assert "id_number" not in answers[1].json


def test_the_database_keeps_only_a_hash_and_a_masked_id_number(api, world, kit, session):
    number = kit.make_id_number(born="19850615", seq=321)
    assert _create(api, world, kit).status_code == 201
    session.expire_all()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        for row in session.execute(select(*columns)) if columns else ():
            assert all(number not in str(value) for value in row if value is not None), table.name


def test_creating_a_candidate_logs_neither_id_number_nor_name(api, world, kit, caplog):
    caplog.set_level(logging.DEBUG)
    number = kit.make_id_number(born="19850615", seq=321)
    assert _create(api, world, kit, name="王秘密").status_code == 201
    assert _create(api, world, kit, name="王秘密").status_code == 409  # the duplicate path
    bad = _create(api, world, kit, name="王秘密", id_number=number[:-1] + ("0" if number[-1] != "0" else "1"))
    assert bad.status_code == 422  # the validation path
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert number not in logged and number[:-1] not in logged
    assert "王秘密" not in logged
