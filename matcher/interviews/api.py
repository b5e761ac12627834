"""REST endpoints for interviews arranged for referrals: /api/v1/referrals/<id>/interviews and
/api/v1/referral-interviews/<id>/actions."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from matcher.apiutil import blueprint
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.interviews import service
from matcher.interviews.schemas import (
    InterviewActionSchema,
    InterviewProposeSchema,
    ReferralInterviewReadSchema,
)
from matcher.notify.sms import text_messenger

blp = blueprint("interviews", __name__, "", "Interviews arranged between a base and the office for a referral.")


def _for_actor(interview, actor):
    interview.next_actions = service.allowed_actions(actor, interview)
    return interview


@blp.route("/referrals/<id:referral_id>/interviews")
class ReferralInterviews(MethodView):
    @blp.response(200, ReferralInterviewReadSchema(many=True))
    def get(self, referral_id):
        """List a referral's interviews, newest first"""
        actor = current_actor()
        return [_for_actor(i, actor) for i in service.list_for_referral(session=db.session, actor=actor,
                                                                        referral_id=referral_id)]

    @blp.arguments(InterviewProposeSchema)
    @blp.response(201, ReferralInterviewReadSchema)
    def post(self, data, referral_id):
        """Propose an interview (the base): time, place, contact person and phone"""
        actor = current_actor()
        return _for_actor(service.propose(session=db.session, actor=actor, referral_id=referral_id, **data), actor)


@blp.route("/referral-interviews/<id:interview_id>/actions")
class ReferralInterviewActions(MethodView):
    @blp.arguments(InterviewActionSchema)
    @blp.response(200, ReferralInterviewReadSchema)
    def post(self, data, interview_id):
        """Confirm, ask for another time, cancel, or record attended / no-show"""
        actor = current_actor()
        interview = service.act(session=db.session, actor=actor, interview_id=interview_id, **data)
        if data["action"] == service.Action.CONFIRM:
            service.text_after_confirming(interview.id, text_messenger(current_app.config))
        return _for_actor(interview, actor)
