"""Course, then job, and the wish order: what they add to the caseworker's recommendations page.

Server time (Flask test client, logged in as the demo caseworker) of the recommendations page for the office's
seeking candidates, in the default order, in the wish order and with only training seats (every row then carries
its path). Each candidate's page is asked three ways one right after the other (the order rotating, so a shared
machine's load falls on all alike): as shipped (the training seats' paths come after the page, in one request that
htmx makes once it is shown: timed apart as "paths request"), without paths at all ("off"), and with the paths
computed and shown within the page ("inline", as they first were). "added" is the median of the paired differences
from "off"; and the follow-up page with its second steps.

Target (issue 17): the recommendations page's p95 stays within 150 ms under load, so the paths add at most 15 ms
to its p50 on a quiet machine. Computing them was made cheap (the people after their courses derived from the
person's features, seats that give the same scored once, one predict call, the job cards read once per cached
open-slot table), and they load after the page, so they add nothing to it but a placeholder per seat.

Usage: python -m bench.bench_paths [--rounds N] [--candidates N] [--database-url URL --models-dir DIR]
(without a URL: a fresh demo city on SQLite, as bench_pages builds it).
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
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

        import matcher.web.matching as page_view
        from matcher import policy
        from matcher.auth.models import Account
        from matcher.candidates.models import Candidate, CandidateStatus
        from matcher.extensions import db
        from matcher.matching import service as matching

        with app.app_context():
            cw = db.session.scalar(select(Account).where(Account.username == "cw330782001"))
            seeking = Candidate.status.in_([CandidateStatus.ACTIVE, CandidateStatus.PRE_RELEASE])
            ids = db.session.scalars(policy.candidates(cw).where(seeking).with_only_columns(Candidate.id)
                                     .order_by(Candidate.id).limit(args.candidates)).all()
            db.session.remove()
        client = app.test_client()
        response = client.post("/login", data={"username": "cw330782001", "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.status_code
        render, recommend = page_view.render_template, matching.recommend_slots

        def no_loader(template, **context):
            return render(template, **{**context, "paths_url": None})

        def inline(**kwargs):
            return recommend(**{**kwargs, "with_paths": True})

        def get(url: str, variant: str, **kwargs) -> tuple[float, str]:
            """One request; "off": the page without paths (no place for them, no request for them); "inline":
            the paths computed and shown within the page (as before they came after it)."""
            page_view.render_template = no_loader if variant in ("off", "inline") else render
            matching.recommend_slots = inline if variant == "inline" else recommend
            try:
                started = time.perf_counter()
                answer = client.get(url, **kwargs)
                elapsed = time.perf_counter() - started
            finally:
                page_view.render_template, matching.recommend_slots = render, recommend
            assert answer.status_code == 200, answer.status_code
            return elapsed, answer.get_data(as_text=True)

        loader = re.compile(r'hx-get="([^"]+)" hx-trigger="load"')

        def measure(query: str) -> dict:
            """Each candidate's page as shipped (and then the paths' request, as the browser makes it), without
            paths and with the paths inline, one right after the other (the order rotating), so a shared
            machine's load falls on all alike."""
            times: dict[str, list[float]] = {"shipped": [], "off": [], "inline": [], "paths request": []}
            shown = {"after the page": 0, "inline": 0}
            variants = ("shipped", "off", "inline")
            for round_no in range(args.rounds):
                for n, cid in enumerate(ids):
                    turn = (round_no + n) % 3
                    for variant in variants[turn:] + variants[:turn]:
                        elapsed, body = get(f"/caseworker/candidates/{cid}/recommendations{query}", variant)
                        times[variant].append(elapsed)
                        if variant == "inline":
                            shown["inline"] += body.count('data-testid="follow-on"')
                        found = loader.search(body) if variant == "shipped" else None
                        if found:
                            elapsed, body = get(html.unescape(found.group(1)), "shipped",
                                                headers={"HX-Request": "true"})
                            times["paths request"].append(elapsed)
                            shown["after the page"] += body.count('data-testid="follow-on"')
            out = {name: summary_ms(samples) for name, samples in times.items() if samples}
            for variant in ("shipped", "inline"):
                out[f"added_{variant}_p50_ms"] = round(statistics.median(
                    [a - b for a, b in zip(times[variant], times["off"], strict=True)]) * 1000, 2)
            out["follow_on_jobs_shown"] = shown
            return out

        client.get(f"/caseworker/candidates/{ids[0]}/recommendations")  # warm: model, open-slot side, imports
        results = {}
        for name, query in (("default order", ""), ("wish order", "?order=wish"),
                            ("training seats only", "?kind=training")):
            get(f"/caseworker/candidates/{ids[0]}/recommendations{query}", "inline")  # warm this filter's side
            results[name] = row = measure(query)
            print(f"{name:20s} page p50 {row['shipped']['p50_ms']} ms (p95 {row['shipped']['p95_ms']}), "
                  f"without paths {row['off']['p50_ms']} ms (p95 {row['off']['p95_ms']}): added "
                  f"{row['added_shipped_p50_ms']} ms | paths' request p50 {row['paths request']['p50_ms']} ms "
                  f"(p95 {row['paths request']['p95_ms']}) | paths inline p50 {row['inline']['p50_ms']} ms: added "
                  f"{row['added_inline_p50_ms']} ms | follow-on jobs shown {row['follow_on_jobs_shown']}")
        samples = []
        for _round in range(args.rounds * 3):
            started = time.perf_counter()
            assert client.get("/caseworker/follow-up").status_code == 200
            samples.append(time.perf_counter() - started)
        results["follow-up page (second steps)"] = {"shipped": summary_ms(samples)}
        print(f"follow-up page       p50 {results['follow-up page (second steps)']['shipped']['p50_ms']} ms, "
              f"p95 {results['follow-up page (second steps)']['shipped']['p95_ms']} ms")
        write_result("paths", {"candidates": len(ids), "rounds": args.rounds, "build": timings, "pages": results})


if __name__ == "__main__":
    main()
