"""Notices that follow what happens at once: a referral sent to a base tells the base's employers; and a task done
marks done the notices that announced it, in the same unit of work (an inbox that clears itself).

Which task a notice announces is its `task_key` (matcher.notify.service.task_key). They are finished here:
- a referral that leaves the status it waited in (answered: interview, offer, decline ...): `referral:ID:STATUS`;
- a follow-up check done or no longer needed: `follow_up:ID` (the check recorded, or the stay confirmed);
- a base's certification decided (renewed, suspended, revoked ...): `company:ID:certification`;
- a fair invitation answered: `fair_invitation:ID`;
- an export request decided or expired, its file downloaded: matcher.exports.service finishes those itself.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from matcher.notify.models import NotificationKind
from matcher.notify.service import (
    certification_task,
    complete_tasks,
    employers_of,
    follow_up_task,
    notify,
    referral_task,
)
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.signals import referral_moved


def _on_moved(session: Session, *, referral, frm, to, on_date: dt.date, actor) -> None:
    from matcher.followup.models import FollowUpTask, TaskStatus

    done = [referral_task(referral.id, getattr(frm, "value", frm))] if frm is not None else []
    # The follow-up listener (connected first) has just closed the checks this move settles, in bulk.
    done += [follow_up_task(task_id) for task_id in session.scalars(select(FollowUpTask.id).where(
        FollowUpTask.referral_id == referral.id, FollowUpTask.status != TaskStatus.OPEN))]
    complete_tasks(session, done)
    if to != ReferralStatus.SENT:
        return
    slot = referral.slot
    notify(session, account_ids=employers_of(session, [slot.company_id]).get(slot.company_id, []),
           kind=NotificationKind.NEW_REFERRAL, key=f"referral:{referral.id}", subject_type="referral",
           subject_id=referral.id, params={"public_id": referral.candidate.public_id, "slot": slot.title})


def _changed(obj, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _finished_tasks(session: Session) -> list[str]:
    """The tasks the objects of this flush finish (changes made through the ORM)."""
    from matcher.bases.models import Company
    from matcher.fairs.models import FairInvitation, InvitationStatus
    from matcher.followup.models import FollowUpTask, TaskStatus

    keys = []
    for obj in session.dirty:
        if isinstance(obj, FollowUpTask) and obj.status != TaskStatus.OPEN and _changed(obj, "status"):
            keys.append(follow_up_task(obj.id))
        elif isinstance(obj, Company) and _changed(obj, "certification_status", "certified_until"):
            keys.append(certification_task(obj.id))
        elif (isinstance(obj, FairInvitation) and obj.status != InvitationStatus.INVITED
              and _changed(obj, "status")):
            keys.append(f"fair_invitation:{obj.id}")
    return keys


def _after_flush(session: Session, flush_context) -> None:
    keys = _finished_tasks(session)
    if keys:
        complete_tasks(session, keys)


def connect() -> None:
    referral_moved.connect(_on_moved)  # a module-level function: the signal's weak reference stays alive
    if not sa_event.contains(Session, "after_flush", _after_flush):
        sa_event.listen(Session, "after_flush", _after_flush)
