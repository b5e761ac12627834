"""The unit of work: one transaction per request, command-line command and job, ended once, at the edge.

Services add, change and flush (`flush()`); they never commit or roll back. The edge that started the work ends it:

- a request (`init_app`): its answer decides. A success (below 400) commits; an error answer, or an exception,
  rolls back. A commit that breaks a constraint (two writers raced past every check) answers 409 Conflict, here
  and nowhere else;
- a command-line command or a job (`unit_of_work()`): commits when the block ends, rolls back when it raises.

Inside a unit, `attempt()` runs one use case in a savepoint: when it raises, its own changes are undone and the
rest of the unit (what the page read, what else it did) stays usable, so a page can show the errors next to what
was typed. Some records must stand whatever the unit's outcome: a refused read is audited, a failed login counts
against the address. `keep()` hands the edge such a write; the edge runs it after its commit or rollback, in a
transaction of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.errors import RACED, Conflict, answer_for
from matcher.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[Session], Any]

_KEPT = "xintu_kept_writes"


def _session(session: Session | None = None) -> Session:
    return session if session is not None else db.session()


def keep(write: Write, session: Session | None = None) -> None:
    """Have `write(session)` stand whatever this unit's outcome: it runs once the unit has ended (committed or
    rolled back), in a transaction of its own. It must take plain values, not objects of the unit."""
    _session(session).info.setdefault(_KEPT, []).append(write)


def flush(session: Session | None = None) -> None:
    """How a use case ends: its changes go to the database (a constraint they break raises here) and what the
    session had read is forgotten, so the answer reads the rows as they now are (as after a commit), while the
    unit of work stays open for its edge to end."""
    session = _session(session)
    session.flush()
    session.expire_all()


def flush_or(conflict: Conflict, session: Session | None = None) -> None:
    """Flush; when a database constraint refuses the changes (a unique name, a live pair), raise `conflict`, the
    409 that names what was taken, instead of the generic one. The unit is left for its edge to roll back."""
    try:
        _session(session).flush()
    except IntegrityError:
        raise conflict from None


def savepoint():
    """A block whose changes (and only its) are undone when it raises: `with uow.savepoint(): ...`."""
    return db.session.begin_nested()


def attempt(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one use case in a savepoint: if it raises, its changes (and only its) are undone, and it raises."""
    with savepoint():
        return action(*args, **kwargs)


def commit(session: Session | None = None) -> None:
    """End the unit with a commit, then write what it keeps. A constraint broken at commit is a Conflict
    (the unit is rolled back). Edges call this; so does a long job between the batches it keeps."""
    session = _session(session)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        _run_kept(session)
        raise Conflict(RACED) from None
    _run_kept(session)


def rollback(session: Session | None = None) -> None:
    """End the unit with a rollback; the kept writes are still written."""
    session = _session(session)
    session.rollback()
    _run_kept(session)


def _run_kept(session: Session) -> None:
    writes = session.info.pop(_KEPT, [])
    if not writes:
        return
    try:
        for write in writes:
            write(session)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not write what the unit of work had to keep")


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """A command or a job: commit when the block ends, roll back when it raises (and raise)."""
    session = _session(session)
    try:
        yield session
    except BaseException:
        rollback(session)
        raise
    commit(session)


def init_app(app: Flask) -> None:
    """Every request is one unit of work, ended by its answer."""

    @app.after_request
    def _end_the_unit(response):
        if not db.session.registry.has():
            return response  # the request never opened a session
        if response.status_code >= 400:
            rollback()
            return response
        try:
            commit()
        except Conflict as exc:
            return app.make_response(answer_for(exc))
        return response

    @app.teardown_request
    def _unhandled(exc: BaseException | None) -> None:
        if exc is not None and db.session.registry.has():
            rollback()
