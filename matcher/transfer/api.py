"""REST endpoints for imports and exports: /api/v1/imports, /api/v1/exports."""

from __future__ import annotations

from flask import Response, jsonify, url_for
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from matcher.apiutil import Schema, blueprint
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.jobs import service as jobs
from matcher.jobs.schemas import JobSchema
from matcher.transfer import service
from matcher.transfer.columns import EXPORT_KINDS, KINDS
from matcher.transfer.files import XLSX_MIMETYPE

blp = blueprint("transfer", __name__, "", "Import and export spreadsheets (CSV UTF-8/GBK, Excel).")

KIND_RULE = f"any({', '.join(KINDS)})"
EXPORT_KIND_RULE = f"any({', '.join(EXPORT_KINDS)})"


class ImportQuerySchema(Schema):
    dry_run = fields.Bool(load_default=False,
                          metadata={"description": "Check every row and report, changing nothing."})


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "A .csv (UTF-8 or GBK) or .xlsx file."})


class ImportReportSchema(Schema):
    kind = fields.Str()
    dry_run = fields.Bool()
    rows = fields.Int(metadata={"description": "Data rows read from the file."})
    created = fields.Int(metadata={"description": "Rows created (0 on a dry run)."})
    updated = fields.Int(metadata={"description": "release_list only: files updated (0 on a dry run)."})
    offices = fields.List(fields.Dict(), metadata={
        "description": "release_list only: per judicial office, the files created and updated (on a dry run: "
                       "that would be), how many are under dual registration, key subjects, still pre-release."})
    occupation_suggestions = fields.List(fields.Dict(), metadata={
        "description": "slots only: each job row without an occupation code (row, title) with the code of the 2022 "
                       "classification suggested from its title (code, name_zh, score). A suggestion: the code is "
                       "not filled in; write it in the file, or pick it on the slot's form."})


class ExportQuerySchema(Schema):
    format = fields.Str(load_default="csv", validate=validate.OneOf(service.FORMATS))
    headers = fields.Str(load_default="en", validate=validate.OneOf(service.HEADER_LANGUAGES),
                         metadata={"description": "Column headers in English (the contract) or Chinese."})
    encoding = fields.Str(load_default="utf-8", validate=validate.OneOf(service.ENCODINGS),
                          metadata={"description": "CSV only: UTF-8 with BOM, or GBK."})
    values = fields.Str(validate=validate.OneOf(service.VALUES), metadata={
        "description": "labels: the pages' labels and place, course and skill names in the headers' language; "
                       "codes: the stored codes. Default: labels with Chinese headers, codes with English ones. "
                       "Both import again."})


@blp.route(f"/imports/<{KIND_RULE}:kind>")
class Imports(MethodView):
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.arguments(UploadSchema, location="files")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(202, schema=JobSchema, description=(
        "The file has more data rows than the server imports while the request waits (1,000 by default, "
        "XINTU_IMPORT_INLINE_MAX_ROWS): it became an import job, as POST /jobs/imports/{kind} makes. `Location` "
        "is the job: GET it for the progress, then the report (its `result`) or the row errors."))
    def post(self, query, files, kind):
        """Import a spreadsheet: every row is checked, then all rows are created or none

        Errors come back as a 422 with `errors.rows` keyed by spreadsheet row number (header = row 1),
        then by column. See docs/formats.md for the columns of each kind. A file of more than 1,000 data rows
        (XINTU_IMPORT_INLINE_MAX_ROWS) is imported as a job instead: the answer is then 202 with the job and a
        `Location` to follow.
        """
        upload = files["file"]
        data = upload.read()
        if jobs.import_needs_job(kind, data, upload.filename):
            job = jobs.submit(db.session, current_actor(), "import", {"kind": kind, "dry_run": query["dry_run"]},
                              payload={"data": data, "filename": upload.filename})
            response = jsonify(JobSchema().dump(jobs.job_view(job)))
            response.status_code = 202
            response.headers["Location"] = url_for("jobs.JobById", job_id=job.id)
            return response
        report = service.import_file(session=db.session, actor=current_actor(), kind=kind,
                                     data=data, filename=upload.filename, dry_run=query["dry_run"])
        return report.as_dict()


@blp.route(f"/exports/<{EXPORT_KIND_RULE}:kind>")
class Exports(MethodView):
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(responses={"200": {"description": "The file, as an attachment.", "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}},
    }}})
    def get(self, query, kind):
        """Download everything of a kind you may see, as CSV or Excel"""
        export = service.export_file(session=db.session, actor=current_actor(), kind=kind, **query)
        response = Response(export.content, content_type=export.mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response.headers["X-Row-Count"] = str(export.count)
        return response
