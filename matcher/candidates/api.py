"""REST endpoints for candidate files: /api/v1/candidates (caseworkers and administrators)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

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
    IdNumberLookupSchema,
    RiskAssessmentCreateSchema,
    RiskAssessmentReadSchema,
    VisitCreateSchema,
    VisitReadSchema,
    VisitUpdateSchema,
)
from matcher.errors import NotFound
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


@blp.route("/lookup")
class Lookup(MethodView):
    @blp.arguments(IdNumberLookupSchema)
    @blp.response(200, CandidateReadSchema)
    @blp.alt_response(404, description="No file has this ID number.")
    @blp.alt_response(409, description="Registered elsewhere: `links.transfer_request` is where to ask for the file.")
    def post(self, data):
        """Find a file by full ID number (posted, compared through its keyed hash, never kept or logged)"""
        actor = current_actor()
        candidate = service.lookup_id_number(session=db.session, actor=actor, number=data["id_number"])
        if candidate is None:
            raise NotFound(_l("No file has this ID number."), field="id_number")
        service.record_read(session=db.session, actor=actor, candidate_id=candidate.id)
        return candidate


@blp.route("/transfer-requests")
class TransferRequests(MethodView):
    @blp.arguments(IdNumberLookupSchema)
    @blp.response(204)
    def post(self, data):
        """Ask the bureau to transfer to your office a file kept elsewhere (caseworkers)

        204 when asked. Give the ID number again: the administrators of the area that keeps the file are told its
        file number and your office; nothing of the person is told to you. They move the file (its office_id) when
        the person lives here now."""
        service.request_transfer(session=db.session, actor=current_actor(), number=data["id_number"])


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


@blp.route("/<id:candidate_id>/visits/<id:visit_id>")
class VisitById(MethodView):
    @blp.response(200, VisitReadSchema)
    def get(self, candidate_id, visit_id):
        """Read a visit"""
        return followup_service.get_visit(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                          visit_id=visit_id)

    @blp.arguments(VisitUpdateSchema(partial=True))
    @blp.response(200, VisitReadSchema)
    def patch(self, data, candidate_id, visit_id):
        """Correct a visit's date, kind or note (the office that keeps the file, while it is open; audited)

        What the visit found about a placement (employment_state) moved the referral on the visit's date: that
        finding and that date stay; record a new visit to change them."""
        return followup_service.correct_visit(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                              visit_id=visit_id, data=data)
