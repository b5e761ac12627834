"""REST endpoints for candidate files: /api/v1/candidates (caseworkers and administrators)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.candidates import service
from matcher.candidates.schemas import (
    CandidateCreateSchema,
    CandidateListQuerySchema,
    CandidateReadSchema,
    CandidateUpdateSchema,
    ConsentCreateSchema,
    ConsentReadSchema,
    RiskAssessmentCreateSchema,
    RiskAssessmentReadSchema,
    VisitCreateSchema,
    VisitReadSchema,
)
from matcher.extensions import db
from matcher.followup import service as followup_service

def _problems_of_a_new_file(data: dict) -> dict:
    return service.candidate_problems(session=db.session, actor=current_actor(), data=data)


def _problems_of_a_change(data: dict) -> dict:
    candidate = service.get_candidate(session=db.session, actor=current_actor(),
                                      candidate_id=request.view_args["candidate_id"])
    return service.candidate_problems(session=db.session, actor=current_actor(), data=data, candidate=candidate)


blp = blueprint("candidates", __name__, "/candidates",
                "Candidate files (一人一档): caseworkers of the candidate's offices and administrators only.")


@blp.route("")
class Candidates(MethodView):
    @blp.arguments(CandidateListQuerySchema, location="query")
    @blp.response(200, CandidateReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List the candidates of your office"""
        actor = current_actor()
        stmt = service.list_candidates(session=db.session, actor=actor, filters=filters)
        service.record_read(session=db.session, actor=actor)  # the rows carry risk grade, offence, ID, places
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(CandidateCreateSchema(check=_problems_of_a_new_file))
    @blp.response(201, CandidateReadSchema)
    def post(self, data):
        """Open a candidate's file"""
        return service.create_candidate(session=db.session, actor=current_actor(), data=data)


@blp.route("/<id:candidate_id>")
class CandidateById(MethodView):
    @blp.response(200, CandidateReadSchema)
    def get(self, candidate_id):
        """Read a candidate's file"""
        return service.read_candidate(session=db.session, actor=current_actor(), candidate_id=candidate_id)

    @blp.arguments(CandidateUpdateSchema(partial=True, check=_problems_of_a_change))
    @blp.response(200, CandidateReadSchema)
    def patch(self, data, candidate_id):
        """Update a candidate's file"""
        return service.update_candidate(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                        data=data)


@blp.route("/<id:candidate_id>/risk-assessments")
class RiskAssessments(MethodView):
    @blp.response(200, RiskAssessmentReadSchema(many=True))
    def get(self, candidate_id):
        """History of four-colour risk grades"""
        return service.list_risk_assessments(session=db.session, actor=current_actor(), candidate_id=candidate_id)

    @blp.arguments(RiskAssessmentCreateSchema)
    @blp.response(201, RiskAssessmentReadSchema)
    def post(self, data, candidate_id):
        """Record a risk screening (the latest sets the current grade)"""
        return service.add_risk_assessment(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                           data=data)


@blp.route("/<id:candidate_id>/consents")
class Consents(MethodView):
    @blp.response(200, ConsentReadSchema(many=True))
    def get(self, candidate_id):
        """Consent records"""
        return service.list_consents(session=db.session, actor=current_actor(), candidate_id=candidate_id)

    @blp.arguments(ConsentCreateSchema)
    @blp.response(201, ConsentReadSchema)
    def post(self, data, candidate_id):
        """Record a consent given or withdrawn"""
        return service.record_consent(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                      data=data)


@blp.route("/<id:candidate_id>/visits")
class Visits(MethodView):
    @blp.response(200, VisitReadSchema(many=True))
    def get(self, candidate_id):
        """Follow-up visits, newest first"""
        return service.list_visits(session=db.session, actor=current_actor(), candidate_id=candidate_id)

    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitReadSchema)
    def post(self, data, candidate_id):
        """Record a visit"""
        return followup_service.add_visit(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                          data=data)
