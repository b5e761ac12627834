"""A base's record over the last twelve months, and the flags that put a base up for review.

The figures, per base (a company certified now or before: applicants and revoked bases are left out):

- sent: referrals sent to the base's slots in the window (the day of their `sent` step);
- answered: of those, the ones the base answered by `as_of`. An answer is the base's first move after `sent`:
  interview, offered, or declined by anyone but a caseworker (a caseworker's decline is the candidate's, not
  the base's, answer). `answered_within` counts those answered within ANSWER_DAYS of being sent;
- answer_due: answered, plus those left unanswered for ANSWER_DAYS or more (still waiting, or ended
  unanswered after that long). A referral sent in the last ANSWER_DAYS and still waiting, or withdrawn
  unanswered sooner, is not held against the base; share_answered = answered / answer_due;
- median_days_to_answer: the median of (answer day - sent day) over the answered;
- starts: referrals started in the window; starts_old_enough: of those, started at least STAY_DAYS before
  `as_of`; stayed: of those, the ones that reached `stayed_90` (or `stayed_180`); unconfirmed: old enough,
  still in the job or course, but the 90-day stay not yet confirmed. stay_rate = stayed / starts_old_enough,
  the same reading of "stayed 90 days" the scoring model learns from (an unconfirmed stay does not count);
- complaints_total: complaints received in the window; complaints_open: unresolved ones, whenever received;
- certified_until and agreement_ends_on (the latest agreement's end).

Flags (FLAGS, in this order):

- never_answers: answer_due >= MIN_SENT and (share_answered < MIN_ANSWER_SHARE or none answered within
  ANSWER_DAYS);
- loses_most: starts_old_enough >= MIN_STARTS, more than half of them left before 90 days (LOST_SHARE), and the
  base's stay rate is significantly below the area's (one-sided binomial test against the stay rate of all the
  area's bases together, p < LOSES_MOST_P). Where most people leave everywhere (a 90-day stay rate of 30-40 % is
  common in this work), "loses most" alone would flag nearly every base; the comparison with the area singles out
  the bases that do worse than their peers;
- certification_expiring: certified, and the certification ends within EXPIRY_NOTICE_DAYS (from `as_of`,
  both days included);
- agreement_expiring: the latest agreement ends within EXPIRY_NOTICE_DAYS;
- many_complaints: complaints_open >= MANY_OPEN_COMPLAINTS.

Everything is computed from a handful of grouped queries for the whole area, never one query per base.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from matcher.auth.models import Account, Role
from matcher.bases.models import Agreement, CertificationStatus, Company, Complaint
from matcher.bases.service import add_months
from matcher.clock import today
from matcher.errors import Invalid
from matcher.places.models import Place, PlaceLevel, code_prefix
from matcher.referrals import lifecycle
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot

WINDOW_MONTHS = 12
ANSWER_DAYS = 14
MIN_SENT = 5
MIN_ANSWER_SHARE = 0.2
STAY_DAYS = lifecycle.OUTCOME_DAYS
MIN_STARTS = 5
LOST_SHARE = 0.5
LOSES_MOST_P = 0.05
EXPIRY_NOTICE_DAYS = 30
MANY_OPEN_COMPLAINTS = 3

NEVER_ANSWERS, LOSES_MOST = "never_answers", "loses_most"
CERTIFICATION_EXPIRING, AGREEMENT_EXPIRING, MANY_COMPLAINTS = (
    "certification_expiring", "agreement_expiring", "many_complaints")
FLAGS = (NEVER_ANSWERS, LOSES_MOST, CERTIFICATION_EXPIRING, AGREEMENT_EXPIRING, MANY_COMPLAINTS)

# Bases with a record: certified now, or certified before and not revoked.
RECORDED_STATUSES = (CertificationStatus.CERTIFIED, CertificationStatus.SUSPENDED, CertificationStatus.EXPIRED)
STAYED = lifecycle.STAYED_AT_LEAST[STAY_DAYS]
# Still at the base past the days, but the stay never confirmed.
UNCONFIRMED = tuple(status for status in lifecycle.IN_WORK if status not in STAYED)


@dataclass
class BaseRecord:
    company_id: int
    company_name: str
    place_code: str
    status: CertificationStatus  # effective on `as_of` (a certification past its date reads expired)
    certified_until: dt.date | None
    agreement_ends_on: dt.date | None
    sent: int = 0
    answered: int = 0
    answered_within: int = 0
    answer_due: int = 0
    waiting: int = 0
    median_days_to_answer: float | None = None
    starts: int = 0
    starts_old_enough: int = 0
    stayed: int = 0
    unconfirmed: int = 0
    complaints_open: int = 0
    complaints_total: int = 0
    flags: list[str] = field(default_factory=list)
    # Its answers now (matcher.bases.answers), filled for the bureau's pages and API (`with_standing`).
    p_answer: float | None = None  # the smoothed chance that it answers a referral (ranking and assignment use it)
    target_share: float | None = None  # the bureau's response-rate target
    demoted: bool = False  # ranked lower: p_answer below the target
    unanswered_now: int = 0  # referrals waiting past the answer days now (a pause comes at pause_after)
    pause_after: int | None = None
    paused_on: dt.date | None = None  # paused for new referrals since
    employees: int | None = None
    monthly_cap: int | None = None  # its size band's referrals a month (None: size not recorded, no cap)
    month_count: int = 0  # referrals made to it this calendar month

    @property
    def district_code(self) -> str:
        return self.place_code[:6]

    @property
    def share_answered(self) -> float | None:
        return self.answered / self.answer_due if self.answer_due else None

    @property
    def stay_rate(self) -> float | None:
        return self.stayed / self.starts_old_enough if self.starts_old_enough else None

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def as_dict(self) -> dict:
        return {
            "company_id": self.company_id, "company_name": self.company_name, "place_code": self.place_code,
            "district_code": self.district_code, "status": self.status.value,
            "certified_until": self.certified_until, "agreement_ends_on": self.agreement_ends_on,
            "sent": self.sent, "answered": self.answered, "answered_within": self.answered_within,
            "answer_due": self.answer_due, "waiting": self.waiting, "share_answered": self.share_answered,
            "median_days_to_answer": self.median_days_to_answer, "starts": self.starts,
            "starts_old_enough": self.starts_old_enough, "stayed": self.stayed, "unconfirmed": self.unconfirmed,
            "stay_rate": self.stay_rate, "complaints_open": self.complaints_open,
            "complaints_total": self.complaints_total, "flags": list(self.flags),
            "p_answer": self.p_answer, "target_share": self.target_share, "demoted": self.demoted,
            "unanswered_now": self.unanswered_now, "pause_after": self.pause_after, "paused_on": self.paused_on,
            "employees": self.employees, "monthly_cap": self.monthly_cap, "month_count": self.month_count,
        }

    @property
    def paused(self) -> bool:
        return self.paused_on is not None

    @property
    def below_target(self) -> bool:
        """The plain share answered is below the target (what the page compares)."""
        return (self.share_answered is not None and self.target_share is not None
                and self.share_answered < self.target_share)


def window_start(as_of: dt.date) -> dt.date:
    """The day before the window: the window is (window_start, as_of]."""
    return add_months(as_of, -WINDOW_MONTHS)


def answer_records(session: Session, *, as_of: dt.date | None = None,
                   company_ids: list[int] | None = None) -> list[BaseRecord]:
    """Every base's (or the named bases') referrals sent and answered only (the figures of `_answers`; no stays,
    complaints or flags): what matcher.bases.answers estimates a base's chance of answering from, in one query."""
    as_of = as_of or today()
    records, in_area = _bases(session, "", as_of, company_ids)
    if records:
        _answers(session, records, in_area, window_start(as_of), as_of)
    return list(records.values())


def _bases(session: Session, area_prefix: str, as_of: dt.date, company_ids: list[int] | None):
    """The bases with a record in the area, as empty records by id (by name), and the select of their ids."""
    company_filter = [Company.certification_status.in_(RECORDED_STATUSES)]
    if area_prefix:
        company_filter.append(Company.place_code.startswith(area_prefix))
    if company_ids is not None:
        company_filter.append(Company.id.in_(company_ids))
    companies = session.execute(
        select(Company.id, Company.name, Company.place_code, Company.certification_status, Company.certified_until)
        .where(*company_filter).order_by(Company.name, Company.id)).all()
    records = {}
    for row in companies:
        status = row.certification_status
        if status == CertificationStatus.CERTIFIED and row.certified_until < as_of:
            status = CertificationStatus.EXPIRED
        records[row.id] = BaseRecord(company_id=row.id, company_name=row.name, place_code=row.place_code,
                                     status=status, certified_until=row.certified_until, agreement_ends_on=None)
    return records, select(Company.id).where(*company_filter)


def base_records(session: Session, *, area_prefix: str = "", as_of: dt.date | None = None,
                 company_ids: list[int] | None = None) -> list[BaseRecord]:
    """The record of every base in the area (place code starting with `area_prefix`), by name."""
    as_of = as_of or today()
    since = window_start(as_of)
    records, in_area = _bases(session, area_prefix, as_of, company_ids)
    if not records:
        return []

    _answers(session, records, in_area, since, as_of)
    _stays(session, records, in_area, since, as_of)
    for company_id, total, still_open in session.execute(
            select(Complaint.company_id,
                   func.count().filter(Complaint.received_on > since, Complaint.received_on <= as_of),
                   func.count().filter(Complaint.resolved_on.is_(None)))
            .where(Complaint.company_id.in_(in_area)).group_by(Complaint.company_id)):
        records[company_id].complaints_total, records[company_id].complaints_open = total, still_open
    for company_id, ends_on in session.execute(
            select(Agreement.company_id, func.max(Agreement.ends_on))
            .where(Agreement.company_id.in_(in_area)).group_by(Agreement.company_id)):
        records[company_id].agreement_ends_on = ends_on

    enough = sum(r.starts_old_enough for r in records.values())
    area_stay_rate = sum(r.stayed for r in records.values()) / enough if enough else None
    for record in records.values():
        record.flags = _flags(record, as_of, area_stay_rate)
    return list(records.values())


def _answers(session: Session, records: dict[int, BaseRecord], in_area, since: dt.date, as_of: dt.date) -> None:
    """One row per referral sent in the window: when it was sent, answered and ended."""
    S = ReferralStatus
    # The events of the area's referrals only: a page about one base must not group the whole city's events.
    of_area = ReferralEvent.referral_id.in_(
        select(Referral.id).join(Slot, Slot.id == Referral.slot_id).where(Slot.company_id.in_(in_area)))
    sent = (select(ReferralEvent.referral_id, func.min(ReferralEvent.on_date).label("sent_on"))
            .where(ReferralEvent.to_status == S.SENT, of_area).group_by(ReferralEvent.referral_id).subquery())
    mover = aliased(Account)
    answered = (select(ReferralEvent.referral_id, func.min(ReferralEvent.on_date).label("answered_on"))
                .outerjoin(mover, mover.id == ReferralEvent.actor_id)
                .where(ReferralEvent.from_status == S.SENT, of_area,
                       or_(ReferralEvent.to_status.in_(lifecycle.ANSWERED),
                           and_(ReferralEvent.to_status == S.DECLINED,
                                or_(mover.role.is_(None), mover.role != Role.CASEWORKER))))
                .group_by(ReferralEvent.referral_id).subquery())
    rows = session.execute(
        select(Slot.company_id, sent.c.sent_on, answered.c.answered_on, Referral.ended_on)
        .select_from(Referral)
        .join(sent, sent.c.referral_id == Referral.id)
        .join(Slot, Slot.id == Referral.slot_id)
        .outerjoin(answered, answered.c.referral_id == Referral.id)
        .where(sent.c.sent_on > since, sent.c.sent_on <= as_of, Slot.company_id.in_(in_area)))
    delays: dict[int, list[int]] = defaultdict(list)
    for company_id, sent_on, answered_on, ended_on in rows:
        record = records[company_id]
        record.sent += 1
        if answered_on is not None and answered_on <= as_of:
            days = (answered_on - sent_on).days
            record.answered += 1
            record.answer_due += 1
            record.answered_within += days <= ANSWER_DAYS
            delays[company_id].append(days)
            continue
        ended = ended_on if ended_on is not None and ended_on <= as_of else None
        unanswered_days = ((ended or as_of) - sent_on).days
        if unanswered_days >= ANSWER_DAYS:
            record.answer_due += 1
        elif ended is None:
            record.waiting += 1
    for company_id, days in delays.items():
        records[company_id].median_days_to_answer = float(statistics.median(days))


def _stays(session: Session, records: dict[int, BaseRecord], in_area, since: dt.date, as_of: dt.date) -> None:
    """Starts in the window and, for those old enough, whether they stayed 90 days: one grouped query."""
    old_enough = Referral.started_on <= as_of - dt.timedelta(days=STAY_DAYS)
    reached_stay = exists().where(ReferralEvent.referral_id == Referral.id, ReferralEvent.to_status.in_(STAYED),
                                  ReferralEvent.on_date <= as_of)
    for company_id, starts, enough, stayed, unconfirmed in session.execute(
            select(Slot.company_id, func.count(), func.count().filter(old_enough),
                   func.count().filter(old_enough, reached_stay),
                   func.count().filter(old_enough, Referral.status.in_(UNCONFIRMED)))
            .select_from(Referral).join(Slot, Slot.id == Referral.slot_id)
            .where(Referral.started_on > since, Referral.started_on <= as_of, Slot.company_id.in_(in_area))
            .group_by(Slot.company_id)):
        record = records[company_id]
        record.starts, record.starts_old_enough, record.stayed, record.unconfirmed = starts, enough, stayed, unconfirmed


def _loses_most(record: BaseRecord, area_stay_rate: float | None) -> bool:
    n = record.starts_old_enough
    if n < MIN_STARTS or area_stay_rate is None:
        return False
    lost = n - record.stayed - record.unconfirmed  # left before 90 days (an unconfirmed stay is not a loss)
    if lost <= LOST_SHARE * n:
        return False
    from scipy.stats import binomtest

    return binomtest(record.stayed, n, area_stay_rate, alternative="less").pvalue < LOSES_MOST_P


def _flags(record: BaseRecord, as_of: dt.date, area_stay_rate: float | None = None) -> list[str]:
    flags = []
    if record.answer_due >= MIN_SENT and (record.share_answered < MIN_ANSWER_SHARE or record.answered_within == 0):
        flags.append(NEVER_ANSWERS)
    if _loses_most(record, area_stay_rate):
        flags.append(LOSES_MOST)
    notice_until = as_of + dt.timedelta(days=EXPIRY_NOTICE_DAYS)
    if record.status == CertificationStatus.CERTIFIED and as_of <= record.certified_until <= notice_until:
        flags.append(CERTIFICATION_EXPIRING)
    if record.agreement_ends_on is not None and as_of <= record.agreement_ends_on <= notice_until:
        flags.append(AGREEMENT_EXPIRING)
    if record.complaints_open >= MANY_OPEN_COMPLAINTS:
        flags.append(MANY_COMPLAINTS)
    return flags


# ---- for the bureau (API and pages) -----------------------------------------------------------------

SORTS = {
    "name": lambda r: (r.company_name,),
    "sent": lambda r: (r.sent,),
    "share_answered": lambda r: (r.share_answered is None, r.share_answered or 0.0),
    "median_days_to_answer": lambda r: (r.median_days_to_answer is None, r.median_days_to_answer or 0.0),
    "starts": lambda r: (r.starts,),
    "stay_rate": lambda r: (r.stay_rate is None, r.stay_rate or 0.0),
    "complaints": lambda r: (r.complaints_open, r.complaints_total),
    "certified_until": lambda r: (r.certified_until is None, r.certified_until or dt.date.min),
    "agreement_ends_on": lambda r: (r.agreement_ends_on is None, r.agreement_ends_on or dt.date.min),
    "flags": lambda r: (len(r.flags),),
    "paused": lambda r: (r.paused_on is not None, r.demoted, r.unanswered_now),
}


def area_prefix_for(session: Session, actor: Account, district: str | None) -> str:
    """The bureau's area, or one district inside it."""
    bureau_prefix = code_prefix(actor.bureau_code) if actor.bureau_code else ""
    if not district:
        return bureau_prefix
    place = session.get(Place, district)
    if place is None or place.level != PlaceLevel.DISTRICT or not district.startswith(bureau_prefix):
        raise Invalid(_l("Choose a district of your bureau's area."), field="district")
    return code_prefix(district)
