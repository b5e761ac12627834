"""Pre-release hand-over (预释放信息对接): the administrator uploads a prison's list, sees per office what it
would open and update, then imports it. The file travels from the preview to the import inside the form, so
nothing is kept on the server in between; the import checks every row again. A list too long to check or import
while the page waits (more than IMPORT_INLINE_MAX_ROWS rows) becomes a background job, and the page goes to the
job's page, which follows it and shows the same figures per office."""

from __future__ import annotations

import base64
import binascii

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from matcher import uow
from matcher.auth.models import Role
from matcher.errors import DomainError, Invalid, translate
from matcher.extensions import db
from matcher.jobs import service as jobs
from matcher.transfer.columns import RELEASE_LIST_COLUMNS
from matcher.transfer.service import ROW_KEY, import_file
from matcher.web.base import actor, bp, page
from matcher.web.forms import error_status, leaves

ADMIN = Role.ADMINISTRATOR
KIND = "release_list"
NO_FILE = _l("Choose the list to upload (CSV or .xlsx).")


def _row_errors(exc: DomainError) -> list[dict]:
    """Errors by spreadsheet row and column, translated, in row order."""
    rows = (exc.errors or {}).get("rows") or {}
    out = []
    for number, columns in sorted(rows.items(), key=lambda item: int(item[0])):
        for column, messages in columns.items():
            out.append({"row": number, "column": "" if column == ROW_KEY else column, "messages": leaves(messages)})
    return out


def _file_errors(exc: DomainError) -> list[str]:
    return [message for key, value in (exc.errors or {}).items() if key != "rows" for message in leaves(value)]


def _page(*, report=None, error=None, content: str | None = None, filename: str | None = None,
          imported: bool = False, status: int = 200):
    row_errors = _row_errors(error) if error is not None else []
    return render_template(
        "web/admin/release_lists.html", columns=RELEASE_LIST_COLUMNS, report=report, imported=imported,
        summary=translate(error.message) if error is not None else None, row_errors=row_errors,
        file_errors=_file_errors(error) if error is not None else [], content=content, filename=filename), status


def _as_job(data: bytes, filename: str | None, *, dry_run: bool):
    """For a long list: the job that checks or imports it, and the answer that goes to its page; else None."""
    if not jobs.import_needs_job(KIND, data, filename):
        return None
    try:
        with uow.savepoint():
            job = jobs.submit(db.session, actor(), "import", {"kind": KIND, "dry_run": dry_run},
                              payload={"data": data, "filename": filename})
    except DomainError as exc:
        return _page(error=exc, status=error_status(exc))
    return redirect(url_for("web.job_page", job_id=job.id), 303)


@bp.route("/admin/release-lists")
@page(ADMIN)
def admin_release_lists():
    return _page()


@bp.route("/admin/release-lists/preview", methods=["POST"])
@page(ADMIN)
def admin_release_list_preview():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(error=Invalid(NO_FILE), status=422)
    data = upload.read()
    long_list = _as_job(data, upload.filename, dry_run=True)
    if long_list is not None:
        return long_list
    try:
        with uow.savepoint():
            report = import_file(session=db.session, actor=actor(), kind=KIND, data=data, filename=upload.filename,
                                 dry_run=True)
    except DomainError as exc:
        return _page(error=exc, status=error_status(exc))
    return _page(report=report, content=base64.b64encode(data).decode("ascii"), filename=upload.filename)


@bp.route("/admin/release-lists/import", methods=["POST"])
@page(ADMIN)
def admin_release_list_import():
    filename = (request.form.get("filename") or "").strip() or None
    try:
        data = base64.b64decode(request.form.get("content") or "", validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        return _page(error=Invalid(NO_FILE), status=422)
    long_list = _as_job(data, filename, dry_run=False)
    if long_list is not None:
        return long_list
    try:
        with uow.savepoint():
            report = import_file(session=db.session, actor=actor(), kind=KIND, data=data, filename=filename)
    except DomainError as exc:
        return _page(error=exc, status=error_status(exc))
    return _page(report=report, imported=True)

