"""The one clock: "now" is an aware UTC instant, "today" is the calendar date in China.

Every other module asks here; none calls `date.today()`, `datetime.now()` or `datetime.utcnow()` (ruff's DTZ
rules and a banned-API rule in pyproject.toml refuse them elsewhere). The bureau, its bases and its fairs keep
China's calendar, so a business date ("released on", "certified until", "started on") is China's date, while
an instant ("created at", "locked until") is stored as UTC and shown to people in China time, labelled.

Tests move this clock with time-machine (tests/clock_support.py), which moves the process's clock, so no
module needs patching.
"""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC
# China has kept UTC+8 all year since 1991: a fixed offset is exact, and needs no tz database on the machine.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def now() -> dt.datetime:
    """This instant, aware, in UTC."""
    return dt.datetime.now(UTC)


def today() -> dt.date:
    """The calendar date in China, which is what certification, release and start dates refer to."""
    return dt.datetime.now(CHINA_TZ).date()


def china_now() -> dt.datetime:
    """This instant on China's wall clock (aware, UTC+8): the clock a fair's blocks run on."""
    return dt.datetime.now(CHINA_TZ)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An instant as aware UTC. A naive value is taken to be UTC, which is how the database stores instants
    and how the API read naive input before timestamps carried their offset."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """The stored form of an instant: naive UTC, the same on SQLite and PostgreSQL."""
    return as_utc(moment).replace(tzinfo=None)


def rfc3339(moment: dt.datetime, timespec: str = "auto") -> str:
    """An instant as RFC 3339 in UTC, written with Z (`2026-12-06T09:30:00Z`): how the API, the pages' <time>
    elements and the audit anchors write instants."""
    return as_utc(moment).isoformat(timespec=timespec).replace("+00:00", "Z")


def in_china(moment: dt.datetime) -> dt.datetime:
    """An instant on China's wall clock (aware, UTC+8)."""
    return as_utc(moment).astimezone(CHINA_TZ)


def china_date(moment: dt.datetime) -> dt.date:
    """The date in China at an instant."""
    return in_china(moment).date()


def china_midnight(day: dt.date) -> dt.datetime:
    """The instant (aware UTC) a China calendar day begins: a day D is [china_midnight(D), china_midnight(D+1))."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=CHINA_TZ).astimezone(UTC)


def at_china_time(day: dt.date, time: dt.time) -> dt.datetime:
    """The instant (aware UTC) of a wall-clock time on a day in China, e.g. a fair's 09:00."""
    return dt.datetime.combine(day, time, tzinfo=CHINA_TZ).astimezone(UTC)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
