"""What the job-fair pages list, read through the fairs service's scoped selects: loaded rows and their counts."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from matcher.auth.models import Account
from matcher.fairs.models import Fair, FairInvitation, InvitationStatus
from matcher.fairs.service import list_fairs, list_invitations


def find_fairs(*, session: Session, actor: Account) -> list[Fair]:
    """The fairs the actor may see, loaded."""
    return list(session.scalars(list_fairs(session=session, actor=actor)).unique())


def find_invitations(*, session: Session, actor: Account, filters: dict) -> list[FairInvitation]:
    """The invitations `list_invitations` selects, loaded."""
    return list(session.scalars(list_invitations(session=session, actor=actor, filters=filters)).unique())


def expected_people(*, session: Session, actor: Account, fair_id: int, q: str | None,
                    limit: int) -> tuple[list[FairInvitation], int]:
    """The day's check-in list: those who confirmed (matching `q`), at most `limit`, and how many there are."""
    stmt = list_invitations(session=session, actor=actor, filters={
        "fair_id": fair_id, "status": InvitationStatus.CONFIRMED, "q": q or None})
    return list(session.scalars(stmt.limit(limit)).unique()), _count(session, stmt)


def _count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
