"""REST endpoints for bases' records and complaints: /api/v1/base-records, /api/v1/bases/{id}/complaints."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate

from matcher.apiutil import IdField, Instant, Schema, blueprint
from matcher.auth.current import current_actor
from matcher.bases import answers, complaints, records, records_read
from matcher.bases.models import CertificationStatus
from matcher.bases.schemas import CompanyReadSchema
from matcher.extensions import db

blp = blueprint("base_records", __name__, "",
                "Bases' records (referrals answered, starts, stays, complaints) and flags for review.")


class BaseRecordQuerySchema(Schema):
    district = fields.Str(validate=validate.Length(equal=6),
                          metadata={"description": "A district code of your bureau's area."})
    flagged = fields.Bool(load_default=False, metadata={"description": "Only bases with at least one flag."})
    sort = fields.Str(load_default="-flags",
                      validate=validate.OneOf([*records.SORTS, *(f"-{name}" for name in records.SORTS)]),
                      metadata={"description": f"One of {', '.join(records.SORTS)}; prefix '-' to reverse."})


class BaseRecordSchema(Schema):
    company_id = fields.Int()
    company_name = fields.Str()
    place_code = fields.Str()
    district_code = fields.Str()
    status = fields.Enum(CertificationStatus, by_value=True)
    certified_until = fields.Date(allow_none=True)
    agreement_ends_on = fields.Date(allow_none=True)
    sent = fields.Int(metadata={"description": "Referrals sent to the base in the last 12 months."})
    answered = fields.Int(metadata={"description": "Of those, answered (interview, offer, or the base's decline)."})
    answered_within = fields.Int(metadata={"description": f"Answered within {records.ANSWER_DAYS} days."})
    answer_due = fields.Int(metadata={"description": f"Answered, or left unanswered {records.ANSWER_DAYS} days "
                                                     "or more: the share's denominator."})
    waiting = fields.Int(metadata={"description": f"Sent less than {records.ANSWER_DAYS} days ago, not answered."})
    share_answered = fields.Float(allow_none=True)
    median_days_to_answer = fields.Float(allow_none=True)
    starts = fields.Int(metadata={"description": "Referrals started in the last 12 months."})
    starts_old_enough = fields.Int(metadata={"description": f"Of those, started {records.STAY_DAYS} days ago "
                                                           "or more."})
    stayed = fields.Int(metadata={"description": f"Of those, confirmed staying {records.STAY_DAYS} days."})
    unconfirmed = fields.Int(metadata={"description": "Old enough, still there, stay not yet confirmed."})
    stay_rate = fields.Float(allow_none=True)
    complaints_open = fields.Int()
    complaints_total = fields.Int(metadata={"description": "Complaints received in the last 12 months."})
    flags = fields.List(fields.Str(validate=validate.OneOf(records.FLAGS)),
                        metadata={"description": "never_answers, loses_most, certification_expiring, "
                                                 "agreement_expiring, many_complaints (thresholds: README)."})
    p_answer = fields.Float(allow_none=True, metadata={
        "description": "The smoothed chance that the base answers a referral (its share pulled towards the city's): "
                       "ranking and batch assignment multiply the chance of staying by it."})
    target_share = fields.Float(allow_none=True, metadata={"description": "The bureau's response-rate target."})
    demoted = fields.Bool(metadata={"description": "Ranked lower: p_answer below the target."})
    unanswered_now = fields.Int(metadata={"description": f"Referrals waiting {records.ANSWER_DAYS} days or more "
                                                         "for the base's first answer now."})
    pause_after = fields.Int(allow_none=True, metadata={"description": "Unanswered referrals that pause a base."})
    paused_on = fields.Date(allow_none=True, metadata={"description": "Paused for new referrals since."})
    employees = fields.Int(allow_none=True)
    monthly_cap = fields.Int(allow_none=True, metadata={
        "description": "Referrals a month for the base's size band (null: size not recorded, no cap)."})
    month_count = fields.Int(metadata={"description": "Referrals made to the base this calendar month."})


class SizeBandSchema(Schema):
    min_employees = fields.Int(required=True, validate=validate.Range(min=1, max=1_000_000))
    max_employees = fields.Int(dump_only=True, allow_none=True,
                               metadata={"description": "The next band's minimum less one (null: and more)."})
    monthly_referrals = fields.Int(required=True, validate=validate.Range(min=0, max=1000))


class SizeBandsSchema(Schema):
    bands = fields.List(fields.Nested(SizeBandSchema), required=True, validate=validate.Length(min=1, max=20))
    shipped = fields.Bool(dump_only=True, metadata={"description": "The shipped defaults: no administrator set them."})


class AnswerRulesSchema(Schema):
    pause_after = fields.Int(validate=validate.Range(min=1, max=100), metadata={
        "description": "Unanswered referrals (each waiting the answer days or more) that pause a base."})
    target_share = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False), metadata={
        "description": "The response rate a base should reach (0.3: 30 %)."})
    answer_days = fields.Int(dump_only=True)
    shipped = fields.Bool(dump_only=True)


class ComplaintCreateSchema(Schema):
    received_on = fields.Date(required=True)
    summary = fields.Str(required=True, validate=validate.Length(min=2, max=500))


class ComplaintResolveSchema(Schema):
    resolved_on = fields.Date(metadata={"description": "Default: today."})


class ComplaintReadSchema(Schema):
    id = fields.Int()
    company_id = IdField()
    received_on = fields.Date()
    summary = fields.Str()
    resolved_on = fields.Date(allow_none=True)
    recorded_by_id = IdField(allow_none=True)
    created_at = Instant()


@blp.route("/base-records")
class BaseRecords(MethodView):
    @blp.arguments(BaseRecordQuerySchema, location="query")
    @blp.response(200, BaseRecordSchema(many=True))
    def get(self, query):
        """Each base's record over the last 12 months, with its flags (administrators)"""
        return records_read.list_base_records(session=db.session, actor=current_actor(),
                                              district=query.get("district"), flagged_only=query["flagged"],
                                              sort=query["sort"])


@blp.route("/bases/<id:company_id>/complaints")
class Complaints(MethodView):
    @blp.response(200, ComplaintReadSchema(many=True))
    def get(self, company_id):
        """Complaints about a base, open ones first (administrators)"""
        return complaints.list_complaints(session=db.session, actor=current_actor(), company_id=company_id)

    @blp.arguments(ComplaintCreateSchema)
    @blp.response(201, ComplaintReadSchema)
    def post(self, data, company_id):
        """Record a complaint about a base (administrators)"""
        return complaints.record_complaint(session=db.session, actor=current_actor(), company_id=company_id,
                                           data=data)


@blp.route("/bases/<id:company_id>/complaints/<id:complaint_id>/resolve")
class ComplaintResolve(MethodView):
    @blp.arguments(ComplaintResolveSchema)
    @blp.response(200, ComplaintReadSchema)
    def post(self, data, company_id, complaint_id):
        """Mark a complaint resolved (administrators)"""
        return complaints.resolve_complaint(session=db.session, actor=current_actor(), company_id=company_id,
                                            complaint_id=complaint_id, resolved_on=data.get("resolved_on"))


@blp.route("/bases/<id:company_id>/pause/lift")
class PauseLift(MethodView):
    @blp.response(200, CompanyReadSchema)
    def post(self, company_id):
        """Lift a base's pause for unanswered referrals (administrators of its area): referrals resume, and those
        sent before today no longer count towards a pause"""
        return answers.lift_pause(session=db.session, actor=current_actor(), company_id=company_id)


def _bands(session) -> dict:
    return {"bands": answers.size_bands(session), "shipped": answers.bands_shipped(session)}


@blp.route("/base-size-bands")
class SizeBands(MethodView):
    @blp.response(200, SizeBandsSchema)
    def get(self):
        """The size bands and the referrals a base of each receives a calendar month (administrators)"""
        answers.read_settings(actor=current_actor())
        return _bands(db.session)

    @blp.arguments(SizeBandsSchema)
    @blp.response(200, SizeBandsSchema)
    def put(self, data):
        """Replace the size bands (administrators): the first starts at 1 employee; each runs to the next"""
        answers.set_size_bands(session=db.session, actor=current_actor(), bands=data["bands"])
        return _bands(db.session)


@blp.route("/base-answer-rules")
class AnswerRulesResource(MethodView):
    @blp.response(200, AnswerRulesSchema)
    def get(self):
        """The unanswered referrals that pause a base, and the response-rate target (administrators)"""
        answers.read_settings(actor=current_actor())
        return answers.rules(db.session)

    @blp.arguments(AnswerRulesSchema)
    @blp.response(200, AnswerRulesSchema)
    def put(self, data):
        """Set the unanswered referrals that pause a base and the response-rate target (administrators)"""
        return answers.set_rules(session=db.session, actor=current_actor(), data=data)
