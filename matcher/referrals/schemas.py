"""Schemas for referrals and their moves."""

from __future__ import annotations

from marshmallow import fields, post_load, validate

from matcher.apiutil import IdField, Instant, PlaceOutSchema, Schema, sort_field
from matcher.candidates.schemas import CandidateSkillOutSchema
from matcher.referrals.lifecycle import END_REASONS, EndReason, Milestone, ReferralStatus

NOTE = validate.Length(max=500)
SHARED_NOTE = "Written for the base: read by the base and by the office that keeps the file."
INTERNAL_NOTE = "The office's internal note: read only by the caseworkers of the file's jurisdiction, never by a base."


class ReferralCreateSchema(Schema):
    candidate_id = IdField(required=True)
    slot_id = IdField(required=True)
    shared_note = fields.Str(allow_none=True, validate=NOTE, metadata={"description": SHARED_NOTE})
    internal_note = fields.Str(allow_none=True, validate=NOTE, metadata={"description": INTERNAL_NOTE})
    note = fields.Str(allow_none=True, validate=NOTE, load_only=True, metadata={
        "deprecated": True, "description": "Deprecated: read as internal_note (it never reaches the base)."})
    send = fields.Bool(load_default=False, metadata={"description": "Send to the base at once."})
    from_recommendation = fields.Bool(load_default=False, metadata={
        "description": "The referral follows a recommendation: the active model's score and version are kept."})

    @post_load
    def _deprecated_note(self, data, **_kwargs):
        if "note" in data:
            note = data.pop("note")
            data.setdefault("internal_note", note)
        return data


class TransitionSchema(Schema):
    to = fields.Enum(ReferralStatus, by_value=True, required=True)
    on_date = fields.Date(metadata={"description": "When it happened; today if omitted."})
    reason_code = fields.Enum(EndReason, by_value=True, allow_none=True, metadata={
        "description": "Why it ended, required to decline, withdraw or record leaving: the only reason the base "
                       "learns. Declined: " + ", ".join(END_REASONS[ReferralStatus.DECLINED]) + "; withdrawn: "
                       + ", ".join(END_REASONS[ReferralStatus.WITHDRAWN]) + "; left: "
                       + ", ".join(END_REASONS[ReferralStatus.LEFT]) + "."})
    shared_note = fields.Str(allow_none=True, validate=NOTE, metadata={
        "description": SHARED_NOTE + " A base's own words are always a shared note."})
    internal_note = fields.Str(allow_none=True, validate=NOTE, metadata={"description": INTERNAL_NOTE})
    reason = fields.Str(allow_none=True, validate=validate.Length(min=1, max=500), load_only=True, metadata={
        "deprecated": True, "description": "Deprecated: free text, kept as the mover's note (a base's is shared, "
                                           "an office's internal); an ending without reason_code is then 'other'."})


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
    reason_code = fields.Enum(EndReason, by_value=True, allow_none=True)
    shared_note = fields.Str(allow_none=True, metadata={"description": SHARED_NOTE})
    internal_note = fields.Str(allow_none=True, metadata={"description": INTERNAL_NOTE})
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
    milestone = fields.Enum(Milestone, by_value=True, allow_none=True,
                            metadata={"description": "The furthest the placement got, kept after it ends."})
    end_code = fields.Enum(EndReason, by_value=True, allow_none=True, metadata={
        "description": "Why it ended, as a code: all a base learns of it."})
    shared_note = fields.Str(allow_none=True, metadata={"description": SHARED_NOTE})
    internal_note = fields.Str(allow_none=True, metadata={"description": INTERNAL_NOTE})
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
