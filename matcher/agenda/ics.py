"""An account's events as an iCalendar file (RFC 5545) with the `icalendar` package: times in China time
(Asia/Shanghai), whole days as dates, stable UIDs, and nothing about a person beyond the calendar's label."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcsEvent

from matcher import clock
from matcher.agenda.service import Event

SHANGHAI = ZoneInfo("Asia/Shanghai")
PRODUCT = "-//Xintu//Calendar//ZH"


def to_ics(events: Iterable[Event], *, name: str, summary: Callable[[Event], str], host: str,
           base_url: str = "") -> bytes:
    """The calendar file. `summary(event)` is the event's title in the reader's language; `host` makes the UIDs
    unique to this installation; `base_url` turns an event's link into a URL."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    stamp = clock.now()
    for event in events:
        item = IcsEvent()
        item.add("uid", f"{event.uid}@{host}")
        item.add("dtstamp", stamp)
        item.add("summary", summary(event))
        if event.starts_at is None:
            item.add("dtstart", event.day)
            item.add("dtend", event.day + dt.timedelta(days=1))
        else:
            item.add("dtstart", event.starts_at.astimezone(SHANGHAI))
            item.add("dtend", (event.ends_at or event.starts_at).astimezone(SHANGHAI))
        if event.detail:
            item.add("description", event.detail)
        if event.where:
            item.add("location", event.where)
        if event.link and base_url:
            item.add("url", base_url.rstrip("/") + event.link)
        calendar.add_component(item)
    calendar.add_missing_timezones()
    return calendar.to_ical()
