"""REST endpoints for bases: /api/v1/bases."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.bases import service
from matcher.bases.schemas import (
    AgreementCreateSchema,
    AgreementReadSchema,
    CertificationDecisionSchema,
    CertificationEventSchema,
    CompanyCreateSchema,
    CompanyListQuerySchema,
    CompanyReadSchema,
    CompanyUpdateSchema,
)
from matcher.extensions import db

blp = blueprint("bases", __name__, "/bases", "Resettlement bases (安置基地): profile, certification, agreements.")


@blp.route("")
class Bases(MethodView):
    @blp.arguments(CompanyListQuerySchema, location="query")
    @blp.response(200, CompanyReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List bases visible to you"""
        stmt = service.list_companies(session=db.session, actor=current_actor(), filters=filters)
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(CompanyCreateSchema)
    @blp.response(201, CompanyReadSchema)
    def post(self, data):
        """Register a company as an applicant base (administrators)"""
        return service.create_company(session=db.session, actor=current_actor(), data=data)


@blp.route("/<id:company_id>")
class BaseById(MethodView):
    @blp.response(200, CompanyReadSchema)
    def get(self, company_id):
        """Read one base"""
        return service.get_company(session=db.session, actor=current_actor(), company_id=company_id)

    @blp.arguments(CompanyUpdateSchema(partial=True))
    @blp.response(200, CompanyReadSchema)
    def patch(self, data, company_id):
        """Update a base's profile (administrators, or the base's own employer)"""
        return service.update_company(session=db.session, actor=current_actor(), company_id=company_id, data=data)


@blp.route("/<id:company_id>/certification")
class Certification(MethodView):
    @blp.response(200, CertificationEventSchema(many=True))
    def get(self, company_id):
        """History of certification decisions"""
        return service.list_certification_events(session=db.session, actor=current_actor(), company_id=company_id)

    @blp.arguments(CertificationDecisionSchema)
    @blp.response(200, CompanyReadSchema)
    def post(self, decision, company_id):
        """Certify (or renew), suspend or revoke a base (administrators)"""
        return service.decide_certification(session=db.session, actor=current_actor(), company_id=company_id,
                                            **decision)


@blp.route("/<id:company_id>/agreements")
class Agreements(MethodView):
    @blp.response(200, AgreementReadSchema(many=True))
    def get(self, company_id):
        """Assistance agreements of a base"""
        return service.list_agreements(session=db.session, actor=current_actor(), company_id=company_id)

    @blp.arguments(AgreementCreateSchema)
    @blp.response(201, AgreementReadSchema)
    def post(self, data, company_id):
        """Record a signed assistance agreement (administrators)"""
        return service.add_agreement(session=db.session, actor=current_actor(), company_id=company_id, data=data)
