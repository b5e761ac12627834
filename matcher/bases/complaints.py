"""Complaints about a base: recorded and resolved by the bureau's administrators, part of the base's record."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher import uow
from matcher.auth.models import Account
from matcher.bases.models import Complaint
from matcher.bases.service import managed_company
from matcher.clock import today
from matcher.errors import Conflict, Invalid, NotFound
from matcher.i18n_messages import ShownDate


def list_complaints(*, session: Session, actor: Account, company_id: int) -> list[Complaint]:
    """A base's complaints, open ones first, newest first."""
    company = managed_company(session, actor, company_id)
    return list(session.scalars(select(Complaint).where(Complaint.company_id == company.id)
                                .order_by(Complaint.resolved_on.is_not(None), Complaint.received_on.desc(),
                                          Complaint.id.desc())))


def record_complaint(*, session: Session, actor: Account, company_id: int, data: dict) -> Complaint:
    company = managed_company(session, actor, company_id)
    if data["received_on"] > today():
        raise Invalid(_l("The date cannot be in the future."), field="received_on")
    summary = data["summary"].strip()
    if not summary:
        raise Invalid(_l("Say what the complaint is about."), field="summary")
    complaint = Complaint(company_id=company.id, received_on=data["received_on"], summary=summary,
                          recorded_by_id=actor.id)
    session.add(complaint)
    uow.flush(session)
    return complaint


def resolve_complaint(*, session: Session, actor: Account, company_id: int, complaint_id: int,
                      resolved_on: dt.date | None = None) -> Complaint:
    company = managed_company(session, actor, company_id)
    complaint = session.scalar(select(Complaint).where(Complaint.id == complaint_id,
                                                       Complaint.company_id == company.id))
    if complaint is None:
        raise NotFound(_l("No such complaint."))
    if complaint.resolved_on is not None:
        raise Conflict(_l("This complaint was resolved on %(day)s.", day=ShownDate(complaint.resolved_on)))
    resolved_on = resolved_on or today()
    if resolved_on > today():
        raise Invalid(_l("The date cannot be in the future."), field="resolved_on")
    if resolved_on < complaint.received_on:
        raise Invalid(_l("A complaint cannot be resolved before it was received."), field="resolved_on")
    complaint.resolved_on = resolved_on
    uow.flush(session)
    return complaint
