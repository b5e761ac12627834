"""Exports on the web (/exports): pseudonymous files at once, identified ones on request; and the administrators'
approval page (/admin/export-requests, 导出审批). The rules are matcher.exports.service's."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matcher import uow
from matcher.auth.models import Role
from matcher.auth.service import usernames_of
from matcher.errors import Conflict, Forbidden, Invalid, translate
from matcher.exports import service
from matcher.exports.models import ExportRequest, ExportRequestStatus
from matcher.extensions import db
from matcher.transfer.kinds import EXPORTERS
from matcher.transfer.service import export_file
from matcher.web.audit import field_label
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, lang_code, run_form, text

ADMIN, CW, ORG = Role.ADMINISTRATOR, Role.CASEWORKER, Role.ORGANISER
EXPORTING = (ADMIN, CW, ORG)
RECENT = 50
KIND_LABELS = {"candidates": _l("Candidates' files"), "bases": _l("Bases"), "slots": _l("Slots"),
               "referrals": _l("Referral history"), "fair_plan": _l("Job fair interview plan")}
STATUS_LABELS = {ExportRequestStatus.PENDING: _l("Waiting for approval"), ExportRequestStatus.APPROVED: _l("Approved"),
                 ExportRequestStatus.REFUSED: _l("Refused"), ExportRequestStatus.USED: _l("Downloaded"),
                 ExportRequestStatus.EXPIRED: _l("Expired")}


def _kinds_for(role: Role) -> tuple[list[str], list[str]]:
    """The kinds this role may export pseudonymously, and those it may ask for identified."""
    plain = [kind for kind, exporter in EXPORTERS.items() if role in exporter.roles]
    identified = [kind for kind, roles in service.IDENTIFIED_KINDS.items() if role in roles]
    return plain, identified


def _usernames(requests: list[ExportRequest]) -> dict[int, str]:
    return usernames_of(db.session, [r.requested_by_id for r in requests] + [r.decided_by_id for r in requests])


def _list_filters() -> dict:
    """The search and the column a list of requests is sorted by (`q`, `sort`)."""
    return {"q": text(request.args, "q")[:100] or None, "sort": text(request.args, "sort") or None}


def personal_columns(kind: str) -> str:
    """The personal columns an identified file adds, by the names the file's headers give them."""
    separator = "、" if lang_code() == "zh" else ", "
    return separator.join(field_label(name) for name in service.SENSITIVE_COLUMNS.get(kind, ()))


def _exports_page(*, errors: dict | None = None, summary: str | None = None, form=None, status: int = 200):
    me = actor()
    plain, identified = _kinds_for(me.role)
    mine = service.recent_requests(session=db.session, actor=me, filters={"mine": True, **_list_filters()},
                                   limit=RECENT)
    return render_template("web/exports/index.html", plain=plain, identified=identified, requests=mine,
                           usernames=_usernames(mine), errors=errors or {}, summary=summary, form=form or {},
                           days=service.approval_days(), kinds=KIND_LABELS, statuses=STATUS_LABELS,
                           sensitive=service.SENSITIVE_COLUMNS, params_of=service.params_of), status


@bp.route("/exports")
@page(*EXPORTING)
def exports_home():
    # `?kind=fair_plan&fair_id=3` fills in the request form (a link from a fair's page).
    return _exports_page(form={key: text(request.args, key) for key in ("kind", "fair_id") if request.args.get(key)})


@bp.route("/exports/<kind>.<any(csv, xlsx):file_format>")
@page(*EXPORTING)
def exports_download(kind: str, file_format: str):
    """A pseudonymous file of everything of a kind the user may see."""
    if kind not in EXPORTERS:
        return redirect(url_for("web.exports_home"), 303)
    try:
        with uow.savepoint():
            # A file for people: headers and values in the page's language (or ?headers=en|zh), labels, not codes.
            language = request.args.get("headers") if request.args.get("headers") in ("en", "zh") else lang_code()
            export = export_file(session=db.session, actor=actor(), kind=kind, format=file_format,
                                 headers=language, values="labels")
    except Forbidden as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for("web.exports_home"), 303)
    return _attachment(export)


@bp.route("/exports/requests", methods=["POST"])
@page(*EXPORTING)
def exports_request():
    form = request.form
    kind = text(form, "kind")
    params: dict = {"format": text(form, "format") or "xlsx", "headers": lang_code(), "values": "labels"}
    if kind == "fair_plan":
        params = {"fair_id": int_in(text(form, "fair_id")) or text(form, "fair_id") or None, "lang": lang_code()}
        params = {k: v for k, v in params.items() if v is not None}
    def ask():
        if not kind:
            raise Invalid(_("Choose what to export."), field="kind")
        return service.create_request(session=db.session, actor=actor(),
                                      data={"kind": kind, "params": params, "reason": text(form, "reason")})

    outcome = run_form(ask)
    if not outcome.ok:
        errors = outcome.errors
        if "params" in errors:
            errors.setdefault("fair_id" if kind == "fair_plan" else "format", []).extend(errors.pop("params"))
        return _exports_page(errors=errors, summary=outcome.summary, form=form, status=outcome.status)
    flash(_("Your request is sent. An administrator will decide it; you can download the file here once it "
            "is approved."), "info")
    return redirect(url_for("web.exports_home"), 303)


@bp.route("/exports/requests/<id:request_id>/file")
@page(*EXPORTING)
def exports_request_file(request_id: int):
    try:
        with uow.savepoint():
            export = service.download(session=db.session, actor=actor(), request_id=request_id)
    except (Conflict, Forbidden) as exc:
        flash(translate(exc.message), "error")
        return redirect(url_for("web.exports_home"), 303)
    return _attachment(export)


def _attachment(export):
    import io

    response = send_file(io.BytesIO(export.content), mimetype=export.mimetype, as_attachment=True,
                         download_name=export.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- 导出审批: the administrators' decisions ----------------------------------------------------------------

def _approvals_page(*, errors: dict | None = None, summary: str | None = None, failed: int | None = None,
                    status: int = 200):
    me = actor()
    pending = service.recent_requests(session=db.session, actor=me,
                                      filters={"status": ExportRequestStatus.PENDING.value, **_list_filters()})
    decided = [r for r in service.recent_requests(session=db.session, actor=me, limit=RECENT, filters=_list_filters())
               if r.status != ExportRequestStatus.PENDING]
    return render_template("web/exports/approvals.html", pending=pending, decided=decided,
                           usernames=_usernames(pending + decided), errors=errors or {}, summary=summary,
                           failed=failed, me=me, days=service.approval_days(), kinds=KIND_LABELS,
                           statuses=STATUS_LABELS, sensitive=service.SENSITIVE_COLUMNS,
                           params_of=service.params_of, personal_columns=personal_columns), status


@bp.route("/admin/export-requests")
@page(ADMIN)
def admin_export_requests():
    return _approvals_page()


@bp.route("/admin/export-requests/<id:request_id>/<any(approve, refuse):decision>", methods=["POST"])
@page(ADMIN)
def admin_export_request_decide(request_id: int, decision: str):
    outcome = run_form(lambda: service.decide(session=db.session, actor=actor(), request_id=request_id,
                                              approve=decision == "approve", note=text(request.form, "note")))
    if not outcome.ok:
        return _approvals_page(errors=outcome.errors, summary=outcome.summary, failed=request_id,
                               status=outcome.status)
    flash(_("The request is approved.") if decision == "approve" else _("The request is refused."), "info")
    return redirect(url_for("web.admin_export_requests"), 303)
