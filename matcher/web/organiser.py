"""The organiser's home: the certified bases and their open slots, read-only (fairs are planned elsewhere)."""

from __future__ import annotations

from flask import render_template

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.reference.service import list_courses
from matcher.reports.service import organiser_overview
from matcher.web.base import actor, bp, page
from matcher.web.forms import lang_code


@bp.route("/organiser")
@page(Role.ORGANISER)
def organiser_home():
    session = db.session
    overview = organiser_overview(session=session, actor=actor())
    en = lang_code() == "en"
    courses = {c.code: c.name_en if en else c.name_zh for c in list_courses(session=session)}
    return render_template("web/organiser/home.html", overview=overview, courses=courses)
