"""Closing a file stamps the day (the reports count a file as registered until it); reopening forgets it."""

from __future__ import annotations

import datetime as dt

from matcher.candidates.models import CandidateStatus
from matcher.clock import today

LAST_YEAR = dt.date(today().year - 1, 6, 1)


def test_closing_stamps_the_day_and_reopening_forgets_it(world, session, api):
    candidate = world.cand_a
    session.commit()
    url = f"/api/v1/candidates/{candidate.id}"
    closed = api.patch(url, json={"status": "closed"}, headers=world.h("cw_a"))
    assert closed.status_code == 200, closed.json
    session.expire_all()
    assert candidate.status == CandidateStatus.CLOSED and candidate.closed_on == today()
    # Closing a closed file again keeps the first day.
    candidate.closed_on = LAST_YEAR
    session.commit()
    assert api.patch(url, json={"status": "closed"}, headers=world.h("cw_a")).status_code == 200
    session.expire_all()
    assert candidate.closed_on == LAST_YEAR
    reopened = api.patch(url, json={"status": "active"}, headers=world.h("cw_a"))
    assert reopened.status_code == 200, reopened.json
    session.expire_all()
    assert candidate.status == CandidateStatus.ACTIVE and candidate.closed_on is None
