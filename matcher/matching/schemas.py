"""Schemas for recommendations, eligibility, assignment plans and the model registry."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from matcher.apiutil import MAX_PAGE_SIZE, IdField, Instant, Schema
from matcher.engine.ranking import ORDERS
from matcher.external_ids import MAX_LENGTH
from matcher.matching.service.assignment import HOLD_WITH_CAP, MAX_NAMED, RELEASE_PERIOD_BACKWARDS
from matcher.matching.service.registry import outcomes_learned_from as learned_from
from matcher.referrals.schemas import CandidateCardSchema, SlotRefSchema
from matcher.slots.schemas import SlotReadSchema


class PageQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=10_000))
    page_size = fields.Int(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class SlotRecommendationQuerySchema(PageQuerySchema):
    order = fields.Str(load_default="fit", validate=validate.OneOf(ORDERS), metadata={"description": (
        "fit (default): slots within the person's travel limit and, for jobs, with a required skill held, first, "
        "then by score; score; distance (nearest first); starts_on (earliest first); pay (highest first); wish: the "
        "person's own utility (wished course, pay, nearness; see `utility_parts`) times the score, highest first.")})
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


class UtilityPartsSchema(Schema):
    wish = fields.Float(metadata={"description": "1 the first wished course, 0.66 the second, 0.33 the third, 0 none."})
    pay = fields.Float(metadata={"description": "Monthly pay over twice the usual pay, at most 1 (0.5: usual or "
                                                "unknown pay, and training seats)."})
    near = fields.Float(metadata={"description": "1 at home, falling to 0 at the person's travel limit."})


class FollowOnJobSchema(Schema):
    slot = fields.Nested(SlotRefSchema)
    score = fields.Float(metadata={"description": "P(start and stay) in the job for the person after the course."})


class PathSchema(Schema):
    course_end = fields.Date(metadata={"description": "The course's last day, for this person's intake."})
    p_course = fields.Float(metadata={"description": "P(start and stay) on the course: the seat's own score."})
    value = fields.Float(metadata={"description": "p_course x the best follow-on job's score."})
    opened = fields.Int(metadata={"description": "Open jobs the course opens in all."})
    jobs = fields.List(fields.Nested(FollowOnJobSchema), metadata={"description": "The best follow-on jobs."})


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
    utility = fields.Float(allow_none=True, metadata={
        "description": "order=wish: the person's utility, 0.5 x wish + 0.25 x pay + 0.25 x near; null otherwise."})
    utility_parts = fields.Nested(UtilityPartsSchema, allow_none=True)
    path = fields.Nested(PathSchema, allow_none=True, metadata={
        "description": "A training seat: the jobs its course opens after it ends (结业后可衔接的岗位); null for a "
                       "job."})


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

    hold_seats = fields.Bool(metadata={"description": (
        "Plan on a rolling horizon and hold seats: people released within horizon_days (the pre-release lists) "
        "compete with the people available now for slots starting after their release; a seat the plan gives to "
        "someone arriving is held (not referred now) when the expected gain is worth it. The plan's `holding` "
        "says the expected stays with and without holding and which seats are held for whom (public id, release "
        "date).")})
    horizon_days = fields.Int(validate=validate.Range(min=7, max=180), metadata={"description": (
        "Days ahead the plan looks at people to be released (default 90 with hold_seats). Given without "
        "hold_seats, the plan looks ahead without holding and still reports what holding would gain.")})

    @validates_schema
    def _period(self, data, **_kwargs):
        errors = {}
        if data.get("released_from") and data.get("released_to") and data["released_from"] > data["released_to"]:
            errors["released_to"] = [RELEASE_PERIOD_BACKWARDS]
        if (data.get("hold_seats") or data.get("horizon_days")) and data.get("base_cap"):
            errors["base_cap"] = [HOLD_WITH_CAP]
        if errors:
            raise ValidationError(errors)


class AssignmentItemSchema(Schema):
    candidate_id = fields.Int()
    candidate_public_id = fields.Str()
    candidate_external_id = fields.Str(allow_none=True, metadata={"description": "The bureau's reference."})
    slot_id = fields.Int()
    slot_external_id = fields.Str(allow_none=True, metadata={"description": "The bureau's reference."})
    score = fields.Float()
    value = fields.Float()
    referral_id = fields.Int(allow_none=True)


class HeldSeatSchema(Schema):
    candidate_public_id = fields.Str(metadata={"description": "The person's pseudonym (the file's public id)."})
    release_date = fields.Date(metadata={"description": "The release date the pre-release list gives."})
    slot_id = fields.Int()
    slot_title = fields.Str()
    company_name = fields.Str(allow_none=True)
    starts_on = fields.Date(metadata={"description": "When the slot (its fitting intake) starts."})
    score = fields.Float()


class HoldingSchema(Schema):
    hold_seats = fields.Bool(metadata={"description": "Whether holding seats was asked for."})
    holding = fields.Bool(metadata={"description": "Whether seats are held: asked for and worth it."})
    horizon_days = fields.Int()
    present = fields.Int(metadata={"description": "People available now."})
    arriving = fields.Int(metadata={"description": "People to be released within the horizon."})
    expected_stays_with_holding = fields.Float()
    expected_stays_without_holding = fields.Float()
    expected_gain = fields.Float(metadata={"description": "Expected stays with holding minus without."})
    seats_held = fields.Int()
    planned_later = fields.Int(metadata={"description": (
        "People available now whose planned slot starts after refer_within_days: referred by a later week's plan.")})
    refer_within_days = fields.Int()
    arrival_certainty = fields.Float(metadata={"description": "How much an arriving person's value counts."})
    min_gain = fields.Float(metadata={"description": "Seats are held only for a larger expected gain."})
    held = fields.List(fields.Nested(HeldSeatSchema))


def _summary(draft) -> dict:
    return {key: value for key, value in json.loads(draft.summary_json).items() if key != "holding"}


class AssignmentDraftSchema(Schema):
    id = fields.Int()
    status = fields.Str()
    model_version = fields.Str()
    params = fields.Function(lambda d: json.loads(d.params_json))
    summary = fields.Function(_summary)
    holding = fields.Nested(HoldingSchema, allow_none=True, metadata={"description": (
        "A plan that looks ahead (hold_seats, horizon_days): the setting, the expected stays with and without "
        "holding seats, and the seats held by pseudonym and release date.")})
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
