"""A bureau's history, loaded from its files, replays in full: its slots opened years before its people were
released, which today's "not available by the start" would call impossible, yet every referral happened."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from matcher.candidates.models import Candidate
from matcher.slots.models import Slot
from tests.transfer.test_transfer_import import (
    CANDIDATE_HEADER,
    REFERRAL_HEADER,
    SLOT_HEADER,
    candidate_row,
    run_import,
)

PEOPLE = 40


def test_model_evaluate_keeps_history_whose_slots_started_before_the_release(session, people, tx):
    from matcher.matching.service import evaluate

    run_import(session, people, "candidates", tx.csv_bytes(CANDIDATE_HEADER, [
        candidate_row(tx, n, release_date="2024-03-01", preferred_courses="cooking") for n in range(1, PEOPLE + 1)]))
    run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, [
        [tx.credit_code(1 + n % 2), "job", f"厨师{n}", "cooking", "chinese_cooking:2", "3", tx.CHOUCHENG,
         "2022-01-01", "4000", "5000", "closed"] for n in range(4)]))
    slot_ids = session.scalars(select(Slot.id).order_by(Slot.id)).all()
    public_ids = session.scalars(select(Candidate.public_id).order_by(Candidate.id)).all()
    rows = []
    for n, public_id in enumerate(public_ids):
        created = dt.date(2024, 4, 1) + dt.timedelta(days=10 * n)
        started, ended = created + dt.timedelta(days=7), created + dt.timedelta(days=7 + (150 if n % 3 else 40))
        rows.append([public_id, slot_ids[n % 4], "left", created.isoformat(), started.isoformat(),
                     ended.isoformat(), "personal", ""])
        rows.append([public_id, slot_ids[(n + 1) % 4], "declined", created.isoformat(), "",
                     (created + dt.timedelta(days=3)).isoformat(), "not_suitable", ""])
    run_import(session, people, "referrals", tx.csv_bytes(REFERRAL_HEADER, rows))
    session.commit()

    split = dt.date(2024, 4, 1) + dt.timedelta(days=10 * 30)  # the last ten people are the test period
    report = evaluate(session=session, actor=people.actor("admin"), horizon_days=90, split_on=split)
    assignment = report["assignment"]
    assert report["n_test"] == 20 and assignment["candidates"] == 10
    # Every real pair (two per person) is kept, and each person gets a seat: once 0 pairs, nobody assigned.
    assert assignment["eligible_pairs"] >= 20
    assert assignment["plans"]["model (exact)"]["assigned"] == 10
    assert assignment["plans"]["historic referrals"]["realised_stays"] == 6  # left after 150 days: stayed 90
