"""REST endpoints for matching: recommendations both ways, eligibility, assignment plans, models."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.candidates.service import candidate_card
from matcher.extensions import db
from matcher.idempotency import idempotent
from matcher.matching import service
from matcher.matching.schemas import (
    AssignmentDraftListSchema,
    AssignmentDraftSchema,
    AssignmentParamsSchema,
    BanCreateSchema,
    BanReadSchema,
    CandidateRecommendationPageSchema,
    EligibilitySchema,
    EvaluationQuerySchema,
    ModelSchema,
    PageQuerySchema,
    SlotRecommendationPageSchema,
    SlotRecommendationQuerySchema,
)

blp = blueprint("matching", __name__, "", "Matching: recommendations, eligibility, assignment plans, models.")


def _offset(query) -> tuple[int, int]:
    return (query["page"] - 1) * query["page_size"], query["page_size"]


@blp.route("/candidates/<id:candidate_id>/recommendations")
class SlotRecommendations(MethodView):
    @blp.arguments(SlotRecommendationQuerySchema, location="query")
    @blp.response(200, SlotRecommendationPageSchema)
    def get(self, query, candidate_id):
        """The best eligible slots for a candidate, with scores and reasons"""
        offset, limit = _offset(query)
        filters = {key: query[key] for key in ("course", "kind", "district", "starts_from", "starts_to")
                   if query.get(key)}
        return service.recommend_slots(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                       offset=offset, limit=limit, order=query["order"], filters=filters)


@blp.route("/candidates/<id:candidate_id>/eligibility/<id:slot_id>")
class Eligibility(MethodView):
    @blp.response(200, EligibilitySchema)
    def get(self, candidate_id, slot_id):
        """Whether a candidate may be placed in a slot, and if not, why (caseworkers)"""
        return service.eligibility(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                   slot_id=slot_id)


@blp.route("/candidates/<id:candidate_id>/bans")
class Bans(MethodView):
    @blp.response(200, BanReadSchema(many=True))
    def get(self, candidate_id):
        """Occupational bans (从业禁止) in a candidate's file"""
        return service.list_bans(session=db.session, actor=current_actor(), candidate_id=candidate_id)

    @blp.arguments(BanCreateSchema)
    @blp.response(201, BanReadSchema)
    def post(self, data, candidate_id):
        """Record a court-ordered occupational ban"""
        return service.add_ban(session=db.session, actor=current_actor(), candidate_id=candidate_id, data=data)


@blp.route("/slots/<id:slot_id>/candidates")
class CandidateRecommendations(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, CandidateRecommendationPageSchema)
    def get(self, query, slot_id):
        """The best eligible candidates for a slot (pseudonymous for employers)"""
        actor = current_actor()
        offset, limit = _offset(query)
        page = service.recommend_candidates(session=db.session, actor=actor, slot_id=slot_id, offset=offset,
                                            limit=limit)
        for item in page.items:
            item.card = candidate_card(db.session, actor, item.candidate)
        return page


@blp.route("/assignments")
class Assignments(MethodView):
    @blp.response(200, AssignmentDraftListSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, pagination_parameters):
        """Assignment plans (administrators, organisers)"""
        stmt = service.list_drafts(session=db.session, actor=current_actor())
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(AssignmentParamsSchema)
    @blp.response(201, AssignmentDraftSchema)
    def post(self, params):
        """Plan an optimal batch assignment (a draft until confirmed)"""
        return service.plan_assignment(session=db.session, actor=current_actor(), params=params)


@blp.route("/assignments/<id:draft_id>")
class AssignmentById(MethodView):
    @blp.response(200, AssignmentDraftSchema)
    def get(self, draft_id):
        """Read an assignment plan with its pairs"""
        return service.get_draft(session=db.session, actor=current_actor(), draft_id=draft_id)


@blp.route("/assignments/<id:draft_id>/confirm")
class AssignmentConfirm(MethodView):
    @idempotent
    @blp.response(200, AssignmentDraftSchema)
    def post(self, draft_id):
        """Confirm a plan: each pair becomes a proposed referral"""
        return service.confirm_draft(session=db.session, actor=current_actor(), draft_id=draft_id)


@blp.route("/assignments/<id:draft_id>/discard")
class AssignmentDiscard(MethodView):
    @blp.response(200, AssignmentDraftSchema)
    def post(self, draft_id):
        """Discard a plan"""
        return service.discard_draft(session=db.session, actor=current_actor(), draft_id=draft_id)


@blp.route("/models")
class Models(MethodView):
    @blp.response(200, ModelSchema(many=True))
    def get(self):
        """Trained scoring models with their cards (administrators)"""
        return service.list_models(session=db.session, actor=current_actor())


@blp.route("/models/<version>/activate")
class ModelActivate(MethodView):
    @blp.response(200, ModelSchema)
    def post(self, version):
        """Make a model the active scorer (administrators)"""
        return service.activate_model(session=db.session, actor=current_actor(), version=version)


@blp.route("/models/evaluation")
class ModelEvaluation(MethodView):
    @blp.arguments(EvaluationQuerySchema, location="query")
    @blp.response(200)
    def get(self, query):
        """Replay history: model against prior, and plans against the baselines (administrators)"""
        return service.evaluate(session=db.session, actor=current_actor(), **query)
