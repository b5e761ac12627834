"""Court-ordered occupational bans kept in a candidate's file (eligibility applies them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import policy, uow
from matcher.auth.models import Account, Role
from matcher.candidates.service import get_candidate, record_read
from matcher.errors import Forbidden, Invalid
from matcher.matching.models import OccupationalBan
from matcher.reference.service import require_course, require_occupation


def list_bans(*, session: Session, actor: Account, candidate_id: int) -> list[OccupationalBan]:
    """Court-ordered occupational bans in the file (caseworkers of the file's offices, administrators)."""
    policy.require(actor, policy.Rule.CANDIDATE_READ)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    record_read(session=session, actor=actor, candidate_id=candidate.id, fields=("occupational_bans",))
    return list(session.scalars(select(OccupationalBan).where(OccupationalBan.candidate_id == candidate.id)
                                .order_by(OccupationalBan.id)))


def add_ban(*, session: Session, actor: Account, candidate_id: int, data: dict) -> OccupationalBan:
    policy.require(actor, policy.Rule.CANDIDATE_CHANGE)
    candidate = get_candidate(session=session, actor=actor, candidate_id=candidate_id)
    if actor.role == Role.CASEWORKER and candidate.office_id != actor.office_id:
        raise Forbidden(_l("This file is kept by %(office)s; your office can read it but not change it.",
                           office=candidate.office.name))
    for index, code in enumerate(data.get("courses", [])):
        require_course(session, code, f"courses.{index}")
    for index, code in enumerate(data.get("occupations", [])):
        require_occupation(session, code, f"occupations.{index}")
    if not data.get("courses") and not data.get("occupations"):
        raise Invalid(_l("Name the courses or occupations the ban covers."), field="courses")
    ban = OccupationalBan(candidate_id=candidate.id, kind=data.get("kind", "court_order"),
                          courses=",".join(data.get("courses", [])),
                          occupations=",".join(data.get("occupations", [])),
                          until=data.get("until"), note=data.get("note"))
    session.add(ban)
    uow.flush(session)
    return ban
