"""A job fair itself: who runs it (scope), setting it up and changing it, its status, its blocks;
and the interview rows every other part of the fair cancels or counts."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.auth.models import Account, Role
from matcher.clock import today
from matcher.errors import Conflict, Invalid
from matcher.fairs.models import Fair, FairInterview, FairStatus, InterviewStatus, InvitationStatus

RUNNING = (Role.ADMINISTRATOR, Role.ORGANISER)
LIVE_INTERVIEW = (InterviewStatus.PLANNED, InterviewStatus.HELD)
COMING = (InvitationStatus.CONFIRMED,)


# ---- scope ------------------------------------------------------------------------------------

def get_fair(*, session: Session, actor: Account, fair_id: int) -> Fair:
    return policy.find(session, actor, policy.fairs(actor), Fair, fair_id, _l("No such job fair."),
                       object_type="fair")


def run_fair(session: Session, actor: Account, fair_id: int, *, changing: bool = True,
             open_only: bool = False) -> Fair:
    """A fair the actor runs (organisers of its area, administrators); `changing` refuses cancelled fairs,
    `open_only` closed ones too (the day is over: its booths and attendance are history)."""
    policy.require(actor, policy.Rule.FAIR_RUN)
    fair = get_fair(session=session, actor=actor, fair_id=fair_id)
    if changing and fair.status == FairStatus.CANCELLED:
        raise Conflict(_l("This job fair was cancelled."))
    if open_only and fair.status != FairStatus.PREPARING:
        raise Conflict(_l("This job fair is closed."))
    return fair


def list_fairs(*, session: Session, actor: Account, filters: dict | None = None) -> Select:
    filters = filters or {}
    stmt = policy.fairs(actor)
    if filters.get("status"):
        stmt = stmt.where(Fair.status == filters["status"])
    if filters.get("upcoming") is True:
        stmt = stmt.where(Fair.held_on >= today())
    return stmt.order_by(Fair.held_on.desc(), Fair.id.desc())


# ---- the fair -----------------------------------------------------------------------------------

STRUCTURE = ("held_on", "starts_at", "block_minutes", "n_blocks", "max_interviews")


FAIR_RANGES = {"block_minutes": (5, 240), "n_blocks": (1, 48), "max_interviews": (1, 10),
               "key_subject_weight": (0, 10), "waiting_weight_per_year": (0, 10)}


def check_ranges(data: dict, ranges: dict) -> None:
    """The rules the edges validate too, kept here so that no caller can reach a database constraint."""
    for key, (low, high) in ranges.items():
        if key in data and data[key] is not None and not low <= data[key] <= high:
            raise Invalid(_l("Must be between %(low)s and %(high)s.", low=low, high=high), field=key)


def create_fair(*, session: Session, actor: Account, data: dict) -> Fair:
    policy.require(actor, policy.Rule.FAIR_RUN)
    check_ranges(data, FAIR_RANGES)
    if data["held_on"] < today():
        raise Invalid(_l("A job fair cannot be held in the past."), field="held_on")
    _check_day_fits(data["starts_at"], data.get("block_minutes", 30), data.get("n_blocks", 8))
    fair = Fair(bureau_code=actor.bureau_code, created_by_id=actor.id, **data)
    session.add(fair)
    uow.flush(session)
    return fair


def _check_day_fits(starts_at: dt.time, block_minutes: int, n_blocks: int) -> None:
    end = dt.datetime.combine(dt.date(2000, 1, 1), starts_at) + dt.timedelta(minutes=block_minutes * n_blocks)
    if end.date() != dt.date(2000, 1, 1):
        raise Invalid(_l("The fair's blocks must end on the same day (before midnight)."), field="n_blocks")


def update_fair(*, session: Session, actor: Account, fair_id: int, data: dict) -> Fair:
    """Name, venue and weights change any time; the day's shape only while nothing is planned."""
    fair = run_fair(session, actor, fair_id)
    check_ranges(data, FAIR_RANGES)
    changed = [key for key in STRUCTURE if key in data and data[key] != getattr(fair, key)]
    if changed and session.scalar(live_interviews(fair.id).limit(1)) is not None:
        raise Conflict(_l("The fair already has an interview plan; its date, blocks and interviews per candidate "
                          "can no longer change."), field=changed[0])
    if "held_on" in data and data["held_on"] < today() and data["held_on"] != fair.held_on:
        raise Invalid(_l("A job fair cannot be held in the past."), field="held_on")
    merged = {key: data.get(key, getattr(fair, key)) for key in ("starts_at", "block_minutes", "n_blocks")}
    _check_day_fits(**merged)
    for key, value in data.items():
        setattr(fair, key, value)
    uow.flush(session)
    return fair


def set_status(*, session: Session, actor: Account, fair_id: int, status: FairStatus) -> Fair:
    """Close a fair after the day (outcomes can still be recorded), or cancel it (its plan is cancelled)."""
    fair = run_fair(session, actor, fair_id)
    if status == fair.status:
        return fair
    if status == FairStatus.CANCELLED:
        if session.scalar(select(func.count()).where(FairInterview.fair_id == fair.id,
                                                     FairInterview.status == InterviewStatus.HELD)):
            raise Conflict(_l("Interviews were already held at this fair; close it instead."), field="status")
        cancel_interviews(session, FairInterview.fair_id == fair.id)
    fair.status = status
    uow.flush(session)
    return fair


def is_before_the_day(fair: Fair) -> bool:
    """The fair's day has not come yet (China date, as the fair's clock)."""
    return today() < fair.held_on


def require_the_day(fair: Fair, field: str | None = None) -> None:
    """Check-ins, walk-ins and outcomes happen at the fair: refused before its day (China date)."""
    if is_before_the_day(fair):
        raise Conflict(_l("The fair's day has not come yet: check-ins, walk-ins and interview outcomes can only be "
                          "recorded from the day of the fair on."), field=field)


def current_block(fair: Fair, now: dt.datetime | None = None) -> int:
    """The block under way now (0 before the day, n_blocks after it): China time, as the fair's clock."""
    local = clock.in_china(now or clock.now()).replace(tzinfo=None)
    if local.date() < fair.held_on:
        return 0
    if local.date() > fair.held_on:
        return fair.n_blocks
    minutes = (local - dt.datetime.combine(fair.held_on, fair.starts_at)).total_seconds() / 60
    return int(min(max(minutes // fair.block_minutes, 0), fair.n_blocks))


def first_open_block(fair: Fair, now: dt.datetime | None = None) -> int:
    """Where a re-plan starts by default: the first block that has not begun yet."""
    local = clock.in_china(now or clock.now()).replace(tzinfo=None)
    start = dt.datetime.combine(fair.held_on, fair.starts_at)
    if local <= start:
        return 0
    return min(current_block(fair, now) + 1, fair.n_blocks)


# ---- the interviews every part of a fair counts or cancels ---------------------------------------

def live_interviews(fair_id: int) -> Select:
    return select(FairInterview).where(FairInterview.fair_id == fair_id, FairInterview.status.in_(LIVE_INTERVIEW))


def cancel_interviews(session: Session, *conditions) -> int:
    rows = list(session.scalars(select(FairInterview).where(FairInterview.status == InterviewStatus.PLANNED,
                                                             *conditions)))
    for row in rows:
        row.status = InterviewStatus.CANCELLED
    return len(rows)
