"""Schemas for the candidate file: the caseworker's full view and an employer's pseudonymous view."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from matcher.apiutil import IdField, Instant, PlaceInputSchema, PlaceOutSchema, Schema, SkillEntrySchema, sort_field
from matcher.candidates.models import (
    CandidateStatus,
    ConsentKind,
    DisclosurePurpose,
    Education,
    EmploymentState,
    OffenceCategory,
    RiskGrade,
    Sex,
    VisitKind,
)
from matcher.candidates.rules import VISIT_SAYS_NOTHING, date_problems, merge_errors
from matcher.clock import today
from matcher.external_ids import ExternalIdField
from matcher.identifiers import IdNumberProblem, id_number_birth_date, id_number_problem, normalise_id_number
from matcher.referrals.lifecycle import EndReason


class CertificateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=60))
    skill_code = fields.Str(allow_none=True, validate=validate.Length(max=40))
    issued_on = fields.Date(allow_none=True)


class IdNumberField(fields.Str):
    """A citizen ID number, loaded in its one form (full-width or other scripts' digits, spaces and invisible
    characters are normalised away) so that it is validated, hashed and masked as one person's number."""

    def _deserialize(self, value, attr, data, **kwargs):
        return normalise_id_number(super()._deserialize(value, attr, data, **kwargs))


# Each says what to look at: a wrong check character is most often one mistyped digit.
ID_NUMBER_PROBLEMS = {
    IdNumberProblem.LENGTH: _l("Not a valid ID number: it must have 18 characters."),
    IdNumberProblem.FORMAT: _l("Not a valid ID number: 17 digits, then a digit or X."),
    IdNumberProblem.CHECK_CHARACTER: _l("Not a valid ID number: the check character (the last one) does not match; "
                                        "look for a mistyped digit."),
    IdNumberProblem.BIRTH_DATE: _l("Not a valid ID number: the birth date in it (characters 7 to 14) is not a "
                                   "real date."),
    IdNumberProblem.UNLIKELY_BIRTH_DATE: _l("Not a valid ID number: the birth date in it (characters 7 to 14) is in "
                                            "the future or before 1900; look for a mistyped year."),
    IdNumberProblem.REGION: _l("Not a valid ID number: its first six digits are not a known region code."),
}


class IdNumberLookupSchema(Schema):
    """A full ID number to find a file by (posted, never in a query string): compared through its keyed hash."""

    id_number = IdNumberField(required=True, load_only=True, metadata={"description": "居民身份证号 (GB 11643)"})

    @validates("id_number")
    def _id_number(self, value, **_kwargs):
        if problem := id_number_problem(value):
            raise ValidationError(ID_NUMBER_PROBLEMS[problem])


class CandidateCreateSchema(Schema):
    """A file as given. Every wrong field is told at once: each field's own form, then the dates against each
    other (matcher.candidates.rules), then, where an edge passes `check` (the candidates service's
    `candidate_problems` over the reference data and the actor's office), the places, skills, courses and office,
    on whatever fields loaded."""

    def __init__(self, *args, check: Callable[[dict], dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._check = check

    name = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    external_id = ExternalIdField()
    id_number = IdNumberField(required=True, load_only=True, metadata={"description": "居民身份证号 (GB 11643)"})
    sex = fields.Enum(Sex, by_value=True, metadata={"description": "Read from the ID number if omitted."})
    birth_year = fields.Int(validate=validate.Range(min=1900, max=2100))
    ethnicity = fields.Str(allow_none=True, validate=validate.Length(max=20))
    education = fields.Enum(Education, by_value=True, required=True)
    phone = fields.Str(allow_none=True, validate=validate.Regexp(r"^[0-9+\- ]{5,20}$"))
    hukou = fields.Nested(PlaceInputSchema, required=True, metadata={"description": "户籍地"})
    residence = fields.Nested(PlaceInputSchema, required=True, metadata={"description": "居住地"})
    residence_address = fields.Str(allow_none=True, validate=validate.Length(max=200))
    release_institution = fields.Str(allow_none=True, validate=validate.Length(max=60))
    release_date = fields.Date(required=True)
    key_subject = fields.Bool()
    risk_grade = fields.Enum(RiskGrade, by_value=True)
    offence_category = fields.Enum(OffenceCategory, by_value=True, required=True)
    skills = fields.List(fields.Nested(SkillEntrySchema), validate=validate.Length(max=30))
    certificates = fields.List(fields.Nested(CertificateSchema), validate=validate.Length(max=20))
    preferred_courses = fields.List(fields.Str(validate=validate.Length(max=32)),
                                    validate=validate.Length(max=5),
                                    metadata={"description": "Course codes, first wish first."})
    max_travel_km = fields.Int(validate=validate.Range(min=0, max=500))
    needs_housing = fields.Bool()
    earliest_start = fields.Date(allow_none=True)
    status = fields.Enum(CandidateStatus, by_value=True)
    office_id = IdField(metadata={"description": "Administrators only; otherwise the residence's office."})
    consents = fields.List(fields.Enum(ConsentKind, by_value=True), load_only=True,
                           metadata={"description": "Consents given at intake: data_processing, referral. "
                                                    "Disclosure of name and contact names a base and a "
                                                    "purpose: record it with POST .../consents."})

    @validates("id_number")
    def _id_number(self, value, **_kwargs):
        if problem := id_number_problem(value):
            raise ValidationError(ID_NUMBER_PROBLEMS[problem])

    @validates("preferred_courses")
    def _distinct_courses(self, value, **_kwargs):
        if len(set(value)) != len(value):
            raise ValidationError(_l("A course is listed twice."))

    @validates("consents")
    def _no_blanket_disclosure(self, value, **_kwargs):
        if ConsentKind.DISCLOSE_IDENTITY in value:
            raise ValidationError(_l("Consent to disclose the name and contact is given to one base for one "
                                     "purpose: record it on the candidate's file, not here."))

    @validates_schema(skip_on_field_errors=False)
    def _whole_file(self, data, **_kwargs):
        number = data.get("id_number")
        birth = id_number_birth_date(number) if number and id_number_problem(number) is None else None
        errors = date_problems(today=today(), release_date=data.get("release_date"),
                               earliest_start=data.get("earliest_start"), birth_date=birth)
        if birth is None and data.get("birth_year") and data["birth_year"] > today().year:
            errors.setdefault("birth_year", []).append(_l("The birth date cannot be in the future."))
        if self._check is not None:
            # The service's own checks repeat these dates with the stored values: keep each message once.
            merge_errors(errors, self._check(data))
        if errors:
            raise ValidationError(errors)


class CandidateUpdateSchema(CandidateCreateSchema):
    pass


class OfficeRefSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class CandidateSkillOutSchema(Schema):
    skill_code = fields.Str(allow_none=True)
    free_text = fields.Str(allow_none=True)
    level = fields.Int()


class CandidateReadSchema(Schema):
    """Everything in the file: caseworkers of the candidate's offices and administrators only."""

    id = fields.Int()
    public_id = fields.Str()
    external_id = fields.Str(allow_none=True)
    name = fields.Str()
    id_number_masked = fields.Str()
    sex = fields.Enum(Sex, by_value=True)
    birth_year = fields.Int()
    ethnicity = fields.Str(allow_none=True)
    education = fields.Enum(Education, by_value=True)
    phone = fields.Str(allow_none=True)
    hukou_code = fields.Str()
    residence_code = fields.Str()
    residence_address = fields.Str(allow_none=True)
    residence_lat = fields.Float()
    residence_lng = fields.Float()
    dual_registration = fields.Bool()
    release_institution = fields.Str(allow_none=True)
    release_date = fields.Date()
    assistance_ends_on = fields.Date()
    key_subject = fields.Bool()
    risk_grade = fields.Enum(RiskGrade, by_value=True)
    offence_category = fields.Enum(OffenceCategory, by_value=True)
    skills = fields.List(fields.Nested(CandidateSkillOutSchema))
    certificates = fields.List(fields.Nested(CertificateSchema))
    preferred_courses = fields.Function(lambda c: [p.course_code for p in c.preferred_courses])
    max_travel_km = fields.Int()
    needs_housing = fields.Bool()
    earliest_start = fields.Date(allow_none=True)
    status = fields.Enum(CandidateStatus, by_value=True)
    office = fields.Nested(OfficeRefSchema)
    created_at = Instant()
    updated_at = Instant()


class PseudonymousCandidateSchema(Schema):
    """What a base sees: skills, wishes and practicalities; the name only after consent."""

    public_id = fields.Str()
    name = fields.Str(allow_none=True, metadata={
        "description": "Only with the candidate's consent to disclose it to this base for this purpose."})
    phone = fields.Str(allow_none=True, metadata={
        "description": "Contact: present only with the candidate's consent to disclose it to this base for this "
                       "purpose."})
    education = fields.Str()
    skills = fields.List(fields.Nested(CandidateSkillOutSchema))
    certificates = fields.List(fields.Str())
    preferred_courses = fields.List(fields.Str())
    residence_district = fields.Nested(PlaceOutSchema, allow_none=True)
    needs_housing = fields.Bool()
    earliest_start = fields.Date(allow_none=True)


class CandidateListQuerySchema(Schema):
    status = fields.Enum(CandidateStatus, by_value=True)
    risk_grade = fields.Enum(RiskGrade, by_value=True)
    key_subject = fields.Bool()
    office_id = IdField()
    course = fields.Str(metadata={"description": "Has this course among their wishes."})
    dual_registration = fields.Bool()
    released_from = fields.Date()
    released_to = fields.Date()
    q = fields.Str(validate=validate.Length(min=1, max=40), metadata={
        "description": "Any part of the name or of the file number (public id), or the bureau's own reference "
                       "(external_id) as a whole. To find a file by ID number, "
                       "POST it to /candidates/lookup: a number never goes in a query string."})
    sort = sort_field(["release_date", "created_at", "public_id", "name", "status", "risk_grade"], "-release_date")

    @validates("q")
    def _not_an_id_number(self, value, **_kwargs):
        # A number in a query string stays in addresses, histories and proxies' logs: it is looked up posted.
        if re.fullmatch(r"[0-9Xx*\s]{15,}", value.strip()):
            raise ValidationError(_l("ID numbers are not searched here, where they would stay in the address: "
                                     "use “Find a file by ID number”."))


class RiskAssessmentCreateSchema(Schema):
    grade = fields.Enum(RiskGrade, by_value=True, required=True)
    assessed_on = fields.Date(required=True)
    reason = fields.Str(allow_none=True, validate=validate.Length(max=500))


class RiskAssessmentReadSchema(RiskAssessmentCreateSchema):
    id = fields.Int()
    assessed_by_id = IdField(allow_none=True)


class ConsentCreateSchema(Schema):
    kind = fields.Enum(ConsentKind, by_value=True, required=True)
    granted = fields.Bool(required=True, metadata={"description": "false records a withdrawal."})
    base_id = IdField(allow_none=True, metadata={
        "description": "disclose_identity only, and required there: the base (company id) that may learn "
                       "the name and contact."})
    purpose = fields.Enum(DisclosurePurpose, by_value=True, allow_none=True, metadata={
        "description": "disclose_identity only, and required there: interview (on a referral to that base), "
                       "job_fair (that base's booth list at a fair) or employment (once the candidate starts "
                       "there). The latest record for a base and purpose is in force; granted=false withdraws "
                       "it at once."})
    recorded_on = fields.Date(required=True)
    note = fields.Str(allow_none=True, validate=validate.Length(max=300))


class ConsentReadSchema(ConsentCreateSchema):
    id = fields.Int()
    base = fields.Method("_base", metadata={"description": "The base of a disclosure: id and name."})
    recorded_by_id = IdField(allow_none=True)

    def _base(self, consent):
        if consent.base is None:
            return None
        return {"id": consent.base.id, "name": consent.base.name}


class VisitCreateSchema(Schema):
    visited_on = fields.Date(required=True)
    kind = fields.Enum(VisitKind, by_value=True, required=True)
    note = fields.Str(allow_none=True, validate=validate.Length(max=4000), metadata={
        "description": "Internal: read only by the caseworkers of the file's jurisdiction, never by a base."})
    referral_id = IdField(allow_none=True, metadata={
        "description": "The placement the visit looked at: a started or staying referral of this candidate."})
    employment_state = fields.Enum(EmploymentState, by_value=True, allow_none=True, metadata={
        "description": "What the visit found: working confirms every stay (30/90/180 days) whose days have "
                       "passed on the visit's date; left ends the placement with `end_code`. Without "
                       "referral_id it applies to the candidate's one running placement."})
    end_code = fields.Enum(EndReason, by_value=True, allow_none=True, load_only=True, metadata={
        "description": "With employment_state=left: why the person left (what the base learns; 'other' if "
                       "omitted). The note is never passed on."})


    @validates_schema(skip_on_field_errors=False)
    def _says_something(self, data, **_kwargs):
        # A visit is its date, its kind and what it found: a note, or the employment state it saw. A form sent
        # as it came (today, home visit, nothing else) records nothing.
        if not (data.get("note") or "").strip() and data.get("employment_state") is None:
            raise ValidationError(VISIT_SAYS_NOTHING, field_name="note")


class VisitUpdateSchema(Schema):
    """A correction of a visit: its date, kind and note. What it found about a placement moved the referral and
    stays as it was (record a new visit to change it)."""

    visited_on = fields.Date()
    kind = fields.Enum(VisitKind, by_value=True)
    note = fields.Str(allow_none=True, validate=validate.Length(max=4000), metadata={
        "description": "Internal: read only by the caseworkers of the file's jurisdiction, never by a base."})


class VisitReadSchema(VisitCreateSchema):
    id = fields.Int()
    candidate_id = IdField()
    recorded_by_id = IdField(allow_none=True)
    created_at = Instant()
