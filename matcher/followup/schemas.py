"""Schemas for follow-up checks, their completion, the bureau's overdue counts, and re-offence records."""

from __future__ import annotations

from marshmallow import fields, post_load, validate

from matcher.apiutil import IdField, Instant, Schema, sort_field
from matcher.candidates.schemas import OfficeRefSchema
from matcher.followup.models import TaskStatus
from matcher.followup.service import Result, is_overdue
from matcher.referrals.lifecycle import END_REASONS, EndReason, ReferralStatus
from matcher.referrals.schemas import CandidateCardSchema, SlotRefSchema


class TaskListQuerySchema(Schema):
    status = fields.Enum(TaskStatus, by_value=True)
    overdue = fields.Bool(metadata={"description": "true: open and due before today; false: all others."})
    due_within = fields.Int(validate=validate.Range(min=0, max=366),
                            metadata={"description": "Due from today to today + this many days."})
    office_id = IdField(metadata={"description": "The office that keeps the candidate's file."})
    district = fields.Str(validate=validate.Length(equal=6),
                          metadata={"description": "A district of your bureau's area (where the candidate lives)."})
    candidate_id = IdField()
    referral_id = IdField()
    sort = sort_field(["due_on"], "due_on")


class TaskReferralSchema(Schema):
    id = fields.Int()
    status = fields.Enum(ReferralStatus, by_value=True)
    started_on = fields.Date(allow_none=True)
    slot = fields.Nested(SlotRefSchema)


class TaskReadSchema(Schema):
    id = fields.Int()
    days = fields.Int(metadata={"description": "30, 90 or 180 days after the start."})
    due_on = fields.Date()
    status = fields.Enum(TaskStatus, by_value=True)
    overdue = fields.Function(is_overdue, metadata={"description": "Open and past its date."})
    done_on = fields.Date(allow_none=True)
    done_by_id = IdField(allow_none=True)
    note = fields.Str(allow_none=True)
    referral = fields.Nested(TaskReferralSchema)
    candidate = fields.Nested(CandidateCardSchema, attribute="candidate_card",
                              metadata={"description": "Pseudonymous for employers (the name only after consent)."})
    office = fields.Nested(OfficeRefSchema, attribute="follow_up_office", allow_none=True,
                           metadata={"description": "The office that follows up; caseworkers and administrators."})


class TaskCompleteSchema(Schema):
    result = fields.Enum(Result, by_value=True, required=True, metadata={
        "description": "staying: confirm the stay (once its days have passed); left: the placement ends "
                       "(reason required); unreachable: note the attempt, the check stays open."})
    on_date = fields.Date(metadata={"description": "When it was found out; today if omitted."})
    reason_code = fields.Enum(EndReason, by_value=True, allow_none=True, metadata={
        "description": "Why the person left (required with left): " + ", ".join(END_REASONS[ReferralStatus.LEFT])
                       + ". The only reason the base learns."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=280), metadata={
        "description": "An office's note stays on the check, read only by the caseworkers of the file's "
                       "jurisdiction. A base's note goes with the ending to the office (shared)."})
    reason = fields.Str(allow_none=True, validate=validate.Length(min=1, max=500), load_only=True, metadata={
        "deprecated": True, "description": "Deprecated: free text, kept as the note; reason_code is then 'other'."})

    @post_load
    def _deprecated_reason(self, data, **_kwargs):
        reason = data.pop("reason", None)
        if reason:
            data.setdefault("note", reason[:280])
            if data.get("result") == Result.LEFT and data.get("reason_code") is None:
                data["reason_code"] = EndReason.OTHER
        return data


class OfficeOverdueSchema(Schema):
    office = fields.Nested(OfficeRefSchema)
    overdue = fields.Int(metadata={"description": "Open checks past their date."})
    open = fields.Int(metadata={"description": "Open checks, overdue or not."})
    oldest_due_on = fields.Date(allow_none=True, metadata={"description": "The date of the oldest overdue check."})


class OverdueQuerySchema(Schema):
    district = fields.Str(validate=validate.Length(equal=6),
                          metadata={"description": "A district of your bureau's area (where the candidate lives)."})


class ReoffenceCreateSchema(Schema):
    recorded_on = fields.Date(required=True, metadata={"description": "When the new offence became known."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=300))


class ReoffenceReadSchema(ReoffenceCreateSchema):
    id = fields.Int()
    candidate_id = IdField()
    recorded_by_id = IdField(allow_none=True)
    created_at = Instant()
