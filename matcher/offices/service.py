"""Reading and creating judicial offices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.errors import NotFound
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, code_prefix


def list_offices(*, session: Session, place: str | None = None):
    stmt = select(JudicialOffice).join(Place).order_by(JudicialOffice.township_code)
    if place:
        stmt = stmt.where(JudicialOffice.township_code.startswith(code_prefix(place)))
    return stmt


def get_office(*, session: Session, office_id: int) -> JudicialOffice:
    office = session.get(JudicialOffice, office_id)
    if office is None:
        raise NotFound(_l("No such judicial office."))
    return office


def office_for_township(session: Session, township_code: str) -> JudicialOffice | None:
    return session.scalar(select(JudicialOffice).where(JudicialOffice.township_code == township_code))


def find_offices(*, session: Session, place: str | None = None) -> list[JudicialOffice]:
    """The judicial offices of a place (all without one), by township code, loaded."""
    return list(session.scalars(list_offices(session=session, place=place)).unique())
