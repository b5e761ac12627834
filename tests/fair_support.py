"""Job-fair tests: the clock moved to the morning of a fair's day, where check-ins and outcomes are taken."""

from __future__ import annotations

import datetime as dt

from matcher import clock


def to_the_fair_day(time_machine, day: dt.date, *, world=None, session=None, more: dict | None = None,
                    at: dt.time = dt.time(8, 0)) -> dt.datetime:
    """Move the clock to `at` China time on `day` (before a 09:00 fair begins: block 0 is still to come). With
    `world` and `session`, the world's API tokens (valid one day) are issued again at that moment, and those of
    the accounts in `more` (name -> account)."""
    moment = dt.datetime.combine(day, at, tzinfo=clock.CHINA_TZ)
    time_machine.move_to(moment, tick=True)
    if world is not None:
        from matcher.auth.service import issue_token

        for name, account in {**world.accounts, **(more or {})}.items():
            world.tokens[name] = issue_token(session=session, account=account, ttl_days=1)[0]
        session.commit()
    return moment
