"""Retention: a candidate's file is archived, and its personal data removed, RETENTION_DAYS after the assistance
period ends (`assistance_ends_on`), unless something live still holds it.

A file is *due* on a day (`as_of`) when its assistance ended more than RETENTION_DAYS before it and it is not
archived yet. A due file is *skipped*, with its reason, while it has a live referral (anything short of an end
or of the final 180-day stay) or an open follow-up check; it is archived on a later run once that is over.

Archiving keeps what the bureau's figures are counted from (dates, office, townships of registration and of
residence, statuses, risk grade, key subject, sex and birth year, referrals and their history, visits'
dates and kinds, skills, certificates, wishes) and removes who the person is:

* name -> `已归档 XT-…` (the public id), the ID number's keyed hash -> a token that matches no ID number,
  the masked ID number, phone, street address, ethnicity and release institution -> cleared;
* the exact residence -> the centre of the residence township (travel distances stay roughly right);
* free text that may name or describe the person -> cleared: notes of visits, re-offences, consents,
  follow-up checks, referrals and fair-invitation answers, and the reasons of risk assessments;
* status -> closed, archived_at -> now.

The audit log is never touched (its events hold names of fields, never values); one `archive` event is added per
file. Files are archived in batches, one transaction each: a run that stops half-way leaves whole batches done,
and the next run carries on with what is left (archived files are no longer due). A dry run reports what a run
would do and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.audit.service import record as audit
from matcher.auth.models import Account
from matcher.candidates.models import Candidate, CandidateStatus, Consent, Reoffence, RiskAssessment, Visit
from matcher.clock import today
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.places.models import Place
from matcher.referrals.lifecycle import SETTLED
from matcher.referrals.models import Referral, ReferralEvent

BATCH_SIZE = 200
ARCHIVED_NAME = "已归档 {public_id}"
ARCHIVED_HASH = "archived:{public_id}"  # never a sha256 hex digest, so no ID number can match it
# What archiving removes, as the audit log names fields (names only).
REMOVED_FIELDS = ("name", "id_number", "phone", "residence_address", "residence", "ethnicity",
                  "release_institution", "notes")
SKIP_LIVE_REFERRAL, SKIP_OPEN_FOLLOW_UP = "live_referral", "open_follow_up"


@dataclass
class RetentionReport:
    as_of: dt.date
    retention_days: int
    cutoff: dt.date  # assistance ended before this day
    dry_run: bool
    due: int = 0
    archived: int = 0  # on a dry run: would be archived
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> files
    offices: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "retention_days": self.retention_days, "cutoff": self.cutoff,
                "dry_run": self.dry_run, "due": self.due, "archived": self.archived, "skipped": dict(self.skipped),
                "offices": self.offices}


def retention_days() -> int:
    return int(current_app.config.get("RETENTION_DAYS") or 730)


def due_statement(cutoff: dt.date):
    return (select(Candidate.id).where(Candidate.archived_at.is_(None), Candidate.assistance_ends_on < cutoff)
            .order_by(Candidate.id))


def _skip_reasons(session: Session, ids: list[int]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    live = session.scalars(select(Referral.candidate_id).where(Referral.candidate_id.in_(ids),
                                                               Referral.status.not_in(SETTLED)))
    for candidate_id in live:
        reasons.setdefault(candidate_id, SKIP_LIVE_REFERRAL)
    open_checks = session.scalars(select(Referral.candidate_id).where(
        Referral.candidate_id.in_(ids),
        exists().where(FollowUpTask.referral_id == Referral.id, FollowUpTask.status == TaskStatus.OPEN)))
    for candidate_id in open_checks:
        reasons.setdefault(candidate_id, SKIP_OPEN_FOLLOW_UP)
    return reasons


def run(*, session: Session, actor: Account | None = None, as_of: dt.date | None = None, dry_run: bool = False,
        days: int | None = None, batch_size: int = BATCH_SIZE) -> RetentionReport:
    """Archive every due file (or, on a dry run, count them) and report per office what was done. An
    administrator archives the files of its area; the command line (no actor) every file."""
    as_of = as_of or today()
    days = retention_days() if days is None else days
    cutoff = as_of - dt.timedelta(days=days)
    report = RetentionReport(as_of=as_of, retention_days=days, cutoff=cutoff, dry_run=dry_run)
    offices: dict[int, dict[str, Any]] = {}
    skipped: Counter[str] = Counter()
    after = 0
    while True:
        due = due_statement(cutoff).where(Candidate.id > after)
        if actor is not None:
            due = due.where(Candidate.id.in_(policy.candidate_ids(actor)))
        ids = list(session.scalars(due.limit(batch_size)))
        if not ids:
            break
        after = ids[-1]
        reasons = _skip_reasons(session, ids)
        candidates = list(session.scalars(select(Candidate).where(Candidate.id.in_(ids)).order_by(Candidate.id)))
        archived_now = []
        for candidate in candidates:
            report.due += 1
            office = offices.setdefault(candidate.office_id, {
                "office_id": candidate.office_id, "office": candidate.office.name if candidate.office else "",
                "due": 0, "archived": 0, "skipped": {}})
            office["due"] += 1
            reason = reasons.get(candidate.id)
            if reason:
                skipped[reason] += 1
                office["skipped"][reason] = office["skipped"].get(reason, 0) + 1
                continue
            report.archived += 1
            office["archived"] += 1
            archived_now.append(candidate)
        if not dry_run:
            for candidate in archived_now:
                archive(session, candidate, actor=actor)
        # Each batch is a unit of work of its own: a long run holds no lock (SQLite's one writer) and no
        # growing identity map, and a run stopped halfway keeps what it archived.
        uow.commit(session)
    report.skipped = dict(sorted(skipped.items()))
    report.offices = sorted(offices.values(), key=lambda o: (o["office"], o["office_id"]))
    return report


def archive(session: Session, candidate: Candidate, *, actor: Account | None = None) -> None:
    """Remove the personal data of one file in the caller's transaction (see the module's docstring)."""
    public_id = candidate.public_id
    candidate.name = ARCHIVED_NAME.format(public_id=public_id)
    candidate.id_number_hash = ARCHIVED_HASH.format(public_id=public_id)
    candidate.id_number_masked = ""
    candidate.phone = None
    candidate.residence_address = None
    candidate.ethnicity = None
    candidate.release_institution = None
    township = session.get(Place, candidate.residence_code)
    if township is not None and township.lat is not None and township.lng is not None:
        candidate.residence_lat, candidate.residence_lng = township.lat, township.lng
    candidate.status = CandidateStatus.CLOSED
    candidate.archived_at = clock.now()
    cid = candidate.id
    referral_ids = select(Referral.id).where(Referral.candidate_id == cid).scalar_subquery()
    # Every free text written about the person, by whoever: what it says may be about their health or family.
    for model, column, of_person in (
            (Visit, Visit.note, Visit.candidate_id == cid), (Reoffence, Reoffence.note, Reoffence.candidate_id == cid),
            (Consent, Consent.note, Consent.candidate_id == cid),
            (RiskAssessment, RiskAssessment.reason, RiskAssessment.candidate_id == cid),
            (Referral, Referral.internal_note, Referral.candidate_id == cid),
            (Referral, Referral.shared_note, Referral.candidate_id == cid),
            (ReferralEvent, ReferralEvent.internal_note, ReferralEvent.referral_id.in_(referral_ids)),
            (ReferralEvent, ReferralEvent.shared_note, ReferralEvent.referral_id.in_(referral_ids)),
            (FollowUpTask, FollowUpTask.note, FollowUpTask.referral_id.in_(referral_ids))):
        session.execute(update(model).where(of_person, column.is_not(None))
                        .values({column.key: None}).execution_options(synchronize_session=False))
    _clear_fair_answers(session, cid)
    audit(session, actor=actor, action="archive", object_type="candidate", object_id=cid, fields=REMOVED_FIELDS)


def _clear_fair_answers(session: Session, candidate_id: int) -> None:
    from matcher.fairs.models import FairInvitation

    session.execute(update(FairInvitation).where(FairInvitation.candidate_id == candidate_id,
                                                 FairInvitation.answer_note.is_not(None))
                    .values(answer_note=None).execution_options(synchronize_session=False))
