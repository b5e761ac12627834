"""Schemas for recommendations, eligibility, assignment plans and the model registry."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from matcher.apiutil import MAX_PAGE_SIZE, IdField, Instant, Schema
from matcher.engine.ranking import ORDERS
from matcher.external_ids import MAX_LENGTH
from matcher.matching.service.assignment import MAX_NAMED, RELEASE_PERIOD_BACKWARDS
from matcher.matching.service.registry import outcomes_learned_from as learned_from
from matcher.referrals.schemas import CandidateCardSchema
from matcher.slots.schemas import SlotReadSchema


class PageQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Int(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class SlotRecommendationQuerySchema(PageQuerySchema):
    order = fields.Str(load_default="fit", validate=validate.OneOf(ORDERS), metadata={"description": (
        "fit (default): slots within the person's travel limit and, for jobs, with a required skill held, first, "
        "then by score; score; distance (nearest first); starts_on (earliest first); pay (highest first).")})
    course = fields.Str(validate=validate.Length(min=1, max=40), metadata={"description": "A course code."})
    kind = fields.Str(validate=validate.OneOf(["job", "training"]))
    district = fields.Str(validate=validate.Regexp(r"^\d{6}(\d{3})?$"),
                          metadata={"description": "A district or township code; slots inside it."})
    starts_from = fields.Date(metadata={"description": "Slots starting on or after this day."})
    starts_to = fields.Date(metadata={"description": "Slots starting on or before this day."})

    @validates_schema
    def _period(self, data, **_kwargs):
        if data.get("starts_from") and data.get("starts_to") and data["starts_from"] > data["starts_to"]:
            raise ValidationError(_l("The end of the period is before its start."), "starts_to")


class ReasonSchema(Schema):
    code = fields.Str()
    value = fields.Float()
    effect = fields.Float(metadata={"description": "How much this fact moved the score (probability points)."})
    text_zh = fields.Str()
    text_en = fields.Str()


class SlotRecommendationSchema(Schema):
    slot = fields.Nested(SlotReadSchema)
    score = fields.Float(metadata={"description": "Predicted probability of starting and staying the horizon."})
    value = fields.Float(allow_none=True, metadata={
        "description": "What the slots are ranked by: the chance that the slot's base answers a referral (its "
                       "smoothed response rate) x score."})
    base_answer = fields.Nested(ReasonSchema, allow_none=True, metadata={
        "description": "The base's recent response rate against the target (code base_answer_rate; value: the "
                       "smoothed chance it answers). None while no referral to it is due an answer."})
    demoted = fields.Bool(metadata={"description": "Ranked lower: the base answers less often than the target."})
    month_full = fields.Nested(ReasonSchema, allow_none=True, metadata={
        "description": "The base has had its month's referrals (its size band's cap): referring now is refused."})
    reasons = fields.List(fields.Nested(ReasonSchema))
    sentence_zh = fields.Str()
    sentence_en = fields.Str()


class CandidateRecommendationSchema(Schema):
    candidate = fields.Nested(CandidateCardSchema, attribute="card")
    score = fields.Float()
    reasons = fields.List(fields.Nested(ReasonSchema))
    sentence_zh = fields.Str()
    sentence_en = fields.Str()


class SlotRecommendationPageSchema(Schema):
    model_version = fields.Str()
    model_kind = fields.Str(metadata={"description": "learned, or prior while history is too short"})
    total = fields.Int(metadata={"description": "Eligible slots in all."})
    items = fields.List(fields.Nested(SlotRecommendationSchema))


class CandidateRecommendationPageSchema(Schema):
    model_version = fields.Str()
    model_kind = fields.Str()
    total = fields.Int()
    items = fields.List(fields.Nested(CandidateRecommendationSchema))


class EligibilityReasonSchema(Schema):
    code = fields.Str()
    text_zh = fields.Str()
    text_en = fields.Str()


class EligibilitySchema(Schema):
    eligible = fields.Bool()
    reasons = fields.List(fields.Nested(EligibilityReasonSchema))




class AssignmentParamsSchema(Schema):
    district = fields.Str(validate=validate.Length(min=6, max=12),
                          metadata={"description": "Only candidates living (and slots) in this place."})
    course = fields.Str(validate=validate.Length(max=32))
    starts_before = fields.Date(metadata={"description": "Only slots starting by this date."})
    key_subject_weight = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=2))
    waiting_weight_per_year = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=2))
    base_cap = fields.Int(validate=validate.Range(min=1, max=10_000),
                          metadata={"description": "At most this many candidates per base."})
    released_from = fields.Date(metadata={"description": "Only candidates released on or after this day."})
    released_to = fields.Date(metadata={"description": "Only candidates released on or before this day."})
    candidate_ids = fields.List(IdField(), validate=validate.Length(min=1, max=MAX_NAMED), metadata={
        "description": "Only these candidates (Xintu's ids; with candidate_references: either list)."})
    slot_ids = fields.List(IdField(), validate=validate.Length(min=1, max=MAX_NAMED), metadata={
        "description": "Only these slots (Xintu's ids; with slot_references: either list)."})
    candidate_references = fields.List(
        fields.Str(validate=validate.Length(min=1, max=MAX_LENGTH)), validate=validate.Length(min=1, max=MAX_NAMED),
        metadata={"description": "Only these candidates: the bureau's references (本单位编号, looked up in your "
                                 "area), or Xintu's ids or public ids. Every one must be found."})
    slot_references = fields.List(
        fields.Str(validate=validate.Length(min=1, max=MAX_LENGTH)), validate=validate.Length(min=1, max=MAX_NAMED),
        metadata={"description": "Only these open slots: the bureau's references, or Xintu's ids. Every one must be "
                                 "found."})

    @validates_schema
    def _period(self, data, **_kwargs):
        if data.get("released_from") and data.get("released_to") and data["released_from"] > data["released_to"]:
            raise ValidationError({"released_to": [RELEASE_PERIOD_BACKWARDS]})


class AssignmentItemSchema(Schema):
    candidate_id = fields.Int()
    candidate_public_id = fields.Str()
    candidate_external_id = fields.Str(allow_none=True, metadata={"description": "The bureau's reference."})
    slot_id = fields.Int()
    slot_external_id = fields.Str(allow_none=True, metadata={"description": "The bureau's reference."})
    score = fields.Float()
    value = fields.Float()
    referral_id = fields.Int(allow_none=True)


class AssignmentDraftSchema(Schema):
    id = fields.Int()
    status = fields.Str()
    model_version = fields.Str()
    params = fields.Function(lambda d: json.loads(d.params_json))
    summary = fields.Function(lambda d: json.loads(d.summary_json))
    objective = fields.Float()
    greedy_objective = fields.Float()
    created_at = Instant()
    confirmed_at = Instant(allow_none=True)
    items = fields.List(fields.Nested(AssignmentItemSchema))


class AssignmentDraftListSchema(AssignmentDraftSchema):
    class Meta:
        exclude = ("items",)


class ModelSchema(Schema):
    version = fields.Str()
    kind = fields.Str()
    horizon_days = fields.Int()
    active = fields.Bool()
    created_at = Instant()
    activated_at = Instant(allow_none=True)
    card = fields.Function(lambda m: json.loads(m.card_json))
    outcomes_learned_from = fields.Function(
        learned_from,
        metadata={"description": "How many referrals with known outcomes the model learned from."})


class EvaluationQuerySchema(Schema):
    horizon_days = fields.Int(load_default=90, validate=validate.OneOf([30, 90, 180]))
    split_on = fields.Date(metadata={"description": "Train before, test from this date (default: last quarter)."})


class BanCreateSchema(Schema):
    kind = fields.Str(load_default="court_order", validate=validate.OneOf(["court_order", "statutory"]))
    courses = fields.List(fields.Str(validate=validate.Length(max=32)), load_default=list)
    occupations = fields.List(fields.Str(validate=validate.Length(max=16)), load_default=list)
    until = fields.Date(allow_none=True, metadata={"description": "Last day of the ban; empty for life."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=300))


class BanReadSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    courses = fields.Function(lambda b: [c for c in b.courses.split(",") if c])
    occupations = fields.Function(lambda b: [c for c in b.occupations.split(",") if c])
    until = fields.Date(allow_none=True)
    note = fields.Str(allow_none=True)
