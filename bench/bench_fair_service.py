"""Job-fair planning end to end through the service, from the database (issue 5 targets):

- a fair of 2,000 candidates, 100 booths, 8 blocks, 3 interviews each: plan in < 10 s within 1 % of the optimum
  (the bound is reported), including reading the fair, checking eligibility and scoring every pair with the
  active model;
- re-planning the rest of the day after 50 walk-ins at midday (block 4): < 2 s, both ways: filling free places
  around everyone's schedule (the default) and optimising the afternoon afresh.

The demo city is built with 100 certified bases (each brings its open slots, 2 to 4 interviews per block); 2,000
candidates seeking work are invited and confirmed in bulk (confirming is each caseworker's click, not what is
measured here). The pure planner alone is measured by bench_fair.py.

Usage: python -m bench.bench_fair_service
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import tempfile
import time
from pathlib import Path

from bench.common import fresh_database, write_result
from matcher import clock

PLAN_TARGET_S = 10.0
PLAN_TARGET_GAP = 0.01
REPLAN_TARGET_S = 2.0


def main() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select, update

    from matcher import MIGRATIONS_DIR, create_app
    from matcher.auth.models import Account, Role
    from matcher.bases.models import Company
    from matcher.bases.service import certified_in_date
    from matcher.candidates.models import Candidate, CandidateStatus
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.extensions import db
    from matcher.fairs import service
    from matcher.fairs.models import FairInterview, FairInvitation, InterviewStatus, InvitationStatus
    from matcher.matching import service as matching
    from matcher.slots.models import Slot, SlotStatus

    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database("sqlite", Path(os.environ.get("XINTU_BENCH_DIR", tmp)))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MODELS_DIR": str(Path(tmp) / "models")})
        with app.app_context():
            session = db.session
            upgrade(directory=MIGRATIONS_DIR)
            build_demo(session, DemoSpec(seed=2026, certified_bases=100, open_slots=400), echo=lambda _l: None)
            matching.train_model(session=session, actor=None, activate=True)
            matching.active_scorer(session)  # loaded once, as in a running server
            organiser = session.scalar(select(Account).where(Account.role == Role.ORGANISER))
            fair = service.create_fair(session=session, actor=organiser, data=dict(
                name="bench", held_on=clock.today() + dt.timedelta(days=1), venue="bench",
                starts_at=dt.time(9), block_minutes=30, n_blocks=8, max_interviews=3, key_subject_weight=0.5,
                waiting_weight_per_year=0.2))
            companies = list(session.scalars(select(Company).where(certified_in_date(), Company.id.in_(
                select(Slot.company_id).where(Slot.status == SlotStatus.OPEN))).order_by(Company.id)))[:100]
            for company in companies:
                slots = list(session.scalars(select(Slot.id).where(
                    Slot.company_id == company.id, Slot.status == SlotStatus.OPEN).order_by(Slot.id)))[:4]
                service.add_booth(session=session, actor=organiser, fair_id=fair.id, data=dict(
                    company_id=company.id, slot_ids=slots, interviews_per_block=rng.choice([2, 3, 4])))
            seeking = list(session.scalars(select(Candidate.public_id).where(
                Candidate.status == CandidateStatus.ACTIVE).order_by(Candidate.id)))
            chosen = rng.sample(seeking, 2050)
            invited, walk_ins = chosen[:2000], chosen[2000:]
            service.invite(session=session, actor=organiser, fair_id=fair.id, data={"public_ids": invited})
            session.execute(update(FairInvitation).where(FairInvitation.fair_id == fair.id)
                            .values(status=InvitationStatus.CONFIRMED))
            session.commit()

            started = time.perf_counter()
            run = service.make_plan(session=session, actor=organiser, fair_id=fair.id, from_block=0)
            plan_s = time.perf_counter() - started
            summary = json.loads(run.summary_json)
            reasons: dict[str, int] = {}
            for reason in summary.pop("unplaced").values():
                reasons[reason] = reasons.get(reason, 0) + 1

            # Midday: the morning's interviews were held (or missed); 50 people walk in; re-plan from block 4.
            for interview in session.scalars(select(FairInterview).where(
                    FairInterview.fair_id == fair.id, FairInterview.block < 4,
                    FairInterview.status == InterviewStatus.PLANNED)):
                interview.status = InterviewStatus.NO_SHOW if rng.random() < 0.1 else InterviewStatus.PLANNED
            session.commit()
            # 20 people with afternoon interviews cancel (their places free up), and 50 walk in.
            afternoon = sorted(set(session.scalars(select(FairInterview.invitation_id).where(
                FairInterview.fair_id == fair.id, FairInterview.block >= 4,
                FairInterview.status == InterviewStatus.PLANNED))))
            for invitation_id in rng.sample(afternoon, 20):
                service.cancel_invitation(session=session, actor=organiser, invitation_id=invitation_id,
                                          reason="bench")
            for public_id in walk_ins:
                service.add_walk_in(session=session, actor=organiser, fair_id=fair.id, public_id=public_id,
                                    consent=True, arrives_block=4)
            walk_in_ids = set(session.scalars(select(FairInvitation.id).where(
                FairInvitation.fair_id == fair.id, FairInvitation.source == "walk_in")))

            def replan(keep_planned: bool) -> dict:
                started = time.perf_counter()
                rerun = service.make_plan(session=session, actor=organiser, fair_id=fair.id, from_block=4,
                                          keep_planned=keep_planned)
                seconds = time.perf_counter() - started
                summary = json.loads(rerun.summary_json)
                placed = len(set(session.scalars(select(FairInterview.invitation_id).where(
                    FairInterview.fair_id == fair.id, FairInterview.status == InterviewStatus.PLANNED,
                    FairInterview.invitation_id.in_(walk_in_ids)))))
                return {"keep_planned": keep_planned, "from_block": 4, "walk_ins": len(walk_ins), "cancelled": 20,
                        "walk_ins_placed": placed, "kept": summary["kept"], "new": summary["new"],
                        "unchanged": summary["unchanged"], "moved_or_dropped": summary["moved_or_dropped"],
                        "seconds": round(seconds, 3), "solver_seconds": round(rerun.seconds, 3),
                        "objective": round(rerun.objective, 4), "bound": round(rerun.bound, 4), "gap": rerun.gap,
                        "target_s": REPLAN_TARGET_S, "ok": seconds < REPLAN_TARGET_S}

            # The default fills free places around everyone's schedule; then the whole afternoon afresh.
            keep = replan(True)
            full = replan(False)
            write_result("fair_service", {
                "plan": {"candidates": summary["candidates"], "booths": summary["booths"], "blocks": 8, "k": 3,
                         "eligible_pairs": summary["eligible_pairs"], "interviews": summary["interviews"],
                         "expected_stays": summary["expected_stays"], "seconds": round(plan_s, 3),
                         "solver_seconds": round(run.seconds, 3), "objective": round(run.objective, 4),
                         "bound": round(run.bound, 4), "gap": run.gap, "status": run.solver_status,
                         "unplaced": reasons, "target_s": PLAN_TARGET_S, "target_gap": PLAN_TARGET_GAP,
                         "ok": plan_s < PLAN_TARGET_S and run.gap <= PLAN_TARGET_GAP},
                "replan_keep_schedules": keep,
                "replan_afternoon_afresh": full,
            })


if __name__ == "__main__":
    main()
