"""A whole city onboarded from its folder: 50 bases, 900 slots, 7,500 candidates and 6,000 history referrals as the
documented CSV files (matcher.demo.folder, linked by the bureau's own ids), loaded by `onboard` into a fresh
database that holds only the reference data and an administrator. Target (issue 16): 60 s or less.

Usage: python -m bench.bench_onboard [--candidates N ...]; XINTU_BENCH_DATABASE_URL=postgresql+psycopg://... also
measures on that PostgreSQL database (dropped and made again).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from bench.common import fresh_database, write_result

TARGET_S = 60.0


def measure(url: str, tmp: Path, folder: Path) -> dict:
    from flask import g
    from flask_migrate import upgrade

    from matcher import MIGRATIONS_DIR, clock, create_app
    from matcher.auth.service import create_account, system_account
    from matcher.demo.reference import load_all_reference
    from matcher.extensions import db
    from matcher.transfer.onboard import OnboardingRefused, onboard, plan_folder
    from matcher.uow import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MODELS_DIR": str(tmp / "models"),
                      "AUDIT_KEY": "bench-audit-key-of-at-least-32-bytes!"})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with unit_of_work():
            load_all_reference(db.session)
            system = system_account(db.session)
            chief = create_account(session=db.session, actor=system, data={
                "username": "chief", "display_name": "局长", "password": "bench-password-123",
                "role": "administrator", "bureau_code": "330700"})
            chief_id = chief.id
        g.xintu_actor = (chief_id, "administrator")  # as `--as chief` (matcher.commands.acting): the audit's actor
        files = [(kind, name, (folder / name).read_bytes()) for kind, name in plan_folder(
            [path.name for path in folder.iterdir()])]
        started = time.perf_counter()
        try:
            with unit_of_work():  # as the command: one unit of work, committed at its end
                report = onboard(session=db.session, actor=db.session.get(type(chief), chief_id), files=files)
        except OnboardingRefused as exc:  # the generated city must load: show why it did not
            for file in exc.report.files:
                if file.message is not None:
                    print(file.filename, str(file.message), list(file.errors.get("rows", {}).items())[:5])
            raise
        total = time.perf_counter() - started
        out = {
            "day": clock.today().isoformat(),
            "total_s": round(total, 2), "target_s": TARGET_S,
            "rows": sum(file.rows for file in report.files),
            "rows_per_s": round(sum(file.rows for file in report.files) / total, 1),
            "files": {file.kind: {"rows": file.rows, "created": file.created, "seconds": round(file.seconds, 2),
                                  "rows_per_s": round(file.rows / file.seconds, 1) if file.seconds else None}
                      for file in report.files},
            "commit_s": round(total - report.seconds, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> None:
    from matcher import clock
    from matcher.demo.folder import FolderSpec, write_folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=50)
    parser.add_argument("--slots", type=int, default=900)
    parser.add_argument("--candidates", type=int, default=7500)
    parser.add_argument("--referrals", type=int, default=6000)
    args = parser.parse_args()
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "city"
        spec = FolderSpec(today=clock.today(), bases=args.bases, slots=args.slots, candidates=args.candidates,
                          referrals=args.referrals)
        result["folder"] = write_folder(folder, spec)
        result["sqlite"] = measure(fresh_database("sqlite", Path(tmp)), Path(tmp), folder)
        print(f"sqlite: {result['sqlite']['total_s']} s", flush=True)
        postgres = os.environ.get("XINTU_BENCH_DATABASE_URL")
        if postgres:
            result["postgresql"] = measure(fresh_database(postgres, Path(tmp)), Path(tmp), folder)
    result["meets_target"] = all(result[engine]["total_s"] <= TARGET_S
                                 for engine in ("sqlite", "postgresql") if engine in result)
    write_result("onboard", result)


if __name__ == "__main__":
    main()
