"""Bases over the API: registering a company, the certification lifecycle (certify, suspend, revoke,
expiry derived from the date), agreements, and the employer's own profile."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.clock import today


def _day(offset: int) -> str:
    return (today() + dt.timedelta(days=offset)).isoformat()


def _decide(api, world, company_id, who="admin", **decision):
    return api.post(f"/api/v1/bases/{company_id}/certification", json=decision, headers=world.h(who))


def _base(api, world, company_id, who="admin"):
    return api.get(f"/api/v1/bases/{company_id}", headers=world.h(who))


def _register(api, world, kit, **fields):
    body = {"name": "丁家政服务有限公司", "credit_code": kit.make_credit_code("91330782DDD"),
            "industry": "家政服务", "place": {"name": "义乌市稠城街道"}, "contact_name": "丁经理",
            "contact_phone": "0579-85551234"}
    return api.post("/api/v1/bases", json=body | fields, headers=world.h("admin"))


def test_admin_registers_an_applicant_base(api, world, kit):
    response = _register(api, world, kit)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["certification_status"] == "applied"
    assert body["certified_until"] is None
    assert body["place"]["code"] == kit.CHOUCHENG
    history = api.get(f"/api/v1/bases/{body['id']}/certification", headers=world.h("admin")).json
    assert [(e["from_status"], e["to_status"]) for e in history] == [(None, "applied")]
    assert history[0]["decided_by_id"] == world.accounts["admin"].id


def test_credit_code_is_kept_upper_case(api, world, kit):
    code = kit.make_credit_code("91330782DDD")
    response = _register(api, world, kit, credit_code=code.lower())
    assert response.status_code == 201, response.json
    assert response.json["credit_code"] == code


def test_a_base_may_sit_at_district_level(api, world, kit):
    response = _register(api, world, kit, place={"code": "330782"})
    assert response.status_code == 201
    assert response.json["place"]["code"] == "330782"


@pytest.mark.parametrize(("fields", "bad"), [
    ({"credit_code": "91350100M000100Y44"}, "credit_code"),  # check character should be 3
    ({"credit_code": "91350100M000100Y4"}, "credit_code"),
    ({"credit_code": "91350100M000100YI3"}, "credit_code"),  # I is not in the character set
    ({"name": "丁"}, "name"),
    ({"place": {"code": "330782999"}}, "place"),
    ({"place": {"name": "城东街道"}}, "place"),  # in 婺城区 and in 东阳市
    ({"contact_phone": "ring ring"}, "contact_phone"),
    ({"certified": True}, "certified"),
])
def test_registration_validation_names_the_field(api, world, kit, fields, bad):
    response = _register(api, world, kit, **fields)
    assert response.status_code == 422, response.json
    assert bad in response.json["errors"]


def test_a_credit_code_is_registered_once(api, world, kit):
    response = _register(api, world, kit, credit_code=world.company_a.credit_code)
    assert response.status_code == 409
    assert "credit_code" in response.json["errors"]


@pytest.mark.parametrize("who", ["cw_a", "emp_a", "org"])
def test_only_administrators_register_bases(api, world, kit, who):
    body = {"name": "戊公司", "credit_code": kit.make_credit_code("91330782EEE"), "industry": "物流",
            "place": {"code": kit.CHOUCHENG}}
    assert api.post("/api/v1/bases", json=body, headers=world.h(who)).status_code == 404


# ---- certification lifecycle --------------------------------------------------------------------------

@pytest.mark.parametrize(("valid_until", "status"), [(None, 422), (_day(-30), 422), (_day(0), 422)])
def test_certifying_needs_a_future_valid_until(api, world, valid_until, status):
    decision = {"action": "certify"} | ({"valid_until": valid_until} if valid_until else {})
    response = _decide(api, world, world.company_applied.id, **decision)
    assert response.status_code == status
    assert "valid_until" in response.json["errors"]
    assert _base(api, world, world.company_applied.id).json["certification_status"] == "applied"


def test_certify_records_the_decision(api, world):
    response = _decide(api, world, world.company_applied.id, action="certify", valid_until=_day(1))
    assert response.status_code == 200, response.json
    assert response.json["certification_status"] == "certified"
    assert response.json["certified_until"] == _day(1)
    history = api.get(f"/api/v1/bases/{world.company_applied.id}/certification",
                      headers=world.h("admin")).json
    assert (history[-1]["from_status"], history[-1]["to_status"], history[-1]["valid_until"]) == (
        "applied", "certified", _day(1))
    # Now caseworkers see it.
    assert _base(api, world, world.company_applied.id, who="cw_a").status_code == 200


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_suspend_and_revoke_need_a_reason(api, world, action):
    for extra in ({}, {"reason": ""}):
        response = _decide(api, world, world.company_a.id, action=action, **extra)
        assert response.status_code == 422
        assert "reason" in response.json["errors"]
    assert _base(api, world, world.company_a.id).json["certification_status"] == "certified"


def test_suspension_hides_the_base_and_keeps_its_slots(api, world):
    response = _decide(api, world, world.company_a.id, action="suspend", reason="安全检查未通过")
    assert response.status_code == 200
    assert response.json["certification_status"] == "suspended"
    assert _base(api, world, world.company_a.id, who="cw_a").status_code == 404
    assert _base(api, world, world.company_a.id, who="emp_a").json["certification_status"] == "suspended"
    assert api.get(f"/api/v1/slots/{world.slot_a.id}", headers=world.h("admin")).json["status"] == "open"
    opened = api.post(f"/api/v1/slots/{world.draft_a.id}/status", json={"status": "open"},
                      headers=world.h("emp_a"))
    assert opened.status_code == 409
    assert _decide(api, world, world.company_a.id, action="suspend", reason="再次").status_code == 409
    reinstated = _decide(api, world, world.company_a.id, action="certify", valid_until=_day(200))
    assert reinstated.json["certification_status"] == "certified"
    history = api.get(f"/api/v1/bases/{world.company_a.id}/certification", headers=world.h("emp_a")).json
    assert [e["to_status"] for e in history] == ["applied", "certified", "suspended", "certified"]
    assert history[2]["reason"] == "安全检查未通过"


def test_revoking_closes_the_open_slots(api, world, session, kit):
    other_open = kit.new_slot(session, world.accounts["emp_a"], title="第二个岗位")
    response = _decide(api, world, world.company_a.id, action="revoke", reason="未履行安置协议")
    assert response.status_code == 200
    assert response.json["certification_status"] == "revoked"
    statuses = {s["id"]: s["status"] for s in api.get("/api/v1/slots", headers=world.h("emp_a")).json}
    assert statuses == {world.slot_a.id: "closed", other_open.id: "closed", world.draft_a.id: "draft"}
    assert api.get(f"/api/v1/slots/{world.slot_b.id}", headers=world.h("admin")).json["status"] == "open"
    # Revocation is final: neither certified again nor revoked twice.
    assert _decide(api, world, world.company_a.id, action="certify", valid_until=_day(100)).status_code == 409
    assert _decide(api, world, world.company_a.id, action="revoke", reason="再次").status_code == 409


def test_an_applicant_may_be_revoked_but_not_suspended(api, world):
    assert _decide(api, world, world.company_applied.id, action="suspend", reason="x理由").status_code == 409
    revoked = _decide(api, world, world.company_applied.id, action="revoke", reason="材料造假")
    assert revoked.status_code == 200


def test_expiry_is_derived_from_the_date(api, world, session):
    world.company_a.certified_until = today()
    session.commit()
    # Valid through its last day.
    assert _base(api, world, world.company_a.id).json["certification_status"] == "certified"
    world.company_a.certified_until = today() - dt.timedelta(days=1)
    session.commit()
    assert _base(api, world, world.company_a.id).json["certification_status"] == "expired"
    assert _base(api, world, world.company_a.id, who="emp_a").json["certification_status"] == "expired"
    assert _base(api, world, world.company_a.id, who="cw_a").status_code == 404
    expired = api.get("/api/v1/bases?status=expired", headers=world.h("admin")).json
    assert [b["id"] for b in expired] == [world.company_a.id]
    certified = api.get("/api/v1/bases?status=certified", headers=world.h("admin")).json
    assert [b["id"] for b in certified] == [world.company_b.id]
    opened = api.post(f"/api/v1/slots/{world.draft_a.id}/status", json={"status": "open"},
                      headers=world.h("emp_a"))
    assert opened.status_code == 409
    assert _decide(api, world, world.company_a.id, action="suspend", reason="过期").status_code == 409
    renewed = _decide(api, world, world.company_a.id, action="certify", valid_until=_day(365))
    assert renewed.json["certification_status"] == "certified"
    history = api.get(f"/api/v1/bases/{world.company_a.id}/certification", headers=world.h("admin")).json
    assert history[-1]["from_status"] == "expired"


def test_employer_cannot_certify_its_own_base(api, world, session):
    world.company_a.certified_until = today() - dt.timedelta(days=1)
    session.commit()
    response = _decide(api, world, world.company_a.id, who="emp_a", action="certify", valid_until=_day(365))
    assert response.status_code == 404  # administrators only
    assert _base(api, world, world.company_a.id).json["certification_status"] == "expired"


def test_unknown_action_is_invalid(api, world):
    response = _decide(api, world, world.company_a.id, action="promote")
    assert response.status_code == 422
    assert "action" in response.json["errors"]


# ---- agreements ---------------------------------------------------------------------------------------

def test_agreements_run_for_their_term(api, world):
    path = f"/api/v1/bases/{world.company_a.id}/agreements"
    response = api.post(path, headers=world.h("admin"),
                        json={"signed_on": "2026-01-31", "term_months": 1, "reference_no": "YW-AZ-2026-001"})
    assert response.status_code == 201, response.json
    assert response.json["ends_on"] == "2026-02-28"
    api.post(path, json={"signed_on": "2024-03-01", "term_months": 36}, headers=world.h("admin"))
    listed = api.get(path, headers=world.h("emp_a")).json
    assert [(a["signed_on"], a["ends_on"]) for a in listed] == [("2024-03-01", "2027-03-01"),
                                                                ("2026-01-31", "2026-02-28")]


@pytest.mark.parametrize(("fields", "bad"), [
    ({"term_months": 0}, "term_months"), ({"term_months": 121}, "term_months"),
    ({"signed_on": "2026-02-30"}, "signed_on")])
def test_agreement_validation(api, world, fields, bad):
    body = {"signed_on": "2026-01-01", "term_months": 12} | fields
    response = api.post(f"/api/v1/bases/{world.company_a.id}/agreements", json=body, headers=world.h("admin"))
    assert response.status_code == 422
    assert bad in response.json["errors"]


# ---- the employer's own profile -------------------------------------------------------------------------

def test_employer_updates_its_profile_but_not_its_credit_code(api, world, kit):
    path = f"/api/v1/bases/{world.company_a.id}"
    response = api.patch(path, json={"contact_phone": "0579-81234567", "description": "提供住宿"},
                         headers=world.h("emp_a"))
    assert response.status_code == 200
    assert (response.json["contact_phone"], response.json["description"]) == ("0579-81234567", "提供住宿")
    same = api.patch(path, json={"credit_code": world.company_a.credit_code}, headers=world.h("emp_a"))
    assert same.status_code == 200
    new_code = kit.make_credit_code("91330782FFF")
    changed = api.patch(path, json={"credit_code": new_code}, headers=world.h("emp_a"))
    assert changed.status_code == 422 and "credit_code" in changed.json["errors"]
    by_admin = api.patch(path, json={"credit_code": new_code}, headers=world.h("admin"))
    assert by_admin.status_code == 200


def test_admin_cannot_take_another_bases_credit_code(api, world):
    response = api.patch(f"/api/v1/bases/{world.company_a.id}", headers=world.h("admin"),
                         json={"credit_code": world.company_b.credit_code})
    assert response.status_code == 409
    assert _base(api, world, world.company_a.id).json["credit_code"] != world.company_b.credit_code


@pytest.mark.parametrize(("query", "expected"), [
    ("q=汽车", {"company_b"}),
    ("q=餐饮", {"company_a", "company_b", "company_applied"}),  # every industry here
    ("q=甲餐饮", {"company_a"}),
    ("status=applied", {"company_applied"}),
    ("place=330782", {"company_a", "company_b", "company_applied"}),
    ("place=330702", set()),
])
def test_base_list_filters(api, world, query, expected):
    names = {"company_a": world.company_a.id, "company_b": world.company_b.id,
             "company_applied": world.company_applied.id}
    listed = api.get(f"/api/v1/bases?{query}", headers=world.h("admin"))
    assert listed.status_code == 200
    assert {b["id"] for b in listed.json} == {names[n] for n in expected}


def test_base_list_sorts_by_name(api, world):
    names = [b["name"] for b in api.get("/api/v1/bases?sort=-name", headers=world.h("admin")).json]
    assert names == sorted(names, reverse=True)
