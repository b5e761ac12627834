"""Writes every move of a referral to the audit log, in the same transaction as the move, and every other
change made in a request (matcher.audit.changes)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from matcher import uow
from matcher.audit.service import record
from matcher.policy import refused
from matcher.referrals.signals import referral_moved


def _on_moved(session: Session, *, referral, frm, to, on_date, actor) -> None:
    record(session, actor=actor, action="move", object_type="referral", object_id=referral.id, fields=("status",))


def _on_refused(who, *, object_type: str, object_id: int | None) -> None:
    """A refusal is audited whatever becomes of the unit of work that met it (its error rolls it back)."""
    uow.keep(lambda session: record(session, actor=who, action="refused", object_type=object_type,
                                    object_id=object_id))


def connect() -> None:
    from matcher.audit.changes import connect as connect_changes

    connect_changes()
    referral_moved.connect(_on_moved)
    refused.connect(_on_refused)  # a module-level function: the signal's weak reference stays alive
