"""Slots over the API: posting drafts, opening only at a certified base, validation, seats that
cannot go below what is taken, and the list's filters."""

from __future__ import annotations

import pytest

from matcher.clock import today


def _slot_body(**fields) -> dict:
    body = {"kind": "job", "title": "面点师", "course_code": "cooking", "seats": 4,
            "place": {"code": "330782001"}, "starts_on": today().isoformat(), "pay_min": 4200,
            "pay_max": 5600, "hours_per_week": 44,
            "housing_provided": True, "required_skills": [{"skill_code": "pastry", "level": 2}]}
    return body | fields


def _post(api, world, who="emp_a", **fields):
    return api.post("/api/v1/slots", json=_slot_body(**fields), headers=world.h(who))


def _status(api, world, slot_id, status, who="emp_a"):
    return api.post(f"/api/v1/slots/{slot_id}/status", json={"status": status}, headers=world.h(who))


def test_employer_posts_a_draft_and_opens_it(api, world):
    posted = _post(api, world)
    assert posted.status_code == 201, posted.json
    body = posted.json
    assert (body["status"], body["company_id"], body["seats_taken"], body["seats_free"]) == (
        "draft", world.company_a.id, 0, 4)
    assert body["required_skills"] == [{"skill_code": "pastry", "free_text": None, "level": 2}]
    assert body["place"]["code"] == "330782001"
    # Drafts are private to the base.
    assert api.get(f"/api/v1/slots/{body['id']}", headers=world.h("cw_a")).status_code == 404
    opened = _status(api, world, body["id"], "open")
    assert opened.status_code == 200 and opened.json["status"] == "open"
    assert api.get(f"/api/v1/slots/{body['id']}", headers=world.h("cw_a")).status_code == 200
    closed = _status(api, world, body["id"], "closed")
    assert closed.json["status"] == "closed"
    assert api.get(f"/api/v1/slots/{body['id']}", headers=world.h("org")).json["status"] == "closed"


def test_employer_posts_only_for_its_own_base(api, world):
    posted = _post(api, world, company_id=world.company_b.id)
    assert posted.status_code == 201
    assert posted.json["company_id"] == world.company_a.id


def test_admin_posts_for_a_named_base(api, world):
    named = _post(api, world, who="admin", company_id=world.company_b.id)
    assert named.json["company_id"] == world.company_b.id
    missing = _post(api, world, who="admin")
    assert missing.status_code == 422 and "company_id" in missing.json["errors"]
    unknown = _post(api, world, who="admin", company_id=987654)
    assert unknown.status_code == 422 and "company_id" in unknown.json["errors"]


@pytest.mark.parametrize("who", ["cw_a", "org"])
def test_caseworkers_and_organisers_do_not_post(api, world, who):
    assert _post(api, world, who=who, company_id=world.company_a.id).status_code == 404


def test_a_base_that_is_not_certified_posts_drafts_but_cannot_open_them(api, world, session):
    from matcher.auth.service import create_account, issue_token

    account = create_account(session=session, actor=None, data=dict(
        username="emp_applied", display_name="丙", password="x" * 12, role="employer",
        company_id=world.company_applied.id))
    token, _ = issue_token(session=session, account=account, ttl_days=1)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    posted = api.post("/api/v1/slots", json=_slot_body(), headers=headers)
    assert posted.status_code == 201 and posted.json["status"] == "draft"
    refused = api.post(f"/api/v1/slots/{posted.json['id']}/status", json={"status": "open"}, headers=headers)
    assert refused.status_code == 409
    assert "status" in refused.json["errors"]
    assert api.get(f"/api/v1/slots/{posted.json['id']}", headers=headers).json["status"] == "draft"
    api.post(f"/api/v1/bases/{world.company_applied.id}/certification", headers=world.h("admin"),
             json={"action": "certify", "valid_until": today().replace(year=today().year + 1).isoformat()})
    opened = api.post(f"/api/v1/slots/{posted.json['id']}/status", json={"status": "open"}, headers=headers)
    assert opened.status_code == 200


@pytest.mark.parametrize(("fields", "bad"), [
    ({"seats": 0}, "seats"),
    ({"seats": 1001}, "seats"),
    ({"pay_min": 6000, "pay_max": 5000}, "pay_min"),
    ({"kind": "training", "course_code": None}, "course_code"),
    ({"kind": "internship"}, "kind"),
    ({"ends_on": "2020-01-01"}, "ends_on"),
    ({"course_code": "astrology"}, "course_code"),
    ({"occupation_code": "9-99-99"}, "occupation_code"),
    ({"place": {"code": "330782999"}}, "place"),
    ({"place": {"name": "江南街道"}}, "place"),  # in 婺城区 and in 永康市
    ({"place": {"lat": 31.23, "lng": 121.47}}, "place"),  # Shanghai: outside the reference data
    ({"required_skills": [{"skill_code": "juggling"}]}, "required_skills"),
    ({"hours_per_week": 100}, "hours_per_week"),
    ({"min_age": 15}, "min_age"),
    ({"salary": 5000}, "salary"),
])
def test_slot_validation_names_the_field(api, world, fields, bad):
    response = _post(api, world, **fields)
    assert response.status_code == 422, response.json
    assert bad in response.json["errors"], response.json


def test_training_slot_with_a_certificate_is_subsidy_eligible(api, world):
    training = _post(api, world, kind="training", title="电商运营培训班", course_code="ecommerce",
                     pay_min=None, pay_max=None, certificate_awarded=True, required_skills=[])
    assert training.status_code == 201, training.json
    assert training.json["subsidy_eligible"] is True
    job = _post(api, world, certificate_awarded=True)
    assert job.json["subsidy_eligible"] is False


def test_place_by_name_or_coordinates(api, world):
    by_name = _post(api, world, place={"name": "义乌市佛堂镇"})
    assert by_name.json["place"]["code"] == "330782100"
    by_coords = _post(api, world, place={"lat": 29.2012, "lng": 120.0488})
    assert by_coords.json["place"]["code"] == "330782100"
    assert (by_coords.json["lat"], by_coords.json["lng"]) == (29.2012, 120.0488)


def test_patch_checks_the_whole_slot(api, world):
    path = f"/api/v1/slots/{world.slot_a.id}"  # pay 4000-5000
    too_high = api.patch(path, json={"pay_min": 5500}, headers=world.h("emp_a"))
    assert too_high.status_code == 422 and "pay_min" in too_high.json["errors"]
    # It names cooking already, so it may become a training slot.
    training = api.patch(path, json={"kind": "training"}, headers=world.h("emp_a"))
    assert training.status_code == 200 and training.json["kind"] == "training"
    no_course = api.patch(path, json={"course_code": None}, headers=world.h("emp_a"))
    assert no_course.status_code == 422 and "course_code" in no_course.json["errors"]
    after = api.get(path, headers=world.h("emp_a")).json
    assert (after["pay_min"], after["course_code"]) == (4000, "cooking")


def _take_seats(session, world, kit, slot, count: int) -> None:
    from matcher.referrals.service import create_referral, transition

    for seq in range(count):
        candidate = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=500 + seq)
        referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=candidate.id,
                                   slot_id=slot.id, send=True)
        transition(session=session, actor=world.accounts["emp_a"], referral_id=referral.id, to="offered")
        transition(session=session, actor=world.accounts["cw_a"], referral_id=referral.id, to="accepted")


def test_seats_cannot_go_below_those_taken(api, world, session, kit):
    _take_seats(session, world, kit, world.slot_a, 2)
    path = f"/api/v1/slots/{world.slot_a.id}"
    assert api.get(path, headers=world.h("emp_a")).json["seats_taken"] == 2
    refused = api.patch(path, json={"seats": 1}, headers=world.h("emp_a"))
    assert refused.status_code == 409
    assert "seats" in refused.json["errors"]
    assert api.get(path, headers=world.h("emp_a")).json["seats"] == 3
    exact = api.patch(path, json={"seats": 2}, headers=world.h("emp_a"))
    assert exact.status_code == 200
    assert (exact.json["seats"], exact.json["seats_free"]) == (2, 0)
    full = api.get("/api/v1/slots?has_free_seats=false", headers=world.h("emp_a")).json
    assert [s["id"] for s in full] == [world.slot_a.id]


def test_reopening_needs_the_base_in_date(api, world):
    _status(api, world, world.slot_a.id, "closed")
    api.post(f"/api/v1/bases/{world.company_a.id}/certification", headers=world.h("admin"),
             json={"action": "suspend", "reason": "整改"})
    assert _status(api, world, world.slot_a.id, "open").status_code == 409
    assert _status(api, world, world.slot_a.id, "closed").status_code == 200  # closing is always allowed


@pytest.mark.parametrize("status", ["draft", "archived", ""])
def test_status_moves_are_open_or_closed(api, world, status):
    response = _status(api, world, world.slot_a.id, status)
    assert response.status_code == 422
    assert "status" in response.json["errors"]


@pytest.mark.parametrize(("query", "expected"), [
    ("kind=job", {"slot_a", "slot_b"}),
    ("course=auto_repair", {"slot_b"}),
    ("q=厨师", {"slot_a"}),
    ("status=open", {"slot_a", "slot_b"}),
    ("status=draft", set()),  # a caseworker never sees drafts, even asking for them
    ("has_free_seats=true", {"slot_a", "slot_b"}),
    ("place=330782001", {"slot_a", "slot_b"}),
    ("place=330702", set()),
    ("company_id=__company_b__", {"slot_b"}),
])
def test_slot_list_filters(api, world, query, expected):
    names = {"slot_a": world.slot_a.id, "slot_b": world.slot_b.id}
    query = query.replace("__company_b__", str(world.company_b.id))
    listed = api.get(f"/api/v1/slots?{query}", headers=world.h("cw_a"))
    assert listed.status_code == 200
    assert {s["id"] for s in listed.json} == {names[n] for n in expected}


def test_every_wrong_field_comes_back_in_one_422(api, world):
    """Nested and related fields too: skills, course, place, dates and counts, not one error a round."""
    import datetime as dt

    response = _post(api, world, seats=0, course_code="no_such_course", place={"code": "999999999"},
                     required_skills=[{"skill_code": "pastry"}, {"skill_code": "no_such_skill"}, {"level": 9}],
                     starts_on=(today() - dt.timedelta(days=1)).isoformat(),
                     ends_on=(today() - dt.timedelta(days=5)).isoformat(), pay_min=9000, pay_max=100)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert {"seats", "course_code", "place", "required_skills", "starts_on", "ends_on", "pay_min"} <= set(errors)
    assert set(errors["required_skills"]) >= {"2"}  # the malformed entry, by its index


def test_an_edit_may_keep_a_start_in_the_past_but_not_an_end_before_it(api, world):
    import datetime as dt

    slot_id = world.draft_a.id
    past = (today() - dt.timedelta(days=30)).isoformat()
    kept = api.patch(f"/api/v1/slots/{slot_id}", json={"starts_on": past}, headers=world.h("emp_a"))
    assert kept.status_code == 200, kept.json
    bad = api.patch(f"/api/v1/slots/{slot_id}", json={"starts_on": past, "ends_on": past},
                    headers=world.h("emp_a"))
    assert bad.status_code == 422 and "ends_on" in bad.json["errors"]


def test_a_recurring_course_takes_its_intakes_and_matching_reads_the_one_that_fits(api, world, session, kit):
    """Intakes: the slot keeps starts_on as its first; each intake runs as long as the first; a person released
    between two intakes is not "late" for the course (the next intake fits them)."""
    import datetime as dt

    first, second = today() + dt.timedelta(days=5), today() + dt.timedelta(days=185)
    posted = _post(api, world, kind="training", starts_on=first.isoformat(),
                   ends_on=(first + dt.timedelta(days=60)).isoformat(), intakes=[second.isoformat()])
    assert posted.status_code == 201, posted.json
    assert posted.json["starts_on"] == first.isoformat()
    assert posted.json["intakes"] == [first.isoformat(), second.isoformat()]
    from matcher.slots.models import Slot

    slot = session.get(Slot, posted.json["id"])
    assert [(i.starts_on, i.ends_on) for i in slot.intakes] == [
        (first, first + dt.timedelta(days=60)), (second, second + dt.timedelta(days=60))]
    assert _status(api, world, slot.id, "open").status_code == 200
    later = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=61,
                              release_date=today() + dt.timedelta(days=120))
    answer = api.get(f"/api/v1/candidates/{later.id}/eligibility/{slot.id}", headers=world.h("cw_a"))
    assert answer.json == {"eligible": True, "reasons": []}
    # One intake only (the second removed): the same person is late for the course.
    assert api.patch(f"/api/v1/slots/{slot.id}", json={"intakes": []}, headers=world.h("emp_a")).json[
        "intakes"] == [first.isoformat()]
    answer = api.get(f"/api/v1/candidates/{later.id}/eligibility/{slot.id}", headers=world.h("cw_a"))
    assert "not_available_by_start" in [r["code"] for r in answer.json["reasons"]]


def test_intakes_before_the_start_are_refused(api, world):
    import datetime as dt

    response = _post(api, world, intakes=[(today() - dt.timedelta(days=1)).isoformat()])
    assert response.status_code == 422 and "intakes" in response.json["errors"]
