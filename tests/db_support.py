"""The test database between tests: emptying it quickly, and restoring a world built once instead of building it
again through the services."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from sqlalchemy import event, exists, func, insert, literal, select, text
from sqlalchemy.engine import Engine

from matcher.extensions import db

REFERENCE_TABLES = {"places", "courses", "skills", "occupations", "judicial_offices", "alembic_version"}


def _tables() -> list:
    """The tables a test may write, children before parents."""
    return [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]


_SEQUENCES: dict[str, list[str]] = {}


def _sequences(session) -> list[str]:
    """PostgreSQL: the sequences behind the ids of the non-reference tables (looked up once per database)."""
    url = str(session.get_bind().url)
    if url not in _SEQUENCES:
        _SEQUENCES[url] = list(session.scalars(text(
            "SELECT DISTINCT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "JOIN pg_class t ON d.refobjid = t.oid WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"),
            {"tables": [t.name for t in _tables()]}))
    return _SEQUENCES[url]


def empty_tables(session) -> None:
    """Delete every row outside the reference tables and, on PostgreSQL, restart their id sequences: what
    `TRUNCATE ... RESTART IDENTITY` does, at a fraction of its cost on tables that hold a few rows (TRUNCATE
    gives every table and index a new file, about 0.7 s for the schema's tables; DELETE takes milliseconds)."""
    session.rollback()
    tables = _tables()
    # One round trip tells which tables hold rows; most tests write a handful of the schema's tables, and a
    # DELETE per empty table costs a round trip each (most of the suite's time between tests on PostgreSQL).
    holding = session.execute(select(*[exists(select(literal(1)).select_from(t)) for t in tables])).one()
    for table, has_rows in zip(tables, holding, strict=True):
        if has_rows:
            session.execute(table.delete())
    if session.get_bind().dialect.name == "postgresql":
        sequences = _sequences(session)
        if sequences:
            # setval(.., 1, false): the next id is 1, as after RESTART IDENTITY.
            session.execute(text("SELECT setval(quote_ident(sequencename), 1, false) FROM pg_sequences "
                                 "WHERE schemaname = current_schema() AND last_value IS NOT NULL "
                                 "AND sequencename = ANY(:names)"), {"names": sequences})
    session.commit()
    _set_state("empty")  # `restored` then needs no count of every table to know where it starts


# ---- snapshots: a world built once per worker, its rows inserted again for later tests ------------------------

_SNAPSHOTS: dict[Hashable, tuple[float, list[tuple[object, list[dict]]], dict[str, int], object]] = {}
# A snapshot is used for this long (seconds) after its build, then built again: the instants in its rows
# (created at ...) stay within two minutes of what a fresh build would write.
SNAPSHOT_SECONDS = 120
_WRITES = [0]  # statements that wrote (INSERT, UPDATE, DELETE) in this process, on any engine
_STATE: dict = {"key": None, "writes": -1}  # what the database holds: a snapshot's key, while nothing else wrote


@event.listens_for(Engine, "before_cursor_execute")
def _count_writes(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
        _WRITES[0] += 1


def _state_is(key) -> bool:
    return _STATE["key"] == key and _STATE["writes"] == _WRITES[0]


def _set_state(key) -> None:
    _STATE.update(key=key, writes=_WRITES[0])


def _is_empty(session) -> bool:
    if _state_is("empty"):
        return True
    tables = _tables()
    counts = session.execute(select(*[select(func.count()).select_from(t).scalar_subquery() for t in tables])).one()
    return not any(counts)


def _clock_is_moved() -> bool:
    try:
        from time_machine import escape_hatch
    except ImportError:  # pragma: no cover
        return False
    return escape_hatch.is_travelling()


def restored(session, key: Hashable, build: Callable[[], object]) -> object:
    """`build()`'s result, on a database that holds what `build()` wrote.

    The first call for a key runs `build()`, commits, and keeps a copy of every row in the database; later
    calls for the same key, from the same starting point, put those rows back as they were (ids, sequences
    and audit chain included) and return the value `build()` returned, which must therefore hold no ORM
    objects (ids, names, tokens). The starting point is an empty database, or the state another snapshot left
    while nothing else has written since (a snapshot on top of the world, say). The key should carry what
    the build depends on besides (the seed ...); today's date is added, and a snapshot older than
    SNAPSHOT_SECONDS is built again. Elsewhere, or when time-machine has
    moved the clock (the rows' instants would be wrong), it simply builds."""
    from matcher import clock

    base = _STATE["key"] if _STATE["key"] not in (None, "empty") and _state_is(_STATE["key"]) else None
    if _clock_is_moved() or (base is None and not _is_empty(session)):
        value = build()
        session.commit()
        _set_state(None)
        return value
    key = (key, base, clock.today(), session.get_bind().dialect.name)
    if key in _SNAPSHOTS and time.monotonic() - _SNAPSHOTS[key][0] < SNAPSHOT_SECONDS:
        _, rows, positions, value = _SNAPSHOTS[key]
        if base is not None:
            empty_tables(session)
        for table, table_rows in rows:
            session.execute(insert(table), table_rows)
        if positions:
            session.execute(text("SELECT " + ", ".join(f"setval('{name}', {at})" for name, at in positions.items())))
        session.commit()
        _set_state((key, _SNAPSHOTS[key][0]))
        return value
    value = build()
    session.commit()
    rows = []
    for table in reversed(_tables()):  # parents first
        table_rows = [dict(row._mapping) for row in  # noqa: SLF001
                      session.execute(select(table).order_by(*table.primary_key.columns))]
        if table_rows:
            rows.append((table, table_rows))
    positions = {}
    if session.get_bind().dialect.name == "postgresql":  # where each id sequence stood, for the ids to come
        positions = dict(session.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema() "
            "AND last_value IS NOT NULL AND sequencename = ANY(:names)"), {"names": _sequences(session)}).all())
    session.commit()
    built = time.monotonic()
    for old in [k for k, snapshot in _SNAPSHOTS.items() if built - snapshot[0] >= SNAPSHOT_SECONDS]:
        del _SNAPSHOTS[old]
    _SNAPSHOTS[key] = (built, rows, positions, value)
    _set_state((key, built))  # with the build's time: a snapshot stacked on this one is of this build
    return value
