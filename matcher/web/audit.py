"""The administrators' page of the audit log (/admin/audit): search it and verify its hash chain."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import func, select

from matcher.audit import service as audit
from matcher.auth.models import Role
from matcher.extensions import db
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, parse_date, text

PAGE_SIZE = 50
FILTERS = ("actor", "object_type", "object_id", "action", "date_from", "date_to")


def _filters(args) -> tuple[dict, dict, bool]:
    """The search form as the service's filters; a username that names nobody matches nothing."""
    raw = {name: text(args, name) for name in FILTERS}
    filters = {"object_type": raw["object_type"] or None, "action": raw["action"] or None,
               "object_id": int_in(raw["object_id"]), "date_from": parse_date(raw["date_from"]),
               "date_to": parse_date(raw["date_to"])}
    nobody = False
    if raw["actor"]:
        filters["actor_id"] = audit.actor_id_for(db.session, raw["actor"])
        nobody = filters["actor_id"] is None
    return raw, filters, nobody


def _page(verification: audit.LogVerification | None = None):
    raw, filters, nobody = _filters(request.args)
    stmt = audit.search_events(session=db.session, actor=actor(), filters=filters)
    if nobody:
        stmt = stmt.where(False)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page_no = int_in(request.args.get("page")) or 1
    events = list(db.session.scalars(stmt.limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE)))
    return render_template("web/audit/index.html", events=events, filters=raw, total=total, page=page_no,
                           pages=max(1, -(-total // PAGE_SIZE)), usernames=audit.usernames(db.session),
                           verification=verification, query={k: v for k, v in raw.items() if v})


@bp.route("/admin/audit")
@page(Role.ADMINISTRATOR)
def admin_audit():
    return _page()


@bp.route("/admin/audit/verify", methods=["POST"])
@page(Role.ADMINISTRATOR)
def admin_audit_verify():
    return _page(audit.verify_log_for(session=db.session, actor=actor()))
