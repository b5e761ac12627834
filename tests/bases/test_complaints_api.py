"""Complaints about a base and bases' records over the API: administrators only; everyone else gets 404."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.clock import today


def _day(offset: int) -> str:
    return (today() + dt.timedelta(days=offset)).isoformat()


def _complain(api, world, company_id, who="admin", **fields):
    body = {"received_on": _day(-3), "summary": "两名学员反映加班无报酬"} | fields
    return api.post(f"/api/v1/bases/{company_id}/complaints", json=body, headers=world.h(who))


def test_record_list_and_resolve_a_complaint(api, world):
    company = world.company_a.id
    created = _complain(api, world, company)
    assert created.status_code == 201, created.json
    complaint = created.json
    assert complaint["company_id"] == company and complaint["resolved_on"] is None
    assert complaint["recorded_by_id"] == world.accounts["admin"].id
    older = _complain(api, world, company, received_on=_day(-40), summary="宿舍条件差").json

    listed = api.get(f"/api/v1/bases/{company}/complaints", headers=world.h("admin")).json
    assert [c["id"] for c in listed] == [complaint["id"], older["id"]]

    resolved = api.post(f"/api/v1/bases/{company}/complaints/{older['id']}/resolve", json={},
                        headers=world.h("admin"))
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["resolved_on"] == _day(0)
    listed = api.get(f"/api/v1/bases/{company}/complaints", headers=world.h("admin")).json
    assert [c["id"] for c in listed] == [complaint["id"], older["id"]]  # open first
    again = api.post(f"/api/v1/bases/{company}/complaints/{older['id']}/resolve", json={},
                     headers=world.h("admin"))
    assert again.status_code == 409

    record = [r for r in api.get("/api/v1/base-records", headers=world.h("admin")).json
              if r["company_id"] == company][0]
    assert (record["complaints_open"], record["complaints_total"]) == (1, 2)


@pytest.mark.parametrize(("fields", "bad"), [
    ({"received_on": _day(1)}, "received_on"),
    ({"summary": ""}, "summary"),
    ({"summary": "x" * 501}, "summary"),
    ({"received_on": "yesterday"}, "received_on"),
])
def test_bad_complaints_name_the_field(api, world, fields, bad):
    answer = _complain(api, world, world.company_a.id, **fields)
    assert answer.status_code == 422 and bad in answer.json["errors"], answer.json


def test_resolving_needs_a_sensible_date(api, world):
    complaint = _complain(api, world, world.company_a.id, received_on=_day(-10)).json
    path = f"/api/v1/bases/{world.company_a.id}/complaints/{complaint['id']}/resolve"
    answer = api.post(path, json={"resolved_on": _day(-11)}, headers=world.h("admin"))
    assert answer.status_code == 422 and "resolved_on" in answer.json["errors"]
    answer = api.post(path, json={"resolved_on": _day(2)}, headers=world.h("admin"))
    assert answer.status_code == 422 and "resolved_on" in answer.json["errors"]
    assert api.post(path, json={"resolved_on": _day(-2)}, headers=world.h("admin")).json["resolved_on"] == _day(-2)


def test_a_complaint_belongs_to_its_base(api, world):
    complaint = _complain(api, world, world.company_a.id).json
    wrong = api.post(f"/api/v1/bases/{world.company_b.id}/complaints/{complaint['id']}/resolve", json={},
                     headers=world.h("admin"))
    assert wrong.status_code == 404
    assert api.get("/api/v1/bases/999999/complaints", headers=world.h("admin")).status_code == 404


@pytest.mark.parametrize("who", ["cw_a", "cw_b", "emp_a", "emp_b", "org"])
def test_only_administrators_see_complaints_and_records(api, world, who):
    company = world.company_a.id
    complaint = _complain(api, world, company).json
    assert api.get(f"/api/v1/bases/{company}/complaints", headers=world.h(who)).status_code == 404
    assert _complain(api, world, company, who=who).status_code == 404
    assert api.post(f"/api/v1/bases/{company}/complaints/{complaint['id']}/resolve", json={},
                    headers=world.h(who)).status_code == 404
    answer = api.get("/api/v1/base-records", headers=world.h(who))
    assert answer.status_code == 404 and {"code", "status", "message"} <= set(answer.json)


def test_anonymous_needs_a_token(api, world):
    assert api.get(f"/api/v1/bases/{world.company_a.id}/complaints").status_code == 401
    assert api.get("/api/v1/base-records").status_code == 401


def test_base_records_filters(api, world):
    all_records = api.get("/api/v1/base-records", headers=world.h("admin"))
    assert all_records.status_code == 200
    assert {r["company_id"] for r in all_records.json} == {world.company_a.id, world.company_b.id}
    first = all_records.json[0]
    for key in ("sent", "answered", "share_answered", "median_days_to_answer", "starts", "starts_old_enough",
                "stayed", "stay_rate", "complaints_open", "complaints_total", "certified_until",
                "agreement_ends_on", "flags", "status", "district_code"):
        assert key in first, key
    assert api.get("/api/v1/base-records?flagged=true", headers=world.h("admin")).json == []
    assert len(api.get("/api/v1/base-records?district=330782", headers=world.h("admin")).json) == 2
    bad = api.get("/api/v1/base-records?district=500151", headers=world.h("admin"))
    assert bad.status_code == 422 and "district" in bad.json["errors"]
    bad = api.get("/api/v1/base-records?sort=bogus", headers=world.h("admin"))
    assert bad.status_code == 422 and "sort" in bad.json["errors"]
    by_name = api.get("/api/v1/base-records?sort=-name", headers=world.h("admin")).json
    assert [r["company_name"] for r in by_name] == sorted((r["company_name"] for r in by_name), reverse=True)
