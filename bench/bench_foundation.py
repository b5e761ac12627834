"""Foundation targets: demo seed < 60 s; office candidate list (page of 50, filtered) p95 < 30 ms on SQLite;
50 parallel attempts on the last 5 seats leave exactly 5 placed, on SQLite and PostgreSQL.

Usage: python bench/bench_foundation.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from bench.common import fresh_database, summary_ms, write_result
from matcher import clock

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/xintu_bench"


def build_city(url: str):
    from flask_migrate import upgrade

    from matcher import MIGRATIONS_DIR, create_app
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        started = time.perf_counter()
        build_demo(db.session, DemoSpec(seed=2026), echo=lambda _line: None)
        seconds = time.perf_counter() - started
    return app, seconds


def bench_candidate_list(app) -> dict:
    from sqlalchemy import func, select

    from matcher.auth.models import Account, Role
    from matcher.auth.service import issue_token
    from matcher.candidates.models import Candidate
    from matcher.extensions import db

    with app.app_context():
        # The busiest office: the worst case for a page of its candidates.
        office_id = db.session.execute(select(Candidate.office_id, func.count()).group_by(Candidate.office_id)
                                       .order_by(func.count().desc()).limit(1)).first()[0]
        actor = db.session.scalar(select(Account).where(Account.role == Role.CASEWORKER,
                                                        Account.office_id == office_id))
        token, _ = issue_token(session=db.session, account=actor, ttl_days=1)
        office_size = db.session.scalar(select(func.count()).where(Candidate.office_id == office_id))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    queries = ["status=active&page_size=50", "status=active&sort=name&page_size=50",
               "key_subject=false&page_size=50&page=2", "course=cooking&page_size=50",
               "risk_grade=green&sort=-release_date&page_size=50", "q=王&page_size=50"]
    for query in queries:  # warm up
        assert client.get(f"/api/v1/candidates?{query}", headers=headers).status_code == 200
    samples = []
    for _round in range(50):
        for query in queries:
            started = time.perf_counter()
            response = client.get(f"/api/v1/candidates?{query}", headers=headers)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, response.json
    return {"office_candidates": office_size, **summary_ms(samples), "target_p95_ms": 30}


def bench_seat_race(url: str) -> dict:

    from sqlalchemy import select

    from matcher import create_app
    from matcher.auth.models import Account, Role
    from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind
    from matcher.extensions import db
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.service import create_referral, transition
    from matcher.slots.models import Slot
    from matcher.slots.service import create_slot, set_slot_status

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    attempts, seats = 50, 5
    with app.app_context():
        admin = db.session.scalar(select(Account).where(Account.role == Role.ADMINISTRATOR).limit(1))
        employer = db.session.scalar(select(Account).where(Account.username == "employer"))
        slot = create_slot(session=db.session, actor=employer, data={
            "kind": "job", "title": "bench last seats", "course_code": "cooking", "seats": seats,
            "place": {"code": employer_place(employer)}, "starts_on": clock.today()})
        set_slot_status(session=db.session, actor=employer, slot_id=slot.id, status="open")
        candidates = db.session.scalars(select(Candidate).where(Candidate.status == CandidateStatus.ACTIVE)
                                        .order_by(Candidate.id).limit(attempts)).all()
        referral_ids = []
        for candidate in candidates:
            caseworker = db.session.scalar(select(Account).where(Account.office_id == candidate.office_id))
            db.session.add(Consent(candidate_id=candidate.id, kind=ConsentKind.REFERRAL, granted=True,
                                   recorded_on=clock.today()))
            db.session.commit()
            referral = create_referral(session=db.session, actor=caseworker, candidate_id=candidate.id,
                                       slot_id=slot.id, send=True)
            transition(session=db.session, actor=employer, referral_id=referral.id, to=ReferralStatus.OFFERED)
            referral_ids.append(referral.id)
        db.session.refresh(employer)
        db.session.expunge(employer)
        slot_id = slot.id
        db.session.remove()
        del admin

    barrier = threading.Barrier(attempts)
    outcomes = []
    lock = threading.Lock()

    def accept(referral_id):
        with app.app_context():
            from matcher.errors import Conflict

            barrier.wait()
            try:
                transition(session=db.session, actor=employer, referral_id=referral_id, to=ReferralStatus.ACCEPTED)
                result = "placed"
            except Conflict:
                result = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    started = time.perf_counter()
    threads = [threading.Thread(target=accept, args=(rid,)) for rid in referral_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    with app.app_context():
        taken = db.session.get(Slot, slot_id).seats_taken
        db.engine.dispose()
    return {"attempts": attempts, "seats": seats, "placed": outcomes.count("placed"),
            "refused": outcomes.count("refused"), "seats_taken_after": taken, "seconds": round(seconds, 2),
            "target": "exactly 5 placed"}


def employer_place(employer) -> str:
    from matcher.bases.models import Company
    from matcher.extensions import db

    return db.session.get(Company, employer.company_id).place_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=PG_DEFAULT, help="PostgreSQL URL for the database runs")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database("sqlite", Path(tmp))
        app, seconds = build_city(url)
        result["sqlite"] = {"demo_seed_s": round(seconds, 1), "demo_seed_target_s": 60,
                            "candidate_list": bench_candidate_list(app), "seat_race": bench_seat_race(url)}
        with app.app_context():
            from matcher.extensions import db

            db.engine.dispose()
    if not args.skip_postgres:
        url = fresh_database(args.postgres, Path("."))
        app, seconds = build_city(url)
        result["postgresql"] = {"demo_seed_s": round(seconds, 1), "demo_seed_target_s": 60,
                                "candidate_list": bench_candidate_list(app), "seat_race": bench_seat_race(url)}
        with app.app_context():
            from matcher.extensions import db

            db.engine.dispose()
    write_result("foundation", result)


if __name__ == "__main__":
    main()
