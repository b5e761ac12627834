"""Import targets (issue 16): a 20,000-row candidates file in 10 s or less, peak memory under 300 MB; a city's
bases (50), slots (900) and referral history (6,000) fast too, a whole city (the four files, the candidates
7,500) in 60 s or less; the write transaction (the write lock, on SQLite) held a few seconds at most.

Each case runs in a subprocess of its own (a fresh database, its own peak RSS): it seeds the reference data,
imports what the case needs first, then times one import through matcher.transfer.service.import_file as the
system account. `write_s` is how long the import's write phase held the database's write lock (with the commit
that ends it); `cpu_s` the process's CPU time for the import (on a shared machine, `seconds` includes waiting);
`all_imports_s` of the referrals case the whole city's four imports.

Usage: python -m bench.bench_import [--postgres [URL]] [--candidates N] [--case NAME]
(XINTU_BENCH_DATABASE_URL names the PostgreSQL database as --postgres does.)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import fresh_database, write_result

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/xintu_bench_import"
CASES = ("candidates", "bases", "slots", "referrals")
SIZES = {"candidates": 20_000, "bases": 50, "slots": 900, "referrals": 6_000}
TARGET_CANDIDATES_S = 10.0
TARGET_RSS_MB = 300


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def id_numbers(count: int, rng: random.Random) -> list[str]:
    """Distinct valid GB 11643 numbers (Yiwu region, born 1960-1999)."""
    from matcher.identifiers import id_number_check_char

    numbers, seen = [], set()
    while len(numbers) < count:
        born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365))
        first17 = f"330782{born:%Y%m%d}{rng.randrange(1000):03d}"
        if first17 not in seen:
            seen.add(first17)
            numbers.append(first17 + id_number_check_char(first17))
    return numbers


def credit_codes(count: int) -> list[str]:
    from matcher.identifiers import credit_code_check_char

    return [(f := f"91330782{n:09d}") + credit_code_check_char(f) for n in range(1, count + 1)]


def candidates_file(count: int, townships: list[str], today: dt.date) -> bytes:
    rng = random.Random(16)
    header = ["name", "id_number", "education", "hukou", "residence", "release_date", "offence_category",
              "skills", "preferred_courses", "certificates", "key_subject", "consents"]
    educations = ["primary", "junior_secondary", "senior_secondary", "vocational"]
    offences = ["theft", "fraud", "dangerous_driving", "drugs", "other"]
    skills = ["chinese_cooking:3;叉车:2", "forklift_operation:2", "", "ecommerce_operations:1;welding:2"]
    courses = ["cooking;电商运营", "cooking", "", "ecommerce"]
    rows = []
    for seq, number in enumerate(id_numbers(count, rng), start=1):
        hukou, residence = rng.choice(townships), rng.choice(townships)
        released = today + dt.timedelta(days=rng.randrange(-700, 90))
        rows.append([f"张{seq}", number, rng.choice(educations), hukou, residence, released.isoformat(),
                     rng.choice(offences), rng.choice(skills), rng.choice(courses), "中式烹调师;叉车证",
                     rng.choice(["是", "否"]), "data_processing;referral"])
    return csv_bytes(header, rows)


def bases_file(count: int, townships: list[str]) -> bytes:
    header = ["name", "credit_code", "industry", "place", "address", "contact_name", "contact_phone"]
    rows = [[f"安置基地{n}有限公司", code, "餐饮", townships[n % len(townships)], f"工业路{n}号", "李经理",
             "0579-8500000"] for n, code in enumerate(credit_codes(count), start=1)]
    return csv_bytes(header, rows)


def slots_file(count: int, codes: list[str], townships: list[str], today: dt.date) -> bytes:
    header = ["company_credit_code", "kind", "title", "course_code", "required_skills", "seats", "place",
              "pay_min", "pay_max", "starts_on", "status"]
    rows = []
    for n in range(count):
        training = n % 5 == 0
        rows.append([codes[n % len(codes)], "training" if training else "job",
                     f"{'培训' if training else '岗位'}{n}", "cooking" if training else "",
                     "chinese_cooking:2" if not training else "", 20, townships[n % len(townships)],
                     3000, 6000, (today - dt.timedelta(days=400 - n % 300)).isoformat(), "open"])
    return csv_bytes(header, rows)


def referrals_file(count: int, candidates: list[str], slot_ids: list[int], today: dt.date) -> bytes:
    rng = random.Random(6)
    header = ["candidate", "slot_id", "status", "created_on", "started_on", "ended_on", "end_code"]
    rows = []
    for n in range(count):
        created = today - dt.timedelta(days=rng.randrange(300, 700))
        started = created + dt.timedelta(days=10)
        status = ["stayed_90", "left", "declined", "stayed_180"][n % 4]
        ended = (started + dt.timedelta(days=40)) if status == "left" else (
            created + dt.timedelta(days=3) if status == "declined" else None)
        rows.append([candidates[n % len(candidates)], slot_ids[n % len(slot_ids)], status, created.isoformat(),
                     "" if status == "declined" else started.isoformat(), ended.isoformat() if ended else "",
                     ""])
    return csv_bytes(header, rows)


# ---- one case, in its own process --------------------------------------------------------------------------

def run_case(url: str, case: str, candidates: int) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from matcher import MIGRATIONS_DIR, clock, create_app
    from matcher.auth.service import system_account
    from matcher.bases.models import Company
    from matcher.bases.service import decide_certification
    from matcher.candidates.models import Candidate
    from matcher.demo.reference import load_all_reference
    from matcher.extensions import db
    from matcher.offices.models import JudicialOffice
    from matcher.slots.models import Slot
    from matcher.transfer import service as transfer

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    today = clock.today()
    timed: dict = {}
    with app.app_context(), app.test_request_context():
        upgrade(directory=MIGRATIONS_DIR)
        load_all_reference(db.session)
        system_account(db.session)
        db.session.commit()
        townships = sorted(db.session.scalars(select(JudicialOffice.township_code)))

        def load(kind: str, content: bytes, *, time_it: bool) -> dict:
            actor = system_account(db.session)
            db.session.info.pop(getattr(transfer, "WRITE_SECONDS", ""), None)
            if time_it:  # the process before the timed import (the app alone, create_app, is about 250 MB)
                timed["base_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            started, cpu = time.perf_counter(), time.process_time()
            try:
                report = transfer.import_file(session=db.session, actor=actor, kind=kind, data=content,
                                              filename=f"{kind}.csv")
            except Exception as exc:
                rows = list(((getattr(exc, "errors", None) or {}).get("rows") or {}).items())[:3]
                raise SystemExit(f"{kind}: {exc} {rows}") from exc
            imported = time.perf_counter()
            db.session.commit()  # the unit of work's end: the audit events are chained and written here
            ended, cpu = time.perf_counter(), time.process_time() - cpu
            # The referrals case loads a whole city first: every import of it counts (certifying is not one).
            timed["all_imports_s"] = round(timed.get("all_imports_s", 0) + ended - started, 2)
            if time_it:
                # How long the write lock was held: the write phase, then the commit that ends it.
                write = db.session.info.get(getattr(transfer, "WRITE_SECONDS", ""))
                # cpu_s: this process's CPU time (the machine may be shared: wall time then includes waiting).
                timed.update(rows=report.rows, created=report.created, seconds=round(ended - started, 2),
                             cpu_s=round(cpu, 2),
                             rows_per_s=round(report.rows / (ended - started), 1),
                             write_s=None if write is None else round(write + ended - imported, 2))
            db.session.remove()
            return report.as_dict()

        codes = credit_codes(SIZES["bases"])
        if case in ("bases", "slots", "referrals"):
            load("bases", bases_file(SIZES["bases"], townships), time_it=case == "bases")
            if case != "bases":
                admin = system_account(db.session)
                for company_id in db.session.scalars(select(Company.id)):
                    decide_certification(session=db.session, actor=admin, company_id=company_id, action="certify",
                                         valid_until=today + dt.timedelta(days=365))
                db.session.commit()
        if case in ("slots", "referrals"):
            load("slots", slots_file(SIZES["slots"], codes, townships, today), time_it=case == "slots")
        if case in ("candidates", "referrals"):
            count = candidates if case == "candidates" else 7_500
            load("candidates", candidates_file(count, townships, today), time_it=case == "candidates")
        if case == "referrals":
            public_ids = list(db.session.scalars(select(Candidate.public_id).order_by(Candidate.id)))
            slot_ids = list(db.session.scalars(select(Slot.id).order_by(Slot.id)))
            load("referrals", referrals_file(SIZES["referrals"], public_ids, slot_ids, today), time_it=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return {**timed, "peak_rss_mb": round(peak / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("XINTU_BENCH_DATABASE_URL") or PG_DEFAULT,
                        default=os.environ.get("XINTU_BENCH_DATABASE_URL"), help="also on this PostgreSQL")
    parser.add_argument("--candidates", type=int, default=SIZES["candidates"])
    parser.add_argument("--case", choices=CASES, action="append", help="only these cases (repeatable)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--name", default="import", help="results file bench/results/NAME.json")
    parser.add_argument("--one", nargs=2, metavar=("URL", "CASE"), help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one[0], args.one[1], args.candidates)))
        return
    cases = args.case or list(CASES)
    databases = ([] if args.no_sqlite else ["sqlite"]) + ([args.postgres] if args.postgres else [])
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for database in databases:
            name = "sqlite" if database == "sqlite" else "postgresql"
            for case in cases:
                url = fresh_database(database, Path(tmp))
                done = subprocess.run([sys.executable, "-m", "bench.bench_import", "--one", url, case,
                                       "--candidates", str(args.candidates)],
                                      capture_output=True, text=True, cwd=Path(__file__).parent.parent)
                if done.returncode != 0:
                    print(done.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"{name} {case}: failed")
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                results.setdefault(name, {})[case] = figures
                print(name, case, figures, flush=True)
    write_result(args.name, {"targets": {"candidates_s": TARGET_CANDIDATES_S, "peak_rss_mb": TARGET_RSS_MB,
                                         "city_s": 60}, "sizes": {**SIZES, "candidates": args.candidates},
                             "results": results})


if __name__ == "__main__":
    main()
