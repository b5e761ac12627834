"""REST endpoints for one's own notifications: /api/v1/notifications."""

from __future__ import annotations

from flask.views import MethodView

from matcher.apiutil import MAX_PAGE_SIZE, PAGE_SIZE, blueprint, paginate_select
from matcher.auth.current import current_actor
from matcher.extensions import db
from matcher.notify import service
from matcher.notify.schemas import NotificationListQuerySchema, NotificationReadSchema, ReadAllSchema, UnreadCountSchema

blp = blueprint("notifications", __name__, "/notifications",
                "Your notifications: new referrals, answers and checks due, certifications expiring, bases to review.")


def _for_reader(notification, actor):
    """The text in the request's language, for the reader's role."""
    text = service.render(notification, actor.role)
    notification.subject, notification.body = text.subject, text.body
    notification.params = service.params_of(notification)
    return notification


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationListQuerySchema, location="query")
    @blp.response(200, NotificationReadSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
    def get(self, filters, pagination_parameters):
        """List your notifications: open first (tasks not done, notices not read), unread first, newest first"""
        actor = current_actor()
        stmt = service.list_notifications(session=db.session, actor=actor, unread=filters.get("unread"),
                                          show=filters.get("show"), q=filters.get("q"), sort=filters.get("sort"))
        return [_for_reader(n, actor) for n in paginate_select(db.session, stmt, pagination_parameters)]


@blp.route("/unread-count")
class UnreadCount(MethodView):
    @blp.response(200, UnreadCountSchema)
    def get(self):
        """How many of your notifications are open and unread (the badge)"""
        return {"unread": service.unread_count(session=db.session, actor=current_actor())}


@blp.route("/<id:notification_id>/read")
class MarkRead(MethodView):
    @blp.response(200, NotificationReadSchema)
    def post(self, notification_id):
        """Mark one of your notifications read"""
        actor = current_actor()
        return _for_reader(service.mark_read(session=db.session, actor=actor, notification_id=notification_id),
                           actor)


@blp.route("/read-all")
class MarkAllRead(MethodView):
    @blp.response(200, ReadAllSchema)
    def post(self):
        """Mark all your notifications read"""
        return {"marked": service.mark_all_read(session=db.session, actor=current_actor())}
