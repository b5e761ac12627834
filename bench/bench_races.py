"""Races, on SQLite and PostgreSQL: 50 parallel accepts on a 5-seat slot, 20 rounds (a fresh slot each round),
must never over-fill a round; 50 concurrent retries of POST /referrals with one idempotency key must create 1 row.

Usage: python -m bench.bench_races [--postgres URL] [--skip-postgres] [--rounds 20]

The test suite runs the same races for fewer rounds (tests/referrals/test_seat_races.py,
tests/idempotency/test_idempotency_race.py); this script gives the full figures (bench/results/races.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import fresh_database, write_result
from matcher import clock

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/xintu_bench_races"
ATTEMPTS, SEATS, ROUNDS = 50, 5, 20


class Crowd:
    """N threads started once that run one call each at the same moment, round after round (no thread start
    in the race itself). Each call runs in its own app context, so with its own database session."""

    def __init__(self, app, size: int):
        self.app, self.size = app, size
        self._start = threading.Barrier(size + 1)
        self._done = threading.Barrier(size + 1)
        self._job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
        self.results: list[Any] = [None] * size
        self._threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(size)]
        for thread in self._threads:
            thread.start()

    def _work(self, index: int) -> None:
        while True:
            self._start.wait()
            if self._job is None:
                return
            fn, args = self._job
            try:
                with self.app.app_context():
                    from matcher.extensions import db
                    from matcher.uow import unit_of_work

                    try:
                        with unit_of_work():  # each racer's call is a request's unit of work
                            self.results[index] = fn(args[index])
                    finally:
                        db.session.remove()
            except BaseException as exc:  # noqa: BLE001 - reported as the outcome, the crowd goes on
                self.results[index] = exc
            self._done.wait()

    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> list[Any]:
        """Call fn(args[i]) in thread i, all released together; the results in order."""
        assert len(args) == self.size
        self._job, self.results = (fn, args), [None] * self.size
        self._start.wait()
        self._done.wait(timeout=300)
        return list(self.results)

    def close(self) -> None:
        self._job = None
        self._start.wait()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> Crowd:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def offered_referrals(session, *, employer_id: int, caseworker_id: int, candidate_ids: Sequence[int],
                      seats: int) -> tuple[int, list[int]]:
    """A fresh open slot of `seats` seats at the employer's base, and one offered referral to it per candidate."""
    from matcher.auth.models import Account
    from matcher.bases.models import Company
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral, ReferralEvent
    from matcher.slots.service import create_slot, set_slot_status

    employer = session.get(Account, employer_id)
    place = session.get(Company, employer.company_id).place_code
    slot = create_slot(session=session, actor=employer, data={
        "kind": "job", "title": "race", "course_code": "cooking", "seats": seats, "place": {"code": place},
        "starts_on": clock.today()})
    set_slot_status(session=session, actor=employer, slot_id=slot.id, status="open")
    # Written directly: the race is about the accept, not about the steps before it.
    referrals = [Referral(candidate_id=cid, slot_id=slot.id, status=ReferralStatus.OFFERED, created_by_id=caseworker_id)
                 for cid in candidate_ids]
    for referral in referrals:
        referral.events.append(ReferralEvent(from_status=None, to_status=ReferralStatus.OFFERED,
                                             on_date=clock.today(), actor_id=caseworker_id))
    session.add_all(referrals)
    session.commit()
    return slot.id, [r.id for r in referrals]


def accept_as(account_id: int) -> Callable[[int], str]:
    """A racer: accept one referral as the account, 'placed' or 'full'."""

    def accept(referral_id: int) -> str:
        from matcher.auth.models import Account
        from matcher.errors import Conflict
        from matcher.extensions import db
        from matcher.referrals.lifecycle import ReferralStatus
        from matcher.referrals.service import transition

        actor = db.session.get(Account, account_id)
        try:
            transition(session=db.session, actor=actor, referral_id=referral_id, to=ReferralStatus.ACCEPTED)
            return "placed"
        except Conflict:
            return "full"

    return accept


def seat_count(session, slot_id: int) -> tuple[int, int]:
    """(seats_taken on the slot, referrals holding a seat on it)."""
    from sqlalchemy import func, select

    from matcher.referrals.models import Referral
    from matcher.slots.models import Slot

    session.expire_all()
    taken = session.get(Slot, slot_id).seats_taken
    holding = session.scalar(select(func.count()).where(Referral.slot_id == slot_id, Referral.holds_seat.is_(True)))
    return taken, holding


def seat_races(app, *, employer_id: int, caseworker_id: int, candidate_ids: Sequence[int], rounds: int,
               seats: int = SEATS) -> dict:
    """`rounds` rounds of len(candidate_ids) parallel accepts on a fresh slot of `seats` seats each."""
    from matcher.extensions import db

    per_round, seconds = [], []
    with Crowd(app, len(candidate_ids)) as crowd:
        for _ in range(rounds):
            with app.app_context():
                slot_id, referral_ids = offered_referrals(db.session, employer_id=employer_id,
                                                          caseworker_id=caseworker_id, candidate_ids=candidate_ids,
                                                          seats=seats)
                db.session.remove()
            started = time.perf_counter()
            outcomes = crowd.run(accept_as(employer_id), referral_ids)
            seconds.append(time.perf_counter() - started)
            with app.app_context():
                taken, holding = seat_count(db.session, slot_id)
                db.session.remove()
            counts = Counter(o if isinstance(o, str) else type(o).__name__ for o in outcomes)
            per_round.append({"placed": counts.get("placed", 0), "full": counts.get("full", 0),
                              "errors": sum(v for k, v in counts.items() if k not in ("placed", "full")),
                              "seats_taken": taken, "holding": holding})
    return {
        "rounds": rounds, "attempts": len(candidate_ids), "seats": seats,
        "over_filled_rounds": sum(1 for r in per_round if max(r["placed"], r["seats_taken"], r["holding"]) > seats),
        "exactly_filled_rounds": sum(1 for r in per_round
                                     if r["placed"] == r["seats_taken"] == r["holding"] == seats),
        "errors": sum(r["errors"] for r in per_round),
        "round_seconds_max": round(max(seconds), 3), "race_seconds_total": round(sum(seconds), 2),
        "per_round": per_round,
    }


def idempotent_retries(app, *, token: str, body: dict, attempts: int, key: str) -> dict:
    """`attempts` concurrent POST /referrals with one idempotency key: what each got, and how many rows it made."""

    def post(_index: int):
        client = app.test_client()
        response = client.post("/api/v1/referrals", json=body, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": key, "Accept-Language": "en"})
        return response.status_code, response.headers.get("Idempotent-Replayed"), response.get_data(as_text=True)

    with Crowd(app, attempts) as crowd:
        started = time.perf_counter()
        answers = crowd.run(post, list(range(attempts)))
        seconds = time.perf_counter() - started
    return {"answers": answers, "seconds": seconds}


def count_referrals(session, *, candidate_id: int, slot_id: int) -> int:
    from sqlalchemy import func, select

    from matcher.referrals.models import Referral

    return session.scalar(select(func.count()).where(Referral.candidate_id == candidate_id,
                                                     Referral.slot_id == slot_id))


# ---- the script: a small world on a fresh database, both races, the figures ---------------------------------

def build_world(url: str):
    """A fresh schema (the migrations) with the reference data, a certified base with its employer, a caseworker
    and ATTEMPTS candidates who consented to referrals."""
    from flask_migrate import upgrade

    from matcher import MIGRATIONS_DIR, create_app
    from matcher.auth.service import create_account, issue_token
    from matcher.bases.service import create_company, decide_certification
    from matcher.candidates.models import ConsentKind
    from matcher.candidates.service import create_candidate
    from matcher.demo.reference import load_all_reference
    from matcher.extensions import db
    from matcher.identifiers import credit_code_check_char, id_number_check_char
    from matcher.offices.service import office_for_township

    township = "330782001"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        session = db.session
        load_all_reference(session)
        session.commit()
        admin = create_account(session=session, actor=None, data=dict(
            username="admin", display_name="Admin", password="bench-password-2026", role="administrator",
            bureau_code="330700"))
        code = "91330782RAC" + "0" * 6
        company = create_company(session=session, actor=admin, data={
            "name": "竞速餐饮有限公司", "credit_code": code + credit_code_check_char(code), "industry": "餐饮",
            "place": {"code": township}})
        decide_certification(session=session, actor=admin, company_id=company.id, action="certify",
                             valid_until=clock.today() + dt.timedelta(days=365))
        employer = create_account(session=session, actor=None, data=dict(
            username="employer", display_name="employer", password="bench-password-2026", role="employer",
            company_id=company.id))
        caseworker = create_account(session=session, actor=None, data=dict(
            username="caseworker", display_name="caseworker", password="bench-password-2026", role="caseworker",
            office_id=office_for_township(session, township).id))
        candidate_ids = []
        for seq in range(ATTEMPTS):
            first17 = f"33078219900101{seq:03d}"
            candidate = create_candidate(session=session, actor=caseworker, data={
                "name": f"竞速{seq}", "id_number": first17 + id_number_check_char(first17),
                "education": "junior_secondary", "hukou": {"code": township}, "residence": {"code": township},
                "release_date": clock.today() - dt.timedelta(days=100), "offence_category": "theft",
                "skills": [{"skill_code": "chinese_cooking", "level": 3}], "preferred_courses": ["cooking"],
                "consents": [ConsentKind.DATA_PROCESSING, ConsentKind.REFERRAL]})
            candidate_ids.append(candidate.id)
        token = issue_token(session=session, account=caseworker, ttl_days=1)[0]
        ids = {"employer_id": employer.id, "caseworker_id": caseworker.id, "candidate_ids": candidate_ids,
               "token": token}
        session.commit()
        db.session.remove()
    return app, ids


def run_on(url: str, rounds: int) -> dict:
    from matcher.extensions import db

    app, ids = build_world(url)
    seats = seat_races(app, employer_id=ids["employer_id"], caseworker_id=ids["caseworker_id"],
                       candidate_ids=ids["candidate_ids"], rounds=rounds)
    with app.app_context():
        slot_id, _ = offered_referrals(db.session, employer_id=ids["employer_id"],
                                       caseworker_id=ids["caseworker_id"], candidate_ids=[], seats=SEATS)
        db.session.remove()
    body = {"candidate_id": ids["candidate_ids"][0], "slot_id": slot_id, "send": True}
    retries = idempotent_retries(app, token=ids["token"], body=body, attempts=ATTEMPTS, key="bench-retry-1")
    statuses = Counter(status for status, _replayed, _body in retries["answers"])
    bodies = {text for status, _replayed, text in retries["answers"] if status != 409}
    with app.app_context():
        rows = count_referrals(db.session, candidate_id=body["candidate_id"], slot_id=slot_id)
        db.engine.dispose()
    seats.pop("per_round")
    return {"seat_race": {**seats, "target": "0 over-filled rounds"},
            "idempotent_retries": {"attempts": ATTEMPTS, "rows": rows, "statuses": dict(sorted(statuses.items())),
                                   "replayed": sum(1 for _s, r, _b in retries["answers"] if r == "true"),
                                   "distinct_answers": len(bodies), "seconds": round(retries["seconds"], 2),
                                   "target": "1 row"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=PG_DEFAULT, help="PostgreSQL URL (its database is recreated)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = run_on(fresh_database("sqlite", Path(tmp)), args.rounds)
    if not args.skip_postgres:
        result["postgresql"] = run_on(fresh_database(args.postgres, Path(".")), args.rounds)
    write_result("races", result)


if __name__ == "__main__":
    main()
