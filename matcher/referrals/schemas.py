"""Schemas for referrals and their moves."""

from __future__ import annotations

from marshmallow import fields, validate

from matcher.apiutil import IdField, Instant, PlaceOutSchema, Schema, sort_field
from matcher.candidates.schemas import CandidateSkillOutSchema
from matcher.referrals.models import ReferralStatus


class ReferralCreateSchema(Schema):
    candidate_id = IdField(required=True)
    slot_id = IdField(required=True)
    note = fields.Str(allow_none=True, validate=validate.Length(max=500))
    send = fields.Bool(load_default=False, metadata={"description": "Send to the base at once."})
    from_recommendation = fields.Bool(load_default=False, metadata={
        "description": "The referral follows a recommendation: the active model's score and version are kept."})


class TransitionSchema(Schema):
    to = fields.Enum(ReferralStatus, by_value=True, required=True)
    on_date = fields.Date(metadata={"description": "When it happened; today if omitted."})
    reason = fields.Str(allow_none=True, validate=validate.Length(min=1, max=500),
                        metadata={"description": "Required to decline, withdraw or record leaving."})


class CandidateCardSchema(Schema):
    id = fields.Int(allow_none=True, metadata={"description": "Only for caseworkers and administrators."})
    public_id = fields.Str()
    name = fields.Str(allow_none=True, metadata={
        "description": "A base sees it only with the candidate's consent to disclose it to that base for the "
                       "referral's stage (interview before the start, employment from the start on)."})
    phone = fields.Str(allow_none=True, metadata={"description": "Contact: as name; absent without consent."})
    education = fields.Str()
    skills = fields.List(fields.Nested(CandidateSkillOutSchema))
    certificates = fields.List(fields.Str())
    preferred_courses = fields.List(fields.Str())
    residence_district = fields.Nested(PlaceOutSchema, allow_none=True)
    needs_housing = fields.Bool()
    earliest_start = fields.Date(allow_none=True)


class ReferralEventSchema(Schema):
    from_status = fields.Enum(ReferralStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(ReferralStatus, by_value=True)
    on_date = fields.Date()
    reason = fields.Str(allow_none=True)
    actor_id = IdField(allow_none=True)
    at = Instant()


class SlotRefSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    kind = fields.Str()
    company_id = IdField()
    company_name = fields.Function(lambda slot: slot.company.name)


class ReferralReadSchema(Schema):
    id = fields.Int()
    status = fields.Enum(ReferralStatus, by_value=True)
    candidate = fields.Nested(CandidateCardSchema, attribute="candidate_card")
    slot = fields.Nested(SlotRefSchema)
    holds_seat = fields.Bool()
    started_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    end_reason = fields.Str(allow_none=True)
    note = fields.Str(allow_none=True)
    score = fields.Float(allow_none=True)
    model_version = fields.Str(allow_none=True)
    next_moves = fields.List(fields.Str(), metadata={"description": "Moves your role can make now."})
    events = fields.List(fields.Nested(ReferralEventSchema))
    created_at = Instant()
    updated_at = Instant()


class ReferralListQuerySchema(Schema):
    status = fields.Enum(ReferralStatus, by_value=True)
    slot_id = IdField()
    candidate_id = IdField()
    open = fields.Bool(metadata={"description": "Only referrals that have not ended."})
    sort = sort_field(["created_at", "updated_at"], "-updated_at")
