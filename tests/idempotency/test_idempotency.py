"""The Idempotency-Key header: a retry gets the first answer, another request with the key is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matcher import clock
from matcher.audit.models import IdempotencyKey
from matcher.referrals.models import Referral


def _referrals(session) -> int:
    return session.scalar(select(func.count()).select_from(Referral))


def _post_referral(api, world, key, *, who="cw_a", **body):
    headers = {**world.h(who), "Idempotency-Key": key}
    payload = {"candidate_id": world.cand_a.id, "slot_id": world.slot_a.id, **body}
    return api.post("/api/v1/referrals", json=payload, headers=headers)


def test_a_retry_gets_the_first_answer_and_creates_nothing(api, world, session):
    first = _post_referral(api, world, "retry-1", note="第一次")
    assert first.status_code == 201, first.json
    assert "Idempotent-Replayed" not in first.headers
    again = _post_referral(api, world, "retry-1", note="第一次")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert _referrals(session) == 1
    # Without the key the same request is a new request (here: refused, the pair already has a live referral).
    assert api.post("/api/v1/referrals", json={"candidate_id": world.cand_a.id, "slot_id": world.slot_a.id,
                                               "note": "第一次"}, headers=world.h("cw_a")).status_code == 409


def test_the_same_json_spelt_differently_is_the_same_request(api, world, session):
    headers = {**world.h("cw_a"), "Idempotency-Key": "spelling", "Content-Type": "application/json"}
    first = api.post("/api/v1/referrals", headers=headers,
                     data=f'{{"candidate_id": {world.cand_a.id}, "slot_id": {world.slot_a.id}}}')
    again = api.post("/api/v1/referrals", headers=headers,
                     data=f'{{ "slot_id":{world.slot_a.id},"candidate_id":{world.cand_a.id} }}')
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and _referrals(session) == 1


def test_the_key_with_another_request_is_refused(api, world, session):
    assert _post_referral(api, world, "k-2").status_code == 201
    other = _post_referral(api, world, "k-2", note="另一个请求")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    elsewhere = api.post(f"/api/v1/assignments/{world.slot_a.id}/confirm",
                         headers={**world.h("admin"), "Idempotency-Key": "k-2"})
    assert elsewhere.status_code != 201  # the admin's keys are their own: this is no replay
    assert _referrals(session) == 1


@pytest.mark.parametrize("key", ["", "x" * 101, "带中文", "with space", "tab\there"])
def test_a_bad_key_is_a_422_naming_the_header(api, world, session, key):
    response = _post_referral(api, world, key)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["Idempotency-Key"]
    assert _referrals(session) == 0


def test_while_the_first_runs_a_retry_is_told_to_wait(api, world, session):
    request_hash = _first_hash(api, world, session)
    session.add(IdempotencyKey(account_id=world.accounts["cw_a"].id, key="running", method="POST",
                               path="/api/v1/referrals", request_hash=request_hash, status=None))
    session.commit()
    response = _post_referral(api, world, "running")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json["errors"]
    assert _referrals(session) == 0


def _first_hash(api, world, session) -> str:
    """The hash of the request _post_referral sends, taken from a key stored for it and then forgotten."""
    response = _post_referral(api, world, "probe")
    stored = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "probe"))
    assert response.status_code == 201
    request_hash = stored.request_hash
    session.delete(stored)
    session.execute(Referral.__table__.delete())
    session.commit()
    return request_hash


def test_an_error_answer_releases_the_key(api, world, session):
    wrong = _post_referral(api, world, "fix-me", slot_id=world.draft_a.id)  # a draft slot: not referable
    assert wrong.status_code in (409, 422)
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    bad = _post_referral(api, world, "fix-me", bogus=1)  # refused by the schema: released too
    assert bad.status_code == 422
    right = _post_referral(api, world, "fix-me")
    assert right.status_code == 201 and "Idempotent-Replayed" not in right.headers


def test_keys_expire_after_a_day_and_belong_to_one_account(api, world, session):
    assert _post_referral(api, world, "old").status_code == 201
    stored = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old"))
    stored.created_at = clock.now() - dt.timedelta(hours=25)
    session.execute(Referral.__table__.delete())
    session.commit()
    again = _post_referral(api, world, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert _referrals(session) == 1
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1  # the expired one is gone
    # Another account's request with the same key is its own (here: not allowed to refer this candidate).
    theirs = _post_referral(api, world, "old", who="cw_b")
    assert theirs.status_code in (403, 422) and "Idempotent-Replayed" not in theirs.headers


def test_confirming_a_plan_with_a_key(api, world, session):
    plan = api.post("/api/v1/assignments", headers=world.h("admin"), json={})
    assert plan.status_code == 201, plan.json
    headers = {**world.h("admin"), "Idempotency-Key": "confirm-1"}
    first = api.post(f"/api/v1/assignments/{plan.json['id']}/confirm", headers=headers)
    again = api.post(f"/api/v1/assignments/{plan.json['id']}/confirm", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_data() == first.get_data()
    assert _referrals(session) == len(plan.json["items"])


def test_openapi_documents_the_header(api):
    paths = api.get("/api/openapi.json").json["paths"]
    for path in ("/api/v1/referrals", "/api/v1/assignments/{draft_id}/confirm", "/api/v1/fairs/{fair_id}/plan",
                 "/api/v1/fair-interviews/{interview_id}/outcome"):
        names = [(p["in"], p["name"]) for p in paths[path]["post"].get("parameters", [])]
        assert ("header", "Idempotency-Key") in names, path
    assert "requestBody" in paths["/api/v1/referrals"]["post"]
    assert all(p["name"] != "Idempotency-Key" for p in paths["/api/v1/referrals"]["get"].get("parameters", []))
