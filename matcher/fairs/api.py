"""REST endpoints for job fairs: /api/v1/fairs, /api/v1/fair-invitations and /api/v1/fair-interviews."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.auth.models import Role
from matcher.candidates.models import DisclosurePurpose
from matcher.candidates.service import candidate_card
from matcher.extensions import db
from matcher.fairs import service
from matcher.fairs.export import XLSX_MIMETYPE, plan_workbook
from matcher.fairs.models import Fair, FairStatus
from matcher.fairs.schemas import (
    AnswerSchema,
    BoothCreateSchema,
    BoothReadSchema,
    BoothUpdateSchema,
    BoothWithdrawSchema,
    CancelInvitationSchema,
    CheckInSchema,
    FairCreateSchema,
    FairInvitationListQuerySchema,
    FairListQuerySchema,
    FairReadSchema,
    FairReportSchema,
    FairStatusSchema,
    FairUpdateSchema,
    InterviewListQuerySchema,
    InterviewReadSchema,
    InvitationReadSchema,
    InviteResultSchema,
    InviteSchema,
    MyInvitationListQuerySchema,
    OutcomeSchema,
    PlanExportQuerySchema,
    PlanRequestSchema,
    PlanRunReadSchema,
    PlanViewSchema,
    WalkInSchema,
)
from matcher.idempotency import idempotent
from matcher.policy import prime_consents

blp = blueprint("fairs", __name__, "",
                "Job fairs: booths, invitations, the interview plan, the day's outcomes and the report.")


# ---- what each reader may see of a candidate ------------------------------------------------------------

def _card(actor, candidate, base_id: int | None = None, disclosed: bool | None = None) -> dict:
    """Employers get the pseudonymous card (name and phone only with the candidate's consent to give them to
    that base at a fair, purpose job_fair; none on an invitation, which names no base); organisers and
    caseworkers the number, name, office and wishes. Never offence, risk, ID or address."""
    if actor.role == Role.EMPLOYER:
        card = candidate_card(db.session, actor, candidate, base_id=base_id, purpose=DisclosurePurpose.JOB_FAIR,
                              disclosed=disclosed)
        card["office"] = None
        return card
    return {
        "id": candidate.id if actor.role in (Role.ADMINISTRATOR, Role.CASEWORKER) else None,
        "public_id": candidate.public_id,
        "name": candidate.name,
        "office": candidate.office.name if candidate.office else None,
        "preferred_courses": [p.course_code for p in candidate.preferred_courses],
    }


def _invitations(actor, invitations):
    fairs: dict[int, Fair] = {}
    for invitation in invitations:
        fair = fairs.get(invitation.fair_id) or db.session.get(Fair, invitation.fair_id)
        fairs[invitation.fair_id] = fair
        invitation.fair_name, invitation.held_on = fair.name, fair.held_on
        invitation.card = _card(actor, invitation.candidate)
    return invitations


def _invitation(actor, invitation):
    return _invitations(actor, [invitation])[0]


def _interviews(actor, interviews):
    keys = [(iv.invitation.candidate_id, iv.booth.company_id, DisclosurePurpose.JOB_FAIR) for iv in interviews]
    # One query for the list, remembered for the request: the response's disclosure filter asks the same.
    named = prime_consents(db.session, keys) if actor.role == Role.EMPLOYER else set()
    for interview, key in zip(interviews, keys, strict=True):
        interview.card = _card(actor, interview.invitation.candidate, base_id=interview.booth.company_id,
                               disclosed=key in named)
    return interviews


def _interview(actor, interview):
    return _interviews(actor, [interview])[0]


# ---- fairs ------------------------------------------------------------------------------------------------

@blp.route("/fairs")
class Fairs(MethodView):
    @blp.arguments(FairListQuerySchema, location="query")
    @blp.response(200, FairReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List the job fairs visible to you (newest first)"""
        stmt = service.list_fairs(session=db.session, actor=current_actor(), filters=filters)
        return paginate_select(db.session, stmt, pagination_parameters)

    @blp.arguments(FairCreateSchema)
    @blp.response(201, FairReadSchema)
    def post(self, data):
        """Set up a job fair for your bureau's area (organisers, administrators)"""
        return service.create_fair(session=db.session, actor=current_actor(), data=data)


@blp.route("/fairs/<id:fair_id>")
class FairById(MethodView):
    @blp.response(200, FairReadSchema)
    def get(self, fair_id):
        """Read a job fair with its blocks"""
        return service.get_fair(session=db.session, actor=current_actor(), fair_id=fair_id)

    @blp.arguments(FairUpdateSchema(partial=True))
    @blp.response(200, FairReadSchema)
    def patch(self, data, fair_id):
        """Edit a job fair (its date and blocks only while nothing is planned)"""
        return service.update_fair(session=db.session, actor=current_actor(), fair_id=fair_id, data=data)


@blp.route("/fairs/<id:fair_id>/status")
class FairStatusView(MethodView):
    @blp.arguments(FairStatusSchema)
    @blp.response(200, FairReadSchema)
    def post(self, data, fair_id):
        """Close a fair after the day, cancel it, or reopen a closed one"""
        return service.set_status(session=db.session, actor=current_actor(), fair_id=fair_id,
                                  status=FairStatus(data["status"]))


# ---- booths -------------------------------------------------------------------------------------------------

@blp.route("/fairs/<id:fair_id>/booths")
class Booths(MethodView):
    @blp.response(200, BoothReadSchema(many=True))
    def get(self, fair_id):
        """The fair's booths: the bases, the slots they bring, their capacity"""
        return service.get_fair(session=db.session, actor=current_actor(), fair_id=fair_id).booths

    @blp.arguments(BoothCreateSchema)
    @blp.response(201, BoothReadSchema)
    def post(self, data, fair_id):
        """Register a certified base at a booth with the open slots it brings"""
        return service.add_booth(session=db.session, actor=current_actor(), fair_id=fair_id, data=data)


@blp.route("/fairs/<id:fair_id>/booths/<id:booth_id>")
class BoothById(MethodView):
    @blp.arguments(BoothUpdateSchema)
    @blp.response(200, BoothReadSchema)
    def patch(self, data, fair_id, booth_id):
        """Change a booth's number, slots or interviews per block"""
        return service.update_booth(session=db.session, actor=current_actor(), fair_id=fair_id, booth_id=booth_id,
                                    data=data)

    @blp.response(204)
    def delete(self, fair_id, booth_id):
        """Take a booth off the list before it is in the plan (afterwards: withdraw it)"""
        service.remove_booth(session=db.session, actor=current_actor(), fair_id=fair_id, booth_id=booth_id)


@blp.route("/fairs/<id:fair_id>/booths/<id:booth_id>/withdraw")
class BoothWithdraw(MethodView):
    @blp.arguments(BoothWithdrawSchema)
    @blp.response(200, BoothReadSchema)
    def post(self, data, fair_id, booth_id):
        """Withdraw a base from a block on: its interviews from then are cancelled, for a re-plan"""
        return service.withdraw_booth(session=db.session, actor=current_actor(), fair_id=fair_id,
                                      booth_id=booth_id, from_block=data.get("from_block"), reason=data["reason"])


# ---- invitations --------------------------------------------------------------------------------------------

@blp.route("/fairs/<id:fair_id>/invitations")
class FairInvitations(MethodView):
    @blp.arguments(FairInvitationListQuerySchema, location="query")
    @blp.response(200, InvitationReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, fair_id, pagination_parameters):
        """The fair's invitations (organisers), or your candidates' (caseworkers)"""
        actor = current_actor()
        fair = service.get_fair(session=db.session, actor=actor, fair_id=fair_id)
        stmt = service.list_invitations(session=db.session, actor=actor, filters={**filters, "fair_id": fair.id})
        return _invitations(actor, paginate_select(db.session, stmt, pagination_parameters))

    @blp.arguments(InviteSchema)
    @blp.response(200, InviteResultSchema)
    def post(self, data, fair_id):
        """Invite candidates by office, preferred course, readiness or number (all filters together)"""
        return service.invite(session=db.session, actor=current_actor(), fair_id=fair_id, data=data)


@blp.route("/fair-invitations")
class MyInvitations(MethodView):
    @blp.arguments(MyInvitationListQuerySchema, location="query")
    @blp.response(200, InvitationReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """Invitations of the candidates in your scope, to answer (caseworkers)"""
        actor = current_actor()
        stmt = service.list_invitations(session=db.session, actor=actor, filters=filters)
        return _invitations(actor, paginate_select(db.session, stmt, pagination_parameters))


@blp.route("/fair-invitations/<id:invitation_id>/answer")
class InvitationAnswer(MethodView):
    @blp.arguments(AnswerSchema)
    @blp.response(200, InvitationReadSchema)
    def post(self, data, invitation_id):
        """Confirm that the candidate will come (with their consent to the interviews), or decline"""
        actor = current_actor()
        invitation = service.answer_invitation(session=db.session, actor=actor, invitation_id=invitation_id, **data)
        return _invitation(actor, invitation)


@blp.route("/fair-invitations/<id:invitation_id>/cancel")
class InvitationCancel(MethodView):
    @blp.arguments(CancelInvitationSchema)
    @blp.response(200, InvitationReadSchema)
    def post(self, data, invitation_id):
        """Cancel late: the candidate's interviews still to come are cancelled"""
        actor = current_actor()
        invitation = service.cancel_invitation(session=db.session, actor=actor, invitation_id=invitation_id,
                                               reason=data.get("reason"))
        return _invitation(actor, invitation)


@blp.route("/fairs/<id:fair_id>/invitations/<id:invitation_id>/check-in")
class InvitationCheckIn(MethodView):
    @blp.arguments(CheckInSchema)
    @blp.response(200, InvitationReadSchema)
    def post(self, data, fair_id, invitation_id):
        """Check a confirmed candidate in on the day (or undo it)"""
        actor = current_actor()
        invitation = service.check_in(session=db.session, actor=actor, fair_id=fair_id, invitation_id=invitation_id,
                                      undo=data["undo"])
        return _invitation(actor, invitation)


@blp.route("/fairs/<id:fair_id>/walk-ins")
class WalkIns(MethodView):
    @blp.arguments(WalkInSchema)
    @blp.response(201, InvitationReadSchema)
    def post(self, data, fair_id):
        """Register someone who came without an invitation (checked in at once)"""
        actor = current_actor()
        invitation = service.add_walk_in(session=db.session, actor=actor, fair_id=fair_id, **data)
        return _invitation(actor, invitation)


# ---- the plan -----------------------------------------------------------------------------------------------

@blp.route("/fairs/<id:fair_id>/plan")
class Plan(MethodView):
    @blp.response(200, PlanViewSchema)
    def get(self, fair_id):
        """The latest plan run and the schedule it made"""
        actor = current_actor()
        runs = service.list_runs(session=db.session, actor=actor, fair_id=fair_id)
        interviews = service.schedule(session=db.session, actor=actor, fair_id=fair_id)
        return {"fair_id": fair_id, "run": runs[0] if runs else None, "interviews": _interviews(actor, interviews)}

    @idempotent
    @blp.arguments(PlanRequestSchema)
    @blp.response(201, PlanRunReadSchema)
    def post(self, data, fair_id):
        """Plan the interviews in one go, or re-plan the rest of the day from a block"""
        return service.make_plan(session=db.session, actor=current_actor(), fair_id=fair_id,
                                 from_block=data.get("from_block"), keep_planned=data["keep_planned"])


@blp.route("/fairs/<id:fair_id>/plan-runs")
class PlanRuns(MethodView):
    @blp.response(200, PlanRunReadSchema(many=True))
    def get(self, fair_id):
        """Every plan run of the fair, newest first"""
        return service.list_runs(session=db.session, actor=current_actor(), fair_id=fair_id)


@blp.route("/fairs/<id:fair_id>/plan.xlsx")
class PlanWorkbook(MethodView):
    @blp.arguments(PlanExportQuerySchema, location="query")
    @blp.doc(responses={"200": {"description": "The plan as an Excel workbook (an attachment).", "content": {
        XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, query, fair_id):
        """Download the plan as Excel: summary, schedule, by booth, unplaced"""
        content = plan_workbook(session=db.session, actor=current_actor(), fair_id=fair_id, lang=query["lang"])
        response = Response(content, content_type=XLSX_MIMETYPE)
        response.headers["Content-Disposition"] = f'attachment; filename="fair-{fair_id}-plan.xlsx"'
        return response


# ---- interviews ---------------------------------------------------------------------------------------------

@blp.route("/fairs/<id:fair_id>/interviews")
class Interviews(MethodView):
    @blp.arguments(InterviewListQuerySchema, location="query")
    @blp.response(200, InterviewReadSchema(many=True))
    def get(self, filters, fair_id):
        """The schedule by block and booth (employers: their booth's, on pseudonymous cards)"""
        actor = current_actor()
        return _interviews(actor, service.schedule(session=db.session, actor=actor, fair_id=fair_id, **filters))


@blp.route("/fair-interviews/<id:interview_id>/outcome")
class InterviewOutcomeView(MethodView):
    @idempotent
    @blp.arguments(OutcomeSchema)
    @blp.response(200, InterviewReadSchema)
    def post(self, data, interview_id):
        """Record what came of an interview: offer, second interview, no, or no-show"""
        actor = current_actor()
        return _interview(actor, service.record_outcome(session=db.session, actor=actor, interview_id=interview_id,
                                                        **data))

    @blp.response(200, InterviewReadSchema)
    def delete(self, interview_id):
        """Undo a no-show recorded by mistake"""
        actor = current_actor()
        return _interview(actor, service.undo_outcome(session=db.session, actor=actor, interview_id=interview_id))


# ---- the report ---------------------------------------------------------------------------------------------

@blp.route("/fairs/<id:fair_id>/report")
class Report(MethodView):
    @blp.response(200, FairReportSchema)
    def get(self, fair_id):
        """After the fair: attendance, outcomes and what became of the referrals, overall and per booth"""
        return service.report(session=db.session, actor=current_actor(), fair_id=fair_id)
