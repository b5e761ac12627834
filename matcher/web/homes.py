"""Each role's home page: the caseworker's office, the employer's base, the organiser's overview of bases and
slots, and the administrator's bureau dashboard. They read the features' services and link to the features'
pages; the journeys themselves are in the feature modules."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request

from matcher import uow
from matcher.auth.models import Role
from matcher.bases.service import get_company, last_decision_for_base
from matcher.candidates import service as candidates
from matcher.candidates.models import CandidateStatus, RiskGrade
from matcher.clock import today
from matcher.errors import DomainError
from matcher.extensions import db
from matcher.interviews import service as interviews
from matcher.referrals import lifecycle
from matcher.referrals import service as referrals
from matcher.reports.service import bureau_districts, bureau_figures, default_period, organiser_overview
from matcher.slots.models import SlotStatus
from matcher.slots.service import list_slots
from matcher.web.base import actor, bp, page
from matcher.web.forms import form_errors, parse_date
from matcher.web.labels import course_choices

LIST_SIZE = 50
RELEASE_WINDOW_DAYS = 90
MILESTONE_NOTICE_DAYS = 7
EXPIRY_WARNING_DAYS = 60
EMPLOYER_WAITING = 5
EMPLOYER_SLOTS = 5


@bp.route("/caseworker")
@page(Role.CASEWORKER)
def caseworker_home():
    me, session = actor(), db.session
    day = today()
    caseload = candidates.office_caseload(session=session, actor=me, limit=LIST_SIZE,
                                          releasing_by=day + dt.timedelta(days=RELEASE_WINDOW_DAYS))
    candidates.record_read(session=session, actor=me, fields=("risk_grade",))  # the list shows risk grades
    waiting, waiting_counts = referrals.office_waiting(session=session, actor=me, limit=LIST_SIZE)
    milestones = referrals.stay_milestones(session=session, actor=me, within_days=MILESTONE_NOTICE_DAYS)
    coming = interviews.upcoming(session=session, actor=me, days=MILESTONE_NOTICE_DAYS)
    return render_template(
        "web/caseworker/home.html", office=me.office, **caseload,
        total=sum(caseload["by_status"].values()), waiting=waiting, waiting_counts=waiting_counts,
        waiting_total=sum(waiting_counts.values()), milestones=milestones, today=day,
        statuses=list(CandidateStatus), grades=list(RiskGrade), waiting_statuses=lifecycle.WAITING,
        window=RELEASE_WINDOW_DAYS, interviews=coming, interview_days=MILESTONE_NOTICE_DAYS)


def _certification(company) -> dict:
    status = company.effective_status()
    days_left = (company.certified_until - today()).days if company.certified_until else None
    in_force = company.can_post_and_fill()
    return {"status": status.value, "until": company.certified_until, "days_left": days_left,
            "in_force": in_force,
            "warn": not in_force or (days_left is not None and days_left <= EXPIRY_WARNING_DAYS)}


@bp.route("/employer")
@page(Role.EMPLOYER)
def employer_home():
    who, session = actor(), db.session
    company = get_company(session=session, actor=who, company_id=who.company_id)
    # Drafts and open slots only; closed ones (years of them) are a link away, on the paged slot list.
    live = db.paginate(list_slots(session=session, actor=who, filters={"live": True, "sort": "-created_at"}),
                       page=1, per_page=EMPLOYER_SLOTS, error_out=False)
    closed = db.paginate(list_slots(session=session, actor=who, filters={"status": SlotStatus.CLOSED}),
                         page=1, per_page=1, error_out=False).total
    # The referrals waiting for this base, those still without a first answer first, longest-waiting first.
    waiting = db.paginate(referrals.base_referral_list(session=session, actor=who, filters={"waiting": True}),
                          page=1, per_page=EMPLOYER_WAITING, error_out=False)
    decision = last_decision_for_base(session=session, actor=who, company_id=company.id)
    return render_template("web/employer/home.html", company=company, cert=_certification(company), decision=decision,
                           slots=live.items, slots_total=live.total, closed_total=closed, waiting=waiting.items,
                           waiting_total=waiting.total,
                           days=referrals.waiting_days(session=session, referrals=waiting.items))


@bp.route("/organiser")
@page(Role.ORGANISER)
def organiser_home():
    overview = organiser_overview(session=db.session, actor=actor())
    return render_template("web/organiser/home.html", overview=overview, courses=dict(course_choices()))


@bp.route("/admin")
@page(Role.ADMINISTRATOR)
def admin_home():
    who, session = actor(), db.session
    districts = bureau_districts(session=session, actor=who)
    default_from, default_to = default_period()
    date_from = parse_date(request.args.get("from")) or default_from
    date_to = parse_date(request.args.get("to")) or default_to
    district = request.args.get("district") or None
    errors: dict = {}
    try:  # a district outside the area: said next to the filter, and the whole area shown
        with uow.savepoint():
            figures = bureau_figures(session=session, actor=who, district=district, date_from=date_from,
                                     date_to=date_to)
    except DomainError as exc:
        errors = form_errors(exc)[0]
        district, date_from, date_to = None, default_from, default_to
        figures = bureau_figures(session=session, actor=who, date_from=date_from, date_to=date_to)
    charts = {
        "district": {"labels": [row["name"] for row in figures["by_district"]],
                     "values": [row["count"] for row in figures["by_district"]]},
        "months": {"labels": [row["month"] for row in figures["placements_by_month"]],
                   "values": [row["count"] for row in figures["placements_by_month"]]},
    }
    return render_template("web/admin/dashboard.html", figures=figures, districts=districts, charts=charts,
                           district=district, date_from=date_from, date_to=date_to, errors=errors,
                           statuses=[*lifecycle.PATH[1:], *lifecycle.ENDED, lifecycle.PATH[0]])
