"""Identified exports: asked for with a reason, approved by an administrator, downloaded once by the asker.

Every export is pseudonymous by default (matcher.transfer: personal columns left out; matcher.fairs.export:
file numbers instead of names). A file holding personal data (names, ID numbers, phones, addresses, offences,
risk grades) leaves the service only through an `ExportRequest`:

    pending --approve (an administrator other than the asker)--> approved --download (the asker, once)--> used
            --refuse (an administrator, with a note)-----------> refused
    approved --(expires_at passed: EXPORT_APPROVAL_DAYS after the approval)--> expired

The file is made when it is downloaded, within the asker's scope at that moment (a caseworker's candidates
file holds their office's files only, exactly as the pseudonymous one). Every step is audited with the names
of the sensitive columns the file holds, never their values. State changes are conditional UPDATEs, so two
administrators deciding at once, or two downloads racing, cannot both win (the loser gets a 409).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from matcher import clock, policy, uow
from matcher.apiutil import IdField, Schema, apply_sort
from matcher.audit.service import record as audit
from matcher.auth.models import Account, Role
from matcher.clock import today
from matcher.errors import Conflict, Forbidden, Invalid
from matcher.exports.models import ExportRequest, ExportRequestStatus
from matcher.notify import service as notices
from matcher.notify.models import NotificationKind
from matcher.transfer.columns import KIND_COLUMNS
from matcher.transfer.service import ENCODINGS, FORMATS, HEADER_LANGUAGES, ExportFile

ADMIN, CW, ORG = Role.ADMINISTRATOR, Role.CASEWORKER, Role.ORGANISER
S = ExportRequestStatus
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The kinds that hold personal data, and the roles that may have them identified.
IDENTIFIED_KINDS: dict[str, tuple[Role, ...]] = {
    "candidates": (ADMIN, CW),
    "referrals": (ADMIN, CW),
    "fair_plan": (ADMIN, ORG),
}
# What an identified file of each kind adds to the pseudonymous one (names only: they go into the audit log).
SENSITIVE_COLUMNS: dict[str, tuple[str, ...]] = {
    "candidates": tuple(c.name for c in KIND_COLUMNS["candidates"] if c.personal and c.exported),
    "referrals": tuple(c.name for c in KIND_COLUMNS["referrals"] if c.personal and c.exported),
    "fair_plan": ("name",),
}
OBJECT_TYPE = "export_request"
REASON_MAX = 300


class TableParamsSchema(Schema):
    """The options of a spreadsheet export (as GET /exports/{kind} takes them)."""

    format = fields.Str(load_default="csv", validate=validate.OneOf(FORMATS))
    headers = fields.Str(load_default="en", validate=validate.OneOf(HEADER_LANGUAGES))
    encoding = fields.Str(load_default="utf-8", validate=validate.OneOf(ENCODINGS))
    values = fields.Str(validate=validate.OneOf(("codes", "labels")))


class FairPlanParamsSchema(Schema):
    fair_id = IdField(required=True)
    lang = fields.Str(load_default="zh", validate=validate.OneOf(("zh", "en")))


PARAMS_SCHEMAS = {"candidates": TableParamsSchema, "referrals": TableParamsSchema, "fair_plan": FairPlanParamsSchema}


def approval_days() -> int:
    return int(current_app.config.get("EXPORT_APPROVAL_DAYS") or 7)


def params_of(request: ExportRequest) -> dict[str, Any]:
    return json.loads(request.params_json or "{}")


def _params(kind: str, raw: Any) -> dict[str, Any]:
    try:
        return PARAMS_SCHEMAS[kind]().load(raw or {})
    except ValidationError as exc:
        raise Invalid(_l("Some fields are not valid."), errors={"params": exc.messages}) from exc


# ---- asking ---------------------------------------------------------------------------------------------

def create_request(*, session: Session, actor: Account, data: dict) -> ExportRequest:
    """Ask for an identified export of `kind` (with its `params`), saying why (`reason`)."""
    kind = data["kind"]
    if kind not in IDENTIFIED_KINDS:  # the API's schema allows only these; the web form could send anything
        raise Invalid(_l("Only candidates, referrals and fair plans hold personal data; export the others "
                         "directly."), field="kind")
    if actor.role not in IDENTIFIED_KINDS[kind]:
        raise Forbidden(_l("Your role cannot have an identified export of %(kind)s.", kind=kind))
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise Invalid(_l("Say why the identified data is needed: a reason is required."), field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(_l("The reason is at most %(count)s characters.", count=REASON_MAX), field="reason")
    params = _params(kind, data.get("params"))
    if kind == "fair_plan":
        from matcher.fairs.service import get_fair

        get_fair(session=session, actor=actor, fair_id=params["fair_id"])  # a fair you cannot see: 404
    request = ExportRequest(kind=kind, params_json=json.dumps(params, sort_keys=True), reason=reason,
                            status=S.PENDING, requested_by_id=actor.id, requested_at=clock.now())
    session.add(request)
    session.flush()
    audit(session, actor=actor, action="request", object_type=OBJECT_TYPE, object_id=request.id,
          fields=SENSITIVE_COLUMNS[kind])
    # Every other administrator may decide it: each is told, and the notice is done once one has.
    deciders = [account_id for account_id, _prefix in notices.administrators(session) if account_id != actor.id]
    notices.notify(session, account_ids=deciders, kind=NotificationKind.EXPORT_REQUESTED,
                   key=f"export_request:{request.id}", subject_type=OBJECT_TYPE, subject_id=request.id,
                   params=_notice_params(request, requester=actor.username))
    uow.flush(session)
    return request


def _notice_params(request: ExportRequest, **more) -> dict[str, Any]:
    """What a notice about an export request may say: its number and kind (never the reason or the note)."""
    return {"number": request.id, "export": request.kind, **more}


def expire_due(session: Session) -> int:
    """Approvals past their expiry become expired (they could not be used any more anyway)."""
    now = clock.now()
    due = session.execute(select(ExportRequest.id, ExportRequest.kind, ExportRequest.requested_by_id)
                          .where(ExportRequest.status == S.APPROVED, ExportRequest.expires_at <= now)).all()
    if not due:
        return 0
    result = session.execute(update(ExportRequest)
                             .where(ExportRequest.id.in_([row.id for row in due]), ExportRequest.status == S.APPROVED)
                             .values(status=S.EXPIRED).execution_options(synchronize_session=False))
    # The requester learns it, and the approval's notice (download the file) is done: it cannot be any more.
    notices.complete_tasks(session, [notices.export_download_task(row.id) for row in due])
    notices.add_notifications(session, [
        notices.notification_row(row.requested_by_id, NotificationKind.EXPORT_EXPIRED, f"export_request:{row.id}",
                                 subject_type=OBJECT_TYPE, subject_id=row.id,
                                 params={"number": row.id, "export": row.kind}) for row in due])
    uow.flush(session)
    session.expire_all()
    return result.rowcount or 0


def list_requests(*, session: Session, actor: Account, filters: dict | None = None) -> Select:
    """The actor's requests (administrators: everyone's, or their own with `mine`), newest first."""
    filters = filters or {}
    expire_due(session)
    stmt = policy.export_requests(actor)
    if filters.get("status"):
        stmt = stmt.where(ExportRequest.status == S(filters["status"]))
    if filters.get("kind"):
        stmt = stmt.where(ExportRequest.kind == filters["kind"])
    if filters.get("mine"):
        stmt = stmt.where(ExportRequest.requested_by_id == actor.id)
    query = (filters.get("q") or "").strip().lstrip("#")
    if query:  # the request's number, any part of its reason, or of the asker's username
        matches = [ExportRequest.reason.contains(query, autoescape=True),
                   ExportRequest.requested_by_id.in_(select(Account.id).where(
                       Account.username.contains(query, autoescape=True)))]
        if query.isdigit():
            matches.append(ExportRequest.id == int(query))
        stmt = stmt.where(or_(*matches))
    sort = filters.get("sort") or "-id"
    if sort.lstrip("-") not in SORT_COLUMNS:
        sort = "-id"
    return apply_sort(stmt, sort, SORT_COLUMNS, ExportRequest.id.desc())


# The columns a list of requests may be sorted by (`sort`, "-" in front for descending; newest first by default).
SORT_COLUMNS = {"id": ExportRequest.id, "requested_at": ExportRequest.requested_at, "kind": ExportRequest.kind,
                "status": ExportRequest.status}


def get_request(*, session: Session, actor: Account, request_id: int) -> ExportRequest:
    expire_due(session)
    return policy.find(session, actor, policy.export_requests(actor), ExportRequest, request_id,
                       _l("No such export request."), object_type="export_request")


# ---- deciding -------------------------------------------------------------------------------------------

def decide(*, session: Session, actor: Account, request_id: int, approve: bool,
           note: str | None = None) -> ExportRequest:
    """An administrator approves (not their own request) or refuses (with a note) a pending request."""
    policy.require(actor, policy.Rule.EXPORT_APPROVE)
    request = get_request(session=session, actor=actor, request_id=request_id)
    note = (note or "").strip() or None
    if approve and request.requested_by_id == actor.id:
        raise Forbidden(_l("You cannot approve your own request: another administrator must decide it."))
    if note is not None and len(note) > REASON_MAX:
        raise Invalid(_l("The note is at most %(count)s characters.", count=REASON_MAX), field="note")
    if not approve and note is None:
        raise Invalid(_l("Say why the request is refused: a note is required."), field="note")
    if request.status != S.PENDING:
        raise Conflict(_l("This request was already decided (%(status)s).", status=request.status.value))
    now = clock.now()
    values: dict[str, Any] = {"status": S.APPROVED if approve else S.REFUSED, "decided_by_id": actor.id,
                              "decided_at": now, "decision_note": note}
    if approve:
        values["expires_at"] = now + dt.timedelta(days=approval_days())
    claimed = session.execute(update(ExportRequest)
                              .where(ExportRequest.id == request.id, ExportRequest.status == S.PENDING)
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if not claimed:  # another administrator decided in between
        raise Conflict(_l("This request was already decided."))
    audit(session, actor=actor, action="approve" if approve else "refuse", object_type=OBJECT_TYPE,
          object_id=request.id, fields=SENSITIVE_COLUMNS.get(request.kind, ()))
    # Decided: the other administrators' notices are done; the requester is told (and, approved, has a file to take).
    notices.complete_tasks(session, [notices.export_decision_task(request.id)])
    params = _notice_params(request)
    if approve:
        params["until"] = clock.china_date(values["expires_at"])
    notices.notify(session, account_ids=[request.requested_by_id],
                   kind=NotificationKind.EXPORT_APPROVED if approve else NotificationKind.EXPORT_REFUSED,
                   key=f"export_request:{request.id}", subject_type=OBJECT_TYPE, subject_id=request.id,
                   params=params)
    uow.flush(session)
    session.refresh(request)
    return request


# ---- downloading ----------------------------------------------------------------------------------------

CONFLICTS = {
    S.PENDING: _l("This request waits for an administrator's decision."),
    S.REFUSED: _l("This request was refused."),
    S.USED: _l("The file was already downloaded: an approval is good for one download. Ask again."),
    S.EXPIRED: _l("The approval has expired. Ask again."),
}


def download(*, session: Session, actor: Account, request_id: int) -> ExportFile:
    """The identified file of an approved request, for the account that asked, once, before the approval
    expires; the request is then `used`. Nothing is used up when making the file fails."""
    request = get_request(session=session, actor=actor, request_id=request_id)
    if request.requested_by_id != actor.id:
        raise Forbidden(_l("Only the account that asked for this export may download it."))
    if request.status != S.APPROVED:
        raise Conflict(CONFLICTS.get(request.status, _l("This request cannot be downloaded.")))
    claimed = session.execute(update(ExportRequest)
                              .where(ExportRequest.id == request.id, ExportRequest.status == S.APPROVED,
                                     ExportRequest.expires_at > clock.now())
                              .values(status=S.USED, used_at=clock.now())
                              .execution_options(synchronize_session=False)).rowcount
    if not claimed:  # downloaded in between, or it expired this very moment
        raise Conflict(CONFLICTS[S.USED])
    notices.complete_tasks(session, [notices.export_download_task(request.id)])
    params = params_of(request)
    if request.kind == "fair_plan":
        export = _fair_plan(session, actor, request, params)
    else:
        from matcher.transfer.service import export_file

        export = export_file(session=session, actor=actor, kind=request.kind, identified=True,
                             request_id=request.id, **params)  # audited in the claim's unit of work
    session.expire(request)
    return export


def _fair_plan(session: Session, actor: Account, request: ExportRequest, params: dict) -> ExportFile:
    from matcher.fairs.export import plan_workbook

    content = plan_workbook(session=session, actor=actor, fair_id=params["fair_id"], lang=params.get("lang", "zh"),
                            identified=True)
    audit(session, actor=actor, action="export", object_type=OBJECT_TYPE, object_id=request.id,
          fields=SENSITIVE_COLUMNS["fair_plan"])
    uow.flush(session)
    return ExportFile(content, f"fair-{params['fair_id']}-plan-identified-{today().isoformat()}.xlsx",
                      XLSX_MIMETYPE, 1)


def pending_count(session: Session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(ExportRequest)
                          .where(ExportRequest.status == S.PENDING)) or 0


def recent_requests(*, session: Session, actor: Account, filters: dict | None = None,
                    limit: int | None = None) -> list[ExportRequest]:
    """The newest requests `list_requests` selects (at most `limit`)."""
    stmt = list_requests(session=session, actor=actor, filters=filters)
    return list(session.scalars(stmt if limit is None else stmt.limit(limit)))
