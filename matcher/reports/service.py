"""The figures a justice bureau reports, for a period and an area (its whole area, one district, one judicial
office), with rows by district and by office and a row per month; the administrator's dashboard; and the
organiser's overview of open slots.

Each figure is defined once in matcher/reports/definitions.py. Every count is a SQL query grouped by the unit it
belongs to (the judicial office keeping a person's file, or the place of a base) and by month; the rows by
district and office and the whole area's figures are sums of those units, so they add up by construction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from matcher import clock, policy
from matcher.auth.models import Account
from matcher.bases.models import Agreement, CertificationEvent, CertificationStatus, Company, certified_in_date
from matcher.candidates.models import Candidate, CandidateStatus, Certificate, Reoffence, Visit
from matcher.clock import today
from matcher.errors import Invalid
from matcher.interviews.models import SCHEDULED as INTERVIEW_SCHEDULED
from matcher.interviews.models import InterviewStatus, ReferralInterview
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, PlaceLevel, code_prefix
from matcher.referrals import lifecycle
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.reports.definitions import BASE_FIGURES, BY_KEY, COUNTS, FIGURES, MONTHLY, RATES
from matcher.slots.models import Slot, SlotKind, SlotStatus

MAX_PERIOD_DAYS = 3653  # ten years: a month row each is still a readable table
STAY_DAYS = lifecycle.OUTCOME_DAYS
STAYED_90 = lifecycle.STAYED_AT_LEAST[STAY_DAYS]
Unit = int | str  # a judicial office's id (people) or a place code (bases)


# ---- the area and the period ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Area:
    """What a report covers: the bureau's whole area, one district in it, or one judicial office."""

    level: str  # "bureau", "district" or "office"
    code: str  # the place code: the bureau's, the district's or the office's township
    name: str
    prefix: str  # every place inside the area starts with it
    district: str | None
    office: JudicialOffice | None
    districts: tuple[Place, ...]  # the districts inside the area
    offices: tuple[JudicialOffice, ...]  # the judicial offices inside the area



def registered_on(on: dt.date):
    """The `registered` figure's condition (matcher.reports.definitions): released by `on`, assistance not over,
    and the file not closed by then (a file closed before its closing day was recorded counts as closed)."""
    still_open = or_(Candidate.status != CandidateStatus.CLOSED, Candidate.closed_on > on)
    return and_(still_open, Candidate.release_date <= on, Candidate.assistance_ends_on >= on)

def bureau_districts(*, session: Session, actor: Account) -> list[Place]:
    """The districts a bureau reports by (a district bureau: just its own)."""
    policy.require(actor, policy.Rule.REPORT_READ)
    return _districts(session, actor)


def _districts(session: Session, actor: Account) -> list[Place]:
    stmt = select(Place).where(Place.level == PlaceLevel.DISTRICT).order_by(Place.code)
    if actor.bureau_code:
        stmt = stmt.where(Place.code.startswith(code_prefix(actor.bureau_code)))
    return list(session.scalars(stmt))


def bureau_offices(*, session: Session, actor: Account, district: str | None = None) -> list[JudicialOffice]:
    """The judicial offices of the bureau's area (or of one district in it), in code order."""
    policy.require(actor, policy.Rule.REPORT_READ)
    prefix = code_prefix(district) if district else (code_prefix(actor.bureau_code) if actor.bureau_code else "")
    return list(session.scalars(select(JudicialOffice).where(JudicialOffice.township_code.startswith(prefix))
                                .order_by(JudicialOffice.township_code)))


def report_area(session: Session, actor: Account, *, district: str | None = None,
                office_id: int | None = None) -> Area:
    """The area asked for, checked against the actor's bureau: a district or an office outside it is a field
    error (422), not a silent empty report."""
    bureau = actor.bureau_code or ""
    bureau_prefix = code_prefix(bureau) if bureau else ""
    districts = _districts(session, actor)
    if district:
        place = session.get(Place, district)
        if place is None or place.level != PlaceLevel.DISTRICT or not district.startswith(bureau_prefix):
            raise Invalid(_l("Choose a district of your bureau's area."), field="district")
    office = None
    if office_id is not None:
        office = session.get(JudicialOffice, office_id)
        inside = code_prefix(district) if district else bureau_prefix
        if office is None or not office.township_code.startswith(inside):
            raise Invalid(_l("Choose a judicial office of your bureau's area (and of the district chosen)."),
                          field="office_id")
    if office is not None:
        level, code, name, prefix = "office", office.township_code, office.name, office.township_code
        district = office.township_code[:6]
    elif district:
        level, code, prefix = "district", district, code_prefix(district)
        name = session.get(Place, district).name
    else:
        level, code, prefix = "bureau", bureau, bureau_prefix
        place = session.get(Place, bureau) if bureau else None
        name = place.name if place else ""
    offices = session.scalars(select(JudicialOffice).where(JudicialOffice.township_code.startswith(prefix))
                              .order_by(JudicialOffice.township_code)).all()
    return Area(level=level, code=code, name=name, prefix=prefix, district=district, office=office,
                districts=tuple(d for d in districts if d.code.startswith(prefix) or prefix.startswith(d.code)),
                offices=tuple(offices))


def default_period(on: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """This year so far: what "new this year" and "visits this year" mean in a bureau's report."""
    on = on or today()
    return dt.date(on.year, 1, 1), on


def _check_period(date_from: dt.date, date_to: dt.date) -> dt.date:
    """The period's counted last day (`on`): its last day, or today when it reaches past today."""
    if date_to < date_from:
        raise Invalid(_l("The period ends before it starts."), field="date_to")
    if date_from > today():
        raise Invalid(_l("The period starts after today: nothing has happened in it yet."), field="date_from")
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise Invalid(_l("A report covers at most ten years."), field="date_from")
    return min(date_to, today())


def months_of(date_from: dt.date, on: dt.date) -> list[str]:
    """Every month the period touches, "YYYY-MM", months with nothing in them included."""
    rows, year, month = [], date_from.year, date_from.month
    while (year, month) <= (on.year, on.month):
        rows.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


def _month_bounds(month: str, date_from: dt.date, on: dt.date) -> tuple[dt.date, dt.date]:
    """A month's first and last day, cut to the period."""
    year, number = int(month[:4]), int(month[5:])
    first = dt.date(year, number, 1)
    last = (dt.date(year + 1, 1, 1) if number == 12 else dt.date(year, number + 1, 1)) - dt.timedelta(days=1)
    return max(first, date_from), min(last, on)


def _month_sql(session: Session, column):
    """A date column's month as "YYYY-MM" in SQL: SQLite keeps dates as ISO text, PostgreSQL formats them."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 7)
    return func.to_char(column, "YYYY-MM")


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# ---- counting ---------------------------------------------------------------------------------------------

class _Tally:
    """Counts by figure, unit and month ("" is the whole period). Units are judicial offices (figures of people)
    or place codes (figures of bases); a person belongs to one office, so distinct people add up over units."""

    def __init__(self):
        self.counts: dict[str, dict[Unit, Counter]] = defaultdict(lambda: defaultdict(Counter))
        self.computed: set[str] = set()  # the figures counted (a report may ask for some only)

    def add(self, figure: str, unit: Unit, month: str, n: int = 1) -> None:
        """An additive count in a month: it adds to the month and to the period."""
        cell = self.counts[figure][unit]
        cell[month] += n
        cell[""] += n

    def put(self, figure: str, unit: Unit, month: str, n: int) -> None:
        """A count that does not add over months (distinct people, the state on a day): set where it belongs."""
        self.counts[figure][unit][month] += n

    def people(self, figure: str, rows: Iterable[tuple[Unit, int, str]]) -> None:
        """Distinct people, from (unit, person, month) rows: once per month and once in the period."""
        months: dict[Unit, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        for unit, person, month in rows:
            months[unit][month].add(person)
            months[unit][""].add(person)
        for unit, by_month in months.items():
            for month, persons in by_month.items():
                self.put(figure, unit, month, len(persons))

    def total(self, figure: str, units: Iterable[Unit], month: str = "") -> int:
        cells = self.counts.get(figure, {})
        return sum(cells[unit][month] for unit in units if unit in cells)


def _tally(session: Session, area: Area, date_from: dt.date, on: dt.date,
           wanted: frozenset[str] | None = None) -> _Tally:
    """Every count of the report (or the `wanted` ones), by unit and month, for the area and the period (`on`: its
    counted last day)."""
    tally = _Tally()

    def need(*figures: str) -> bool:
        if wanted is not None and not wanted.intersection(figures):
            return False
        tally.computed.update(figures)
        return True

    office_ids = [office.id for office in area.offices]
    months = months_of(date_from, on)
    # Rows hanging off a person join the person's file and keep those of the area's offices: with the date
    # condition first, SQLite looks up only the rows of the period (an id subquery made it scan every file).
    in_area = Candidate.office_id.in_(office_ids)
    office = Candidate.office_id

    # People on the last day, and under assistance in the period and in each of its months.
    registered = registered_on(on)
    assisted = [and_(Candidate.release_date <= last, Candidate.assistance_ends_on >= first)
                for first, last in [(date_from, on)] + [_month_bounds(m, date_from, on) for m in months]]
    state, assistance = need("registered", "key_subjects", "dual_registration"), need("under_assistance")
    if state or assistance:
        columns = [func.count().filter(registered), func.count().filter(registered, Candidate.key_subject.is_(True)),
                   func.count().filter(registered, Candidate.hukou_code != Candidate.residence_code)] if state else []
        if assistance:
            columns += [func.count().filter(condition) for condition in assisted]
        for unit, *counts in session.execute(select(office, *columns).where(in_area).group_by(office)):
            if state:
                for figure, n in zip(("registered", "key_subjects", "dual_registration"), counts[:3], strict=True):
                    tally.put(figure, unit, "", n)
                counts = counts[3:]
            if assistance:
                for month, n in zip(["", *months], counts, strict=True):
                    tally.put("under_assistance", unit, month, n)

    if need("new_in_period"):
        month = _month_sql(session, Candidate.release_date)
        for unit, m, n in session.execute(
                select(office, month, func.count())
                .where(in_area, Candidate.release_date.between(date_from, on)).group_by(office, month)):
            tally.add("new_in_period", unit, m, n)

    # Placements: distinct people by the kind of slot they started in.
    if need("placed_in_period", "helped_into_work", "placed_in_training"):
        started = session.execute(
            select(office, Referral.candidate_id, Referral.started_on, Slot.kind).select_from(Referral)
            .join(Candidate, Candidate.id == Referral.candidate_id).join(Slot, Slot.id == Referral.slot_id)
            .where(in_area, Referral.started_on.between(date_from, on))).all()
        tally.people("placed_in_period", ((u, p, _month(d)) for u, p, d, _k in started))
        tally.people("helped_into_work", ((u, p, _month(d)) for u, p, d, k in started if k == SlotKind.JOB))
        tally.people("placed_in_training", ((u, p, _month(d)) for u, p, d, k in started if k == SlotKind.TRAINING))

    # Stays: placements whose 90th day fell in the period, and whether they were confirmed.
    if need("reached_90_days", "stayed_90"):
        confirmed = or_(Referral.status.in_(STAYED_90), exists().where(
            ReferralEvent.referral_id == Referral.id, ReferralEvent.to_status.in_(STAYED_90)))
        stay = dt.timedelta(days=STAY_DAYS)
        for unit, started_on, stayed in session.execute(
                select(office, Referral.started_on, confirmed).select_from(Referral)
                .join(Candidate, Candidate.id == Referral.candidate_id)
                .where(in_area, Referral.started_on.between(date_from - stay, on - stay))):
            day = _month(started_on + stay)
            tally.add("reached_90_days", unit, day)
            if stayed:
                tally.add("stayed_90", unit, day)

    # Certificate-awarding courses completed: the trainee started and did not leave before the last day.
    if need("training_subsidies"):
        last_day = func.coalesce(Slot.ends_on, Slot.starts_on)
        left_early = and_(Referral.status == ReferralStatus.LEFT, Referral.ended_on < last_day)
        for unit, day in session.execute(
                select(office, last_day).select_from(Referral).join(Candidate, Candidate.id == Referral.candidate_id)
                .join(Slot, Slot.id == Referral.slot_id)
                .where(in_area, Slot.kind == SlotKind.TRAINING,
                       Slot.certificate_awarded.is_(True), Referral.started_on.is_not(None), ~left_early,
                       last_day.between(date_from, on))):
            tally.add("training_subsidies", unit, _month(day))

    for figure, model, column in (("visits_in_period", Visit, Visit.visited_on),
                                  ("training_certificates", Certificate, Certificate.issued_on)):
        if need(figure):
            month = _month_sql(session, column)
            for unit, m, n in session.execute(
                    select(office, month, func.count(model.id)).select_from(model)
                    .join(Candidate, Candidate.id == model.candidate_id)
                    .where(in_area, column.between(date_from, on)).group_by(office, month)):
                tally.add(figure, unit, m, n)

    if need("reoffended"):
        tally.people("reoffended", ((u, p, _month(d)) for u, p, d in session.execute(
            select(office, Reoffence.candidate_id, Reoffence.recorded_on).select_from(Reoffence)
            .join(Candidate, Candidate.id == Reoffence.candidate_id)
            .where(in_area, Reoffence.recorded_on.between(date_from, on)))))

    # Interviews arranged for referrals, by the China day of their time: scheduled (confirmed, then held, missed or
    # not yet recorded), attended and missed.
    if need("interviews_scheduled", "interviews_attended", "interviews_no_show"):
        for unit, starts_at, status in session.execute(
                select(office, ReferralInterview.starts_at, ReferralInterview.status).select_from(ReferralInterview)
                .join(Referral, Referral.id == ReferralInterview.referral_id)
                .join(Candidate, Candidate.id == Referral.candidate_id)
                .where(ReferralInterview.starts_at >= clock.china_midnight(date_from),
                       ReferralInterview.starts_at < clock.china_midnight(on + dt.timedelta(days=1)),
                       ReferralInterview.status.in_(INTERVIEW_SCHEDULED), in_area)):
            month = _month(clock.china_date(starts_at))
            tally.add("interviews_scheduled", unit, month)
            if status == InterviewStatus.ATTENDED:
                tally.add("interviews_attended", unit, month)
            elif status == InterviewStatus.NO_SHOW:
                tally.add("interviews_no_show", unit, month)

    # Bases, where they are: certified on the last day by their certification history; agreements.
    base_in_area = Company.place_code.startswith(area.prefix)
    if need("certified_bases"):
        end_of_day = clock.china_midnight(on + dt.timedelta(days=1))
        event = CertificationEvent
        ranked = (select(event.company_id, event.to_status, event.valid_until,
                         func.row_number().over(partition_by=event.company_id,
                                                order_by=(event.decided_at.desc(), event.id.desc())).label("rank"))
                  .where(event.decided_at < end_of_day).subquery())  # each base's last decision by that day
        for place, n in session.execute(
                select(Company.place_code, func.count(Company.id)).select_from(Company)
                .join(ranked, ranked.c.company_id == Company.id)
                .where(base_in_area, ranked.c.rank == 1, ranked.c.to_status == CertificationStatus.CERTIFIED,
                       ranked.c.valid_until >= on)
                .group_by(Company.place_code)):
            tally.put("certified_bases", place, "", n)
    if need("agreements_in_force"):
        for place, n in session.execute(
                select(Company.place_code, func.count(Agreement.id)).select_from(Agreement)
                .join(Company, Company.id == Agreement.company_id)
                .where(base_in_area, Agreement.signed_on <= on, Agreement.ends_on >= on)
                .group_by(Company.place_code)):
            tally.put("agreements_in_force", place, "", n)
    if need("agreements_signed"):
        month = _month_sql(session, Agreement.signed_on)
        for place, m, n in session.execute(
                select(Company.place_code, month, func.count(Agreement.id)).select_from(Agreement)
                .join(Company, Company.id == Agreement.company_id)
                .where(base_in_area, Agreement.signed_on.between(date_from, on)).group_by(Company.place_code, month)):
            tally.add("agreements_signed", place, m, n)
    return tally


def _figures(tally: _Tally, office_ids: list[int], places: list[str], month: str = "") -> dict:
    """The figures of one row: the sum of its units' counts, and the rates worked out from them."""
    figures: dict = {}
    for key in COUNTS if not month else [k for k in MONTHLY if k in COUNTS]:
        if key in tally.computed:
            figures[key] = tally.total(key, places if key in BASE_FIGURES else office_ids, month)
    for key in RATES:
        numerator, denominator = BY_KEY[key].of
        if numerator in figures and denominator in figures:
            figures[key] = figures[numerator] / figures[denominator] if figures[denominator] else None
    return figures


def _places(tally: _Tally, prefix: str) -> list[str]:
    """The base places counted inside an area (a township, a district, the bureau's area)."""
    found = {place for key in BASE_FIGURES for place in tally.counts.get(key, {})}
    return sorted(place for place in found if place.startswith(prefix))


def report(*, session: Session, actor: Account, date_from: dt.date, date_to: dt.date, district: str | None = None,
           office_id: int | None = None, by: str | None = None, months: bool = True) -> dict:
    """The bureau's report for a period (both days included) and an area; administrators only.

    `by` ("district", "office" or "both") adds rows by district and/or by judicial office inside the area;
    `months` a row per month of the period. The definitions are in matcher.reports.definitions.
    """
    policy.require(actor, policy.Rule.REPORT_FULL)
    return _report(session, actor, date_from=date_from, date_to=date_to, district=district, office_id=office_id,
                   by=by, months=months)


def _report(session: Session, actor: Account, *, date_from: dt.date, date_to: dt.date, district: str | None,
            office_id: int | None, by: str | None, months: bool, wanted: frozenset[str] | None = None) -> dict:
    on = _check_period(date_from, date_to)
    area = report_area(session, actor, district=district, office_id=office_id)
    tally = _tally(session, area, date_from, on, wanted)
    office_ids = [o.id for o in area.offices]
    result = {
        "area": {"level": area.level, "code": area.code, "name": area.name, "district": area.district,
                 "office_id": area.office.id if area.office else None},
        "date_from": date_from, "date_to": date_to, "on": on,
        "figures": _figures(tally, office_ids, _places(tally, area.prefix)),
        "by_district": None, "by_office": None, "by_month": None,
    }
    names = {d.code: d.name for d in area.districts}
    if by in ("district", "both"):
        result["by_district"] = [
            {"code": d.code, "name": d.name, "office_id": None,
             "figures": _figures(tally, [o.id for o in area.offices if o.township_code.startswith(d.code)],
                                 _places(tally, d.code))}
            for d in area.districts]
    if by in ("office", "both"):
        result["by_office"] = [
            {"code": o.township_code, "name": o.name, "office_id": o.id, "district": o.township_code[:6],
             "district_name": names.get(o.township_code[:6], ""),
             "figures": _figures(tally, [o.id], _places(tally, o.township_code))}
            for o in area.offices]
    if months:
        places = _places(tally, area.prefix)
        result["by_month"] = [{"month": month, "figures": _figures(tally, office_ids, places, month)}
                              for month in months_of(date_from, on)]
    return result


def figure_definitions() -> list[dict]:
    """Each figure's label and definition in the current language, in the report's order."""
    return [{"key": f.key, "label": gettext(f.label), "definition": gettext(f.definition), "when": f.when}
            for f in FIGURES]


# ---- the administrator's dashboard --------------------------------------------------------------------------

DASHBOARD_FIGURES = frozenset({"registered", "key_subjects", "new_in_period", "placed_in_period", "certified_bases",
                               "agreements_in_force", "visits_in_period"})


def bureau_figures(*, session: Session, actor: Account, district: str | None = None,
                   date_from: dt.date, date_to: dt.date) -> dict:
    """The dashboard's figures for an area and a period: those of the report it shows (DASHBOARD_FIGURES, defined
    in matcher.reports.definitions), flat, with what its charts need: registered candidates by district and by risk
    grade, placements by month, and the referrals made in the period by their current status."""
    policy.require(actor, policy.Rule.REPORT_READ)
    result = _report(session, actor, date_from=date_from, date_to=date_to, district=district, office_id=None,
                     by="district", months=True, wanted=DASHBOARD_FIGURES)
    on = result["on"]
    office_ids = select(JudicialOffice.id).where(JudicialOffice.township_code.startswith(
        code_prefix(district) if district else (code_prefix(actor.bureau_code) if actor.bureau_code else "")))
    area_ids = select(Candidate.id).where(Candidate.office_id.in_(office_ids))
    registered = registered_on(on)
    start, end = clock.china_midnight(date_from), clock.china_midnight(date_to + dt.timedelta(days=1))
    outcomes = dict(session.execute(
        select(Referral.status, func.count(Referral.id))
        .where(Referral.candidate_id.in_(area_ids), Referral.created_at >= start, Referral.created_at < end)
        .group_by(Referral.status)).all())
    by_risk = dict(session.execute(
        select(Candidate.risk_grade, func.count(Candidate.id)).where(Candidate.office_id.in_(office_ids), registered)
        .group_by(Candidate.risk_grade)).all())
    return {
        "district": district, "date_from": date_from, "date_to": date_to, "on": on,
        **result["figures"],
        "referrals_by_outcome": {getattr(status, "value", status): n for status, n in outcomes.items()},
        "by_district": [{"code": row["code"], "name": row["name"], "count": row["figures"]["registered"]}
                        for row in result["by_district"] if row["figures"]["registered"]],
        "by_risk_grade": {getattr(grade, "value", grade): n for grade, n in by_risk.items()},
        "placements_by_month": [{"month": row["month"], "count": row["figures"]["placed_in_period"]}
                                for row in result["by_month"]],
    }


def organiser_overview(*, session: Session, actor: Account) -> dict:
    """Certified bases and their open slots in the bureau's area: slots, seats and free seats by course."""
    policy.require(actor, policy.Rule.REPORT_READ)
    prefix = code_prefix(actor.bureau_code) if actor.bureau_code else ""
    in_force = certified_in_date()
    open_slots = (Slot.status == SlotStatus.OPEN, Company.place_code.startswith(prefix), in_force)
    by_course = session.execute(
        select(Slot.kind, Slot.course_code, func.count(Slot.id), func.sum(Slot.seats),
               func.sum(Slot.seats - Slot.seats_taken))
        .join(Company, Company.id == Slot.company_id).where(*open_slots)
        .group_by(Slot.kind, Slot.course_code).order_by(Slot.course_code, Slot.kind)).all()
    slot_counts = (select(Slot.company_id, func.count(Slot.id).label("slots"),
                          func.sum(Slot.seats - Slot.seats_taken).label("free"))
                   .join(Company, Company.id == Slot.company_id).where(*open_slots)
                   .group_by(Slot.company_id).subquery())
    bases = session.execute(
        select(Company, func.coalesce(slot_counts.c.slots, 0), func.coalesce(slot_counts.c.free, 0))
        .outerjoin(slot_counts, slot_counts.c.company_id == Company.id)
        .where(in_force, Company.place_code.startswith(prefix)).order_by(Company.name)).all()
    return {
        "by_course": [{"kind": getattr(kind, "value", kind), "course_code": course, "slots": n,
                       "seats": seats or 0, "seats_free": free or 0}
                      for kind, course, n, seats, free in by_course],
        "bases": [{"company": company, "open_slots": n, "seats_free": free} for company, n, free in bases],
        "open_slots": sum(row[2] for row in by_course),
        "seats_free": sum(row[4] or 0 for row in by_course),
    }
