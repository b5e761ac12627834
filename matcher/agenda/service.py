"""What concerns an account day by day, from a list of event sources, and the account's secret calendar feed.

Each source is one function `(session, actor, first, last) -> events` that reads through the access policy, so an
account's calendar holds only what it may see; adding a kind of event (referral interviews, say) is one function
and one line in SOURCES.

The calendar leaves Xintu (a download, a feed a phone's calendar app or a cloud calendar reads), so every event
names a person the same pseudonymous way on the page and in the feed: the file number (public id) and, for the
caseworkers of the file only, the first character of the name (the surname) to recognise the person by. No full
name, ID number, phone, address, offence or risk grade appears; employers see the file number only, as on their
pseudonymous card; organisers see fair days, not people.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.agenda.models import CalendarFeed
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.candidates.models import Candidate, CandidateStatus
from matcher.fairs.models import Fair, FairBooth, FairInterview, FairInvitation, FairStatus, InterviewStatus
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.interviews import service as interviews

# How far the feed reaches: the recent past (what just happened) and the months ahead.
FEED_DAYS_BACK, FEED_DAYS_AHEAD = 31, 186


class Kind:
    RELEASE = "release"  # a release day (刑满释放日)
    CHECK = "check"  # a follow-up check due (30/90/180 days after a start)
    INTERVIEW = "interview"  # an interview at a job fair
    REFERRAL_INTERVIEW = "referral_interview"  # an interview a base arranged for a referral (proposed or confirmed)
    FAIR = "fair"  # a job fair's day


@dataclasses.dataclass(frozen=True)
class Event:
    uid: str  # stable across downloads, so a calendar app updates rather than duplicates
    kind: str
    day: dt.date  # the China date
    subject: str  # who or what: a file number with a surname's character, a fair's name
    detail: str = ""  # plain words: "30 days", "booth A03 · 面点师"
    starts_at: dt.datetime | None = None  # aware UTC; None for a whole-day event
    ends_at: dt.datetime | None = None
    where: str | None = None
    link: str | None = None  # a path in Xintu (needs a login)


Source = Callable[[Session, Account, dt.date, dt.date], Iterable[Event]]


def person_label(candidate: Candidate, actor: Account) -> str:
    """A person as the calendar names them (module docstring): file number, plus the surname's character for
    the caseworkers who read the file."""
    if actor.role == Role.CASEWORKER and candidate.name and candidate.archived_at is None:
        return f"{candidate.public_id} {candidate.name[0]}*"
    return candidate.public_id


# ---- the sources ----------------------------------------------------------------------------------

def release_days(session: Session, actor: Account, first: dt.date, last: dt.date) -> Iterable[Event]:
    """Caseworkers: the release days of the files their office reads (pre-release hand-overs above all)."""
    if actor.role != Role.CASEWORKER:
        return []
    rows = session.scalars(policy.candidates(actor).where(
        Candidate.release_date.between(first, last), Candidate.status != CandidateStatus.CLOSED,
        Candidate.archived_at.is_(None)).order_by(Candidate.release_date, Candidate.id))
    return [Event(uid=f"release-{c.id}", kind=Kind.RELEASE, day=c.release_date, subject=person_label(c, actor),
                  link=f"/caseworker/candidates/{c.id}") for c in rows]


def checks_due(session: Session, actor: Account, first: dt.date, last: dt.date) -> Iterable[Event]:
    """Open follow-up checks due in the range: a caseworker's office's, an employer's stays to confirm."""
    if actor.role not in (Role.CASEWORKER, Role.EMPLOYER):
        return []
    rows = session.scalars(policy.follow_up_tasks(actor).where(
        FollowUpTask.status == TaskStatus.OPEN, FollowUpTask.due_on.between(first, last))
        .order_by(FollowUpTask.due_on, FollowUpTask.id)).unique()
    link = "/caseworker/follow-up" if actor.role == Role.CASEWORKER else "/employer/follow-up"
    return [Event(uid=f"check-{t.id}", kind=Kind.CHECK, day=t.due_on,
                  subject=person_label(t.referral.candidate, actor), detail=str(t.days),
                  link=link) for t in rows]


def fair_interviews(session: Session, actor: Account, first: dt.date, last: dt.date) -> Iterable[Event]:
    """Interviews planned at job fairs: a caseworker's people's, an employer's booths'."""
    if actor.role not in (Role.CASEWORKER, Role.EMPLOYER):
        return []
    stmt = (select(FairInterview).join(Fair, Fair.id == FairInterview.fair_id)
            .join(FairInvitation, FairInvitation.id == FairInterview.invitation_id)
            .where(Fair.held_on.between(first, last), Fair.status != FairStatus.CANCELLED,
                   FairInterview.status.in_((InterviewStatus.PLANNED, InterviewStatus.HELD))))
    if actor.role == Role.CASEWORKER:
        stmt = stmt.where(FairInvitation.candidate_id.in_(policy.candidate_ids(actor)))
    else:
        stmt = stmt.join(FairBooth, FairBooth.id == FairInterview.booth_id).where(
            FairBooth.company_id == actor.company_id)
    events = []
    for interview in session.scalars(stmt.order_by(Fair.held_on, FairInterview.block, FairInterview.id)).unique():
        fair = session.get(Fair, interview.fair_id)
        start = clock.at_china_time(fair.held_on, fair.starts_at) + dt.timedelta(
            minutes=fair.block_minutes * interview.block)
        booth = interview.booth
        detail = f"{booth.label} · {booth.company.name} · {interview.slot.title}"
        events.append(Event(uid=f"interview-{interview.id}", kind=Kind.INTERVIEW, day=fair.held_on,
                            subject=person_label(interview.invitation.candidate, actor), detail=detail,
                            starts_at=start, ends_at=start + dt.timedelta(minutes=fair.block_minutes),
                            where=fair.venue))
    return events


def fair_days(session: Session, actor: Account, first: dt.date, last: dt.date) -> Iterable[Event]:
    """Job fairs the account may see (policy.fairs): organisers' and administrators' of their area, employers'
    with a booth, caseworkers' with one of their people invited."""
    rows = session.scalars(policy.fairs(actor).where(
        Fair.held_on.between(first, last), Fair.status != FairStatus.CANCELLED).order_by(Fair.held_on, Fair.id))
    links = {Role.ORGANISER: "/organiser/fairs/{id}", Role.ADMINISTRATOR: "/organiser/fairs/{id}",
             Role.EMPLOYER: "/employer/fairs", Role.CASEWORKER: "/caseworker/fair-invitations"}
    events = []
    for fair in rows.unique():
        start = clock.at_china_time(fair.held_on, fair.starts_at)
        events.append(Event(uid=f"fair-{fair.id}", kind=Kind.FAIR, day=fair.held_on, subject=fair.name,
                            starts_at=start, ends_at=start + dt.timedelta(minutes=fair.block_minutes * fair.n_blocks),
                            where=fair.venue, link=links.get(actor.role, "").format(id=fair.id) or None))
    return events


# How long a referral interview is shown as taking (the base gives a start, not an end).
REFERRAL_INTERVIEW_MINUTES = 60


def referral_interviews(session: Session, actor: Account, first: dt.date, last: dt.date) -> Iterable[Event]:
    """Interviews arranged for referrals, still to happen (proposed or confirmed): a caseworker's people's, an
    employer's base's (policy.referral_interviews)."""
    if actor.role not in (Role.CASEWORKER, Role.EMPLOYER):
        return []
    rows = interviews.live_between(session=session, actor=actor, start=clock.china_midnight(first),
                                   end=clock.china_midnight(last + dt.timedelta(days=1)))
    role_path = "caseworker" if actor.role == Role.CASEWORKER else "employer"
    return [Event(uid=f"referral-interview-{i.id}", kind=Kind.REFERRAL_INTERVIEW, day=clock.china_date(i.starts_at),
                  subject=person_label(i.referral.candidate, actor),
                  detail=f"{i.referral.slot.company.name} · {i.referral.slot.title}",
                  starts_at=clock.as_utc(i.starts_at),
                  ends_at=clock.as_utc(i.starts_at) + dt.timedelta(minutes=REFERRAL_INTERVIEW_MINUTES),
                  where=i.place, link=f"/{role_path}/referrals/{i.referral_id}") for i in rows]


# One more kind of event is one more function here.
SOURCES: list[Source] = [release_days, checks_due, fair_interviews, referral_interviews, fair_days]


def events_between(*, session: Session, actor: Account, first: dt.date, last: dt.date,
                   sources: Iterable[Source] | None = None) -> list[Event]:
    """Every event of the account from `first` to `last` (China dates, inclusive), by day and time."""
    events = [event for source in (SOURCES if sources is None else sources)
              for event in source(session, actor, first, last)]
    return sorted(events, key=lambda e: (e.day, e.starts_at is not None, e.starts_at or clock.now(), e.kind, e.uid))


def feed_window(day: dt.date | None = None) -> tuple[dt.date, dt.date]:
    day = day or clock.today()
    return day - dt.timedelta(days=FEED_DAYS_BACK), day + dt.timedelta(days=FEED_DAYS_AHEAD)


# ---- the feed link --------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_feed(*, session: Session, actor: Account) -> CalendarFeed | None:
    return session.scalar(select(CalendarFeed).where(CalendarFeed.account_id == actor.id,
                                                     CalendarFeed.revoked_at.is_(None)))


def revoke_feed(*, session: Session, actor: Account) -> int:
    """Turn the account's feed link off: a calendar app that still has it gets nothing more."""
    revoked = session.execute(update(CalendarFeed).where(
        CalendarFeed.account_id == actor.id, CalendarFeed.revoked_at.is_(None)).values(revoked_at=clock.now()))
    if revoked.rowcount:
        audit(session, actor=actor, action="revoke_calendar_feed", object_type="calendar_feed")
    uow.flush(session)
    return revoked.rowcount or 0


def issue_feed(*, session: Session, actor: Account) -> tuple[str, CalendarFeed]:
    """A new feed link (the token is shown once); the account's earlier link stops working."""
    revoke_feed(session=session, actor=actor)
    token = "cal_" + secrets.token_urlsafe(32)
    feed = CalendarFeed(account_id=actor.id, token_hash=_hash(token))
    session.add(feed)
    session.flush()
    audit(session, actor=actor, action="issue_calendar_feed", object_type="calendar_feed", object_id=feed.id)
    uow.flush(session)
    return token, feed


def account_for_feed(*, session: Session, token: str) -> Account | None:
    """The account behind a feed token still in force, or None (revoked, unknown, or the account is off)."""
    if not token or len(token) > 100:
        return None
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token),
                                                     CalendarFeed.revoked_at.is_(None)))
    if feed is None or not feed.account.is_active:
        return None
    now = clock.now()
    if feed.last_used_at is None or now - feed.last_used_at > dt.timedelta(minutes=10):
        session.execute(update(CalendarFeed).where(CalendarFeed.id == feed.id).values(last_used_at=now))
        uow.flush(session)
    return feed.account
