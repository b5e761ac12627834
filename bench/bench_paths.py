"""Course, then job, and the wish order: what they add to the caseworker's recommendations page.

Server time (Flask test client, logged in as the demo caseworker) of the recommendations page for the office's
seeking candidates, in the default order, in the wish order and with only training seats (every row then carries
its path), each measured with the paths as shipped and with the path step switched off (the same process, the
same moment, so the difference is the paths' own cost whatever the machine's load); and the follow-up page with
its second steps. Target (issue 17): the recommendations page's p95 stays within 150 ms under load, so the paths
must add only a few milliseconds (they reuse the cached open-slot side and score a page's seats only).

Usage: python -m bench.bench_paths [--rounds N] [--candidates N] [--database-url URL --models-dir DIR]
(without a URL: a fresh demo city on SQLite, as bench_pages builds it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import summary_ms, write_result

DEMO_PASSWORD = "xintu-demo-2026"


def _app(args, tmp: Path):
    if args.database_url:
        from matcher import create_app

        return create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "MODELS_DIR": args.models_dir,
                           "WTF_CSRF_ENABLED": False}), {}
    from bench.bench_pages import build

    return build(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the candidates per variant")
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--models-dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, timings = _app(args, Path(tmp))
        app.config["WTF_CSRF_ENABLED"] = False
        from sqlalchemy import select

        from matcher import policy
        from matcher.auth.models import Account
        from matcher.candidates.models import Candidate, CandidateStatus
        from matcher.extensions import db
        from matcher.matching.service import paths

        with app.app_context():
            cw = db.session.scalar(select(Account).where(Account.username == "cw330782001"))
            seeking = Candidate.status.in_([CandidateStatus.ACTIVE, CandidateStatus.PRE_RELEASE])
            ids = db.session.scalars(policy.candidates(cw).where(seeking).with_only_columns(Candidate.id)
                                     .order_by(Candidate.id).limit(args.candidates)).all()
            db.session.remove()
        client = app.test_client()
        response = client.post("/login", data={"username": "cw330782001", "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.status_code
        shipped = paths.paths_for

        def measure(query: str) -> tuple[list[float], int]:
            samples, rows_with_path = [], 0
            for _round in range(args.rounds):
                for cid in ids:
                    started = time.perf_counter()
                    page = client.get(f"/caseworker/candidates/{cid}/recommendations{query}")
                    samples.append(time.perf_counter() - started)
                    assert page.status_code == 200, page.status_code
                    rows_with_path += page.get_data(as_text=True).count('data-testid="follow-on"')
            return samples, rows_with_path

        client.get(f"/caseworker/candidates/{ids[0]}/recommendations")  # warm: model, open-slot side, imports
        results = {}
        for name, query in (("default order", ""), ("wish order", "?order=wish"),
                            ("training seats only", "?kind=training")):
            with_paths, jobs_shown = measure(query)
            paths.paths_for = lambda _session, _scorer, _tables, items, **_kw: [None] * len(items)
            try:
                without, _ = measure(query)
            finally:
                paths.paths_for = shipped
            results[name] = {"with_paths": summary_ms(with_paths), "paths_off": summary_ms(without),
                             "follow_on_jobs_shown": jobs_shown}
            print(f"{name:22s} with paths p50 {results[name]['with_paths']['p50_ms']} ms, "
                  f"p95 {results[name]['with_paths']['p95_ms']} ms | paths off p50 "
                  f"{results[name]['paths_off']['p50_ms']} ms, p95 {results[name]['paths_off']['p95_ms']} ms "
                  f"| follow-on jobs shown {jobs_shown}")
        samples = []
        for _round in range(args.rounds * 3):
            started = time.perf_counter()
            assert client.get("/caseworker/follow-up").status_code == 200
            samples.append(time.perf_counter() - started)
        results["follow-up page (second steps)"] = {"with_paths": summary_ms(samples)}
        print(f"follow-up page         p50 {results['follow-up page (second steps)']['with_paths']['p50_ms']} ms, "
              f"p95 {results['follow-up page (second steps)']['with_paths']['p95_ms']} ms")
        write_result("paths", {"candidates": len(ids), "rounds": args.rounds, "build": timings, "pages": results})


if __name__ == "__main__":
    main()
