"""Column types shared by the models: instants stored as naive UTC and read back aware."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from matcher import clock


class UtcDateTime(TypeDecorator):
    """An instant. The column holds naive UTC (`timestamp without time zone` on PostgreSQL, text on SQLite), the
    same bytes on both databases and the form every existing row has; Python sees an aware UTC datetime both
    ways. A naive value is refused: it cannot say which clock it was read from, and the clock module never
    makes one (a naive value here is a bug, best found at once)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"an instant must be a datetime, not {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("an instant must be aware (take it from matcher.clock)")
        return clock.naive_utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=clock.UTC)

    @property
    def python_type(self) -> type:
        return dt.datetime
