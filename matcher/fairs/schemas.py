"""Request and response schemas for job fairs: the fair, booths, invitations, the plan, interviews, the report."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema

from matcher.apiutil import IdField, Instant, PlaceOutSchema, Schema
from matcher.candidates.schemas import CandidateSkillOutSchema
from matcher.fairs.models import (
    FairStatus,
    InterviewOutcome,
    InterviewStatus,
    InvitationSource,
    InvitationStatus,
)
from matcher.fairs.service import reason_text

MAX_BLOCKS = 48  # the model's check constraint: n_blocks BETWEEN 1 AND 48
NOT_BLANK = validate.Regexp(r"\S", error=_l("Must not be blank."))

# ---- the fair ---------------------------------------------------------------------------------------------

class FairCreateSchema(Schema):
    name = fields.Str(required=True, validate=[validate.Length(min=2, max=100), NOT_BLANK],
                      metadata={"example": "春风行动专场招聘会"})
    held_on = fields.Date(required=True)
    venue = fields.Str(required=True, validate=[validate.Length(min=2, max=200), NOT_BLANK],
                       metadata={"example": "义乌市人力资源市场三楼"})
    starts_at = fields.Time(required=True, error_messages={"invalid": _l("Not a valid time.")},
                            metadata={"example": "09:00"})
    block_minutes = fields.Int(validate=validate.Range(min=5, max=240),
                               metadata={"description": "Length of one interview block (default 30)."})
    n_blocks = fields.Int(validate=validate.Range(min=1, max=MAX_BLOCKS),
                          metadata={"description": "How many blocks the day has (default 8)."})
    max_interviews = fields.Int(validate=validate.Range(min=1, max=10),
                                metadata={"description": "At most this many interviews per candidate (default 3)."})
    key_subject_weight = fields.Float(validate=validate.Range(min=0, max=2),
                                      metadata={"description": "Extra priority for key subjects."})
    waiting_weight_per_year = fields.Float(validate=validate.Range(min=0, max=2),
                                           metadata={"description": "Extra priority per year since release."})
    preferred_courses_only = fields.Bool(metadata={
        "description": "Only booths with a slot in a course the candidate asked for (when they named any)."})


class FairUpdateSchema(FairCreateSchema):
    pass


class BlockSchema(Schema):
    index = fields.Int()
    starts_at = fields.Time()
    ends_at = fields.Time()
    label = fields.Str(metadata={"example": "09:00–09:30"})


def fair_blocks(fair) -> list[dict]:
    return [{"index": t, "starts_at": fair.block_start(t), "ends_at": fair.block_start(t + 1),
             "label": fair.block_label(t)} for t in range(fair.n_blocks)]


class FairReadSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    held_on = fields.Date()
    venue = fields.Str()
    starts_at = fields.Time()
    ends_at = fields.Time()
    block_minutes = fields.Int()
    n_blocks = fields.Int()
    max_interviews = fields.Int()
    key_subject_weight = fields.Float()
    waiting_weight_per_year = fields.Float()
    preferred_courses_only = fields.Bool()
    status = fields.Enum(FairStatus, by_value=True)
    bureau_code = fields.Str()
    blocks = fields.List(fields.Nested(BlockSchema), metadata={"description": "The day's blocks, numbered from 0."})
    created_at = Instant()
    updated_at = Instant()

    def get_attribute(self, obj, attr, default):
        if attr == "blocks":
            return fair_blocks(obj)
        return super().get_attribute(obj, attr, default)


class FairListQuerySchema(Schema):
    status = fields.Enum(FairStatus, by_value=True)
    upcoming = fields.Bool(metadata={"description": "Only fairs held today or later."})


class FairStatusSchema(Schema):
    status = fields.Enum(FairStatus, by_value=True, required=True,
                         metadata={"description": "closed after the day, cancelled, or preparing to reopen."})


# ---- booths ---------------------------------------------------------------------------------------------

class BoothCreateSchema(Schema):
    company_id = IdField(required=True)
    label = fields.Str(validate=[validate.Length(min=1, max=12), NOT_BLANK],
                       metadata={"description": "The booth's number at the venue; the next free A01, A02... if "
                                                "omitted.", "example": "A03"})
    interviews_per_block = fields.Int(load_default=1, validate=validate.Range(min=0, max=20))
    slot_ids = fields.List(IdField(), required=True, validate=validate.Length(min=1, max=50),
                           metadata={"description": "The base's open slots it brings to the fair."})


class BoothUpdateSchema(Schema):
    label = fields.Str(validate=[validate.Length(min=1, max=12), NOT_BLANK])
    interviews_per_block = fields.Int(validate=validate.Range(min=0, max=20))
    slot_ids = fields.List(IdField(), validate=validate.Length(min=1, max=50))


class BoothWithdrawSchema(Schema):
    from_block = fields.Int(allow_none=True, validate=validate.Range(min=0, max=MAX_BLOCKS), metadata={
        "description": "No interviews from this block on (0: the base never came); default: the first block "
                       "not yet begun."})
    reason = fields.Str(required=True, validate=[validate.Length(min=1, max=300), NOT_BLANK])


class CompanyRefSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class BoothSlotSchema(Schema):
    id = fields.Int()
    title = fields.Str()
    course_code = fields.Str(allow_none=True)


class BoothReadSchema(Schema):
    id = fields.Int()
    fair_id = fields.Int()
    company = fields.Nested(CompanyRefSchema)
    label = fields.Str()
    interviews_per_block = fields.Int()
    slots = fields.List(fields.Nested(BoothSlotSchema))
    withdrawn_from_block = fields.Int(allow_none=True)
    withdrawn_reason = fields.Str(allow_none=True)


# ---- invitations ----------------------------------------------------------------------------------------

class InviteSchema(Schema):
    public_ids = fields.List(fields.Str(validate=validate.Length(min=1, max=12)),
                             validate=validate.Length(max=500),
                             metadata={"description": "Candidate numbers, one by one."})
    office_ids = fields.List(IdField(), validate=validate.Length(max=100),
                             metadata={"description": "Everyone seeking work in these judicial offices."})
    course = fields.Str(validate=validate.Length(min=1, max=32),
                        metadata={"description": "Everyone who named this preferred course."})
    ready = fields.Bool(metadata={"description": "Only candidates released and free to start by the fair."})
    dry_run = fields.Bool(load_default=False, metadata={"description": "Only count whom this would invite."})

    @validates_schema
    def _says_whom(self, data, **_kwargs):
        if not (data.get("public_ids") or data.get("office_ids") or data.get("course") or data.get("ready")):
            raise ValidationError(_l("Say whom to invite: offices, a course, ready candidates or candidate "
                                     "numbers."), field_name="public_ids")


class InviteResultSchema(Schema):
    invited = fields.Int()
    already_invited = fields.Int()
    dry_run = fields.Bool()


class FairCandidateCardSchema(Schema):
    """Who the candidate is, as far as the reader may know: organisers and caseworkers see the number, the name,
    the office and the wishes; employers see the pseudonymous card (no name unless the candidate consented to
    disclose it, no office). Never offence, risk, ID number, address or household registration."""

    id = fields.Int(allow_none=True, metadata={"description": "The file's id: caseworkers and administrators."})
    public_id = fields.Str()
    name = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True, metadata={
        "description": "Employers: with the name, only where the candidate consented to give both to that base "
                       "at a fair (purpose job_fair)."})
    office = fields.Str(allow_none=True, metadata={"description": "The judicial office keeping the file."})
    preferred_courses = fields.List(fields.Str())
    education = fields.Str(metadata={"description": "Employers' card only."})
    skills = fields.List(fields.Nested(CandidateSkillOutSchema), metadata={"description": "Employers' card only."})
    certificates = fields.List(fields.Str(), metadata={"description": "Employers' card only."})
    residence_district = fields.Nested(PlaceOutSchema, allow_none=True,
                                       metadata={"description": "Employers' card only."})
    needs_housing = fields.Bool(metadata={"description": "Employers' card only."})
    earliest_start = fields.Date(allow_none=True, metadata={"description": "Employers' card only."})


class InvitationReadSchema(Schema):
    id = fields.Int()
    fair_id = fields.Int()
    fair_name = fields.Str()
    held_on = fields.Date()
    status = fields.Enum(InvitationStatus, by_value=True)
    source = fields.Enum(InvitationSource, by_value=True)
    arrives_block = fields.Int(metadata={"description": "The first block the candidate can be interviewed in."})
    invited_at = Instant()
    answered_at = Instant(allow_none=True)
    answer_note = fields.Str(allow_none=True)
    checked_in_at = Instant(allow_none=True)
    candidate = fields.Nested(FairCandidateCardSchema, attribute="card")


class FairInvitationListQuerySchema(Schema):
    status = fields.Enum(InvitationStatus, by_value=True)
    checked_in = fields.Bool()
    q = fields.Str(validate=validate.Length(min=1, max=40),
                   metadata={"description": "Any part of a candidate number or of a name."})
    office_id = IdField(metadata={"description": "Only the candidates of this judicial office."})
    sort = fields.Str(validate=validate.OneOf(("invited", "number", "name", "office", "status")),
                      metadata={"description": "Sort by: invited (default), number, name, office or status."})
    descending = fields.Bool(load_default=False)


class MyInvitationListQuerySchema(Schema):
    fair_id = IdField()
    status = fields.Enum(InvitationStatus, by_value=True)
    upcoming = fields.Bool(metadata={"description": "Only invitations to fairs held today or later."})


class AnswerSchema(Schema):
    attending = fields.Bool(required=True)
    consent = fields.Bool(load_default=False, metadata={
        "description": "The candidate consents to being interviewed by the bases at the fair (required to confirm "
                       "unless a referral consent is already in force)."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=300))


class CancelInvitationSchema(Schema):
    reason = fields.Str(allow_none=True, validate=validate.Length(max=300))


class CheckInSchema(Schema):
    undo = fields.Bool(load_default=False, metadata={"description": "Take back a check-in made by mistake."})


class WalkInSchema(Schema):
    public_id = fields.Str(required=True, validate=[validate.Length(min=1, max=12), NOT_BLANK])
    consent = fields.Bool(load_default=False, metadata={"description": "Consent given in person."})
    arrives_block = fields.Int(allow_none=True, validate=validate.Range(min=0, max=MAX_BLOCKS - 1), metadata={
        "description": "Available from this block; default: the first block not yet begun."})


# ---- the plan -------------------------------------------------------------------------------------------

class PlanRequestSchema(Schema):
    from_block = fields.Int(allow_none=True, validate=validate.Range(min=0, max=MAX_BLOCKS), metadata={
        "description": "Re-plan from this block (earlier blocks and held interviews stay); default: the first "
                       "block not yet begun (0 before the day: the whole day)."})
    keep_planned = fields.Bool(load_default=True, metadata={
        "description": "Keep every interview still planned and only fill free places (walk-ins, places freed by "
                       "cancellations and withdrawals), so nobody's schedule changes; false: optimise the rest of "
                       "the day afresh."})


class UnplacedSchema(Schema):
    invitation_id = fields.Int()
    reason = fields.Str(metadata={"description": "no_eligible_booth, not_available, capacity or withdrawn"})
    text_zh = fields.Str()
    text_en = fields.Str()


class PlanSummarySchema(Schema):
    candidates = fields.Int(metadata={"description": "Confirmed candidates the plan was made for."})
    booths = fields.Int(metadata={"description": "Booths open in a planned block."})
    eligible_pairs = fields.Int()
    interviews = fields.Int()
    kept = fields.Int(metadata={"description": "Interviews kept as they were (earlier blocks, held ones, and with "
                                               "keep_planned every interview still planned)."})
    new = fields.Int()
    unchanged = fields.Int()
    moved_or_dropped = fields.Int()
    keep_planned = fields.Bool()
    expected_stays = fields.Float(metadata={"description": "Sum of P(start and stay) over the planned pairs."})
    unplaced = fields.List(fields.Nested(UnplacedSchema))
    covered = fields.Int(metadata={"description": "Confirmed candidates with at least one interview (breadth "
                                                  "first: the most any plan can give)."})
    coverable = fields.Int(metadata={"description": "Confirmed candidates who could have one: covered, plus those "
                                                    "left out only because the booths are full."})
    interviews_per_person = fields.Dict(keys=fields.Str(), values=fields.Int(), metadata={
        "description": "Confirmed candidates by their number of interviews: 0, 1, 2, and 3 for three or more."})
    unplaced_reasons = fields.Dict(keys=fields.Str(), values=fields.Int(),
                                   metadata={"description": "Candidates without an interview, by reason."})


def run_summary(run) -> dict:
    summary = json.loads(run.summary_json or "{}")
    reasons = summary.get("unplaced") or {}
    summary["unplaced"] = [{"invitation_id": int(inv_id), "reason": code, "text_zh": reason_text(code, "zh"),
                            "text_en": reason_text(code, "en")}
                           for inv_id, code in sorted(reasons.items(), key=lambda item: int(item[0]))]
    return summary


class PlanRunReadSchema(Schema):
    id = fields.Int()
    fair_id = fields.Int()
    from_block = fields.Int()
    model_version = fields.Str()
    objective = fields.Float(metadata={"description": "Expected stays x priority, summed over the plan."})
    bound = fields.Float(metadata={"description": "No plan can do better than this."})
    gap = fields.Float(metadata={"description": "(bound - objective) / bound"})
    solver_status = fields.Str(metadata={"description": "optimal or feasible"})
    seconds = fields.Float()
    summary = fields.Nested(PlanSummarySchema, metadata={"description": "Counts, and why candidates went unplaced."})
    created_at = Instant()

    def get_attribute(self, obj, attr, default):
        if attr == "summary":
            return run_summary(obj)
        return super().get_attribute(obj, attr, default)


class BoothRefSchema(Schema):
    id = fields.Int()
    label = fields.Str()


class InterviewSlotSchema(Schema):
    id = fields.Int()
    title = fields.Str()


class InterviewReadSchema(Schema):
    id = fields.Int()
    fair_id = fields.Int()
    invitation_id = fields.Int()
    block = fields.Int()
    block_label = fields.Function(lambda iv: iv.booth.fair.block_label(iv.block), metadata={"example": "09:30–10:00"})
    booth = fields.Nested(BoothRefSchema)
    company = fields.Nested(CompanyRefSchema, attribute="booth.company")
    slot = fields.Nested(InterviewSlotSchema)
    status = fields.Enum(InterviewStatus, by_value=True)
    outcome = fields.Enum(InterviewOutcome, by_value=True, allow_none=True)
    outcome_note = fields.Str(allow_none=True)
    score = fields.Float(metadata={"description": "P(start and stay) for the slot."})
    referral_id = fields.Int(allow_none=True)
    candidate = fields.Nested(FairCandidateCardSchema, attribute="card")


class PlanViewSchema(Schema):
    run = fields.Nested(PlanRunReadSchema, allow_none=True, metadata={"description": "The latest plan run."})
    interviews = fields.List(fields.Nested(InterviewReadSchema))


class InterviewListQuerySchema(Schema):
    booth_id = IdField()
    block = fields.Int(validate=validate.Range(min=0, max=MAX_BLOCKS - 1))
    invitation_id = IdField()


OUTCOMES = [*(o.value for o in InterviewOutcome), InterviewStatus.NO_SHOW.value]


class OutcomeSchema(Schema):
    outcome = fields.Str(required=True, validate=validate.OneOf(OUTCOMES),
                         metadata={"description": "offer (录用意向), second_interview (复试), no (不合适) or no_show "
                                                  "(未到场)."})
    note = fields.Str(allow_none=True, validate=validate.Length(max=300))


# ---- the report -------------------------------------------------------------------------------------------

class BoothReportSchema(Schema):
    booth_id = fields.Int()
    label = fields.Str()
    company_id = fields.Int()
    company_name = fields.Str()
    withdrawn = fields.Bool()
    planned = fields.Int()
    held = fields.Int()
    no_show = fields.Int()
    offers = fields.Int()
    second_interviews = fields.Int()
    rejections = fields.Int()
    started = fields.Int()
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "Held / scheduled at this booth."})


class FairReportSchema(Schema):
    fair_id = fields.Int()
    invited = fields.Int()
    confirmed = fields.Int()
    declined = fields.Int()
    cancelled = fields.Int()
    waiting_for_answer = fields.Int()
    checked_in = fields.Int(metadata={"description": "Everyone who came: invited and checked in, plus walk-ins."})
    checked_in_invited = fields.Int()
    walk_ins = fields.Int()
    attendance_rate = fields.Float(allow_none=True, metadata={
        "description": "Invited candidates checked in / invited candidates confirmed (walk-ins apart)."})
    interviews_planned = fields.Int(metadata={"description": "Interviews scheduled: planned, held or missed."})
    interviews_held = fields.Int(metadata={"description": "Interviews the candidate came to (outcome recorded)."})
    no_shows = fields.Int()
    interviews_not_recorded = fields.Int(metadata={"description": "Scheduled interviews with no record yet."})
    interview_attendance_rate = fields.Float(allow_none=True, metadata={
        "description": "Interviews held / interviews scheduled."})
    no_show_rate = fields.Float(allow_none=True, metadata={"description": "No-shows / interviews scheduled."})
    offers = fields.Int()
    second_interviews = fields.Int()
    rejections = fields.Int()
    referrals = fields.Dict(keys=fields.Str(), values=fields.Int(),
                            metadata={"description": "The fair's referrals by their status now."})
    accepted = fields.Int()
    started = fields.Int()
    staying_90 = fields.Int()
    expected_stays = fields.Float(allow_none=True)
    booths = fields.List(fields.Nested(BoothReportSchema))


class PlanExportQuerySchema(Schema):
    lang = fields.Str(load_default="zh", validate=validate.OneOf(["zh", "en"]),
                      metadata={"description": "Sheet names and headers in Chinese (default) or English."})
