"""Bases that answer: how likely a base is to answer a referral, pausing a base that leaves referrals unanswered, and
the monthly cap on referrals set by the base's size.

- **Response rate.** A base's record (matcher.bases.records) counts, over twelve months, the referrals it answered
  and those due an answer (`answer_due`). Its chance of answering the next one, P(answer), is a smoothed estimate
  pulled towards its city's rate: (answered + PRIOR_WEIGHT x city rate) / (answer_due + PRIOR_WEIGHT), so a base
  with two referrals is judged mostly by its city and one with fifty by itself. The city's rate is smoothed the same
  way towards PRIOR_SHARE (a city with little history says little), and no estimate goes below MIN_P_ANSWER, so
  that among bases that hardly answer the chance of staying still orders them. The value of referring someone to a
  slot is P(answer) x P(start and stay | answered), the scoring model's probability: ranking and batch assignment
  use it. A base whose P(answer) is below the bureau's target (TARGET_SHARE: 30 %, a public placement service's) is
  *demoted*, and the recommendations say so.
- **Pause.** A referral sent to a base and left unanswered (still `sent`) for records.ANSWER_DAYS days or more is
  *unanswered*. A base with `pause_after` (an administrator's setting, default PAUSE_AFTER) or more is paused: no
  new referral may be made to it, its slots leave recommendations and batch assignment, and the bureau's
  administrators and the base's employers are told. It resumes by itself as soon as it answers enough of them
  (fewer than `pause_after` left), or when an administrator lifts the pause (referrals sent before that day then no
  longer count towards one). Pauses are checked when a referral is made to the base, when the base answers one, and
  by the daily notice sweep; each pause and resumption is audited.
- **Monthly cap.** Bands of base sizes (employees), set by an administrator (DEFAULT_BANDS until then), give each
  band the referrals a base receives in a calendar month (China's: matcher.clock). A referral made to a base that
  has had its month's referrals is refused, and batch assignment plans at most what is left of each base's month.
  A base whose size is not recorded has no cap until the bureau records it (the records page lists them).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.audit.service import record as audit
from matcher.auth.models import Account
from matcher.bases.models import AnswerRules, Company, SizeBand, certified_in_date
from matcher.bases.records import ANSWER_DAYS
from matcher.errors import Conflict, Invalid
from matcher.i18n_messages import ShownDate
from matcher.referrals.lifecycle import ReferralStatus as S
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot

PAUSE_AFTER = 5  # unanswered referrals (each waiting ANSWER_DAYS or more) that pause a base, by default
TARGET_SHARE = 0.30  # the response rate a base should reach, by default
PRIOR_WEIGHT = 10.0  # referrals' worth of the city's rate in a base's estimate (and of PRIOR_SHARE in a city's)
PRIOR_SHARE = 0.5  # what is assumed of a city with no history: as likely to answer as not
MIN_P_ANSWER = 0.02
# (from employees, referrals a month): 1-19 people: 3 a month, 20-99: 8, 100-299: 15, 300 and more: 25.
DEFAULT_BANDS = ((1, 3), (20, 8), (100, 15), (300, 25))
MAX_BANDS = 20


# ---- the administrator's settings -----------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    pause_after: int
    target_share: float
    answer_days: int
    prior_weight: float = PRIOR_WEIGHT
    shipped: bool = True  # the defaults: no administrator has set them


def rules(session: Session) -> Rules:
    row = session.scalar(select(AnswerRules).order_by(AnswerRules.id).limit(1))
    if row is None:
        return Rules(pause_after=PAUSE_AFTER, target_share=TARGET_SHARE, answer_days=ANSWER_DAYS)
    return Rules(pause_after=row.pause_after, target_share=row.target_share, answer_days=ANSWER_DAYS,
                 shipped=False)


def read_settings(*, actor: Account) -> None:
    """Who reads the bands and rules: the bureau's administrators (as the records they shape)."""
    policy.require(actor, policy.Rule.RECORDS_READ, object_type="answer_rules")


def set_rules(*, session: Session, actor: Account, data: dict) -> Rules:
    """Set the unanswered referrals that pause a base and the response-rate target (administrators)."""
    policy.require(actor, policy.Rule.BASE_MANAGE, object_type="answer_rules")
    errors: dict[str, list] = {}
    pause_after, target = data.get("pause_after"), data.get("target_share")
    if pause_after is not None and not (1 <= pause_after <= 100):
        errors["pause_after"] = [_l("Between 1 and 100 unanswered referrals.")]
    if target is not None and not (0 < target <= 1):
        errors["target_share"] = [_l("A share above 0 and at most 1 (0.3 for 30 percent).")]
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors=errors)
    row = session.scalar(select(AnswerRules).order_by(AnswerRules.id).limit(1))
    if row is None:
        row = AnswerRules(pause_after=PAUSE_AFTER, target_share=TARGET_SHARE)
        session.add(row)
    if pause_after is not None:
        row.pause_after = pause_after
    if target is not None:
        row.target_share = float(target)
    uow.flush(session)
    audit(session, actor=actor, action="update", object_type="answer_rules", object_id=row.id,
          fields=[name for name in ("pause_after", "target_share") if data.get(name) is not None])
    return rules(session)


@dataclass(frozen=True)
class Band:
    min_employees: int
    max_employees: int | None  # None: and more
    monthly_referrals: int


def _bands(pairs: list[tuple[int, int]]) -> list[Band]:
    pairs = sorted(pairs)
    return [Band(low, pairs[i + 1][0] - 1 if i + 1 < len(pairs) else None, cap) for i, (low, cap) in enumerate(pairs)]


def size_bands(session: Session) -> list[Band]:
    """The bands, smallest first (the shipped defaults until an administrator sets them)."""
    rows = session.execute(select(SizeBand.min_employees, SizeBand.monthly_referrals)).all()
    return _bands([tuple(r) for r in rows] or list(DEFAULT_BANDS))


def bands_shipped(session: Session) -> bool:
    return session.scalar(select(func.count(SizeBand.id))) == 0


def set_size_bands(*, session: Session, actor: Account, bands: list[dict]) -> list[Band]:
    """Replace the size bands (administrators). Each band: `min_employees` (the first must be 1, so every size has
    a band) and `monthly_referrals`; every wrong entry is told at once."""
    policy.require(actor, policy.Rule.BASE_MANAGE, object_type="size_bands")
    errors: dict[str, list] = {}
    if not bands:
        errors["bands"] = [_l("Give at least one band.")]
    elif len(bands) > MAX_BANDS:
        errors["bands"] = [_l("At most %(most)s bands.", most=MAX_BANDS)]
    seen: set[int] = set()
    for i, band in enumerate(bands or ()):
        low, cap = band.get("min_employees"), band.get("monthly_referrals")
        if not isinstance(low, int) or low < 1:
            errors[f"bands.{i}.min_employees"] = [_l("A whole number of employees, 1 or more.")]
        elif low in seen:
            errors[f"bands.{i}.min_employees"] = [_l("Two bands start at %(n)s employees.", n=low)]
        else:
            seen.add(low)
        if not isinstance(cap, int) or not (0 <= cap <= 1000):
            errors[f"bands.{i}.monthly_referrals"] = [_l("A whole number of referrals from 0 to 1000.")]
    if bands and not errors and min(seen) != 1:
        errors["bands"] = [_l("The smallest band must start at 1 employee, so that every base has a band.")]
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors=errors)
    session.execute(SizeBand.__table__.delete())
    session.add_all([SizeBand(min_employees=b["min_employees"], monthly_referrals=b["monthly_referrals"])
                     for b in bands])
    uow.flush(session)
    audit(session, actor=actor, action="update", object_type="size_bands", object_id=None,
          fields=("min_employees", "monthly_referrals"))
    return size_bands(session)


def band_for(bands: list[Band], employees: int | None) -> Band | None:
    """The band of a base of this size (size not recorded: none, and no cap)."""
    if employees is None:
        return None
    found = bands[0]
    for band in bands:
        if band.min_employees <= employees:
            found = band
    return found


# ---- counts -----------------------------------------------------------------------------------------

def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the calendar month of `day`, and of the next month."""
    first = day.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def referrals_this_month(session: Session, company_ids=None, day: dt.date | None = None) -> dict[int, int]:
    """Per base: referrals made to its slots in the calendar month (China) of `day`, today by default; a proposal
    withdrawn before it was sent does not count (the base never received it)."""
    first, following = month_of(day or clock.today())
    was_sent = exists().where(ReferralEvent.referral_id == Referral.id, ReferralEvent.to_status == S.SENT)
    stmt = (select(Slot.company_id, func.count()).select_from(Referral).join(Slot, Slot.id == Referral.slot_id)
            .where(Referral.created_at >= clock.china_midnight(first),
                   Referral.created_at < clock.china_midnight(following),
                   or_(Referral.status != S.WITHDRAWN, was_sent))
            .group_by(Slot.company_id))
    if company_ids is not None:
        stmt = stmt.where(Slot.company_id.in_(list(company_ids)))
    return dict(session.execute(stmt).all())


def unanswered(session: Session, company_ids=None, as_of: dt.date | None = None,
               answer_days: int | None = None) -> dict[int, int]:
    """Per base: referrals still waiting for its first answer (`sent`) since at least `answer_days` ago, not
    counting those sent before an administrator last lifted the base's pause."""
    as_of = as_of or clock.today()
    answer_days = ANSWER_DAYS if answer_days is None else answer_days
    sent_events = [ReferralEvent.to_status == S.SENT]
    if company_ids is not None:  # only the named bases' referrals' events: not the whole city's, grouped
        sent_events.append(ReferralEvent.referral_id.in_(
            select(Referral.id).join(Slot, Slot.id == Referral.slot_id).where(Slot.company_id.in_(list(company_ids)))))
    sent = (select(ReferralEvent.referral_id, func.max(ReferralEvent.on_date).label("sent_on"))
            .where(*sent_events).group_by(ReferralEvent.referral_id).subquery())
    stmt = (select(Slot.company_id, func.count()).select_from(Referral)
            .join(sent, sent.c.referral_id == Referral.id).join(Slot, Slot.id == Referral.slot_id)
            .join(Company, Company.id == Slot.company_id)
            .where(Referral.status == S.SENT, sent.c.sent_on <= as_of - dt.timedelta(days=answer_days),
                   or_(Company.pause_lifted_on.is_(None), sent.c.sent_on >= Company.pause_lifted_on))
            .group_by(Slot.company_id))
    if company_ids is not None:
        stmt = stmt.where(Slot.company_id.in_(list(company_ids)))
    return dict(session.execute(stmt).all())


# ---- a base's standing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """What ranking, assignment, referring and the records page need to know of one base's answers."""

    company_id: int
    answered: int
    answer_due: int
    share_answered: float | None  # answered / answer_due over twelve months (None: nothing due yet)
    median_days_to_answer: float | None
    city_share: float  # the city's share (smoothed towards PRIOR_SHARE), the base's prior
    p_answer: float  # the smoothed estimate of P(the base answers)
    target_share: float
    unanswered: int  # waiting past the answer days now
    pause_after: int
    paused_on: dt.date | None
    employees: int | None
    band: Band | None  # None: size not recorded, no cap
    month_count: int  # referrals made to it this calendar month
    answer_days: int

    @property
    def paused(self) -> bool:
        return self.paused_on is not None

    @property
    def demoted(self) -> bool:
        """Ranked lower for answering less often than the target: its estimate is below it, on its own record (a
        base with nothing due yet is judged by its city alike with every other such base: not singled out)."""
        return self.answer_due > 0 and self.p_answer < self.target_share

    @property
    def monthly_cap(self) -> int | None:
        return None if self.band is None else self.band.monthly_referrals

    @property
    def month_left(self) -> int | None:
        return None if self.band is None else max(0, self.band.monthly_referrals - self.month_count)

    @property
    def month_full(self) -> bool:
        return self.band is not None and self.month_count >= self.band.monthly_referrals


def city_of(place_code: str) -> str:
    return place_code[:4]  # the prefecture-level city of a place code


def smoothed(answered: int, due: int, prior: float, weight: float = PRIOR_WEIGHT) -> float:
    """P(answer): the share answered pulled towards `prior` by `weight` referrals' worth, at least MIN_P_ANSWER."""
    return max(MIN_P_ANSWER, (answered + weight * prior) / (due + weight))


def city_totals(records) -> dict[str, tuple[int, int]]:
    """Per city: (referrals answered, referrals due an answer) over its bases' records."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        totals[city_of(r.place_code)][0] += r.answered
        totals[city_of(r.place_code)][1] += r.answer_due
    return {city: (answered, due) for city, (answered, due) in totals.items()}


def standings(session: Session, *, company_ids=None, as_of: dt.date | None = None,
              records=None) -> dict[int, Standing]:
    """The standing of every base with a record (certified now or before), or of the ones named, or of the ones
    whose `records` (matcher.bases.records, with their answers counted on `as_of`) are given. Each base's own
    figures are read afresh; its city's rate, its prior, comes from every base's records (kept per process for
    today's: see `_cities`)."""
    from matcher.bases.records import answer_records

    as_of = as_of or clock.today()
    if records is None:
        records = answer_records(session, as_of=as_of, company_ids=None if company_ids is None else list(company_ids))
        if company_ids is None:  # every base: their cities' rates come with them
            return _standings_of(session, records, city_totals(records), as_of)
    return _standings_of(session, records, _cities(session, as_of) if records else {}, as_of)


def _standings_of(session: Session, chosen, cities: dict[str, tuple[int, int]],
                  as_of: dt.date) -> dict[int, Standing]:
    ids = [r.company_id for r in chosen]
    if not ids:
        return {}
    settings = rules(session)
    bands = size_bands(session)
    companies = {row.id: row for row in session.execute(
        select(Company.id, Company.employees, Company.referrals_paused_on).where(Company.id.in_(ids)))}
    waiting = unanswered(session, ids, as_of, settings.answer_days)
    month = referrals_this_month(session, ids, as_of)
    result = {}
    for r in chosen:
        answered, due = cities.get(city_of(r.place_code), (0, 0))
        city = smoothed(answered, due, PRIOR_SHARE, settings.prior_weight)
        company = companies[r.company_id]
        result[r.company_id] = Standing(
            company_id=r.company_id, answered=r.answered, answer_due=r.answer_due, share_answered=r.share_answered,
            median_days_to_answer=r.median_days_to_answer, city_share=city,
            p_answer=smoothed(r.answered, r.answer_due, city, settings.prior_weight),
            target_share=settings.target_share, unanswered=waiting.get(r.company_id, 0),
            pause_after=settings.pause_after, paused_on=company.referrals_paused_on, employees=company.employees,
            band=band_for(bands, company.employees), month_count=month.get(r.company_id, 0),
            answer_days=settings.answer_days)
    return result


# Per process and database: every base's standings (for the recommendations page) and the cities' rates (a base's
# prior, for a page about a few bases). A change to a base (its pause, its size), the bands, the rules or the day
# rebuilds them at once; referrals made or moved do after at most REFRESH_SECONDS (a twelve-month response rate
# hardly moves with one referral, and under load a rebuild per move would cost more than the page): referring
# itself always checks the pause and the month afresh, and a page about a few bases reads their own figures afresh.
REFRESH_SECONDS = 60.0
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[tuple, int | None, float, object]] = {}


def answers_version(session: Session) -> tuple[tuple, int | None]:
    """(what rebuilds at once: the day, the bases, the bands and rules; the newest referral event's id, which every
    referral made or moved advances), read from indexes and small tables only, as every recommendations page asks."""
    row = session.execute(select(
        select(func.max(ReferralEvent.id)).scalar_subquery(),
        select(func.count(Company.id)).scalar_subquery(), select(func.max(Company.updated_at)).scalar_subquery(),
        select(func.max(SizeBand.updated_at)).scalar_subquery(), select(func.count(SizeBand.id)).scalar_subquery(),
        select(func.max(AnswerRules.updated_at)).scalar_subquery())).one()
    return (clock.today(), *row[1:]), row[0]


def _kept(session: Session, what: str, build):
    """`build()`, kept per process and database under `what` while the answers' version allows (REFRESH_SECONDS)."""
    key = (str(session.get_bind().url), what)
    fixed, events = answers_version(session)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == fixed and (cached[1] == events or now - cached[2] < REFRESH_SECONDS):
            return cached[3]
    built = build()
    with _lock:
        _cache[key] = (fixed, events, now, built)
    return built


def all_standings(session: Session) -> dict[int, Standing]:
    """Every base's standing today, kept per process (see REFRESH_SECONDS)."""
    return _kept(session, "standings", lambda: standings(session))


def _cities(session: Session, as_of: dt.date) -> dict[str, tuple[int, int]]:
    """Every city's (answered, due) on `as_of`: kept per process for today's, counted afresh for another day."""
    from matcher.bases.records import answer_records

    def count():
        return city_totals(answer_records(session, as_of=as_of))

    return _kept(session, "cities", count) if as_of == clock.today() else count()


def forget_standings() -> None:
    with _lock:
        _cache.clear()


# ---- pausing ---------------------------------------------------------------------------------------------

def paused_message(since: dt.date, count: int, days: int, limit: int):
    return _l("This base is paused for new referrals since %(since)s: %(count)s referrals have waited more than "
              "%(days)s days for its answer (a base is paused at %(limit)s). Referrals resume as soon as the base "
              "answers the waiting referrals, or when a bureau administrator lifts the pause.",
              since=ShownDate(since), count=count, days=days, limit=limit)


def month_full_message(count: int, band: Band, reopens: dt.date):
    return _l("This base has received %(count)s referrals this month, the monthly limit for its size (%(size)s: "
              "%(cap)s a month). Referrals to it open again on %(next)s.", count=count,
              size=band_label(band), cap=band.monthly_referrals, next=ShownDate(reopens))


def band_label(band: Band):
    """The band in words ("20–99 employees")."""
    if band.max_employees is None:
        return _l("%(low)s employees or more", low=band.min_employees)
    return _l("%(low)s–%(high)s employees", low=band.min_employees, high=band.max_employees)


def check_pauses(session: Session, *, company_ids=None, as_of: dt.date | None = None) -> list[tuple[int, str]]:
    """Pause the bases in force (or the ones named) that have `pause_after` or more unanswered referrals, and
    resume the paused ones that have fewer now; audited, and a pause is told to the bureau's administrators and the
    base's employers. Answers (company id, "paused" | "resumed") for each change."""
    as_of = as_of or clock.today()
    settings = rules(session)
    stmt = select(Company).where(or_(Company.referrals_paused_on.is_not(None), certified_in_date(as_of)))
    if company_ids is not None:
        stmt = stmt.where(Company.id.in_(list(company_ids)))
    waiting = unanswered(session, company_ids, as_of, settings.answer_days)
    candidates = [c for c in session.scalars(stmt).unique()
                  if (c.referrals_paused_on is None) == (waiting.get(c.id, 0) >= settings.pause_after)]
    changes = []
    for company in candidates:
        count = waiting.get(company.id, 0)
        if company.referrals_paused_on is None:
            company.referrals_paused_on = as_of
            changes.append((company.id, "paused"))
            audit(session, actor=None, action="pause_referrals", object_type="company", object_id=company.id,
                  fields=("referrals_paused_on",))
            _tell_paused(session, company, count, settings)
        else:
            company.referrals_paused_on = None
            changes.append((company.id, "resumed"))
            audit(session, actor=None, action="resume_referrals", object_type="company", object_id=company.id,
                  fields=("referrals_paused_on",))
    if changes:
        uow.flush(session)
    return changes


def _tell_paused(session: Session, company: Company, count: int, settings: Rules) -> None:
    from matcher.notify.models import NotificationKind
    from matcher.notify.service import administrators, administrators_for, employers_of, notify

    accounts = [*administrators_for(administrators(session), company.place_code),
                *employers_of(session, [company.id]).get(company.id, [])]
    notify(session, account_ids=accounts, kind=NotificationKind.BASE_PAUSED,
           key=f"company:{company.id}:paused:{company.referrals_paused_on.isoformat()}", subject_type="company",
           subject_id=company.id, params={"company": company.name, "count": count, "days": settings.answer_days,
                                          "on": company.referrals_paused_on})


def lift_pause(*, session: Session, actor: Account, company_id: int) -> Company:
    """An administrator of the base's area lifts its pause: referrals resume at once, and the referrals sent before
    today no longer count towards a pause (those sent from today on do, once they wait too long)."""
    from matcher.bases.service import managed_company

    company = managed_company(session, actor, company_id)
    if company.referrals_paused_on is None:
        raise Conflict(_l("This base is not paused."), field="company_id")
    company.referrals_paused_on = None
    company.pause_lifted_on = clock.today()
    uow.flush(session)
    audit(session, actor=actor, action="lift_pause", object_type="company", object_id=company.id,
          fields=("referrals_paused_on", "pause_lifted_on"))
    return company


def check_may_refer(session: Session, company: Company, *, field: str = "slot_id") -> None:
    """Refuse a new referral to a base that is paused (checked afresh) or has had its month's referrals (409)."""
    company_id = company.id
    if (company_id, "paused") in check_pauses(session, company_ids=[company_id]):
        # The refusal rolls this unit back: the pause (its audit and notices) is made again once it has ended.
        uow.keep(lambda kept: check_pauses(kept, company_ids=[company_id]))
    settings = rules(session)
    if company.referrals_paused_on is not None:
        count = unanswered(session, [company.id], answer_days=settings.answer_days).get(company.id, 0)
        raise Conflict(paused_message(company.referrals_paused_on, count, settings.answer_days,
                                      settings.pause_after), field=field)
    band = band_for(size_bands(session), company.employees)
    if band is None:
        return
    made = referrals_this_month(session, [company.id]).get(company.id, 0)
    if made >= band.monthly_referrals:
        raise Conflict(month_full_message(made, band, month_of(clock.today())[1]), field=field)


def not_paused():
    """SQL condition: a base taking new referrals."""
    return Company.referrals_paused_on.is_(None)


def on_referral_moved(session: Session, *, referral, frm, to, on_date, actor) -> None:
    """A paused base that answers a waiting referral may resume at once."""
    if frm == S.SENT and referral.slot.company.referrals_paused_on is not None:
        check_pauses(session, company_ids=[referral.slot.company_id])


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    from matcher.referrals.signals import referral_moved

    referral_moved.connect(on_referral_moved)
    _connected = True

