"""Recommendations both ways, eligibility, model registry and batch assignment, through the API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from matcher import clock
from matcher.extensions import db
from matcher.referrals.models import Referral


def _recommend(api, world, who, candidate):
    response = api.get(f"/api/v1/candidates/{candidate.id}/recommendations?page_size=10", headers=world.h(who))
    return response


def test_caseworker_gets_ranked_explained_slots(api, world):
    response = _recommend(api, world, "cw_a", world.cand_a)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["model_version"] == "prior-builtin" and body["model_kind"] == "prior"
    assert body["total"] == 2  # slot_a and slot_b are open; the draft is not
    items = body["items"]
    assert [i["slot"]["id"] for i in items][0] == world.slot_a.id  # cooking wish and skill beat auto repair
    assert items[0]["score"] >= items[1]["score"]
    assert 0 < items[0]["score"] < 1
    assert items[0]["reasons"] and items[0]["sentence_zh"] and items[0]["sentence_en"]
    assert any("烹饪" in i["sentence_zh"] or "技能" in i["sentence_zh"] for i in items)


@pytest.mark.parametrize("who", ["cw_b", "emp_a", "org"])
def test_recommendations_stay_in_scope(api, world, who):
    assert _recommend(api, world, who, world.cand_a).status_code == 404


def test_employer_sees_consenting_candidates_pseudonymously(api, world, session, kit):
    from matcher.candidates.models import Consent, ConsentKind

    # cand_b withdraws consent to referral: employers must not see them.
    session.add(Consent(candidate_id=world.cand_b.id, kind=ConsentKind.REFERRAL, granted=False,
                        recorded_on=clock.today()))
    session.commit()
    response = api.get(f"/api/v1/slots/{world.slot_a.id}/candidates", headers=world.h("emp_a"))
    assert response.status_code == 200, response.json
    cards = [item["candidate"] for item in response.json["items"]]
    public_ids = {c["public_id"] for c in cards}
    assert world.cand_a.public_id in public_ids and world.cand_b.public_id not in public_ids
    text = json.dumps(response.json, ensure_ascii=False)
    for secret in ("offence", "risk", "id_number", "hukou", "residence_address", world.cand_a.name):
        assert secret not in text
    assert all(c.get("id") is None for c in cards)
    # Another base's employer cannot ask for this slot.
    assert api.get(f"/api/v1/slots/{world.slot_a.id}/candidates", headers=world.h("emp_b")).status_code == 404


def test_food_safety_offence_bars_cooking_and_says_why(api, world, session, kit):
    barred = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=51,
                               offence_category="food_safety")
    response = api.get(f"/api/v1/candidates/{barred.id}/eligibility/{world.slot_a.id}", headers=world.h("cw_a"))
    assert response.status_code == 200
    assert response.json["eligible"] is False
    assert "occupational_ban" in [r["code"] for r in response.json["reasons"]]
    ok = api.get(f"/api/v1/candidates/{barred.id}/eligibility/{world.slot_b.id}", headers=world.h("cw_a"))
    assert ok.json == {"eligible": True, "reasons": []}
    slots = [i["slot"]["id"] for i in _recommend(api, world, "cw_a", barred).json["items"]]
    assert world.slot_a.id not in slots and world.slot_b.id in slots
    # The employer never learns why: the eligibility endpoint is not theirs.
    assert api.get(f"/api/v1/candidates/{barred.id}/eligibility/{world.slot_a.id}",
                   headers=world.h("emp_a")).status_code == 404


def test_protected_traits_change_no_score(api, world, session, kit):
    """Sex, age (beyond the legal minimum), ethnicity, risk grade, offence category and household
    registration are not inputs: changing them leaves every score as it was."""
    before = {i["slot"]["id"]: i["score"] for i in _recommend(api, world, "cw_a", world.cand_a).json["items"]}
    other_person = kit.make_id_number(region="330782", born="19750612", seq=22)  # older, female (even digit)
    response = api.patch(f"/api/v1/candidates/{world.cand_a.id}", headers=world.h("cw_a"), json={
        "id_number": other_person, "ethnicity": "畲族", "offence_category": "fraud",
        "hukou": {"code": kit.JIANGDONG}})
    assert response.status_code == 200, response.json
    assert response.json["sex"] == "female" and response.json["birth_year"] == 1975
    graded = api.post(f"/api/v1/candidates/{world.cand_a.id}/risk-assessments", headers=world.h("cw_a"),
                      json={"grade": "red", "assessed_on": clock.today().isoformat()})
    assert graded.status_code == 201
    after = {i["slot"]["id"]: i["score"] for i in _recommend(api, world, "cw_a", world.cand_a).json["items"]}
    assert after == before


def test_referral_from_a_recommendation_keeps_the_model_version(api, world):
    response = api.post("/api/v1/referrals", headers=world.h("cw_a"), json={
        "candidate_id": world.cand_a.id, "slot_id": world.slot_a.id, "from_recommendation": True})
    assert response.status_code == 201, response.json
    assert response.json["model_version"] == "prior-builtin"
    assert 0 < response.json["score"] < 1


def test_assignment_plan_is_a_draft_until_confirmed(api, world, session):
    response = api.post("/api/v1/assignments", headers=world.h("admin"), json={"key_subject_weight": 0.5})
    assert response.status_code == 201, response.json
    draft = response.json
    assert draft["status"] == "draft"
    summary = draft["summary"]
    assert summary["optimal"] is True and summary["objective"] >= summary["greedy_objective"] - 1e-9
    pairs = {(i["candidate_id"], i["slot_id"]) for i in draft["items"]}
    assert len({c for c, _ in pairs}) == len(pairs)  # one slot per candidate
    assert session.scalar(select(db.func.count(Referral.id))) == 0  # nothing happens before confirming
    confirmed = api.post(f"/api/v1/assignments/{draft['id']}/confirm", headers=world.h("admin"))
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "confirmed"
    made = session.scalars(select(Referral)).all()
    assert {(r.candidate_id, r.slot_id) for r in made} == pairs
    assert all(r.status.value == "proposed" and r.model_version == draft["model_version"] for r in made)
    # Confirming again changes nothing and answers the confirmed plan: a retry is safe.
    again = api.post(f"/api/v1/assignments/{draft['id']}/confirm", headers=world.h("admin"))
    assert again.status_code == 200 and again.json == confirmed.json
    assert session.scalar(select(db.func.count(Referral.id))) == len(pairs)


@pytest.mark.parametrize(("who", "status"), [("cw_a", 404), ("emp_a", 404), ("org", 201)])
def test_who_may_plan(api, world, who, status):
    assert api.post("/api/v1/assignments", headers=world.h(who), json={}).status_code == status


def test_bad_assignment_parameters_are_named(api, world):
    response = api.post("/api/v1/assignments", headers=world.h("admin"), json={"key_subject_weight": 9})
    assert response.status_code == 422
    assert "key_subject_weight" in response.json["errors"]
