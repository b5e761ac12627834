"""The report reconciles with the records: on a demo city (with re-offences, certificates and closed files added),
every figure is counted again here, straight from the raw tables in plain Python, for a city-year, one district
and one office; the rows by district add up to the city, and the months to the year."""

from __future__ import annotations

import collections
import datetime as dt
import random

from sqlalchemy import select

from matcher.clock import CHINA_TZ, add_years, today

SPEC = dict(candidates=400, open_slots=30, certified_bases=6)
STAYED = {"stayed_90", "stayed_180"}


def _value(v):
    return getattr(v, "value", v)


def _rows(session, model) -> list:
    """Every row of a table as a plain namespace of its column values (enums as their strings)."""
    columns = [c.name for c in model.__table__.columns]
    return [collections.namedtuple(model.__name__, columns)(*(_value(v) for v in row))
            for row in session.execute(select(*model.__table__.columns)).all()]


class Raw:
    def __init__(self, session):
        from matcher.bases.models import Agreement, CertificationEvent, Company
        from matcher.candidates.models import Candidate, Certificate, Reoffence, Visit
        from matcher.offices.models import JudicialOffice
        from matcher.referrals.models import Referral, ReferralEvent
        from matcher.slots.models import Slot

        self.candidates = _rows(session, Candidate)
        self.referrals = _rows(session, Referral)
        self.events = _rows(session, ReferralEvent)
        self.slots = {s.id: s for s in _rows(session, Slot)}
        self.visits = _rows(session, Visit)
        self.certificates = _rows(session, Certificate)
        self.reoffences = _rows(session, Reoffence)
        from matcher.interviews.models import ReferralInterview

        self.interviews = _rows(session, ReferralInterview)
        self.companies = _rows(session, Company)
        self.decisions = _rows(session, CertificationEvent)
        self.agreements = _rows(session, Agreement)
        self.offices = _rows(session, JudicialOffice)


def independent(raw: Raw, date_from: dt.date, date_to: dt.date, prefix: str) -> dict:
    """Each definition of matcher/reports/definitions.py, applied row by row to the raw tables."""
    on = min(date_to, today())

    def within(day):
        return day is not None and date_from <= day <= on

    offices = {o.id for o in raw.offices if o.township_code.startswith(prefix)}
    people = {c.id: c for c in raw.candidates if c.office_id in offices}
    registered = [c for c in people.values()  # open on the last day: not closed, or closed after it
                  if (c.status != "closed" or (c.closed_on is not None and c.closed_on > on))
                  and c.release_date <= on <= c.assistance_ends_on]
    assisted = [c for c in people.values() if c.release_date <= on and c.assistance_ends_on >= date_from]
    referrals = [r for r in raw.referrals if r.candidate_id in people]
    started = [r for r in referrals if within(r.started_on)]
    stays = {e.referral_id for e in raw.events if e.to_status in STAYED}
    reached = [r for r in referrals if r.started_on and within(r.started_on + dt.timedelta(days=90))]
    subsidised = []
    for r in referrals:
        slot = raw.slots[r.slot_id]
        last = slot.ends_on or slot.starts_on
        if r.started_on and slot.kind == "training" and slot.certificate_awarded and within(last) \
                and not (r.status == "left" and r.ended_on < last):
            subsidised.append(r)
    cutoff = dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=CHINA_TZ)  # the next day, in China
    certified = 0
    bases = {c.id for c in raw.companies if c.place_code.startswith(prefix)}
    for company_id in bases:
        history = sorted((d for d in raw.decisions if d.company_id == company_id and d.decided_at < cutoff),
                         key=lambda d: (d.decided_at, d.id))
        if history and history[-1].to_status == "certified" and history[-1].valid_until >= on:
            certified += 1
    agreements = [a for a in raw.agreements if a.company_id in bases]
    placed = {r.candidate_id for r in started}
    referral_ids = {r.id for r in referrals}
    first, after = (dt.datetime.combine(date_from, dt.time.min, tzinfo=CHINA_TZ),
                    dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=CHINA_TZ))
    scheduled = [i for i in raw.interviews if i.referral_id in referral_ids and first <= i.starts_at < after
                 and i.status in ("confirmed", "attended", "no_show")]
    reoffended = {o.candidate_id for o in raw.reoffences if o.candidate_id in people and within(o.recorded_on)}
    counts = {
        "registered": len(registered),
        "key_subjects": sum(1 for c in registered if c.key_subject),
        "dual_registration": sum(1 for c in registered if c.hukou_code != c.residence_code),
        "under_assistance": len(assisted),
        "new_in_period": sum(1 for c in people.values() if within(c.release_date)),
        "placed_in_period": len(placed),
        "helped_into_work": len({r.candidate_id for r in started if raw.slots[r.slot_id].kind == "job"}),
        "placed_in_training": len({r.candidate_id for r in started if raw.slots[r.slot_id].kind == "training"}),
        "reached_90_days": len(reached),
        "stayed_90": sum(1 for r in reached if r.status in STAYED or r.id in stays),
        "training_certificates": sum(1 for c in raw.certificates if c.candidate_id in people and within(c.issued_on)),
        "training_subsidies": len(subsidised),
        "visits_in_period": sum(1 for v in raw.visits if v.candidate_id in people and within(v.visited_on)),
        "reoffended": len(reoffended),
        "interviews_scheduled": len(scheduled),
        "interviews_attended": sum(1 for i in scheduled if i.status == "attended"),
        "interviews_no_show": sum(1 for i in scheduled if i.status == "no_show"),
        "certified_bases": certified,
        "agreements_signed": sum(1 for a in agreements if within(a.signed_on)),
        "agreements_in_force": sum(1 for a in agreements if a.signed_on <= on <= a.ends_on),
    }
    counts["placement_rate"] = len(placed) / len(assisted) if assisted else None
    counts["stay_rate_90"] = counts["stayed_90"] / len(reached) if reached else None
    counts["reoffence_rate"] = len(reoffended) / len(assisted) if assisted else None
    counts["interview_attendance_rate"] = (counts["interviews_attended"] / len(scheduled)) if scheduled else None
    return counts


def _interviews(session, rng) -> None:
    """Interviews arranged on a sample of referrals, over the last two years, in every status."""
    from matcher import clock
    from matcher.interviews.models import InterviewStatus, ReferralInterview
    from matcher.referrals.models import Referral

    referrals = list(session.scalars(select(Referral).order_by(Referral.id)))
    statuses = list(InterviewStatus)
    start = clock.china_midnight(dt.date(today().year - 1, 1, 1))
    for referral in rng.sample(referrals, min(120, len(referrals))):
        moment = start + dt.timedelta(hours=rng.randint(0, 24 * 700))
        session.add(ReferralInterview(referral_id=referral.id, status=rng.choice(statuses), starts_at=moment,
                                      place="工人路8号", contact_name="王经理", contact_phone="85123456"))


def _enrich(session) -> None:
    """What the demo city lacks: re-offences, certificates earned in the last years, closed files."""
    from matcher.candidates.models import Candidate, CandidateStatus, Certificate, Reoffence

    rng = random.Random(6)
    candidates = list(session.scalars(select(Candidate).order_by(Candidate.id)))
    start = dt.date(today().year - 2, 1, 1)
    for candidate in rng.sample(candidates, 40):
        for _ in range(rng.choice((1, 1, 2))):  # some re-offend twice
            day = start + dt.timedelta(days=rng.randint(0, 700))
            session.add(Reoffence(candidate_id=candidate.id, recorded_on=day))
    for candidate in rng.sample(candidates, 60):
        session.add(Certificate(candidate_id=candidate.id, name="电子商务师",
                                issued_on=start + dt.timedelta(days=rng.randint(0, 700))))
    _interviews(session, rng)
    for n, candidate in enumerate(rng.sample(candidates, 15)):
        candidate.status = CandidateStatus.CLOSED  # closed today (the day is stamped) ...
        if n % 3 == 1:  # ... or on a day last year (inside the city-year: registered before it, not after)
            candidate.closed_on = dt.date(today().year - 1, 6, 15)
        elif n % 3 == 2:  # ... or before closing days were recorded: closed throughout
            candidate.closed_on = None
    for candidate in rng.sample(candidates, 10):  # released long ago: assistance over
        candidate.release_date = dt.date(today().year - 6, 3, 1)
        candidate.assistance_ends_on = add_years(candidate.release_date, 5)
    session.commit()


def test_the_report_reconciles_with_the_raw_tables(session):
    from matcher.auth.models import Account
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.reports.definitions import COUNTS, FIGURES, MONTHLY
    from matcher.reports.service import report

    build_demo(session, DemoSpec(seed=2026, **SPEC), echo=lambda _line: None)
    _enrich(session)
    admin = session.scalar(select(Account).where(Account.username == "admin"))
    raw = Raw(session)
    year = today().year - 1
    periods = [(dt.date(year, 1, 1), dt.date(year, 12, 31)), (dt.date(today().year, 1, 1), today()),
               (dt.date(year, 7, 1), dt.date(today().year, 12, 31))]

    for date_from, date_to in periods:
        city = report(session=session, actor=admin, date_from=date_from, date_to=date_to, by="both")
        assert city["figures"] == independent(raw, date_from, date_to, "3307"), (date_from, date_to)
        assert set(city["figures"]) == {f.key for f in FIGURES}
        for key in COUNTS:  # rows add up (the demo's bases are all in townships)
            assert sum(row["figures"][key] for row in city["by_district"]) == city["figures"][key], key
            assert sum(row["figures"][key] for row in city["by_office"]) == city["figures"][key], key

        district = max(city["by_district"], key=lambda row: row["figures"]["placed_in_period"])
        office = max(city["by_office"], key=lambda row: row["figures"]["registered"])
        for kwargs, prefix in (({"district": district["code"]}, district["code"]),
                               ({"office_id": office["office_id"]}, office["code"])):
            one = report(session=session, actor=admin, date_from=date_from, date_to=date_to, **kwargs)
            assert one["figures"] == independent(raw, date_from, date_to, prefix), kwargs

    # A city-year has something in every figure worth reconciling, and its months add up to it.
    date_from, date_to = periods[0]
    city = report(session=session, actor=admin, date_from=date_from, date_to=date_to)
    for key in ("registered", "key_subjects", "new_in_period", "placed_in_period", "helped_into_work",
                "placed_in_training", "reached_90_days", "stayed_90", "training_certificates", "training_subsidies",
                "visits_in_period", "reoffended", "certified_bases", "agreements_in_force", "interviews_scheduled",
                "interviews_attended", "interviews_no_show"):
        assert city["figures"][key] > 0, key
    people = {f.key for f in FIGURES if f.people} | {"under_assistance"}
    for key in MONTHLY:
        if key in COUNTS and key not in people:
            assert sum(row["figures"][key] for row in city["by_month"]) == city["figures"][key], key
        elif key in people:
            assert max(row["figures"][key] for row in city["by_month"]) <= city["figures"][key], key
