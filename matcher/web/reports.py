"""The administrator's report page: the bureau's figures for a period and an area, with definitions, tables by
district and office, charts, a print layout and the Excel download (the same service as the API)."""

from __future__ import annotations

import datetime as dt

from flask import Response, render_template, request
from flask_babel import gettext as _

from matcher import uow
from matcher.auth.models import Role
from matcher.clock import today
from matcher.errors import DomainError, Invalid
from matcher.extensions import db
from matcher.reports.definitions import BY_KEY, RATE, RULES
from matcher.reports.export import XLSX_MIMETYPE, report_workbook, workbook_name
from matcher.reports.service import bureau_districts, bureau_offices, figure_definitions, report
from matcher.web.base import actor, bp, page
from matcher.web.forms import form_errors, int_in, lang_code, parse_date

ADMIN = Role.ADMINISTRATOR
PARTS = ("year", "h1", "h2", "dates")
YEARS_BACK = 5
N_ = str  # marks a msgid for extraction; translated in the template
# The figures in groups, as the page shows them; every figure appears once.
GROUPS = (
    (N_("People"), ("registered", "key_subjects", "dual_registration", "under_assistance", "new_in_period")),
    (N_("Work and training"), ("placed_in_period", "placement_rate", "helped_into_work", "placed_in_training",
                           "reached_90_days", "stayed_90", "stay_rate_90")),
    (N_("Interviews"), ("interviews_scheduled", "interviews_attended", "interviews_no_show",
                        "interview_attendance_rate")),
    (N_("Certificates and subsidies"), ("training_certificates", "training_subsidies")),
    (N_("Follow-up"), ("visits_in_period", "reoffended", "reoffence_rate")),
    (N_("Bases"), ("certified_bases", "agreements_signed", "agreements_in_force")),
)
TABLE_COLUMNS = ("registered", "key_subjects", "new_in_period", "placed_in_period", "placement_rate",
                 "helped_into_work", "placed_in_training", "stayed_90", "training_certificates",
                 "training_subsidies", "visits_in_period", "reoffended", "certified_bases", "agreements_in_force")


def period_of(args) -> dict:
    """The period the picker asks for: a year, its first or second half, or any two dates."""
    this_year = today().year
    part = args.get("part") if args.get("part") in PARTS else "year"
    year = int_in(args.get("year"), low=this_year - 50, high=this_year) or this_year
    if part == "dates":
        default_from, default_to = dt.date(this_year, 1, 1), today()
        date_from = parse_date(args.get("from")) or default_from
        date_to = parse_date(args.get("to")) or default_to
    else:
        date_from = dt.date(year, 7, 1) if part == "h2" else dt.date(year, 1, 1)
        date_to = dt.date(year, 6, 30) if part == "h1" else dt.date(year, 12, 31)
    return {"part": part, "year": year, "date_from": date_from, "date_to": date_to}


def area_of(args) -> dict:
    return {"district": (args.get("district") or "").strip() or None,
            "office_id": int_in(args.get("office_id")) if args.get("office_id") else None}


def _query(period: dict, area: dict) -> dict:
    """The picker's choice as URL parameters (for the Excel link)."""
    query = {"part": period["part"]}
    if period["part"] == "dates":
        query.update({"from": period["date_from"].isoformat(), "to": period["date_to"].isoformat()})
    else:
        query["year"] = period["year"]
    query.update({k: v for k, v in area.items() if v})
    return query


def _bad_office(args) -> bool:
    """An office_id that is not a number at all: answered like an office outside the area."""
    return bool(args.get("office_id")) and int_in(args.get("office_id")) is None


@bp.route("/admin/reports")
@page(ADMIN)
def admin_reports():
    who, session = actor(), db.session
    period, area = period_of(request.args), area_of(request.args)
    errors: dict = {}
    summary = None
    try:
        with uow.savepoint():
            if _bad_office(request.args):
                raise Invalid(_("Choose a judicial office of your bureau's area (and of the district chosen)."),
                              field="office_id")
            result = report(session=session, actor=who, date_from=period["date_from"], date_to=period["date_to"],
                            by="both", months=True, **area)
    except DomainError as exc:
        errors, summary = form_errors(exc)
        period = period_of({})
        area = {"district": None, "office_id": None}
        result = report(session=session, actor=who, date_from=period["date_from"], date_to=period["date_to"],
                        by="both", months=True)
    level = result["area"]["level"]
    definitions = {d["key"]: d for d in figure_definitions()}
    charts = _charts(result, level)
    this_year = today().year
    return render_template(
        "web/reports/index.html", result=result, period=period, area=area, errors=errors, summary=summary,
        level=level,
        districts=bureau_districts(session=session, actor=who), offices=bureau_offices(session=session, actor=who),
        years=list(range(this_year, this_year - YEARS_BACK - 1, -1)), groups=GROUPS, definitions=definitions,
        columns=TABLE_COLUMNS, rates={k for k, f in BY_KEY.items() if f.when == RATE}, charts=charts,
        rules=[_(rule) for rule in RULES], xlsx_query={**_query(period, area), "lang": lang_code()})


@bp.route("/admin/reports/figures.xlsx")
@page(ADMIN)
def admin_reports_xlsx():
    who = actor()
    period, area = period_of(request.args), area_of(request.args)
    lang = "en" if request.args.get("lang") == "en" else "zh"
    if _bad_office(request.args):
        raise Invalid(_("Choose a judicial office of your bureau's area (and of the district chosen)."),
                      field="office_id")
    content = report_workbook(session=db.session, actor=who, date_from=period["date_from"],
                              date_to=period["date_to"], lang=lang, **area)
    code = f"office{area['office_id']}" if area["office_id"] else (area["district"] or who.bureau_code or "area")
    response = Response(content, content_type=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{workbook_name(code, period["date_from"], period["date_to"])}"')
    return response


def _charts(result: dict, level: str) -> dict:
    """What the charts draw (read by static/reports.js from data attributes: the pages carry no inline script)."""
    months = result["by_month"] or []
    charts = {"months": {
        "type": "bar", "labels": [row["month"] for row in months],
        "datasets": [{"label": _(BY_KEY[key].label), "data": [row["figures"][key] for row in months]}
                     for key in ("new_in_period", "placed_in_period", "stayed_90")]}}
    rows = result["by_district"] if level == "bureau" else result["by_office"] if level == "district" else []
    if rows:
        charts["areas"] = {
            "type": "bar", "horizontal": True, "labels": [row["name"] for row in rows],
            "datasets": [{"label": _(BY_KEY[key].label), "data": [row["figures"][key] for row in rows]}
                         for key in ("new_in_period", "placed_in_period", "helped_into_work")]}
    return charts
