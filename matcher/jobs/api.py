"""REST endpoints for long jobs: /api/v1/jobs (submit, list, read progress and result)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.jobs import service
from matcher.jobs.schemas import (
    JobImportQuerySchema,
    JobListQuerySchema,
    JobSchema,
    JobSubmitSchema,
    JobUploadSchema,
)
from matcher.transfer.columns import KINDS as IMPORT_KINDS

blp = blueprint("jobs", __name__, "", "Long jobs (training, batch assignment, large imports) and their progress.")

IMPORT_KIND_RULE = f"any({', '.join(IMPORT_KINDS)})"


def _accepted(job):
    view = service.job_view(job)
    return view, 202, {"Location": url_for("jobs.JobById", job_id=job.id)}


@blp.route("/jobs")
class Jobs(MethodView):
    @blp.arguments(JobListQuerySchema, location="query")
    @blp.response(200, JobSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, query, pagination_parameters):
        """Your jobs, newest first (administrators: everyone's); filter by status or kind"""
        stmt = service.list_jobs(session=db.session, actor=current_actor(), **query)
        return [service.job_view(job) for job in paginate_select(db.session, stmt, pagination_parameters)]

    @blp.arguments(JobSubmitSchema)
    @blp.response(202, JobSchema)
    @blp.doc(responses={"202": {"description": "Accepted: the job is queued or running; `Location` is where "
                                               "to read its progress."}})
    def post(self, data):
        """Start a long job: train or retrain a model (administrators), plan a batch assignment

        The parameters are checked as the synchronous endpoint checks them (422 naming the field); the answer
        comes at once (202) and `GET /jobs/{id}` shows the progress, then the result or why it failed.
        """
        job = service.submit(db.session, current_actor(), data["kind"], data["params"])
        return _accepted(job)


@blp.route(f"/jobs/imports/<{IMPORT_KIND_RULE}:kind>")
class JobImports(MethodView):
    @blp.arguments(JobImportQuerySchema, location="query")
    @blp.arguments(JobUploadSchema, location="files")
    @blp.response(202, JobSchema)
    def post(self, query, files, kind):
        """Import a large spreadsheet as a job (the same form and rules as POST /imports/{kind})"""
        upload = files["file"]
        job = service.submit(db.session, current_actor(), "import", {"kind": kind, "dry_run": query["dry_run"]},
                             payload={"data": upload.read(), "filename": upload.filename})
        return _accepted(job)


@blp.route("/jobs/<id:job_id>")
class JobById(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """A job's status, progress (done of total, percent, the current step), result or error, and links"""
        return service.job_view(service.get_job(session=db.session, actor=current_actor(), job_id=job_id))
