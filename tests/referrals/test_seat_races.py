"""Round after round of 50 parallel accepts on a fresh 5-seat slot: never over-filled, on SQLite and PostgreSQL.

The target's 20 rounds (about 16-19 s on either database); `python -m bench.bench_races` gives the same figures
from a fresh database (bench/results/races.json)."""

from __future__ import annotations

from bench.bench_races import seat_races
from matcher.extensions import db
from tests.conftest import CHOUCHENG, new_candidate

ATTEMPTS, SEATS, ROUNDS = 50, 5, 20


def test_parallel_accepts_never_over_fill_a_slot(app, world, session):
    cw, emp = world.accounts["cw_a"], world.accounts["emp_a"]
    candidate_ids = [new_candidate(session, cw, residence=CHOUCHENG, seq=300 + n).id for n in range(ATTEMPTS)]
    employer_id, caseworker_id = emp.id, cw.id
    session.commit()
    db.session.remove()

    result = seat_races(app, employer_id=employer_id, caseworker_id=caseworker_id, candidate_ids=candidate_ids,
                        rounds=ROUNDS, seats=SEATS)

    assert result["errors"] == 0, result["per_round"]
    assert result["over_filled_rounds"] == 0, result["per_round"]
    assert result["exactly_filled_rounds"] == ROUNDS, result["per_round"]
