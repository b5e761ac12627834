"""The one clock (matcher/clock.py), the column type of instants, the API's RFC 3339 instants, and the lint rule
that keeps every other module off the machine's clock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import marshmallow as ma
import pytest

from matcher import clock
from matcher.clock import CHINA_TZ

ROOT = Path(__file__).resolve().parent.parent


def _ruff(source: str, filename: str) -> subprocess.CompletedProcess:
    """ruff with the project's configuration, on `source` as if it were the file `filename` of the tree."""
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                           "--stdin-filename", filename, "-"], input=source, capture_output=True, text=True,
                          cwd=ROOT, check=False)


@pytest.mark.parametrize("call", ["dt.date.today()", "dt.datetime.now()", "dt.datetime.now(dt.UTC)",
                                  "dt.datetime.utcnow()", "dt.datetime.today()", "time.time()"])
@pytest.mark.parametrize("filename", ["matcher/referrals/new_module.py", "tests/new_test.py", "bench/new_bench.py"])
def test_the_lint_rule_refuses_the_machines_clock_outside_the_clock_module(call, filename):
    found = _ruff(f"import datetime as dt\nimport time\n\nWHEN = {call}\n", filename)
    assert found.returncode == 1 and ("TID251" in found.stdout or "DTZ" in found.stdout), found.stdout


def test_the_lint_rule_lets_the_clock_module_read_the_machines_clock():
    assert _ruff((ROOT / "matcher" / "clock.py").read_text(), "matcher/clock.py").returncode == 0
    assert _ruff("from matcher import clock\n\nWHEN = clock.now()\nDAY = clock.today()\n",
                 "matcher/referrals/new_module.py").returncode == 0


@pytest.mark.parametrize("utc, china_day", [
    (dt.datetime(2026, 12, 6, 15, 59, tzinfo=dt.UTC), dt.date(2026, 12, 6)),  # 23:59 in China
    (dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.UTC), dt.date(2026, 12, 7)),  # midnight in China
    (dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC), dt.date(2027, 1, 1)),
    (dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC), dt.date(2026, 12, 7)),
])
def test_today_is_chinas_date_and_now_an_aware_utc_instant(time_machine, utc, china_day):
    time_machine.move_to(utc, tick=False)
    assert clock.today() == china_day and clock.china_date(clock.now()) == china_day
    assert clock.now() == utc and clock.now().tzinfo is not None and clock.now().utcoffset() == dt.timedelta(0)
    assert clock.china_now() == utc and clock.china_now().utcoffset() == dt.timedelta(hours=8)


def test_a_china_day_runs_from_its_midnight_in_china():
    day = dt.date(2027, 1, 1)
    start = clock.china_midnight(day)
    assert start == dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)
    assert clock.china_date(start) == day and clock.china_date(start - dt.timedelta(microseconds=1)) == day - \
        dt.timedelta(days=1)
    assert clock.at_china_time(day, dt.time(9, 0)) == dt.datetime(2027, 1, 1, 1, 0, tzinfo=dt.UTC)


def test_instants_convert_between_utc_china_and_the_stored_form():
    china = dt.datetime(2026, 12, 7, 0, 30, tzinfo=CHINA_TZ)
    assert clock.as_utc(china) == china and clock.as_utc(china).tzinfo == dt.UTC
    assert clock.naive_utc(china) == dt.datetime(2026, 12, 6, 16, 30)  # noqa: DTZ001 - the stored form is naive
    assert clock.as_utc(dt.datetime(2026, 12, 6, 16, 30)) == china  # noqa: DTZ001 - naive is read as UTC
    assert clock.in_china(dt.datetime(2026, 12, 6, 16, 30, tzinfo=dt.UTC)).hour == 0


def test_add_years_keeps_the_day_or_falls_back_from_29_february():
    assert clock.add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 2, 28)
    assert clock.add_years(dt.date(2026, 12, 7), 5) == dt.date(2031, 12, 7)


# ---- instants in the database -------------------------------------------------------------------

def test_an_instant_is_stored_as_utc_and_read_back_aware(session, world):
    from sqlalchemy import select, text

    from matcher.bases.models import Company

    china = dt.datetime(2026, 12, 7, 0, 30, 15, 250, tzinfo=CHINA_TZ)
    company = session.get(Company, world.company_a.id)
    company.created_at = china
    session.commit()
    session.expire_all()
    read = session.scalar(select(Company.created_at).where(Company.id == company.id))
    assert read == china and read.tzinfo == dt.UTC
    stored = session.execute(text("SELECT created_at FROM companies WHERE id = :id"), {"id": company.id}).scalar()
    assert str(stored).startswith("2026-12-06 16:30:15")  # the same naive UTC form on SQLite and PostgreSQL
    assert session.scalar(select(Company.id).where(Company.created_at == china)) == company.id


def test_a_naive_instant_is_refused_before_it_reaches_the_database(session, world):
    from sqlalchemy.exc import StatementError

    from matcher.bases.models import Company

    company = session.get(Company, world.company_a.id)
    company.created_at = dt.datetime(2026, 12, 7, 0, 30)  # noqa: DTZ001 - the mistake under test
    with pytest.raises(StatementError, match="must be aware"):
        session.commit()
    session.rollback()


# ---- instants in the API ------------------------------------------------------------------------

def test_the_api_sends_instants_in_rfc_3339_with_their_offset_and_reads_any_offset():
    from matcher.apiutil import Instant

    class Probe(ma.Schema):
        at = Instant()

    moment = dt.datetime(2026, 12, 7, 0, 30, 15, tzinfo=CHINA_TZ)
    assert Probe().dump({"at": moment}) == {"at": "2026-12-06T16:30:15Z"}
    assert Probe().load({"at": "2026-12-07T00:30:15+08:00"})["at"] == moment
    # Without an offset: read as UTC (deprecated, accepted for one version).
    assert Probe().load({"at": "2026-12-06T16:30:15"})["at"] == moment
    with pytest.raises(ma.ValidationError):
        Probe().load({"at": "07/12/2026"})


def test_the_openapi_document_says_instants_are_rfc_3339(app):
    document = app.test_client().get("/api/openapi.json").json
    at = document["components"]["schemas"]["AuditEventRead"]["properties"]["at"]
    assert at["format"] == "date-time" and "pattern" not in at and "RFC 3339" in at["description"]
    assert "read as UTC" in document["info"]["description"]


def test_api_timestamps_carry_their_offset(api, world):
    slots = api.get("/api/v1/slots", headers=world.h("emp_a")).json
    assert slots
    for slot in slots:
        parsed = dt.datetime.fromisoformat(slot["created_at"])
        assert slot["created_at"].endswith("Z") and parsed.utcoffset() == dt.timedelta(0)
        assert abs(parsed - clock.now()) < dt.timedelta(minutes=5)
