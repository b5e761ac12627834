"""Bases that answer: what weighing recommendations by each base's response rate costs, and batch assignment with
each base's month as a group capacity.

Figures (matcher/bases/answers.py):
- the version check every recommendations page makes (`answers_version`, indexes and small tables only);
- rebuilding every base's standing (a miss: after a base or the settings change, or REFRESH_SECONDS after a
  referral moved);
- the demo caseworker's recommendations (`recommend_slots`, first page) per candidate, warm, and with the standings
  rebuilt before every request (the worst case);
- the exact assignment of a city-size random problem with and without a per-base group capacity.

Usage: python -m bench.bench_answers [--database URL] [--candidates N]
(without --database: a fresh SQLite demo city with a trained model, as bench_pages builds it)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import summary_ms, write_result


def _app(database: str | None, tmp: Path):
    from matcher import create_app

    if database is None:
        from bench.bench_pages import build

        return build(tmp)[0]
    return create_app({"SQLALCHEMY_DATABASE_URI": database})


def _timed(function, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def service_figures(app, n_candidates: int) -> dict:
    from sqlalchemy import select

    from matcher import policy
    from matcher.auth.models import Account
    from matcher.bases import answers
    from matcher.candidates.models import Candidate, CandidateStatus
    from matcher.extensions import db
    from matcher.matching.service import recommend_slots

    with app.app_context():
        session = db.session
        caseworker = session.scalar(select(Account).where(Account.username == "cw330782001"))
        seeking = Candidate.status.in_([CandidateStatus.ACTIVE, CandidateStatus.PRE_RELEASE])
        ids = session.scalars(policy.candidates(caseworker).where(seeking).with_only_columns(Candidate.id)
                              .order_by(Candidate.id).limit(n_candidates)).all()
        standings = answers.standings(session)
        figures = {"bases": len(standings), "paused": sum(s.paused for s in standings.values()),
                   "demoted": sum(s.demoted for s in standings.values()),
                   "version_check": summary_ms(_timed(lambda: answers.answers_version(session), 200)),
                   "standings_rebuild": summary_ms(_timed(lambda: answers.standings(session), 10))}

        def page(candidate_id):
            return lambda: recommend_slots(session=session, actor=caseworker, candidate_id=candidate_id, limit=20)

        for candidate_id in ids:  # warm the open slots' side and the standings
            page(candidate_id)()
        warm = [t for candidate_id in ids for t in _timed(page(candidate_id), 1)]

        def miss(candidate_id):
            answers.forget_standings()
            page(candidate_id)()

        cold = [t for candidate_id in ids for t in _timed(lambda c=candidate_id: miss(c), 1)]
        # What the weighing adds to a warm page: the version check and the per-slot weights of the open slots.
        from matcher.matching import pipeline

        slots = pipeline.open_slot_side(session, pipeline.open_slots(), key=("recommend_slots",))
        added = _timed(lambda: pipeline.answer_weights(session, slots.rows), 50)
        demoted_shown = sum(item.demoted for candidate_id in ids[:10]
                            for item in recommend_slots(session=session, actor=caseworker,
                                                        candidate_id=candidate_id, limit=20).items)
        figures.update({"candidates": len(ids), "open_slots": len(slots.rows.table),
                        "answer_weights_added_per_page": summary_ms(added), "recommendations_warm": summary_ms(warm),
                        "recommendations_standings_rebuilt_each_time": summary_ms(cold),
                        "demoted_items_on_first_pages_of_10_candidates": demoted_shown})
        session.remove()
    return figures


def assignment_figures(n_candidates: int = 7500, n_slots: int = 1500, n_bases: int = 45, k: int = 30) -> dict:
    from matcher.engine.assignment import AssignmentProblem, greedy, solve

    rng = np.random.default_rng(2026)
    cand = np.repeat(np.arange(n_candidates), k)
    slot = rng.integers(0, n_slots, size=n_candidates * k)
    value = rng.beta(2, 5, size=len(cand))
    seats = rng.integers(1, 6, size=n_slots)
    base = rng.integers(0, n_bases, size=n_slots)
    caps = rng.integers(3, 26, size=n_bases)  # what is left of each base's month
    plain = AssignmentProblem(n_candidates, n_slots, cand, slot, value, seats)
    capped = AssignmentProblem(n_candidates, n_slots, cand, slot, value, seats, slot_group=base, group_caps=caps)
    out = {"n_candidates": n_candidates, "n_slots": n_slots, "n_bases": n_bases, "edges": int(len(cand)),
           "seats": int(seats.sum()), "month_left_total": int(caps.sum())}
    for name, problem in (("without_caps", plain), ("with_base_caps", capped)):
        exact, base_line = solve(problem), greedy(problem)
        per_base = np.bincount(base[problem.edge_slot[exact.chosen_edges]], minlength=n_bases)
        out[name] = {"solve_s": round(exact.seconds, 3), "assigned": int(len(exact.chosen_edges)),
                     "objective": round(exact.objective, 2), "greedy_objective": round(base_line.objective, 2),
                     "bases_over_cap": int(np.sum(per_base > caps))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=None, help="an existing demo database (SQLAlchemy URL)")
    parser.add_argument("--candidates", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(args.database, Path(tmp))
        payload = {"service": service_figures(app, args.candidates), "assignment": assignment_figures()}
    write_result("answers", payload)


if __name__ == "__main__":
    main()
