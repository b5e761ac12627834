"""The bureau's report on the demo city (7,500 candidates): the city for the last full year with rows by district,
by judicial office and by month, through the service from the database, and the same as an Excel workbook; then
one district and one office. Target: a city-year report under 2 s.

Usage: python -m bench.bench_reports [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from bench.common import fresh_database, write_result

TARGET_S = 2.0
RUNS = 5


def _timed(runs: int, call) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - started)
    return samples, result


def measure(url: str, tmp: Path) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from matcher import MIGRATIONS_DIR, create_app
    from matcher.auth.models import Account
    from matcher.clock import today
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.extensions import db
    from matcher.reports.export import report_workbook
    from matcher.reports.service import report

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MODELS_DIR": str(tmp / "models")})
    out: dict = {}
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        build_demo(db.session, DemoSpec(), echo=lambda _line: None)
        admin = db.session.scalar(select(Account).where(Account.username == "admin"))
        year = today().year - 1
        period = {"date_from": dt.date(year, 1, 1), "date_to": dt.date(year, 12, 31)}

        def city():
            return report(session=db.session, actor=admin, by="both", months=True, **period)

        samples, result = _timed(RUNS, city)
        figures = result["figures"]
        out["city_year"] = {
            "period": f"{year}", "runs_s": [round(s, 3) for s in samples], "best_s": round(min(samples), 3),
            "worst_s": round(max(samples), 3), "target_s": TARGET_S,
            "districts": len(result["by_district"]), "offices": len(result["by_office"]),
            "months": len(result["by_month"]),
            "figures": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()},
        }
        samples, content = _timed(RUNS, lambda: report_workbook(session=db.session, actor=admin, **period))
        out["city_year_xlsx"] = {"runs_s": [round(s, 3) for s in samples], "best_s": round(min(samples), 3),
                                 "worst_s": round(max(samples), 3), "bytes": len(content), "target_s": TARGET_S}
        district = max(result["by_district"], key=lambda row: row["figures"]["registered"])
        samples, _r = _timed(RUNS, lambda: report(session=db.session, actor=admin, district=district["code"],
                                                  by="office", months=True, **period))
        out["district_year"] = {"district": district["code"], "best_s": round(min(samples), 3),
                                "worst_s": round(max(samples), 3)}
        office = max(result["by_office"], key=lambda row: row["figures"]["registered"])
        samples, _r = _timed(RUNS, lambda: report(session=db.session, actor=admin, office_id=office["office_id"],
                                                  months=True, **period))
        out["office_year"] = {"office_id": office["office_id"], "best_s": round(min(samples), 3),
                              "worst_s": round(max(samples), 3)}
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL database (recreated)")
    args = parser.parse_args()
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = measure(fresh_database("sqlite", Path(tmp)), Path(tmp))
        if args.postgres:
            result["postgresql"] = measure(fresh_database(args.postgres, Path(tmp)), Path(tmp))
    worst = max(engine["city_year"]["worst_s"] for engine in result.values())
    worst_xlsx = max(engine["city_year_xlsx"]["worst_s"] for engine in result.values())
    result["meets_target"] = worst < TARGET_S and worst_xlsx < TARGET_S
    write_result("reports", result)


if __name__ == "__main__":
    main()
