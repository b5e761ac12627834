"""Prometheus metrics at GET /metrics.

Request metrics, by URL rule (`endpoint`, `<unmatched>` for a 404 without a rule), method and status:
`xintu_http_requests_total`, `xintu_http_request_duration_seconds` (histogram) and
`xintu_http_requests_in_flight`. Domain gauges, counted when scraped (cheap, indexed counts):
`xintu_jobs{status="queued"|"running"}`, `xintu_follow_up_tasks_overdue`, `xintu_notifications_unread` and
`xintu_notifications_email_failed`, `xintu_scoring_model_active`.

Several processes (gunicorn workers): set PROMETHEUS_MULTIPROC_DIR to an empty directory before the server
starts (gunicorn.conf.py does, and empties it at start); each worker then writes its values to files there,
any worker's /metrics answers for all of them, and gunicorn's child_exit hook marks a dead worker's gauges.

Access: with XINTU_METRICS_TOKEN set, only `Authorization: Bearer <token>`; without it, only a direct loopback
caller (127.0.0.1 or ::1, and no X-Forwarded-For/Forwarded header, so nothing relayed by a reverse proxy on the
same machine). Anything else is answered 404, as if there were nothing here.
"""

from __future__ import annotations

import hmac
import logging
import os

from flask import Flask, Response, current_app, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from matcher import clock
from matcher.ops.base import bp

log = logging.getLogger(__name__)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("xintu_http_requests", "HTTP requests answered, by URL rule, method and status.",
                   ("endpoint", "method", "status"))
LATENCY = Histogram("xintu_http_request_duration_seconds", "Time to answer, by URL rule, method and status.",
                    ("endpoint", "method", "status"), buckets=BUCKETS)
IN_FLIGHT = Gauge("xintu_http_requests_in_flight", "Requests being answered now (all workers).",
                  multiprocess_mode="livesum")


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def request_started() -> None:
    IN_FLIGHT.inc()


def request_ended() -> None:
    IN_FLIGHT.dec()


def observe(*, endpoint: str, method: str, status: int, seconds: float) -> None:
    labels = (endpoint, method if method in METHODS else "OTHER", str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


class DomainCollector:
    """Counts read when scraped (by the /metrics request, in its session). A table that does not exist yet
    (an older schema) or a database that does not answer leaves its gauge out."""

    def describe(self):
        return []

    def collect(self):
        from sqlalchemy import func, select

        from matcher.extensions import db
        from matcher.followup.models import FollowUpTask, TaskStatus
        from matcher.jobs.models import Job, JobStatus
        from matcher.matching.models import ScoringModel
        from matcher.notify.models import Notification

        today = clock.today()
        queries = {
            "jobs": select(Job.status, func.count()).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            .group_by(Job.status),
            "overdue": select(func.count()).select_from(FollowUpTask)
            .where(FollowUpTask.status == TaskStatus.OPEN, FollowUpTask.due_on < today),
            "unread": select(func.count()).select_from(Notification).where(Notification.read_at.is_(None)),
            "email_failed": select(func.count()).select_from(Notification)
            .where(Notification.email_error.is_not(None)),
            "model": select(func.count()).select_from(ScoringModel).where(ScoringModel.active.is_(True)),
        }
        found = {}
        for name, query in queries.items():  # in the scrape's own request and session
            try:
                found[name] = db.session.execute(query).all()
            except Exception as exc:  # noqa: BLE001 - a missing table or a lost database: leave it out
                db.session.rollback()
                log.warning("metrics: %s not counted (%s)", name, type(exc).__name__)
        if "jobs" in found:
            jobs = GaugeMetricFamily("xintu_jobs", "Background jobs waiting or running, by status.",
                                     labels=["status"])
            counts = {getattr(status, "value", status): n for status, n in found["jobs"]}
            for status in (JobStatus.QUEUED.value, JobStatus.RUNNING.value):
                jobs.add_metric([status], counts.get(status, 0))
            yield jobs
        for name, metric, text in (
                ("overdue", "xintu_follow_up_tasks_overdue", "Open follow-up checks past their date."),
                ("unread", "xintu_notifications_unread", "Notifications not read yet (all accounts)."),
                ("email_failed", "xintu_notifications_email_failed", "Notifications whose email failed."),
                ("model", "xintu_scoring_model_active", "1 when a scoring model is active, else 0.")):
            if name in found:
                yield GaugeMetricFamily(metric, text, value=found[name][0][0])


def init_metrics(app: Flask) -> None:
    domain = CollectorRegistry(auto_describe=False)
    domain.register(DomainCollector())
    app.extensions["xintu_metrics_domain"] = domain


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or os.environ.get("XINTU_METRICS_TOKEN")
    if token:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode())
    relayed = request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded")
    return request.remote_addr in LOOPBACK and not relayed


def exposition() -> bytes:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        process_part = generate_latest(registry)
    else:
        process_part = generate_latest(REGISTRY)
    return process_part + generate_latest(current_app.extensions["xintu_metrics_domain"])


@bp.get("/metrics")
def metrics():
    if not _allowed():  # a plain 404 of its own: no error page, no session, nothing to learn
        return Response("Not found.\n", status=404, content_type="text/plain; charset=utf-8")
    return Response(exposition(), content_type=CONTENT_TYPE_LATEST)
