"""50 concurrent retries of one request with one idempotency key make one referral, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from bench.bench_races import Crowd, count_referrals, idempotent_retries
from matcher.extensions import db

ATTEMPTS = 50


def test_fifty_concurrent_retries_with_one_key_make_one_referral(app, world, session):
    body = {"candidate_id": world.cand_a.id, "slot_id": world.slot_a.id, "send": True}
    token = world.tokens["cw_a"]
    session.commit()
    db.session.remove()  # no connection (and on SQLite no write lock) held by the test while the crowd runs

    answers = idempotent_retries(app, token=token, body=body, attempts=ATTEMPTS, key="one-key")["answers"]

    assert all(isinstance(a, tuple) for a in answers), [a for a in answers if not isinstance(a, tuple)]
    statuses = Counter(status for status, _replayed, _text in answers)
    assert set(statuses) <= {201, 409}, statuses
    first = [a for a in answers if a[0] == 201 and a[1] is None]
    assert len(first) == 1  # one request did the work; the others were replayed or told to wait
    assert {text for status, _replayed, text in answers if status == 201} == {first[0][2]}
    assert statuses[201] + statuses[409] == ATTEMPTS
    assert count_referrals(db.session, candidate_id=body["candidate_id"], slot_id=body["slot_id"]) == 1


def test_ten_parallel_confirmations_of_one_plan_make_its_referrals_once(app, world, session):
    from matcher.auth.models import Account
    from matcher.matching.service import confirm_draft, plan_assignment
    from matcher.referrals.models import Referral
    from tests.conftest import CHOUCHENG, new_candidate

    for n in range(4):
        new_candidate(session, world.accounts["cw_a"], residence=CHOUCHENG, seq=600 + n)
    draft = plan_assignment(session=session, actor=world.accounts["admin"], params={})
    draft_id, pairs, admin_id = draft.id, len(draft.items), world.accounts["admin"].id
    assert pairs >= 2
    session.commit()
    db.session.remove()

    def confirm(_index):
        confirmed = confirm_draft(session=db.session, actor=db.session.get(Account, admin_id), draft_id=draft_id)
        return confirmed.status.value

    with Crowd(app, 10) as crowd:
        outcomes = crowd.run(confirm, list(range(10)))

    assert outcomes == ["confirmed"] * 10
    assert db.session.scalar(select(func.count()).select_from(Referral)) == pairs
