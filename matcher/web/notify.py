"""Everyone's notifications page (unread first, mark read, mark all read) and the unread badge in the header."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.notify.service import (
    SHOWS,
    is_open,
    list_notifications,
    mark_all_read,
    mark_read,
    open_count,
    render,
    unread_badge,
    unread_count,
)
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in

PAGE_SIZE = 50
# Where a notice leads, by what it is about and who reads it (endpoint, its argument; a plain path where the
# page belongs to another part of the app).
SUBJECT_PAGES = {
    ("referral", Role.CASEWORKER): ("web.caseworker_referral", "referral_id"),
    ("referral", Role.EMPLOYER): ("web.employer_referral", "referral_id"),
    ("company", Role.ADMINISTRATOR): ("web.admin_base", "company_id"),
    ("company", Role.EMPLOYER): ("web.employer_home", None),
    ("follow_up", Role.ADMINISTRATOR): ("/admin/follow-up", None),
    ("follow_up", Role.CASEWORKER): ("/caseworker/follow-up", None),
    ("export_request", Role.ADMINISTRATOR): ("web.admin_export_requests", None),
    ("export_request", Role.CASEWORKER): ("web.exports_home", None),
    ("export_request", Role.ORGANISER): ("web.exports_home", None),
}
# The administrator's own request leads to the exports page, where the file is; another's to the approvals.
OWN_SUBJECT_PAGES = {("export_request", "export_approved"), ("export_request", "export_refused"),
                     ("export_request", "export_expired")}


def subject_url(notification, role: Role) -> str | None:
    if (notification.subject_type, notification.kind.value) in OWN_SUBJECT_PAGES:
        return url_for("web.exports_home")
    target = SUBJECT_PAGES.get((notification.subject_type, role))
    if target is None:
        return None
    endpoint, argument = target
    if endpoint.startswith("/"):
        return endpoint
    if argument is None:
        return url_for(endpoint)
    return url_for(endpoint, **{argument: notification.subject_id}) if notification.subject_id else None


@bp.route("/notifications")
@page()
def notifications():
    """Open first (tasks not done, notices not read), done ones greyed after them; tabs, search and sort."""
    who, session = actor(), db.session
    show = request.args.get("show") if request.args.get("show") in SHOWS else "all"
    page_no = int_in(request.args.get("page"), high=10_000) or 1
    q = (request.args.get("q") or "").strip()[:100]
    stmt = list_notifications(session=session, actor=who, show=None if show == "all" else show, q=q,
                              sort=request.args.get("sort"))
    paged = db.paginate(stmt, page=page_no, per_page=PAGE_SIZE, error_out=False)
    items = [{"n": n, "text": render(n, who.role), "url": subject_url(n, who.role), "open": is_open(n)}
             for n in paged.items]
    return render_template("web/notify/list.html", items=items, show=show, page_no=page_no, q=q,
                           more=paged.has_next, unread=unread_count(session=session, actor=who),
                           open=open_count(session=session, actor=who))


@bp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@page()
def notification_read(notification_id: int):
    mark_read(session=db.session, actor=actor(), notification_id=notification_id)
    return redirect(_back(), 303)


@bp.route("/notifications/read-all", methods=["POST"])
@page()
def notifications_read_all():
    marked = mark_all_read(session=db.session, actor=actor())
    flash(_("Marked read: %(count)s.", count=marked), "info")
    return redirect(_back(), 303)


def _back() -> str:
    show = request.form.get("show")
    page_no = int_in(request.form.get("page"), high=10_000)
    return url_for("web.notifications", show=show if show in SHOWS and show != "all" else None,
                   q=(request.form.get("q") or "").strip()[:100] or None,
                   page=page_no if page_no and page_no > 1 else None)


@bp.app_context_processor
def _unread_badge():
    def unread_notification_count() -> int:
        """The header's badge: one COUNT on the (account, read_at) index, only when the header is drawn."""
        if not current_user.is_authenticated:
            return 0
        return unread_badge(session=db.session, actor=actor())

    return {"unread_notification_count": unread_notification_count}
