"""REST endpoint for retention runs: POST /api/v1/retention/runs (administrators; everyone else: 404)."""

from __future__ import annotations

import datetime as dt

from flask.views import MethodView
from marshmallow import fields, validate

from matcher import policy
from matcher.apiutil import Schema, blueprint
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.retention import service

blp = blueprint("retention", __name__, "/retention",
                "Archive files whose assistance ended long ago and remove their personal data (administrators).")


class RetentionRunSchema(Schema):
    dry_run = fields.Bool(load_default=False, metadata={"description": "Report what would be archived; change "
                                                                      "nothing."})
    as_of = fields.Date(validate=validate.Range(min=dt.date(2000, 1, 1), max=dt.date(2100, 12, 31)),
                        metadata={"description": "Run as on this day (default: today)."})
    days = fields.Int(validate=validate.Range(min=0, max=36500),
                      metadata={"description": "Days after the end of assistance (default: XINTU_RETENTION_DAYS)."})


class RetentionOfficeSchema(Schema):
    office_id = fields.Int()
    office = fields.Str()
    due = fields.Int()
    archived = fields.Int()
    skipped = fields.Dict(keys=fields.Str(), values=fields.Int())


class RetentionReportSchema(Schema):
    as_of = fields.Date()
    retention_days = fields.Int()
    cutoff = fields.Date(metadata={"description": "Files whose assistance ended before this day are due."})
    dry_run = fields.Bool()
    due = fields.Int()
    archived = fields.Int(metadata={"description": "Files archived (on a dry run: that would be)."})
    skipped = fields.Dict(keys=fields.Str(), values=fields.Int(),
                          metadata={"description": "Due files left as they are, by reason (live_referral, "
                                                   "open_follow_up)."})
    offices = fields.List(fields.Nested(RetentionOfficeSchema))


@blp.route("/runs")
class RetentionRuns(MethodView):
    @blp.arguments(RetentionRunSchema)
    @blp.response(200, RetentionReportSchema)
    def post(self, data):
        """Run retention now (or as a dry run) and get the report"""
        actor = current_actor()
        policy.require(actor, policy.Rule.RETENTION_RUN)
        return service.run(session=db.session, actor=actor, **data).as_dict()
