"""Request and response schemas for bases (companies), certification decisions and agreements."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates

from matcher.apiutil import IdField, Instant, PlaceInputSchema, PlaceOutSchema, Schema, sort_field
from matcher.bases.models import CertificationStatus
from matcher.external_ids import ExternalIdField
from matcher.identifiers import is_valid_credit_code


class CompanyCreateSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=2, max=100))
    credit_code = fields.Str(required=True, metadata={"description": "统一社会信用代码 (GB 32100)"})
    external_id = ExternalIdField()
    industry = fields.Str(required=True, validate=validate.Length(min=1, max=60))
    address = fields.Str(validate=validate.Length(max=200))
    place = fields.Nested(PlaceInputSchema, required=True)
    contact_name = fields.Str(validate=validate.Length(max=40))
    contact_phone = fields.Str(validate=validate.Regexp(r"^[0-9+\- ]{5,20}$"))
    description = fields.Str(validate=validate.Length(max=4000))
    employees = fields.Int(allow_none=True, validate=validate.Range(min=1, max=1_000_000), metadata={
        "description": "How many people the base employs: its size band caps its referrals a month (set by the "
                       "bureau)."})

    @validates("credit_code")
    def _credit_code(self, value, **_kwargs):
        if not is_valid_credit_code(value):
            raise ValidationError(_l("Not a valid unified social credit code (check character wrong)."))


class CompanyUpdateSchema(CompanyCreateSchema):
    pass


class CompanyReadSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    credit_code = fields.Str()
    external_id = fields.Str(allow_none=True)
    industry = fields.Str()
    address = fields.Str(allow_none=True)
    place = fields.Nested(PlaceOutSchema)
    lat = fields.Float()
    lng = fields.Float()
    contact_name = fields.Str(allow_none=True)
    contact_phone = fields.Str(allow_none=True)
    description = fields.Str(allow_none=True)
    certification_status = fields.Method("_status", metadata={"enum": [s.value for s in CertificationStatus]})
    certified_until = fields.Date(allow_none=True)
    employees = fields.Int(allow_none=True)
    referrals_paused_on = fields.Date(allow_none=True, metadata={
        "description": "Paused for new referrals since this day, for leaving referrals unanswered (null: taking "
                       "referrals)."})
    created_at = Instant()

    def _status(self, company):
        return company.effective_status().value


class CompanyListQuerySchema(Schema):
    status = fields.Enum(CertificationStatus, by_value=True)
    place = fields.Str(metadata={"description": "A place code; bases inside it."})
    q = fields.Str(validate=validate.Length(min=1, max=50))
    sort = sort_field(["name", "created_at", "certified_until"], "name")


class CertificationDecisionSchema(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(["certify", "suspend", "revoke", "refuse"]),
                        metadata={"description": "refuse: an application is not certified (不予认定); a reason is "
                                                 "required, and the base reads it."})
    valid_until = fields.Date(metadata={"description": "Required to certify (or renew)."})
    reason = fields.Str(validate=validate.Length(min=2, max=500))


class CertificationEventSchema(Schema):
    id = fields.Int()
    from_status = fields.Enum(CertificationStatus, by_value=True, allow_none=True)
    to_status = fields.Enum(CertificationStatus, by_value=True)
    valid_until = fields.Date(allow_none=True)
    reason = fields.Str(allow_none=True)
    decided_by_id = IdField(allow_none=True)
    decided_at = Instant()


class AgreementCreateSchema(Schema):
    reference_no = fields.Str(validate=validate.Length(max=40))
    signed_on = fields.Date(required=True)
    term_months = fields.Int(required=True, validate=validate.Range(min=1, max=120))
    note = fields.Str(validate=validate.Length(max=500))


class AgreementReadSchema(AgreementCreateSchema):
    id = fields.Int()
    reference_no = fields.Str(allow_none=True)  # optional when recorded: null when not given
    note = fields.Str(allow_none=True)
    company_id = IdField()
    ends_on = fields.Date()
    created_at = Instant()
