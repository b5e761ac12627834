"""Schemathesis against the OpenAPI document, in process (the Flask app as WSGI), on a small seeded world.

All four phases run (examples, coverage, fuzzing, stateful: the stateful phase follows the links it infers
from `Location` headers and response fields), once as an administrator and once as a caseworker, with the
checks `not_a_server_error`, `status_code_conformance`, `content_type_conformance`,
`response_schema_conformance` and `ignored_auth` (an operation that declares bearer auth must refuse a
request without a valid token). Runs are derandomised (a fixed seed, deterministic generation) and bounded
(`max-examples`, steps) so the file takes well under 2.5 minutes on SQLite. Its two tests run on the two workers side
by side (tests/conftest.py, SPLIT_FILES).

The report (cases per phase, failures) is written to `test-artifacts/schemathesis.json`.
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import re
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.redis_support import redis_or_skip, worker_redis_url

# Long: run once per `make test`, on PostgreSQL (see the marker in pyproject.toml).
pytestmark = pytest.mark.once_on_postgres

schemathesis = pytest.importorskip("schemathesis")


ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis.json"
SEED = 20261122
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "ignored_auth")
# Operations left out of the generated runs, each with its reason.
EXCLUDED = {
    # Creating tokens is the login: generated passwords would only exercise the lockout and the throttle,
    # which tests/security/test_lockout.py and test_throttling.py prove.
    ("POST", "/api/v1/auth/tokens"),
    # Ends the token the run itself uses: every later request would answer 401.
    ("DELETE", "/api/v1/auth/tokens"),
}
# Jobs submitted by the runs go to a queue of their own on the test Redis and are never worked (a job run in a
# thread of the test process would compete for SQLite's one write lock with the generated requests).
JOBS_REDIS_URL = worker_redis_url(os.environ.get("XINTU_TEST_REDIS_URL_SCHEMATHESIS") or "redis://127.0.0.1:6379/11")
RESULTS: dict[str, dict] = {}


@pytest.fixture(autouse=True)
def _jobs_queue(app, monkeypatch):
    connection = redis_or_skip(JOBS_REDIS_URL)
    monkeypatch.setitem(app.config, "REDIS_URL", JOBS_REDIS_URL)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", f"xintu-schemathesis-{uuid.uuid4().hex[:8]}")
    yield
    connection.flushdb()
    connection.close()


@pytest.fixture(autouse=True)
def _wsgi_transport_takes_no_socket_settings(monkeypatch):
    """schemathesis 4.32's WSGI transport drops `max_redirects`, `verify`, `cert` and `proxies` only when
    given a requests session; checks that resend a case (`ignored_auth`) and the stateful phase call it
    without one, and werkzeug's client refuses the unknown keywords. Drop them here as it does there."""
    from schemathesis.transport.wsgi import WSGITransport

    original = WSGITransport.send

    def send(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send)


def _config(token: str, max_examples: int, coverage_mode: str):
    from schemathesis.config import SchemathesisConfig

    generation = {"max-examples": max_examples, "deterministic": True, "no-shrink": True,
                  "database": "none"}
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {token}", "Accept-Language": "en"},
        "workers": 1,
        "generation": generation,
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {
            "examples": {"enabled": True, "fill-missing": True},
            "coverage": {"enabled": True, "generation": {"mode": coverage_mode}},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": 12,
                         "inference": {"algorithms": ["location-headers", "dependency-analysis"]}},
        },
    })


def _run(app, token: str, max_examples: int, coverage_mode: str) -> dict:
    """One engine run, in its own thread: the test holds an app context, which requests made from
    this thread would share (and with it the logged-in account and the database session)."""
    from schemathesis.engine import events, from_schema

    config = _config(token, max_examples, coverage_mode)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    schema = schema.exclude(func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in EXCLUDED)
    report = {"cases": collections.Counter(), "scenarios": collections.Counter(), "failures": [],
              "errors": [], "stop_reason": None, "stateful_links": None}
    seen = set()

    def work():
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
                phase = str(event.phase)
                report["scenarios"][phase] += 1
                report["cases"][phase] += len(event.recorder.cases)
                for case_id, checks in event.recorder.checks.items():
                    for check in checks:
                        if check.failure_info is None:
                            continue
                        failure = check.failure_info.failure
                        case = event.recorder.cases[case_id].value
                        interaction = event.recorder.interactions.get(case_id)
                        status = interaction.response.status_code if interaction and interaction.response else None
                        where = re.search(r"Schema at (\S+):", failure.message)
                        key = (check.name, where.group(1) if where else failure.operation or event.recorder.label,
                               failure.title, status)
                        if key in seen:
                            continue
                        seen.add(key)
                        report["failures"].append({
                            "phase": phase, "check": check.name, "operation": failure.operation or event.recorder.label,
                            "title": failure.title, "message": failure.message[:600], "status": status,
                            "request": f"{case.method} {case.formatted_path}", "body": repr(case.body)[:300],
                            "query": repr(case.query)[:200]})
            elif isinstance(event, events.PhaseStarted) and isinstance(event.payload, events.StatefulPhasePayload):
                report["stateful_links"] = {"inferred": event.payload.inferred_transitions,
                                            "total": event.payload.transitions_total,
                                            "selected": event.payload.transitions_selected}
            elif isinstance(event, events.NonFatalError):
                report["errors"].append({"label": event.label, "error": str(event.value)[:600]})
            elif isinstance(event, events.FatalError):
                report["errors"].append({"label": "fatal", "error": repr(event.exception)[:600]})
            elif isinstance(event, events.EngineFinished):
                report["stop_reason"] = str(event.stop_reason)

    started = time.monotonic()
    thread = threading.Thread(target=work, name="schemathesis")
    thread.start()
    thread.join()
    report["seconds"] = round(time.monotonic() - started, 1)
    report["cases"] = dict(report["cases"])
    report["scenarios"] = dict(report["scenarios"])
    return report


@pytest.fixture
def seeded(world, session):
    """The small world (tests/conftest.py) with referrals in several states, committed and the test's
    session closed so the engine's requests (other thread, other connection) see it and are not blocked."""
    from matcher.referrals.service import create_referral

    cw_a, cw_b = world.accounts["cw_a"], world.accounts["cw_b"]
    create_referral(session=session, actor=cw_a, candidate_id=world.cand_a.id, slot_id=world.slot_a.id, send=True)
    create_referral(session=session, actor=cw_b, candidate_id=world.cand_b.id, slot_id=world.slot_b.id, send=True)
    session.commit()
    session.close()
    return world


def _write_report():
    """One file for both databases: this run's entries replace the same database's earlier ones."""
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    # The two runs may end on two workers at once (tests/conftest.py, SPLIT_FILES): one writer at a time.
    with open(ARTIFACT.with_suffix(".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            kept = json.loads(ARTIFACT.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = {}
        kept.setdefault("runs", {}).update(RESULTS)
        kept.update({"seed": SEED, "checks": list(CHECKS), "excluded": sorted(" ".join(op) for op in EXCLUDED)})
        ARTIFACT.write_text(json.dumps(kept, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


# The administrator reaches every operation: the full run (the coverage phase's boundary and invalid values
# included). The caseworker's run checks the same operations through a scoped account, with valid values.
@pytest.mark.parametrize(("role", "max_examples", "coverage_mode"), [("admin", 6, "all"), ("cw_a", 4, "positive")])
def test_schemathesis_finds_nothing(app, seeded, role, max_examples, coverage_mode):
    from matcher.extensions import db

    with app.app_context():
        dialect = db.engine.dialect.name
    report = _run(app, seeded.tokens[role], max_examples, coverage_mode)
    report["database"] = dialect
    RESULTS[f"{dialect}/{role}"] = report
    _write_report()
    print(f"\nschemathesis as {role}: {report['seconds']} s, cases per phase {report['cases']}, "
          f"stateful links {report['stateful_links']}, {len(report['failures'])} failures, "
          f"{len(report['errors'])} errors")
    for failure in report["failures"]:
        print(f"  {failure['phase']} {failure['check']} {failure['request']} -> {failure['status']}: "
              f"{failure['title']}")
    assert report["errors"] == []
    assert report["failures"] == []
    assert all(report["cases"].get(phase) for phase in ("examples", "coverage", "fuzzing", "stateful"))
