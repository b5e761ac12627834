"""Notices that follow a referral's moves at once: a referral sent to a base tells the base's employers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from matcher.notify.models import NotificationKind
from matcher.notify.service import employers_of, notify
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.service import referral_moved


def _on_moved(session: Session, *, referral, frm, to, on_date: dt.date, actor) -> None:
    if to != ReferralStatus.SENT:
        return
    slot = referral.slot
    notify(session, account_ids=employers_of(session, [slot.company_id]).get(slot.company_id, []),
           kind=NotificationKind.NEW_REFERRAL, key=f"referral:{referral.id}", subject_type="referral",
           subject_id=referral.id, params={"public_id": referral.candidate.public_id, "slot": slot.title})


def connect() -> None:
    referral_moved.connect(_on_moved)  # a module-level function: the signal's weak reference stays alive
