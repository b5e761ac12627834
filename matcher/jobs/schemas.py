"""Schemas of the jobs API: what a job asks (its kind and parameters) and what it answers (status, progress,
result, links). The parameters of each kind are checked by the schema its synchronous endpoint uses."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from matcher.apiutil import Instant, Schema
from matcher.jobs.models import JobStatus


class TrainParamsSchema(Schema):
    """`train`: the options of `flask model train`."""

    horizon_days = fields.Int(load_default=90, validate=validate.OneOf([30, 90, 180]),
                              metadata={"description": "Days a placement must last to count as staying."})
    activate = fields.Bool(load_default=False, metadata={"description": "Make the new model the active scorer."})


class RetrainParamsSchema(Schema):
    """`retrain`: the options of `flask model retrain`."""

    min_new_outcomes = fields.Int(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    activate_if_better = fields.Bool(load_default=False)


class ImportParamsSchema(Schema):
    """`import`: the query of `POST /imports/{kind}` (the file travels beside the job, never in the database)."""

    kind = fields.Str(required=True)
    dry_run = fields.Bool(load_default=False)


class JobSubmitSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(["train", "retrain", "assignment"]),
                      metadata={"description": "train, retrain or assignment (imports: POST /jobs/imports/{kind})."})
    params = fields.Dict(load_default=dict, metadata={
        "description": "train: horizon_days, activate; retrain: min_new_outcomes, activate_if_better; "
                       "assignment: the body of POST /assignments."})


class JobImportQuerySchema(Schema):
    dry_run = fields.Bool(load_default=False,
                          metadata={"description": "Check every row and report, changing nothing."})


class JobUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "A .csv (UTF-8 or GBK) or .xlsx file."})


class JobListQuerySchema(Schema):
    status = fields.Str(validate=validate.OneOf([s.value for s in JobStatus]))
    kind = fields.Str(validate=validate.Length(max=32))


class JobSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    status = fields.Str()
    done = fields.Int()
    total = fields.Int(allow_none=True)
    percent = fields.Int(allow_none=True, metadata={"description": "done / total in per cent, when total is known."})
    message = fields.Str(allow_none=True, metadata={"description": "The current step, in the reader's language."})
    params = fields.Dict()
    result = fields.Dict(allow_none=True)
    error = fields.Str(allow_none=True, metadata={"description": "Why it failed, in the reader's language."})
    errors = fields.Dict(allow_none=True, metadata={"description": "Field or row errors of a failed job."})
    links = fields.Dict(metadata={"description": "Where to see the job and its result (API and pages)."})
    created_by_id = fields.Int(allow_none=True)
    created_at = Instant()
    started_at = Instant(allow_none=True)
    finished_at = Instant(allow_none=True)
