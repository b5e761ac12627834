"""What a map shows an account, read through the access policy and counted by township.

People are never drawn one by one: a caseworker's map counts the files their office reads by the township of
residence, an organiser's counts a fair's invited people the same way. Bases (companies, not people) are drawn
where they are; open slots are counted by the township of their place.
"""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher import policy
from matcher.auth.models import Account, Role
from matcher.bases.models import Company, certified_in_date
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import today
from matcher.errors import NotFound
from matcher.fairs.models import Fair, FairInvitation, FairStatus, InvitationStatus
from matcher.places.models import Place, PlaceLevel
from matcher.places.service import District, districts_with_townships
from matcher.slots.models import Slot, SlotStatus


@dataclasses.dataclass(frozen=True)
class Count:
    """A number at a township: people living there, or open slots (and their seats) there."""

    code: str
    name: str
    district: str
    lat: float
    lng: float
    count: int
    seats: int = 0


@dataclasses.dataclass(frozen=True)
class Pin:
    """A base where it is."""

    id: int
    name: str
    place_code: str
    place: str
    lat: float
    lng: float


@dataclasses.dataclass
class MapData:
    districts: list[District]
    people: list[Count]
    slots: list[Count]
    bases: list[Pin]
    fairs: list[Fair] = dataclasses.field(default_factory=list)
    fair: Fair | None = None

    @property
    def people_total(self) -> int:
        return sum(c.count for c in self.people)


OPEN_FILE = (Candidate.status != CandidateStatus.CLOSED, Candidate.archived_at.is_(None))
COMING = (InvitationStatus.INVITED, InvitationStatus.CONFIRMED)


def _counts(rows, places: dict[str, Place], names: dict[str, str]) -> list[Count]:
    counts = []
    for code, count, *seats in rows:
        place = places.get(code)
        if place is not None:
            counts.append(Count(code=code, name=place.name, district=names.get(place.parent_code or "", ""),
                                lat=place.lat, lng=place.lng, count=int(count),
                                seats=int(seats[0] or 0) if seats else 0))
    return sorted(counts, key=lambda c: (-c.count, c.code))


def _map(session: Session, actor: Account, *, people_rows, district_codes: set[str], fairs=None, fair=None) -> MapData:
    every = districts_with_townships(session=session)
    places = {t.code: t for d in every for t in d.townships}
    names = {d.code: d.name for d in every}
    people = _counts(people_rows, places, names)
    shown = set(district_codes) | {places[c.code].parent_code for c in people}
    districts = [d for d in every if d.code in shown]
    inside = tuple(d.code for d in districts)

    def in_shown(code: str) -> bool:
        return code[:6] in inside

    slot_rows = session.execute(
        policy.slots(actor).where(Slot.status == SlotStatus.OPEN)
        .with_only_columns(Slot.place_code, func.count(), func.sum(Slot.seats)).group_by(Slot.place_code))
    slots = [c for c in _counts(slot_rows, places, names) if in_shown(c.code)]
    bases = [Pin(id=c.id, name=c.name, place_code=c.place_code, place=c.place.full_name, lat=c.lat, lng=c.lng)
             for c in session.scalars(policy.companies(actor).where(certified_in_date()).order_by(Company.name))
             if in_shown(c.place_code)]
    return MapData(districts=districts, people=people, slots=slots, bases=bases, fairs=fairs or [], fair=fair)


def caseworker_map(*, session: Session, actor: Account) -> MapData:
    """The office's district (and any other where its people live): the open files it reads, counted by township
    of residence; the certified bases and the open slots there."""
    if actor.role != Role.CASEWORKER:
        raise NotFound(_l("No such page."))
    rows = session.execute(
        policy.candidates(actor).where(*OPEN_FILE)
        .with_only_columns(Candidate.residence_code, func.count()).group_by(Candidate.residence_code))
    return _map(session, actor, people_rows=rows, district_codes={actor.office.township_code[:6]})


def organiser_map(*, session: Session, actor: Account, fair_id: int | None) -> MapData:
    """The bureau's area: certified bases and open slots, and one fair's invited people counted by township of
    residence (the fair asked for, else the next one, else the latest)."""
    if actor.role not in (Role.ORGANISER, Role.ADMINISTRATOR):
        raise NotFound(_l("No such page."))
    fairs = list(session.scalars(policy.fairs(actor).where(Fair.status != FairStatus.CANCELLED)
                                 .order_by(Fair.held_on.desc(), Fair.id.desc())))
    fair = next((f for f in fairs if f.id == fair_id), None) if fair_id else _default_fair(fairs)
    if fair_id and fair is None:
        raise NotFound(_l("No such job fair."))
    rows = []
    if fair is not None:
        rows = session.execute(
            select(Candidate.residence_code, func.count())
            .join(FairInvitation, FairInvitation.candidate_id == Candidate.id)
            .where(FairInvitation.fair_id == fair.id, FairInvitation.status.in_(COMING))
            .group_by(Candidate.residence_code))
    prefix = policy.area_prefix(actor)
    area = set(session.scalars(select(Place.code).where(Place.level == PlaceLevel.DISTRICT,
                                                         Place.code.startswith(prefix))))
    return _map(session, actor, people_rows=rows, district_codes=area, fairs=fairs, fair=fair)


def _default_fair(fairs: list[Fair]) -> Fair | None:
    coming = [f for f in fairs if f.held_on >= today()]
    return min(coming, key=lambda f: f.held_on) if coming else (fairs[0] if fairs else None)
