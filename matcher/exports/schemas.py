"""What the export-request API reads and answers."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import Instant, Schema, sort_field
from matcher.exports.models import ExportRequestStatus
from matcher.exports.service import IDENTIFIED_KINDS, SENSITIVE_COLUMNS, params_of


class ExportRequestCreateSchema(Schema):
    kind = fields.Str(required=True, validate=validate.OneOf(tuple(IDENTIFIED_KINDS)),
                      metadata={"description": "candidates, referrals (administrators, caseworkers) or fair_plan "
                                               "(administrators, organisers)."})
    params = fields.Dict(load_default=dict, metadata={
        "description": "candidates, referrals: format (csv|xlsx), headers (en|zh), encoding (utf-8|gbk); "
                       "fair_plan: fair_id (required), lang (zh|en).",
        "example": {"format": "xlsx", "headers": "zh"}})
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=300),
                        metadata={"description": "Why identified data must leave the service."})


class ExportRequestQuerySchema(Schema):
    status = fields.Enum(ExportRequestStatus, by_value=True)
    kind = fields.Str(validate=validate.OneOf(tuple(IDENTIFIED_KINDS)))
    mine = fields.Bool(load_default=False, metadata={"description": "Administrators: only their own requests."})
    q = fields.Str(validate=validate.Length(max=100), metadata={
        "description": "The request's number, or any part of its reason or of the asker's username."})
    sort = sort_field(["id", "requested_at", "kind", "status"], "-id")


class ExportDecisionSchema(Schema):
    note = fields.Str(validate=validate.Length(max=300), metadata={
        "description": "Why: optional when approving, required when refusing."})


class ExportRequestReadSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    params = fields.Method("_params")
    reason = fields.Str()
    status = fields.Enum(ExportRequestStatus, by_value=True)
    sensitive_columns = fields.Method("_sensitive", metadata={
        "description": "The personal columns the file holds beyond the pseudonymous export (names only)."})
    requested_by_id = fields.Int()
    requested_at = Instant()
    decided_by_id = fields.Int(allow_none=True)
    decided_at = Instant(allow_none=True)
    decision_note = fields.Str(allow_none=True)
    expires_at = Instant(allow_none=True, metadata={"description": "Download before this moment."})
    used_at = Instant(allow_none=True)

    def _params(self, request) -> dict:
        return params_of(request)

    def _sensitive(self, request) -> list[str]:
        return list(SENSITIVE_COLUMNS.get(request.kind, ()))
