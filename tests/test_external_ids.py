"""The bureau's own reference (external_id) over the API: accepted and returned on candidates, bases and slots,
unique per county, trimmed, cleared by an empty value; read by bureau staff only, never by a base, which cannot
write one either."""

from __future__ import annotations

import datetime as dt

from matcher.clock import today
from matcher.external_ids import scope_of


def _intake(kit, seq, **fields) -> dict:
    body = {"name": "李四", "id_number": kit.make_id_number(born="19850615", seq=seq), "education": "primary",
            "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG},
            "release_date": (today() - dt.timedelta(days=30)).isoformat(), "offence_category": "fraud",
            "consents": ["data_processing"]}
    return body | fields


def _slot(**fields) -> dict:
    return {"kind": "job", "title": "面点师", "seats": 2, "place": {"code": "330782001"},
            "starts_on": today().isoformat()} | fields


def test_scope_is_the_county_of_the_place():
    assert [scope_of(code) for code in ("330782001", "330782", "330700")] == ["330782", "330782", "330700"]


def test_a_candidates_reference_over_the_api(api, world, kit, session):
    created = api.post("/api/v1/candidates", json=_intake(kit, 401, external_id="  YW-0401 "),
                       headers=world.h("cw_a"))
    assert created.status_code == 201, created.json
    assert created.json["external_id"] == "YW-0401"
    from matcher.candidates.models import Candidate

    assert session.get(Candidate, created.json["id"]).external_scope == "330782"
    # Another file of the same county cannot hold it: the answer names the field.
    taken = api.post("/api/v1/candidates", json=_intake(kit, 402, external_id="YW-0401"), headers=world.h("cw_a"))
    assert taken.status_code == 409 and "external_id" in taken.json["errors"]
    too_long = api.post("/api/v1/candidates", json=_intake(kit, 403, external_id="x" * 65), headers=world.h("cw_a"))
    assert too_long.status_code == 422 and "external_id" in too_long.json["errors"]
    found = api.get("/api/v1/candidates?q=YW-0401", headers=world.h("cw_a")).json
    assert [c["id"] for c in found] == [created.json["id"]]  # the list finds a file by the bureau's reference
    path = f"/api/v1/candidates/{created.json['id']}"
    cleared = api.patch(path, json={"external_id": ""}, headers=world.h("cw_a"))
    assert cleared.status_code == 200 and cleared.json["external_id"] is None
    assert api.get(path, headers=world.h("admin")).json["external_id"] is None
    reused = api.post("/api/v1/candidates", json=_intake(kit, 402, external_id="YW-0401"), headers=world.h("cw_a"))
    assert reused.status_code == 201, reused.json  # freed by clearing


def test_a_bases_reference_is_the_bureaus_not_the_bases(api, world, kit):
    body = {"name": "丁家政服务有限公司", "credit_code": kit.make_credit_code("91330782DDD"), "industry": "家政",
            "place": {"code": kit.CHOUCHENG}, "external_id": "JD-9"}
    created = api.post("/api/v1/bases", json=body, headers=world.h("admin"))
    assert created.status_code == 201 and created.json["external_id"] == "JD-9"
    twice = api.post("/api/v1/bases", json=body | {"credit_code": kit.make_credit_code("91330782EEE")},
                     headers=world.h("admin"))
    assert twice.status_code == 409 and "external_id" in twice.json["errors"]

    path = f"/api/v1/bases/{world.company_a.id}"
    assert api.patch(path, json={"external_id": "JD-A"}, headers=world.h("admin")).status_code == 200
    assert api.get(path, headers=world.h("cw_a")).json["external_id"] == "JD-A"  # bureau staff read it
    own = api.get(path, headers=world.h("emp_a")).json
    assert "external_id" not in own and own["name"] == "甲餐饮有限公司"  # the base reads its profile, not that
    refused = api.patch(path, json={"external_id": "MINE"}, headers=world.h("emp_a"))
    assert refused.status_code == 422 and "external_id" in refused.json["errors"]


def test_a_slots_reference(api, world):
    created = api.post("/api/v1/slots", json=_slot(company_id=world.company_a.id, external_id="GW-1"),
                       headers=world.h("admin"))
    assert created.status_code == 201, created.json
    assert created.json["external_id"] == "GW-1"
    path = f"/api/v1/slots/{created.json['id']}"
    assert "external_id" not in api.get(path, headers=world.h("emp_a")).json
    twice = api.post("/api/v1/slots", json=_slot(company_id=world.company_b.id, external_id="GW-1"),
                     headers=world.h("admin"))
    assert twice.status_code == 409 and "external_id" in twice.json["errors"]  # both bases are in 义乌
    by_base = api.post("/api/v1/slots", json=_slot(external_id="GW-2"), headers=world.h("emp_a"))
    assert by_base.status_code == 422 and "external_id" in by_base.json["errors"]
    edit = api.patch(f"/api/v1/slots/{world.slot_a.id}", json={"external_id": "GW-3"}, headers=world.h("emp_a"))
    assert edit.status_code == 422
