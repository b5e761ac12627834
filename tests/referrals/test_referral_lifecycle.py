"""A referral's whole journey over the API, the rules at each step (roles, dates, reasons, consent,
seats, certification) and what an employer is allowed to see of the candidate."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from matcher.clock import today
from matcher.referrals.models import ReferralEvent


def _day(offset: int) -> str:
    return (today() + dt.timedelta(days=offset)).isoformat()


def _refer(api, world, candidate_id=None, slot_id=None, who="cw_a", send=True, **extra):
    body = {"candidate_id": candidate_id or world.cand_a.id, "slot_id": slot_id or world.slot_a.id,
            "send": send}
    return api.post("/api/v1/referrals", json=body | extra, headers=world.h(who))


def _move(api, world, referral_id, who, to, **extra):
    return api.post(f"/api/v1/referrals/{referral_id}/transitions", json={"to": to, **extra},
                    headers=world.h(who))


def _backdate(session, referral_id: int, days: int) -> None:
    """As if the referral had been proposed and sent `days` ago."""
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
                    .values(on_date=today() - dt.timedelta(days=days)))
    session.commit()


def _slot(api, world, slot_id=None):
    return api.get(f"/api/v1/slots/{slot_id or world.slot_a.id}", headers=world.h("admin")).json


def _candidate(api, world, candidate_id=None):
    return api.get(f"/api/v1/candidates/{candidate_id or world.cand_a.id}", headers=world.h("admin")).json


def test_full_journey_from_referral_to_leaving(api, world, session):
    created = _refer(api, world, note="有中式烹调经验")
    assert created.status_code == 201, created.json
    referral_id = created.json["id"]
    assert created.json["status"] == "sent"
    assert [(e["from_status"], e["to_status"]) for e in created.json["events"]] == [
        (None, "proposed"), ("proposed", "sent")]
    assert set(created.json["next_moves"]) == {"declined", "withdrawn"}

    seen = api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("emp_a"))
    assert seen.status_code == 200
    assert seen.json["slot"]["id"] == world.slot_a.id
    assert set(seen.json["next_moves"]) == {"interview", "offered", "declined"}

    _backdate(session, referral_id, 60)
    interview = _move(api, world, referral_id, "emp_a", "interview", on_date=_day(-50))
    assert interview.json["status"] == "interview"
    offered = _move(api, world, referral_id, "emp_a", "offered", on_date=_day(-45))
    assert offered.json["status"] == "offered"
    assert set(offered.json["next_moves"]) == {"accepted", "started", "declined"}
    assert _slot(api, world)["seats_taken"] == 0

    accepted = _move(api, world, referral_id, "cw_a", "accepted", on_date=_day(-42))
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["holds_seat"] is True
    slot = _slot(api, world)
    assert (slot["seats_taken"], slot["seats_free"]) == (1, 2)
    assert _candidate(api, world)["status"] == "active"

    started = _move(api, world, referral_id, "emp_a", "started", on_date=_day(-40))
    assert started.status_code == 200, started.json
    assert started.json["started_on"] == _day(-40)
    assert _candidate(api, world)["status"] == "placed"
    assert _slot(api, world)["seats_taken"] == 1  # the seat accepted is the seat started

    too_early = _move(api, world, referral_id, "emp_a", "stayed_30", on_date=_day(-11))  # day 29
    assert too_early.status_code == 422
    assert "on_date" in too_early.json["errors"]
    stayed = _move(api, world, referral_id, "emp_a", "stayed_30", on_date=_day(-10))  # day 30
    assert stayed.status_code == 200, stayed.json
    assert stayed.json["status"] == "stayed_30"
    assert _move(api, world, referral_id, "cw_a", "stayed_90").status_code == 422  # day 40 of 90

    no_reason = _move(api, world, referral_id, "cw_a", "left")
    assert no_reason.status_code == 422 and "reason_code" in no_reason.json["errors"]
    left = _move(api, world, referral_id, "cw_a", "left", reason_code="family", internal_note="母亲病重，回老家照顾")
    assert left.status_code == 200, left.json
    body = left.json
    assert (body["status"], body["holds_seat"], body["end_code"], body["ended_on"]) == (
        "left", False, "family", today().isoformat())
    assert body["events"][-1]["internal_note"] == "母亲病重，回老家照顾"
    # The base learns the code, never the office's note.
    seen = api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("emp_a")).json
    assert seen["end_code"] == "family" and "母亲" not in str(seen)
    assert "internal_note" not in seen and all("internal_note" not in event for event in seen["events"])
    assert body["next_moves"] == []
    assert _slot(api, world)["seats_taken"] == 0
    assert _candidate(api, world)["status"] == "active"
    assert [e["to_status"] for e in body["events"]] == [
        "proposed", "sent", "interview", "offered", "accepted", "started", "stayed_30", "left"]
    dates = [e["on_date"] for e in body["events"]]
    assert dates == sorted(dates)

    # An ended referral stays ended.
    assert _move(api, world, referral_id, "emp_a", "started").status_code == 409
    # Once ended, the same candidate may be referred to the same slot again.
    assert _refer(api, world).status_code == 201


def test_offer_straight_to_start_takes_a_seat(api, world):
    referral_id = _refer(api, world).json["id"]
    _move(api, world, referral_id, "emp_a", "offered")
    started = _move(api, world, referral_id, "emp_a", "started")
    assert started.status_code == 200 and started.json["holds_seat"] is True
    assert _slot(api, world)["seats_taken"] == 1


def test_declining_an_accepted_offer_frees_the_seat(api, world):
    referral_id = _refer(api, world).json["id"]
    _move(api, world, referral_id, "emp_a", "offered")
    _move(api, world, referral_id, "cw_a", "accepted")
    assert _slot(api, world)["seats_taken"] == 1
    assert _move(api, world, referral_id, "emp_a", "declined").status_code == 422
    declined = _move(api, world, referral_id, "emp_a", "declined", reason="岗位调整")
    assert declined.status_code == 200
    assert declined.json["holds_seat"] is False
    assert _slot(api, world)["seats_taken"] == 0


@pytest.mark.parametrize(("who", "to", "before"), [
    ("emp_a", "declined", []), ("cw_a", "declined", []), ("cw_a", "withdrawn", []),
    ("cw_a", "withdrawn", ["offered"]), ("emp_a", "declined", ["interview"]),
])
def test_ending_a_referral_needs_a_reason_that_fits_it(api, world, who, to, before):
    referral_id = _refer(api, world).json["id"]
    for step in before:
        _move(api, world, referral_id, "emp_a", step)
    for empty in ({}, {"reason_code": None}):
        refused = _move(api, world, referral_id, who, to, **empty)
        assert refused.status_code == 422, refused.json
        assert "reason_code" in refused.json["errors"]
    assert _move(api, world, referral_id, who, to, reason_code="dismissed").status_code == 422  # not for this end
    assert _move(api, world, referral_id, who, to, reason_code="no_such_code").status_code == 422
    done = _move(api, world, referral_id, who, to, reason_code="candidate_declined", shared_note="本人放弃")
    assert done.status_code == 200
    assert (done.json["end_code"], done.json["events"][-1]["shared_note"]) == ("candidate_declined", "本人放弃")


@pytest.mark.parametrize(("who", "kept_as"), [("emp_a", "shared_note"), ("cw_a", "internal_note")])
def test_a_reason_in_words_is_still_read_for_one_version(api, world, who, kept_as):
    """Deprecated API input: `reason` (free text) becomes the mover's note, and the code 'other'."""
    referral_id = _refer(api, world).json["id"]
    assert _move(api, world, referral_id, who, "declined", reason="").status_code == 422
    done = _move(api, world, referral_id, who, "declined", reason="岗位调整")
    assert done.status_code == 200, done.json
    assert done.json["end_code"] == "other" and done.json["events"][-1][kept_as] == "岗位调整"


def test_dates_can_be_neither_in_the_future_nor_before_the_last_step(api, world):
    referral_id = _refer(api, world).json["id"]
    future = _move(api, world, referral_id, "emp_a", "interview", on_date=_day(1))
    assert future.status_code == 422 and "on_date" in future.json["errors"]
    earlier = _move(api, world, referral_id, "emp_a", "interview", on_date=_day(-1))  # sent today
    assert earlier.status_code == 422 and "on_date" in earlier.json["errors"]
    assert _move(api, world, referral_id, "emp_a", "interview", on_date=_day(0)).status_code == 200


@pytest.mark.parametrize(("frm", "to"), [
    ([], "accepted"), ([], "started"), ([], "stayed_30"), ([], "left"), (["offered"], "interview"),
])
def test_moves_outside_the_lifecycle_conflict(api, world, frm, to):
    referral_id = _refer(api, world).json["id"]
    for step in frm:
        _move(api, world, referral_id, "emp_a", step)
    response = _move(api, world, referral_id, "admin", to, reason="x")
    assert response.status_code == 409
    assert "to" in response.json["errors"]


@pytest.mark.parametrize(("steps", "role", "moves"), [
    ([], "cw_a", {"declined", "withdrawn"}),
    ([], "emp_a", {"interview", "offered", "declined"}),
    ([], "admin", {"interview", "offered", "declined", "withdrawn"}),
    (["interview"], "emp_a", {"offered", "declined"}),
    (["offered"], "cw_a", {"accepted", "started", "declined", "withdrawn"}),
    (["offered", "started"], "emp_a", {"stayed_30", "left"}),
    (["offered", "started"], "cw_a", {"stayed_30", "left"}),
])
def test_next_moves_are_the_moves_the_role_can_make(api, world, steps, role, moves):
    referral_id = _refer(api, world).json["id"]
    for step in steps:
        assert _move(api, world, referral_id, "admin", step).status_code == 200
    listed = api.get(f"/api/v1/referrals/{referral_id}", headers=world.h(role)).json["next_moves"]
    assert set(listed) == moves
    assert len(listed) == len(moves)


def test_next_moves_for_a_proposed_referral(api, world):
    referral_id = _refer(api, world, send=False).json["id"]
    assert set(api.get(f"/api/v1/referrals/{referral_id}", headers=world.h("cw_a")).json["next_moves"]) == {
        "sent", "withdrawn"}
    assert _move(api, world, referral_id, "cw_a", "sent").json["status"] == "sent"


def test_sending_needs_the_referral_consent(api, world, session, kit):
    from matcher.candidates.models import ConsentKind

    quiet = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=31,
                              consents=[ConsentKind.DATA_PROCESSING])
    refused = _refer(api, world, candidate_id=quiet.id)
    assert refused.status_code == 409, refused.json
    assert api.get("/api/v1/referrals", headers=world.h("cw_a")).json == []  # nothing half-made

    proposed = _refer(api, world, candidate_id=quiet.id, send=False)
    assert proposed.status_code == 201
    assert _move(api, world, proposed.json["id"], "cw_a", "sent").status_code == 409
    api.post(f"/api/v1/candidates/{quiet.id}/consents", headers=world.h("cw_a"),
             json={"kind": "referral", "granted": True, "recorded_on": today().isoformat()})
    assert _move(api, world, proposed.json["id"], "cw_a", "sent").status_code == 200


def test_a_withdrawn_referral_consent_stops_sending(api, world):
    api.post(f"/api/v1/candidates/{world.cand_a.id}/consents", headers=world.h("cw_a"),
             json={"kind": "referral", "granted": False, "recorded_on": today().isoformat()})
    assert _refer(api, world).status_code == 409


def test_one_live_referral_per_candidate_and_slot(api, world):
    assert _refer(api, world).status_code == 201
    again = _refer(api, world, send=False)
    assert again.status_code == 409
    assert "slot_id" in again.json["errors"]
    assert len(api.get("/api/v1/referrals", headers=world.h("cw_a")).json) == 1
    assert _refer(api, world, slot_id=world.slot_b.id).status_code == 201  # another slot is fine


def test_referrals_to_a_suspended_base_are_refused(api, world):
    suspended = api.post(f"/api/v1/bases/{world.company_a.id}/certification", headers=world.h("admin"),
                         json={"action": "suspend", "reason": "经营异常"})
    assert suspended.status_code == 200
    assert _slot(api, world)["status"] == "open"  # suspension does not close slots ...
    refused = _refer(api, world, who="admin")
    assert refused.status_code == 409  # ... but a base whose certification is not in force takes no referrals
    assert "slot_id" in refused.json["errors"]


def test_referrals_to_an_expired_base_are_refused(api, world, session):
    world.company_a.certified_until = today() - dt.timedelta(days=1)
    session.commit()
    assert _refer(api, world, who="admin").status_code == 409


def test_accepting_needs_the_base_still_certified(api, world):
    referral_id = _refer(api, world).json["id"]
    _move(api, world, referral_id, "emp_a", "offered")
    api.post(f"/api/v1/bases/{world.company_a.id}/certification", headers=world.h("admin"),
             json={"action": "suspend", "reason": "经营异常"})
    assert _move(api, world, referral_id, "cw_a", "accepted").status_code == 409
    assert _slot(api, world)["seats_taken"] == 0


def test_referrals_to_slots_that_are_not_open_are_refused(api, world):
    assert _refer(api, world, slot_id=world.draft_a.id, who="admin").status_code == 409
    # A draft is invisible to caseworkers: the slot named is not found.
    assert _refer(api, world, slot_id=world.draft_a.id).status_code == 422
    api.post(f"/api/v1/slots/{world.slot_a.id}/status", json={"status": "closed"}, headers=world.h("emp_a"))
    assert _refer(api, world).status_code == 409


def test_no_seat_no_acceptance(api, world, session, kit):
    slot = kit.new_slot(session, world.accounts["emp_a"], title="只有一个位置", seats=1)
    other = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=32)
    first = _refer(api, world, slot_id=slot.id).json["id"]
    second = _refer(api, world, candidate_id=other.id, slot_id=slot.id).json["id"]
    for referral_id in (first, second):
        _move(api, world, referral_id, "emp_a", "offered")
    assert _move(api, world, first, "cw_a", "accepted").status_code == 200
    full = _move(api, world, second, "cw_a", "accepted")
    assert full.status_code == 409
    assert _move(api, world, second, "emp_a", "started").status_code == 409
    assert api.get(f"/api/v1/referrals/{second}", headers=world.h("cw_a")).json["status"] == "offered"
    assert _slot(api, world, slot.id)["seats_taken"] == 1


def test_who_may_refer(api, world, session):
    assert _refer(api, world, candidate_id=world.cand_dual.id).status_code == 403  # visible, kept by office B
    assert _refer(api, world, candidate_id=world.cand_dual.id, who="cw_b").status_code == 201
    hidden = _refer(api, world, candidate_id=world.cand_b.id)
    assert hidden.status_code == 422 and "candidate_id" in hidden.json["errors"]  # not found, not forbidden
    assert _refer(api, world, who="emp_a").status_code == 404
    assert _refer(api, world, who="org").status_code == 404


def test_a_closed_file_is_not_referred(api, world):
    api.patch(f"/api/v1/candidates/{world.cand_a.id}", json={"status": "closed"}, headers=world.h("cw_a"))
    assert _refer(api, world).status_code == 409


def test_matching_can_start_before_release(api, world, session, kit):
    pre = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=33,
                            release_date=today() + dt.timedelta(days=15))
    assert pre.status.value == "pre_release"
    assert _refer(api, world, candidate_id=pre.id).status_code == 201


# ---- what an employer sees of the candidate ----------------------------------------------------------

FORBIDDEN_KEYS = {"offence_category", "risk_grade", "id_number", "id_number_masked", "hukou", "hukou_code",
                  "residence_address", "residence_code", "residence_lat", "residence_lng", "phone",
                  "birth_year", "sex", "key_subject", "ethnicity", "release_date", "release_institution",
                  "office"}


def _keys(value) -> set:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.fixture
def sensitive(world, session, kit):
    """A file full of what a base must never see, referred and sent to company_a's slot."""
    from matcher.referrals.service import create_referral

    candidate = kit.new_candidate(
        session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=44, name="赵敏感",
        id_number=kit.make_id_number(born="19770304", seq=44), phone="13912345678",
        residence_address="稠城街道秘密路8号", offence_category="drugs", risk_grade="red", key_subject=True,
        ethnicity="畲族", release_institution="浙江省十里丰监狱")
    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=candidate.id,
                               slot_id=world.slot_a.id, send=True)
    return candidate, referral


def _assert_private(response, candidate):
    text = response.get_data(as_text=True)
    for secret in ("赵敏感", "13912345678", "秘密路", "drugs", "19770304", "1977", "畲族", "十里丰",
                   candidate.id_number_masked, "330782001"):
        assert secret not in text, secret
    assert not (_keys(response.json) & FORBIDDEN_KEYS), _keys(response.json) & FORBIDDEN_KEYS


def test_employer_view_of_a_referral_is_pseudonymous(api, world, sensitive):
    candidate, referral = sensitive
    seen = api.get(f"/api/v1/referrals/{referral.id}", headers=world.h("emp_a"))
    assert seen.status_code == 200
    _assert_private(seen, candidate)
    card = seen.json["candidate"]
    assert card.get("id") is None and card.get("name") is None
    assert card["public_id"] == candidate.public_id
    assert card["skills"] == [{"skill_code": "chinese_cooking", "free_text": None, "level": 3}]
    assert card["residence_district"]["code"] == "330782"  # the district, not the street
    listed = api.get("/api/v1/referrals", headers=world.h("emp_a"))
    _assert_private(listed, candidate)
    for step in ("interview", "offered"):
        _assert_private(_move(api, world, referral.id, "emp_a", step), candidate)


def test_caseworker_sees_who_it_is(api, world, sensitive):
    candidate, referral = sensitive
    card = api.get(f"/api/v1/referrals/{referral.id}", headers=world.h("cw_a")).json["candidate"]
    assert (card["id"], card["name"]) == (candidate.id, "赵敏感")


def test_the_name_is_shown_only_after_consent_to_disclose(api, world, sensitive):
    candidate, referral = sensitive

    def employer_sees_name():
        return api.get(f"/api/v1/referrals/{referral.id}", headers=world.h("emp_a")).json["candidate"].get("name")

    assert employer_sees_name() is None
    consents = f"/api/v1/candidates/{candidate.id}/consents"
    disclosure = {"kind": "disclose_identity", "recorded_on": today().isoformat(), "base_id": world.company_a.id,
                  "purpose": "interview"}
    assert api.post(consents, headers=world.h("cw_a"), json={**disclosure, "granted": True}).status_code == 201
    assert employer_sees_name() == "赵敏感"
    assert api.post(consents, headers=world.h("cw_a"), json={**disclosure, "granted": False}).status_code == 201
    assert employer_sees_name() is None


def test_another_consent_does_not_disclose_the_name(api, world, sensitive):
    candidate, referral = sensitive
    api.post(f"/api/v1/candidates/{candidate.id}/consents", headers=world.h("cw_a"),
             json={"kind": "data_processing", "granted": True, "recorded_on": today().isoformat()})
    card = api.get(f"/api/v1/referrals/{referral.id}", headers=world.h("emp_a")).json["candidate"]
    assert card.get("name") is None


def test_referring_from_a_recommendation_is_one_use_case_for_the_api_and_the_page(world, session, kit):
    """`refer_from_recommendation` keeps the model's score; left to itself it sends only with the referral consent
    (the page), and it sends or not as told (the API's `send`)."""
    from matcher.candidates.models import ConsentKind
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.service import refer_from_recommendation

    cw = world.accounts["cw_a"]
    sent = refer_from_recommendation(session=session, actor=cw, candidate_id=world.cand_a.id,
                                     slot_id=world.slot_a.id)
    assert sent.status == ReferralStatus.SENT and sent.model_version == "prior-builtin" and 0 < sent.score < 1
    quiet = kit.new_candidate(session, cw, residence=kit.CHOUCHENG, seq=32, consents=[ConsentKind.DATA_PROCESSING])
    proposed = refer_from_recommendation(session=session, actor=cw, candidate_id=quiet.id, slot_id=world.slot_a.id)
    assert proposed.status == ReferralStatus.PROPOSED and proposed.model_version == "prior-builtin"
    willing = kit.new_candidate(session, cw, residence=kit.CHOUCHENG, seq=33)
    told = refer_from_recommendation(session=session, actor=cw, candidate_id=willing.id, slot_id=world.slot_a.id,
                                     send=False)
    assert told.status == ReferralStatus.PROPOSED
