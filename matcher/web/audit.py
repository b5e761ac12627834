"""The administrators' page of the audit log (/admin/audit): search it and verify its hash chain."""

from __future__ import annotations

from flask import render_template, request

from matcher.audit import service as audit
from matcher.auth.models import Role
from matcher.extensions import db
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, parse_date, text

PAGE_SIZE = 50
FILTERS = ("actor", "object_type", "object_id", "action", "date_from", "date_to")


def _filters(args) -> tuple[dict, dict]:
    """The search form as the service's filters; a username that names nobody matches nothing."""
    raw = {name: text(args, name) for name in FILTERS}
    filters = {"object_type": raw["object_type"] or None, "action": raw["action"] or None,
               "object_id": int_in(raw["object_id"]), "date_from": parse_date(raw["date_from"]),
               "date_to": parse_date(raw["date_to"]), "actor_username": raw["actor"] or None}
    return raw, filters


def _page(verification: audit.LogVerification | None = None):
    raw, filters = _filters(request.args)
    stmt = audit.search_events(session=db.session, actor=actor(), filters=filters)
    paged = db.paginate(stmt, page=int_in(request.args.get("page")) or 1, per_page=PAGE_SIZE, error_out=False)
    return render_template("web/audit/index.html", events=paged.items, filters=raw, total=paged.total,
                           page=paged.page, pages=paged.pages or 1, usernames=audit.usernames(db.session),
                           verification=verification, query={k: v for k, v in raw.items() if v})


@bp.route("/admin/audit")
@page(Role.ADMINISTRATOR)
def admin_audit():
    return _page()


@bp.route("/admin/audit/verify", methods=["POST"])
@page(Role.ADMINISTRATOR)
def admin_audit_verify():
    return _page(audit.verify_log_for(session=db.session, actor=actor()))
