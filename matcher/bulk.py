"""Writing many rows at once (an import's write phase, the audit chain's batch events): ids reserved up front and
rows inserted in bulk, in the caller's transaction.

Why not the ORM or a plain executemany: SQLAlchemy answers an INSERT ... RETURNING in the rows' order with one
statement a row on SQLite (and splices the answers in quadratic time); without RETURNING, PostgreSQL gets one
statement a row; with it, psycopg parses each statement of thousands of parameters anew. So the ids are taken
first and the rows are sent with them: on SQLite by executemany (one prepared statement, stepped in C), on
PostgreSQL by COPY.
"""

from __future__ import annotations

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` ids for new rows of `table` that no other writer will take, in increasing order. PostgreSQL: from
    the id's sequence. SQLite: after the largest, as the database would number them; the transaction holds the
    only write lock (matcher/__init__.py begins every one IMMEDIATE), so no writer comes between."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return sorted(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                           "FROM generate_series(1, :count)"), {"table": table.name, "count": count}))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(start, start + count))


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys: column names) into `table`, in the session's transaction. Values
    are what the columns' types take (enums, aware datetimes ...): the types' own conversions are applied."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    # COPY fills only the database's own defaults: the columns' Python-side ones (created_at ...) are given here,
    # as an INSERT through SQLAlchemy would.
    defaults = [column for column in table.columns
                if column.key not in names and column.default is not None and not column.primary_key]
    columns = [table.c[name] for name in names] + defaults
    processors = [column.type._cached_bind_processor(dialect) for column in columns]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(column.name) for column in columns)}) FROM STDIN"
    session.flush()  # what the ORM holds goes first: these rows may refer to it
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] for name in names] + [column_default(column) for column in defaults]
                copy.write_row([value if process is None else process(value)
                                for process, value in zip(processors, values, strict=True)])
    except dialect.loaded_dbapi.IntegrityError as exc:  # as SQLAlchemy raises it for its own statements
        raise IntegrityError(statement, None, exc) from exc
    finally:
        cursor.close()


def column_default(column):
    """The value a column's Python-side default gives a new row (None when it has none)."""
    default = column.default
    if default is None:
        return None
    return default.arg if default.is_scalar else default.arg(None)
