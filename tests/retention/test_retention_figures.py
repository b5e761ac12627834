"""Archiving changes no figure the bureau reports: on a demo city, the report before and after a run is the same
for every period, the ones from before the archived files' assistance ended included (archiving closes a file
today, and a file counts as registered until the day it was closed), and it still reconciles with the raw tables
(tests/reports/test_reconciliation.py's independent count)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from matcher.clock import today
from tests.reports.test_reconciliation import SPEC, Raw, _enrich, independent


def test_figures_do_not_change_when_files_are_archived(session):
    from matcher.auth.models import Account
    from matcher.candidates.models import Candidate
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.reports.service import report
    from matcher.retention.service import run

    build_demo(session, DemoSpec(seed=2026, **SPEC), echo=lambda _line: None)
    _enrich(session)  # among others: 10 files released 6 years ago, whose assistance ended last year
    admin = session.scalar(select(Account).where(Account.username == "admin"))
    year = today().year - 1
    periods = [(dt.date(year, 1, 1), dt.date(year, 12, 31)), (dt.date(today().year, 1, 1), today()),
               (dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31)), (dt.date(year, 7, 1), today())]

    def figures():
        return [report(session=session, actor=admin, date_from=a, date_to=b, by="both") for a, b in periods]

    before = figures()
    days = (today() - dt.date(year, 3, 2)).days  # due: the files whose assistance ended on 1 March last year
    done = run(session=session, days=days)
    assert done.archived >= 1 and done.due == done.archived + sum(done.skipped.values()), done.as_dict()
    session.expire_all()
    assert session.scalar(select(func.count(Candidate.id)).where(Candidate.archived_at.is_not(None))) == done.archived
    after = figures()
    assert after == before
    # The year before the archived files' assistance ended: they were registered then, and still count.
    assert after[2]["figures"]["registered"] > 0
    raw = Raw(session)
    for date_from, date_to in periods:
        city = report(session=session, actor=admin, date_from=date_from, date_to=date_to)
        assert city["figures"] == independent(raw, date_from, date_to, "3307")
