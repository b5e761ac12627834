"""The demo city's next job fair: booths registered and candidates invited and mostly confirmed, ready for the
organiser to plan in one click. Built through the fairs service, as the organiser and caseworkers would."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.auth.models import Account, Role
from matcher.bases.models import Company, certified_in_date
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.clock import today
from matcher.fairs import service
from matcher.fairs.models import FairInvitation
from matcher.offices.models import JudicialOffice
from matcher.slots.models import Slot, SlotStatus

DISTRICT = "330782"  # 义乌市: the busiest district, where the demo caseworker works
BOOTHS = 12
OFFICES = 3


def build_demo_fair(session: Session, seed: int) -> str:
    rng = random.Random(seed)
    organiser = session.scalar(select(Account).where(Account.role == Role.ORGANISER).order_by(Account.id))
    if organiser is None:
        return "no organiser account: no demo fair"
    fair = service.create_fair(session=session, actor=organiser, data=dict(
        name="义乌市安置帮教专场招聘会", held_on=today() + dt.timedelta(days=7), venue="义乌市人力资源市场三楼",
        starts_at=dt.time(9, 0), block_minutes=30, n_blocks=8, max_interviews=3, key_subject_weight=0.5,
        waiting_weight_per_year=0.2))
    open_slots = (select(Slot.company_id, func.count(Slot.id).label("n"))
                  .where(Slot.status == SlotStatus.OPEN, Slot.seats_taken < Slot.seats)
                  .group_by(Slot.company_id).subquery())
    companies = list(session.scalars(
        select(Company).join(open_slots, open_slots.c.company_id == Company.id)
        .where(certified_in_date(), Company.place_code.startswith(DISTRICT)).order_by(Company.id)))
    if len(companies) < BOOTHS:  # not enough in the district: take the nearest others too
        companies += list(session.scalars(
            select(Company).join(open_slots, open_slots.c.company_id == Company.id)
            .where(certified_in_date(), Company.id.not_in([c.id for c in companies])).order_by(Company.id)))
    for company in companies[:BOOTHS]:
        slots = list(session.scalars(select(Slot.id).where(
            Slot.company_id == company.id, Slot.status == SlotStatus.OPEN, Slot.seats_taken < Slot.seats)
            .order_by(Slot.id)))[:3]
        service.add_booth(session=session, actor=organiser, fair_id=fair.id, data=dict(
            company_id=company.id, slot_ids=slots, interviews_per_block=rng.choice([2, 2, 3])))
    busiest = session.execute(
        select(Candidate.office_id, func.count(Candidate.id))
        .where(Candidate.status == CandidateStatus.ACTIVE, Candidate.residence_code.startswith(DISTRICT))
        .group_by(Candidate.office_id).order_by(func.count(Candidate.id).desc(), Candidate.office_id)
        .limit(OFFICES)).all()
    office_ids = [office_id for office_id, _n in busiest]
    invited = service.invite(session=session, actor=organiser, fair_id=fair.id,
                             data={"office_ids": office_ids, "ready": True})
    caseworkers = {a.office_id: a for a in session.scalars(select(Account).where(
        Account.role == Role.CASEWORKER, Account.office_id.in_(office_ids)))}
    answered = 0
    for invitation in session.scalars(select(FairInvitation).where(FairInvitation.fair_id == fair.id)
                                      .order_by(FairInvitation.id)).all():
        roll = rng.random()
        if roll < 0.1:
            continue  # still waiting for the caseworker
        caseworker = caseworkers[invitation.candidate.office_id]
        service.answer_invitation(session=session, actor=caseworker, invitation_id=invitation.id,
                                  attending=roll >= 0.15, consent=True,
                                  note=None if roll >= 0.15 else "本人已在外地务工")
        answered += 1
    offices = ", ".join(session.scalars(select(JudicialOffice.name).where(JudicialOffice.id.in_(office_ids))))
    return (f"  job fair: {fair.name} on {fair.held_on}, {len(fair.booths)} booths, {invited['invited']} candidates "
            f"invited from {offices}, {answered} answered")
