"""The calendar page (week and month) of what concerns the account, its `.ics` download, and its secret feed
link (made, replaced and turned off here; read by calendar apps without a login). Times are China time."""

from __future__ import annotations

import calendar as monthly
import datetime as dt

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _

from matcher import clock
from matcher.agenda import service as agenda
from matcher.agenda.ics import to_ics
from matcher.extensions import db
from matcher.web.base import actor, bp, page
from matcher.web.forms import parse_date

VIEWS = ("week", "month")


def kind_label(kind: str) -> str:
    return {agenda.Kind.RELEASE: _("Release day"), agenda.Kind.CHECK: _("Follow-up check due"),
            agenda.Kind.INTERVIEW: _("Fair interview"), agenda.Kind.REFERRAL_INTERVIEW: _("Interview at a base"),
            agenda.Kind.FAIR: _("Job fair")}.get(kind, kind)


def event_detail(event: agenda.Event) -> str:
    if event.kind == agenda.Kind.CHECK and event.detail.isdigit():
        return _("%(days)s days after the start", days=event.detail)
    return event.detail


def summary(event: agenda.Event) -> str:
    """The title in a calendar app: what, and who (the pseudonymous label) or which fair."""
    return _("%(kind)s: %(subject)s", kind=kind_label(event.kind), subject=event.subject)


def _range(view: str, day: dt.date) -> tuple[dt.date, dt.date]:
    if view == "week":
        first = day - dt.timedelta(days=day.weekday())
        return first, first + dt.timedelta(days=6)
    first = day.replace(day=1)
    return first, first.replace(day=monthly.monthrange(day.year, day.month)[1])


def _step(view: str, day: dt.date, sign: int) -> dt.date:
    if view == "week":
        return day + dt.timedelta(days=7 * sign)
    month = day.month - 1 + sign
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def _calendar_page(*, new_feed_url: str | None = None, status: int = 200):
    view = request.args.get("view", "week")
    view = view if view in VIEWS else "week"
    day = parse_date(request.args.get("date")) or clock.today()
    first, last = _range(view, day)
    grid_first = first - dt.timedelta(days=first.weekday())  # month grid: whole weeks, Monday first
    grid_last = last + dt.timedelta(days=6 - last.weekday())
    events = agenda.events_between(session=db.session, actor=actor(), first=grid_first, last=grid_last)
    by_day: dict[dt.date, list] = {}
    for event in events:
        by_day.setdefault(event.day, []).append(event)
    days = [grid_first + dt.timedelta(days=n) for n in range((grid_last - grid_first).days + 1)]
    weeks = [days[i:i + 7] for i in range(0, len(days), 7)]
    return render_template(
        "web/agenda/calendar.html", view=view, day=day, first=first, last=last, weeks=weeks, by_day=by_day,
        today=clock.today(), previous=_step(view, first, -1), following=_step(view, first, 1),
        count=sum(len(by_day.get(d, [])) for d in days if first <= d <= last),
        kind_label=kind_label, event_detail=event_detail,
        feed=agenda.current_feed(session=db.session, actor=actor()), new_feed_url=new_feed_url), status


@bp.route("/calendar")
@page()
def calendar_page():
    return _calendar_page()


def _ics_response(account, *, filename: str) -> Response:
    first, last = agenda.feed_window()
    events = agenda.events_between(session=db.session, actor=account, first=first, last=last)
    body = to_ics(events, name=_("Xintu: %(name)s", name=account.display_name), summary=summary,
                  host=request.host.split(":")[0] or "xintu", base_url=request.host_url)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/calendar/download.ics")
@page()
def calendar_download():
    """The account's calendar (a month back, six months ahead) as a file to import."""
    return _ics_response(actor(), filename="xintu-calendar.ics")


@bp.route("/calendar/feed", methods=["POST"])
@page()
def calendar_feed_new():
    """A new feed link, shown once on the answer; the earlier link stops working."""
    token, _feed = agenda.issue_feed(session=db.session, actor=actor())
    return _calendar_page(new_feed_url=url_for("web.calendar_feed", token=token, _external=True))


@bp.route("/calendar/feed/revoke", methods=["POST"])
@page()
def calendar_feed_revoke():
    agenda.revoke_feed(session=db.session, actor=actor())
    return _calendar_page()


@bp.route("/calendar/feed/<token>.ics")
def calendar_feed(token: str):
    """What a calendar app subscribes to: no login, the secret link is the key; a revoked one is not found."""
    account = agenda.account_for_feed(session=db.session, token=token)
    if account is None:
        abort(404)
    return _ics_response(account, filename="xintu.ics")
