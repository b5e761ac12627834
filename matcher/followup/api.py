"""REST endpoints for follow-up: /api/v1/follow-up-tasks and /api/v1/candidates/{id}/reoffences."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.auth.models import Account, Role
from matcher.candidates.service import referral_card, referral_disclosures
from matcher.extensions import db
from matcher.followup import service
from matcher.followup.models import FollowUpTask
from matcher.followup.schemas import (
    OfficeOverdueSchema,
    OverdueQuerySchema,
    ReoffenceCreateSchema,
    ReoffenceReadSchema,
    TaskCompleteSchema,
    TaskListQuerySchema,
    TaskReadSchema,
)

blp = blueprint("follow-up", __name__, "",
                "Follow-up of started placements: the checks at 30, 90 and 180 days (for the office that keeps "
                "the file, and as confirmation requests for the base), and re-offending records.")


def for_actor(task: FollowUpTask, actor: Account, disclosed: bool | None = None) -> FollowUpTask:
    """Attach what this actor may see of the candidate (pseudonymous for a base: name and phone only with the
    candidate's consent for that base and purpose) and of the office."""
    candidate = task.referral.candidate
    task.candidate_card = referral_card(db.session, actor, task.referral, disclosed=disclosed)
    task.follow_up_office = candidate.office if actor.role in (Role.ADMINISTRATOR, Role.CASEWORKER) else None
    return task


@blp.route("/follow-up-tasks")
class Tasks(MethodView):
    @blp.arguments(TaskListQuerySchema, location="query")
    @blp.response(200, TaskReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List the follow-up checks visible to you, soonest due first"""
        actor = current_actor()
        stmt = service.list_tasks(session=db.session, actor=actor, filters=filters)
        tasks = list(paginate_select(db.session, stmt, pagination_parameters))
        disclosed = referral_disclosures(db.session, [task.referral for task in tasks])
        return [for_actor(task, actor, task.referral.id in disclosed) for task in tasks]


@blp.route("/follow-up-tasks/overdue-by-office")
class OverdueByOffice(MethodView):
    @blp.arguments(OverdueQuerySchema, location="query")
    @blp.response(200, OfficeOverdueSchema(many=True))
    def get(self, query):
        """Overdue and open checks per judicial office (administrators; a caseworker sees their office)"""
        return service.overdue_by_office(session=db.session, actor=current_actor(), district=query.get("district"))


@blp.route("/follow-up-tasks/<id:task_id>")
class TaskById(MethodView):
    @blp.response(200, TaskReadSchema)
    def get(self, task_id):
        """Read a follow-up check"""
        actor = current_actor()
        return for_actor(service.get_task(session=db.session, actor=actor, task_id=task_id), actor)


@blp.route("/follow-up-tasks/<id:task_id>/complete")
class TaskComplete(MethodView):
    @blp.arguments(TaskCompleteSchema)
    @blp.response(200, TaskReadSchema)
    def post(self, data, task_id):
        """Record what a check found: staying, left (with a reason) or unreachable"""
        actor = current_actor()
        return for_actor(service.complete_task(session=db.session, actor=actor, task_id=task_id, **data), actor)


@blp.route("/candidates/<id:candidate_id>/reoffences")
class Reoffences(MethodView):
    @blp.response(200, ReoffenceReadSchema(many=True))
    def get(self, candidate_id):
        """Re-offences recorded for a candidate, newest first"""
        return service.list_reoffences(session=db.session, actor=current_actor(), candidate_id=candidate_id)

    @blp.arguments(ReoffenceCreateSchema)
    @blp.response(201, ReoffenceReadSchema)
    def post(self, data, candidate_id):
        """Record a re-offence (重新犯罪): the office that keeps the file, or the bureau"""
        return service.record_reoffence(session=db.session, actor=current_actor(), candidate_id=candidate_id,
                                        data=data)
