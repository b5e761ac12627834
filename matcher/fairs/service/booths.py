"""A fair's booths: the bases that come, the slots they bring, their capacity; withdrawing one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher import uow
from matcher.auth.models import Account
from matcher.bases.models import Company
from matcher.errors import Conflict, Invalid, NotFound
from matcher.fairs.models import Fair, FairBooth, FairInterview
from matcher.fairs.service.fairs import LIVE_INTERVIEW, cancel_interviews, check_ranges, first_open_block, run_fair
from matcher.slots.models import Slot, SlotStatus


def _booth(session: Session, fair: Fair, booth_id: int) -> FairBooth:
    booth = session.scalar(select(FairBooth).where(FairBooth.id == booth_id, FairBooth.fair_id == fair.id))
    if booth is None:
        raise NotFound(_l("No such booth at this fair."))
    return booth


def _booth_slots(session: Session, company: Company, slot_ids: list[int]) -> list[Slot]:
    if not slot_ids:
        raise Invalid(_l("Choose at least one of the base's open slots."), field="slot_ids")
    slots = list(session.scalars(select(Slot).where(Slot.id.in_(slot_ids))))
    by_id = {s.id: s for s in slots}
    for index, slot_id in enumerate(slot_ids):
        slot = by_id.get(slot_id)
        if slot is None or slot.company_id != company.id:
            raise Invalid(_l("This slot is not one of the base's."), field=f"slot_ids.{index}")
        if slot.status != SlotStatus.OPEN:
            raise Invalid(_l("This slot is not open."), field=f"slot_ids.{index}")
    return [by_id[i] for i in dict.fromkeys(slot_ids)]


def add_booth(*, session: Session, actor: Account, fair_id: int, data: dict) -> FairBooth:
    """Register a participating base: the slots it brings and how many interviews it holds per block."""
    fair = run_fair(session, actor, fair_id, open_only=True)
    company = session.get(Company, data["company_id"])
    if company is None:
        raise Invalid(_l("No such base."), field="company_id")
    if not company.can_post_and_fill(fair.held_on):
        raise Conflict(_l("This base's certification is not in force on the day of the fair."), field="company_id")
    if session.scalar(select(FairBooth.id).where(FairBooth.fair_id == fair.id, FairBooth.company_id == company.id)):
        raise Conflict(_l("This base already has a booth at this fair."), field="company_id")
    slots = _booth_slots(session, company, data.get("slot_ids", []))
    check_ranges(data, BOOTH_RANGES)
    label = _label(data.get("label")) or _next_label(session, fair)
    if session.scalar(select(FairBooth.id).where(FairBooth.fair_id == fair.id, FairBooth.label == label)):
        raise Conflict(_l("Another booth already has this number."), field="label")
    booth = FairBooth(fair_id=fair.id, company_id=company.id, label=label,
                      interviews_per_block=data.get("interviews_per_block", 1), slots=slots)
    session.add(booth)
    uow.flush(session)
    return booth


BOOTH_RANGES = {"interviews_per_block": (0, 20)}


def _label(text: str | None) -> str:
    label = (text or "").strip()
    if len(label) > 12:
        raise Invalid(_l("A booth number has at most 12 characters."), field="label")
    return label


def _next_label(session: Session, fair: Fair) -> str:
    taken = set(session.scalars(select(FairBooth.label).where(FairBooth.fair_id == fair.id)))
    number = len(taken) + 1
    while f"A{number:02d}" in taken:
        number += 1
    return f"A{number:02d}"


def update_booth(*, session: Session, actor: Account, fair_id: int, booth_id: int, data: dict) -> FairBooth:
    fair = run_fair(session, actor, fair_id, open_only=True)
    booth = _booth(session, fair, booth_id)
    check_ranges(data, BOOTH_RANGES)
    if "label" in data:
        label = _label(data["label"])
        if not label:
            raise Invalid(_l("Give the booth a number."), field="label")
        if session.scalar(select(FairBooth.id).where(FairBooth.fair_id == fair.id, FairBooth.label == label,
                                                     FairBooth.id != booth.id)):
            raise Conflict(_l("Another booth already has this number."), field="label")
        booth.label = label
    if "slot_ids" in data:
        booth.slots = _booth_slots(session, booth.company, data["slot_ids"])
    if "interviews_per_block" in data:
        new = data["interviews_per_block"]
        busiest = session.execute(
            select(FairInterview.block, func.count()).where(FairInterview.booth_id == booth.id,
                                                            FairInterview.status.in_(LIVE_INTERVIEW))
            .group_by(FairInterview.block).order_by(func.count().desc()).limit(1)).first()
        if busiest is not None and busiest[1] > new:
            raise Conflict(_l("%(n)s interviews are planned at this booth in one block; withdraw the booth from "
                              "a block or re-plan before lowering its capacity.", n=busiest[1]),
                           field="interviews_per_block")
        booth.interviews_per_block = new
    uow.flush(session)
    return booth


def withdraw_booth(*, session: Session, actor: Account, fair_id: int, booth_id: int, from_block: int | None,
                   reason: str) -> FairBooth:
    """A base that leaves (or never comes): no interviews there from `from_block` on (default: the first block
    not yet begun); its planned interviews are cancelled, for a re-plan to send people elsewhere."""
    fair = run_fair(session, actor, fair_id, open_only=True)
    booth = _booth(session, fair, booth_id)
    start = first_open_block(fair) if from_block is None else from_block
    if not 0 <= start <= fair.n_blocks:
        raise Invalid(_l("The block must be between 0 and %(n)s.", n=fair.n_blocks), field="from_block")
    booth.withdrawn_from_block, booth.withdrawn_reason = start, reason
    cancel_interviews(session, FairInterview.booth_id == booth.id, FairInterview.block >= start)
    uow.flush(session)
    return booth


def remove_booth(*, session: Session, actor: Account, fair_id: int, booth_id: int) -> None:
    """Take a booth off the list before anything happened there (afterwards: withdraw it)."""
    fair = run_fair(session, actor, fair_id, open_only=True)
    booth = _booth(session, fair, booth_id)
    if session.scalar(select(FairInterview.id).where(FairInterview.booth_id == booth.id).limit(1)):
        raise Conflict(_l("This booth is in the interview plan; withdraw it instead."))
    session.delete(booth)
    uow.flush(session)
