"""Keeps follow-up tasks in step with referrals: a start schedules the checks at 30, 90 and 180 days; a
confirmed stay completes its check; a placement that ends cancels the checks still open."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matcher.followup.models import CHECK_DAYS, FollowUpTask, TaskStatus
from matcher.referrals.lifecycle import ENDED, STAY_DAYS, ReferralStatus
from matcher.referrals.signals import referral_moved


def _on_moved(session: Session, *, referral, frm, to, on_date: dt.date, actor) -> None:
    if to == ReferralStatus.STARTED:
        have = set(session.scalars(select(FollowUpTask.days).where(FollowUpTask.referral_id == referral.id)))
        for days in CHECK_DAYS:
            if days not in have:
                session.add(FollowUpTask(referral_id=referral.id, days=days,
                                         due_on=on_date + dt.timedelta(days=days)))
    elif to in STAY_DAYS:
        session.execute(update(FollowUpTask).where(
            FollowUpTask.referral_id == referral.id, FollowUpTask.days <= STAY_DAYS[to],
            FollowUpTask.status == TaskStatus.OPEN).values(status=TaskStatus.DONE, done_on=on_date,
                                                            done_by_id=actor.id if actor else None))
    elif to in ENDED:
        # The check that found the person gone is done; the later ones will never be due.
        session.execute(update(FollowUpTask).where(
            FollowUpTask.referral_id == referral.id, FollowUpTask.status == TaskStatus.OPEN,
            FollowUpTask.due_on <= on_date).values(status=TaskStatus.DONE, done_on=on_date,
                                                   done_by_id=actor.id if actor else None))
        session.execute(update(FollowUpTask).where(
            FollowUpTask.referral_id == referral.id, FollowUpTask.status == TaskStatus.OPEN)
            .values(status=TaskStatus.CANCELLED, done_on=on_date))


def connect() -> None:
    referral_moved.connect(_on_moved)  # a module-level function: the signal's weak reference stays alive
