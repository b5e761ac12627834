"""Who may reach what, over EVERY API endpoint: the role x object matrix, and a walk of the URL map.

tests/test_scope_matrix.py holds the matrix for bases, slots, candidates, referrals, accounts, offices and
places (its rules: an object outside your scope answers 404, never 403 and never 200; 403 only when the
object is visible but the action is not yours). This file extends it to job fairs, follow-up, reports,
notifications, audit, base records and complaints, imports and exports, models and recommendations,
assignment plans, tokens and the reference data, on a bigger world built on tests/conftest.py's:

* a fair (bureau 330700, the organiser `org`'s) with a booth for company_a (slot_a), cand_a (office A)
  and cand_b (office B) invited, cand_a confirmed, a plan made: `interview` is cand_a's at base A's booth;
* a placement of `worker` (office A) -> slot_a started 40 days ago: `task` is its 30-day check (office A, base A),
  overdue; `ref_sent` is cand_b -> slot_b, sent (emp_b has its notification `notif_emp_b`);
* a complaint about company_a (`complaint`), an assignment plan draft (`draft`, the administrator's).

Each MATRIX row gives the answers of admin cw_a cw_b emp_a emp_b org anon admin_dy (the administrator of
another district, Dongyang: the world is Yiwu's and the city's, so its lists are empty and it reaches no
object). A write an allowed role makes once is run on a fresh world per allowed role (`once=True`); refusals
always run first and must leave the object as it was. Then `test_every_api_rule_is_classified` walks
`app.url_map`: every rule and method under /api/v1 must be a matrix row (or in test_scope_matrix.py's ENDPOINTS)
or in SELF_ONLY / PUBLIC below, or the test fails naming it; and
`test_every_protected_endpoint_answers_401_without_a_token` calls each of them without a token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import io
import os
import re
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import update

from matcher import clock
from matcher.clock import CHINA_TZ, today
from tests.db_support import restored
from tests.redis_support import redis_or_skip, worker_redis_url

# Long: run once per `make test`, on PostgreSQL (see the marker in pyproject.toml).
pytestmark = pytest.mark.once_on_postgres

ROLES = ("admin", "cw_a", "cw_b", "emp_a", "emp_b", "org", "anon", "admin_dy")
ERROR_KEYS = {"code", "status", "message", "errors", "links"}


def tomorrow() -> dt.date:
    """Asked when needed, not when the module loads: the suite may run across midnight in China."""
    return today() + dt.timedelta(days=1)


OBSERVE = os.environ.get("XINTU_MATRIX_OBSERVE") == "1"  # print what each cell answers (to write a row)
JOBS_REDIS_URL = worker_redis_url(os.environ.get("XINTU_TEST_REDIS_URL_MATRIX") or "redis://127.0.0.1:6379/12")


@dataclasses.dataclass(frozen=True)
class Row:
    method: str
    path: str  # /api/v1/... with {name} placeholders from the `objects` fixture
    expected: str  # admin cw_a cw_b emp_a emp_b org anon admin_dy (Dongyang's bureau: another district)
    body: object = None  # dict, or callable(objects) -> dict
    once: bool = False  # the allowed write cannot be repeated: a fresh world per allowed role
    files: bool = False  # multipart upload of a small CSV as `file`
    witness: str | None = None  # read by the administrator before and after a refused write: unchanged

    def codes(self) -> dict[str, int]:
        codes = [int(code) for code in self.expected.split()]
        assert len(codes) == len(ROLES), self
        return dict(zip(ROLES, codes, strict=True))


def _fair_body() -> dict:
    return {"name": "矩阵招聘会", "held_on": tomorrow().isoformat(), "venue": "义乌市人力资源市场",
            "starts_at": "09:00", "block_minutes": 30, "n_blocks": 4, "max_interviews": 2}


F = "/api/v1/fairs/{fair}"
MATRIX: dict[str, Row] = {
    # ---- job fairs: the organiser's bureau and administrators run them; bases see their booths' fairs;
    # caseworkers the fairs their candidates are invited to (cw_b: cand_b invited, not confirmed)
    "GET /fairs/{id}": Row("GET", F, "200 200 200 200 200 200 401 404"),
    "PATCH /fairs/{id}": Row("PATCH", F, "200 404 404 404 404 200 401 404", {"venue": "新的地点"}, witness=F),
    "POST /fairs": Row("POST", "/api/v1/fairs", "201 404 404 404 404 201 401 201", lambda o: _fair_body()),
    "GET /fairs": Row("GET", "/api/v1/fairs", "200 200 200 200 200 200 401 200"),
    "POST /fairs/{id}/status": Row("POST", F + "/status", "200 404 404 404 404 200 401 404",
                                   {"status": "cancelled"}, once=True, witness=F),
    "GET /fairs/{id}/booths": Row("GET", F + "/booths", "200 200 200 200 200 200 401 404"),
    "POST /fairs/{id}/booths": Row("POST", F + "/booths", "201 404 404 404 404 201 401 404",
                                   lambda o: {"company_id": o["company_c"], "slot_ids": [o["slot_c"]]},
                                   once=True, witness=F + "/booths"),
    "PATCH /fairs/{id}/booths/{booth}": Row("PATCH", F + "/booths/{booth}", "200 404 404 404 404 200 401 404",
                                            {"label": "B07"}, witness=F + "/booths"),
    "DELETE /fairs/{id}/booths/{booth}": Row("DELETE", F + "/booths/{booth_b}", "204 404 404 404 404 204 401 404",
                                             once=True, witness=F + "/booths"),
    "POST /fairs/{id}/booths/{booth}/withdraw": Row(
        "POST", F + "/booths/{booth}/withdraw", "200 404 404 404 404 200 401 404",
        {"from_block": 2, "reason": "临时有事"}, once=True, witness=F + "/booths"),
    "GET /fairs/{id}/invitations": Row("GET", F + "/invitations", "200 200 200 404 404 200 401 404"),
    "POST /fairs/{id}/invitations": Row("POST", F + "/invitations", "200 404 404 404 404 200 401 404",
                                        lambda o: {"public_ids": [o["cand_dual_public_id"]]}, once=True,
                                        witness=F + "/invitations"),
    "POST /fairs/{id}/invitations/{inv}/check-in": Row(
        "POST", F + "/invitations/{inv_a}/check-in", "200 404 404 404 404 200 401 404", {}, once=True,
        witness=F + "/invitations"),
    "POST /fairs/{id}/walk-ins": Row("POST", F + "/walk-ins", "201 404 404 404 404 201 401 404",
                                     lambda o: {"public_id": o["cand_dual_public_id"], "consent": True},
                                     once=True, witness=F + "/invitations"),
    "GET /fairs/{id}/plan": Row("GET", F + "/plan", "200 404 404 404 404 200 401 404"),
    "POST /fairs/{id}/plan": Row("POST", F + "/plan", "201 404 404 404 404 201 401 404", {"from_block": 0},
                                 witness=F + "/plan-runs"),
    "GET /fairs/{id}/plan-runs": Row("GET", F + "/plan-runs", "200 404 404 404 404 200 401 404"),
    "GET /fairs/{id}/plan.xlsx": Row("GET", F + "/plan.xlsx", "200 404 404 404 404 200 401 404"),
    "GET /fairs/{id}/report": Row("GET", F + "/report", "200 404 404 404 404 200 401 404"),
    "GET /fairs/{id}/interviews": Row("GET", F + "/interviews", "200 200 200 200 200 200 401 404"),
    "GET /fair-invitations": Row("GET", "/api/v1/fair-invitations", "200 200 200 404 404 200 401 200"),
    "POST /fair-invitations/{inv}/answer": Row(
        "POST", "/api/v1/fair-invitations/{inv_b}/answer", "200 404 200 404 404 404 401 404",
        {"attending": True, "consent": True}, once=True, witness=F + "/invitations"),
    "POST /fair-invitations/{inv}/cancel": Row(
        "POST", "/api/v1/fair-invitations/{inv_b}/cancel", "200 404 200 404 404 200 401 404", {"reason": "不来了"},
        once=True, witness=F + "/invitations"),
    "POST /fair-interviews/{iv}/outcome": Row(
        "POST", "/api/v1/fair-interviews/{interview}/outcome", "200 404 404 200 404 200 401 404",
        {"outcome": "no"}, once=True, witness=F + "/interviews"),
    "DELETE /fair-interviews/{iv}/outcome": Row(
        "DELETE", "/api/v1/fair-interviews/{interview}/outcome", "409 404 404 409 404 409 401 404",
        witness=F + "/interviews"),

    # ---- follow-up: the keeping office, the base (pseudonymous), the bureau's administrators
    "GET /follow-up-tasks": Row("GET", "/api/v1/follow-up-tasks", "200 200 200 200 200 200 401 200"),
    "GET /follow-up-tasks/{id}": Row("GET", "/api/v1/follow-up-tasks/{task}", "200 200 404 200 404 404 401 404"),
    "POST /follow-up-tasks/{id}/complete": Row(
        "POST", "/api/v1/follow-up-tasks/{task}/complete", "200 200 404 403 404 404 401 404",
        {"result": "unreachable", "note": "电话没人接"}, witness="/api/v1/follow-up-tasks/{task}"),
    "GET /follow-up-tasks/overdue-by-office": Row("GET", "/api/v1/follow-up-tasks/overdue-by-office",
                                                  "200 200 200 404 404 404 401 200"),  # a caseworker: own office
    # A visit corrected: the office that keeps the file (and its bureau), like recording one.
    "GET /candidates/{id}/visits/{visit_id}": Row("GET", "/api/v1/candidates/{cand_a}/visits/{visit}",
                                                  "200 200 404 404 404 404 401 404"),
    "PATCH /candidates/{id}/visits/{visit_id}": Row("PATCH", "/api/v1/candidates/{cand_a}/visits/{visit}",
                                                    "200 200 404 404 404 404 401 404", {"note": "更正后的走访情况"},
                                                    witness="/api/v1/candidates/{cand_a}/visits/{visit}"),
    # A file found by its full ID number (cand_a's): in scope the file, outside it only "registered elsewhere"
    # (409, with the way to ask for the transfer); a transfer is asked by an office for a file it does not keep.
    "POST /candidates/lookup": Row("POST", "/api/v1/candidates/lookup", "200 200 409 404 404 404 401 409",
                                   lambda o: {"id_number": o["cand_a_number"]}),
    "POST /candidates/transfer-requests": Row("POST", "/api/v1/candidates/transfer-requests",
                                              "404 409 204 404 404 404 401 404",
                                              lambda o: {"id_number": o["cand_a_number"]}),
    "GET /candidates/{id}/reoffences": Row("GET", "/api/v1/candidates/{cand_a}/reoffences",
                                           "200 200 404 404 404 404 401 404"),
    "POST /candidates/{id}/reoffences": Row("POST", "/api/v1/candidates/{cand_a}/reoffences",
                                            "201 201 404 404 404 404 401 404",
                                            lambda o: {"recorded_on": today().isoformat()},
                                            witness="/api/v1/candidates/{cand_a}/reoffences"),

    # ---- reports: administrators (their bureau's area)
    "GET /reports/figures": Row("GET", "/api/v1/reports/figures", "200 404 404 404 404 404 401 200"),
    "GET /reports/figures.xlsx": Row("GET", "/api/v1/reports/figures.xlsx", "200 404 404 404 404 404 401 200"),

    # ---- notifications: each account its own (notif_emp_b is emp_b's)
    # ---- interviews arranged for referrals: the referral's office and base, the administrators of the area.
    # `ref_free` (office B's new file -> slot_b, sent) has none yet: the base proposes (an office may read but
    # not propose: 403). `ref_interview` is base B's proposal on `ref_sent`: either side may cancel it.
    "GET /referrals/{id}/interviews": Row("GET", "/api/v1/referrals/{ref_sent}/interviews",
                                          "200 404 200 404 200 404 401 404"),
    "POST /referrals/{id}/interviews": Row(
        "POST", "/api/v1/referrals/{ref_free}/interviews", "201 404 403 404 201 404 401 404",
        lambda o: {"starts_at": (clock.now() + dt.timedelta(days=2)).isoformat(), "place": "佛堂镇工业区 3 号",
                   "contact_name": "李经理", "contact_phone": "0579-85000000"}, once=True),
    "POST /referral-interviews/{id}/actions": Row(
        "POST", "/api/v1/referral-interviews/{ref_interview}/actions", "200 404 200 404 200 404 401 404",
        {"action": "cancel"}, once=True),
    "GET /notifications": Row("GET", "/api/v1/notifications", "200 200 200 200 200 200 401 200"),
    "GET /notifications/unread-count": Row("GET", "/api/v1/notifications/unread-count",
                                           "200 200 200 200 200 200 401 200"),
    "POST /notifications/{id}/read": Row("POST", "/api/v1/notifications/{notif_emp_b}/read",
                                         "404 404 404 404 200 404 401 404"),
    "POST /notifications/read-all": Row("POST", "/api/v1/notifications/read-all", "200 200 200 200 200 200 401 200"),

    # ---- audit: administrators only
    "GET /audit-events": Row("GET", "/api/v1/audit-events", "200 404 404 404 404 404 401 200"),
    "GET /audit-events/verification": Row("GET", "/api/v1/audit-events/verification",
                                          "200 404 404 404 404 404 401 200"),

    # ---- base records and complaints: administrators
    "GET /base-records": Row("GET", "/api/v1/base-records", "200 404 404 404 404 404 401 200"),
    "GET /bases/{id}/complaints": Row("GET", "/api/v1/bases/{company_a}/complaints",
                                      "200 404 404 404 404 404 401 403"),
    "POST /bases/{id}/complaints": Row("POST", "/api/v1/bases/{company_a}/complaints",
                                       "201 404 404 404 404 404 401 403",
                                       lambda o: {"received_on": today().isoformat(), "summary": "拖欠工资"},
                                       witness="/api/v1/bases/{company_a}/complaints"),
    "POST /bases/{id}/pause/lift": Row("POST", "/api/v1/bases/{company_a}/pause/lift",
                                       "409 404 404 404 404 404 401 403", {}, witness="/api/v1/base-records"),
    "GET /base-size-bands": Row("GET", "/api/v1/base-size-bands", "200 404 404 404 404 404 401 200"),
    "PUT /base-size-bands": Row("PUT", "/api/v1/base-size-bands", "200 404 404 404 404 404 401 200",
                                {"bands": [{"min_employees": 1, "monthly_referrals": 4},
                                           {"min_employees": 50, "monthly_referrals": 10}]},
                                witness="/api/v1/base-size-bands"),
    "GET /base-answer-rules": Row("GET", "/api/v1/base-answer-rules", "200 404 404 404 404 404 401 200"),
    "PUT /base-answer-rules": Row("PUT", "/api/v1/base-answer-rules", "200 404 404 404 404 404 401 200",
                                  {"pause_after": 4, "target_share": 0.35}, witness="/api/v1/base-answer-rules"),
    "POST /bases/{id}/complaints/{c}/resolve": Row(
        "POST", "/api/v1/bases/{company_a}/complaints/{complaint}/resolve", "200 404 404 404 404 404 401 403", {},
        witness="/api/v1/bases/{company_a}/complaints"),

    # ---- imports and exports: within the account's scope (a bad file: 422 to those who may import).
    # Employers and organisers get 403 here where GET /candidates answers them 404: nothing leaks (no object
    # is named), but it is not the "a role's non-action is 404" rule; see the report.
    "POST /imports/{kind}": Row("POST", "/api/v1/imports/{import_kind}?dry_run=true", "422 422 422 403 403 403 401 422",
                                files=True),
    "GET /exports/{kind}": Row("GET", "/api/v1/exports/{import_kind}?format=csv", "200 200 200 403 403 403 401 200"),

    # ---- matching: recommendations, eligibility, bans, models, assignment plans
    "GET /candidates/{id}/recommendations": Row("GET", "/api/v1/candidates/{cand_a}/recommendations",
                                                "200 200 404 404 404 404 401 404"),
    "GET /candidates/{id}/eligibility/{slot}": Row("GET", "/api/v1/candidates/{cand_a}/eligibility/{slot_a}",
                                                   "200 200 404 404 404 404 401 404"),
    "GET /candidates/{id}/bans": Row("GET", "/api/v1/candidates/{cand_a}/bans", "200 200 404 404 404 404 401 404"),
    "POST /candidates/{id}/bans": Row("POST", "/api/v1/candidates/{cand_a}/bans", "201 201 404 404 404 404 401 404",
                                      {"kind": "court_order", "courses": ["welding"], "note": "判决禁止"},
                                      witness="/api/v1/candidates/{cand_a}/bans"),
    "GET /slots/{id}/candidates": Row("GET", "/api/v1/slots/{slot_a}/candidates", "200 200 200 200 404 404 401 200"),
    "GET /models": Row("GET", "/api/v1/models", "200 404 404 404 404 404 401 200"),
    # No model is trained in this world (it takes long): evaluating answers the administrator 409, activating
    # an unknown version 404; what these rows prove is that nobody else reaches them.
    "GET /models/evaluation": Row("GET", "/api/v1/models/evaluation", "409 404 404 404 404 404 401 409"),
    "POST /models/{version}/activate": Row("POST", "/api/v1/models/{model_version}/activate",
                                           "404 404 404 404 404 404 401 404"),
    # Assignment plans: administrators and organisers, each their own drafts.
    "GET /assignments": Row("GET", "/api/v1/assignments", "200 404 404 404 404 200 401 200"),
    "POST /assignments": Row("POST", "/api/v1/assignments", "201 404 404 404 404 201 401 201", {"course": "cooking"},
                             witness="/api/v1/assignments"),
    "GET /assignments/{id}": Row("GET", "/api/v1/assignments/{draft}", "200 404 404 404 404 404 401 404"),
    "POST /assignments/{id}/confirm": Row("POST", "/api/v1/assignments/{draft}/confirm",
                                          "200 404 404 404 404 404 401 404", witness="/api/v1/assignments/{draft}"),
    "POST /assignments/{id}/discard": Row("POST", "/api/v1/assignments/{draft}/discard",
                                          "200 404 404 404 404 404 401 404", witness="/api/v1/assignments/{draft}"),

    # ---- accounts, the remaining list and create endpoints of test_scope_matrix.py's resources
    "POST /accounts": Row("POST", "/api/v1/accounts", "201 404 404 404 404 404 401 422",
                          lambda o: {"username": "new_cw", "display_name": "新人", "password": "a-long-password-1",
                                     "role": "caseworker", "office_id": o["office_a"]}, once=True),
    "GET /accounts": Row("GET", "/api/v1/accounts", "200 404 404 404 404 404 401 200"),
    "POST /bases": Row("POST", "/api/v1/bases", "201 404 404 404 404 404 401 422",
                       lambda o: {"name": "丁保洁有限公司", "credit_code": o["credit_code_new"], "industry": "保洁",
                                  "place": {"code": "330782001"}}, once=True),
    "GET /bases": Row("GET", "/api/v1/bases", "200 200 200 200 200 200 401 200"),
    "POST /slots": Row("POST", "/api/v1/slots", "201 404 404 201 201 404 401 422",
                       lambda o: {"kind": "job", "title": "帮厨", "course_code": "cooking", "seats": 2,
                                  "company_id": o["company_a"], "place": {"code": "330782001"},
                                  "starts_on": today().isoformat()}),
    "GET /slots": Row("GET", "/api/v1/slots", "200 200 200 200 200 200 401 200"),
    # cw_b: the person lives in office A's township, not B's: 422 on the residence.
    "POST /candidates": Row("POST", "/api/v1/candidates", "201 201 422 404 404 404 401 422",
                            lambda o: o["new_candidate"], once=True),
    "GET /candidates": Row("GET", "/api/v1/candidates", "200 200 200 404 404 404 401 200"),
    # cw_b names office A's candidate: 422 "No such candidate." on the field, as for an id that does not exist.
    "POST /referrals": Row("POST", "/api/v1/referrals", "201 201 422 404 404 404 401 422",
                           lambda o: {"candidate_id": o["cand_a"], "slot_id": o["slot_b"]}, once=True),
    "GET /referrals": Row("GET", "/api/v1/referrals", "200 200 200 200 200 200 401 200"),
    "GET /offices": Row("GET", "/api/v1/offices", "200 200 200 200 200 200 401 200"),
    "GET /places": Row("GET", "/api/v1/places", "200 200 200 200 200 200 401 200"),
    "GET /reference/courses": Row("GET", "/api/v1/reference/courses", "200 200 200 200 200 200 401 200"),
    "GET /reference/skills": Row("GET", "/api/v1/reference/skills", "200 200 200 200 200 200 401 200"),
    "GET /reference/occupations": Row("GET", "/api/v1/reference/occupations", "200 200 200 200 200 200 401 200"),
    "GET /reference/occupation-suggestions": Row("GET", "/api/v1/reference/occupation-suggestions?title=厨师",
                                                 "200 200 200 200 200 200 401 200"),
    # Free-text skills: staff read the texts of their scope; a caseworker suggests for texts of their own files
    # (none here: 404), administrators suggest and decide; a reading that does not exist is not found.
    "GET /skill-texts": Row("GET", "/api/v1/skill-texts", "200 200 200 404 404 404 401 200"),
    "POST /skill-texts/suggestions": Row("POST", "/api/v1/skill-texts/suggestions", "201 404 404 404 404 404 401 201",
                                         {"text": "会开三轮车", "skill_code": "driving_c1"}, once=True),
    "POST /skill-texts/readings": Row("POST", "/api/v1/skill-texts/readings", "200 404 404 404 404 404 401 200",
                                      {"text": "懂一点水电", "skill_code": None}, once=True),
    # No reading exists in this world: a number that is no reading id (a slot's) is not found for anyone.
    "DELETE /skill-texts/readings/{id}": Row("DELETE", "/api/v1/skill-texts/readings/{slot_b}",
                                             "404 404 404 404 404 404 401 404"),

    # ---- rows for endpoints added while this file was written (export requests, background jobs) --------
    # Identified exports: each account its own requests, administrators all; an administrator decides
    # (never on their own request); only the asker downloads, once. `export_req` is cw_a's, pending;
    # `export_ok` is cw_a's, approved.
    "GET /export-requests": Row("GET", "/api/v1/export-requests", "200 200 200 200 200 200 401 200"),
    "POST /export-requests": Row("POST", "/api/v1/export-requests", "201 201 201 403 403 403 401 201",
                                 {"kind": "candidates", "params": {"format": "csv"}, "reason": "核对名单"}),
    "GET /export-requests/{id}": Row("GET", "/api/v1/export-requests/{export_req}", "200 200 404 404 404 404 401 404"),
    "POST /export-requests/{id}/approve": Row("POST", "/api/v1/export-requests/{export_req}/approve",
                                              "200 404 404 404 404 404 401 404", {}, once=True,
                                              witness="/api/v1/export-requests/{export_req}"),
    "POST /export-requests/{id}/refuse": Row("POST", "/api/v1/export-requests/{export_req}/refuse",
                                             "200 404 404 404 404 404 401 404", {"note": "理由不足"}, once=True,
                                             witness="/api/v1/export-requests/{export_req}"),
    "GET /export-requests/{id}/file": Row("GET", "/api/v1/export-requests/{export_ok}/file",
                                          "403 200 404 404 404 404 401 404", once=True,
                                          witness="/api/v1/export-requests/{export_ok}"),
    # Background jobs: each account its own, administrators all.
    "GET /jobs": Row("GET", "/api/v1/jobs", "200 200 200 200 200 200 401 200"),
    # Submitting: who may call the synchronous endpoint (assignment plans: administrators and organisers;
    # imports of candidates: administrators and caseworkers). The jobs only go to a test queue (`_jobs_queue`).
    "POST /jobs": Row("POST", "/api/v1/jobs", "202 404 404 404 404 202 401 202",
                      {"kind": "assignment", "params": {"course": "cooking"}}),
    "POST /jobs/imports/{kind}": Row("POST", "/api/v1/jobs/imports/{import_kind}", "202 202 202 403 403 403 401 202",
                                     files=True),
    "GET /jobs/{id}": Row("GET", "/api/v1/jobs/{job}", "200 404 404 404 404 200 401 404"),
    # Retention: administrators only (a dry run here: the report, nothing archived).
    "POST /retention/runs": Row("POST", "/api/v1/retention/runs", "200 404 404 404 404 404 401 200", {"dry_run": True}),
}

# Every logged-in account may call these, and each acts only on itself (its own token, its own profile).
SELF_ONLY = {
    ("GET", "/api/v1/me"): "the caller's own account",
    ("DELETE", "/api/v1/auth/tokens"): "ends the token the request carries, nobody else's",
}
# Answered without a token, on purpose.
PUBLIC = {
    ("POST", "/api/v1/auth/tokens"): "the login: username and password in, a token out",
}


def _scope_matrix_endpoints() -> set[tuple[str, str]]:
    """The (method, rule) pairs tests/test_scope_matrix.py covers (its ENDPOINTS table)."""
    path = Path(__file__).resolve().parents[1] / "test_scope_matrix.py"
    spec = importlib.util.spec_from_file_location("_scope_matrix_for_walk", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return {(e.method, _normalise(e.path)) for e in module.ENDPOINTS.values()}


def _normalise(path: str) -> str:
    """/api/v1/bases/{id}/x?y=1 and /api/v1/bases/<id:company_id>/x both become /api/v1/bases/{}/x."""
    path = path.split("?")[0]
    path = re.sub(r"<[^>]+>", "{}", path)
    return re.sub(r"\{[^}]+\}", "{}", path)


def _api_rules(app) -> set[tuple[str, str]]:
    rules = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                rules.add((method, rule.rule))
    return rules


# ---- the world ------------------------------------------------------------------------------------------

def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    return response.json


@pytest.fixture(autouse=True)
def _jobs_queue(app, monkeypatch):
    """Jobs submitted here go to a queue of their own on the test Redis and are never worked: a job run in a
    thread of the test process would wait for the write lock the test's session holds on SQLite."""
    connection = redis_or_skip(JOBS_REDIS_URL)
    monkeypatch.setitem(app.config, "REDIS_URL", JOBS_REDIS_URL)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", f"xintu-matrix-{uuid.uuid4().hex[:8]}")
    yield
    connection.flushdb()
    connection.close()


@pytest.fixture
def objects(api, world, session, kit):
    """The objects the rows act on. Built through the API once per worker, then restored from their rows
    (tests/db_support.py); the background job is submitted anew for each test, as its queue (on Redis) is."""
    from matcher.auth.models import Account

    built = restored(session, "endpoint-matrix", lambda: _build_objects(api, world, session, kit))
    world.accounts["admin_dy"] = session.get(Account, built["admin_dy"])
    world.tokens["admin_dy"] = built["admin_dy_token"]
    job = _ok(api.post("/api/v1/jobs", json={"kind": "assignment", "params": {"course": "cooking"}},
                       headers=world.h("org")), 202)
    return {name: value for name, value in built.items() if not name.startswith("admin_dy")} | {"job": job["id"]}


def _build_objects(api, world, session, kit) -> dict:
    from matcher.auth.service import create_account, issue_token
    from matcher.notify.models import Notification
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import ReferralEvent
    from matcher.referrals.service import create_referral, transition

    # The district bureau of Dongyang (330783): an administrator of another district than Yiwu's, where the
    # world's offices, files and bases are; the fair is the city bureau's (330700).
    admin_dy = create_account(session=session, actor=None, data=dict(
        username="admin_dy", display_name="admin_dy", password=kit.PASSWORD, role="administrator",
        bureau_code="330783"))
    world.accounts["admin_dy"] = admin_dy
    world.tokens["admin_dy"] = issue_token(session=session, account=admin_dy, ttl_days=1)[0]
    session.commit()
    org, admin = world.h("org"), world.h("admin")
    # A placement started 40 days ago: its 30-day check is overdue.
    worker = kit.new_candidate(session, world.accounts["cw_a"], residence=kit.CHOUCHENG, seq=21)
    placed = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=worker.id,
                             slot_id=world.slot_a.id, send=True)
    session.execute(update(ReferralEvent).where(ReferralEvent.referral_id == placed.id)
                    .values(on_date=today() - dt.timedelta(days=42)))
    session.commit()
    for to, days in ((ReferralStatus.OFFERED, 41), (ReferralStatus.STARTED, 40)):
        transition(session=session, actor=world.accounts["emp_a"], referral_id=placed.id, to=to,
                   on_date=today() - dt.timedelta(days=days))
    ref_sent = create_referral(session=session, actor=world.accounts["cw_b"], candidate_id=world.cand_b.id,
                               slot_id=world.slot_b.id, send=True)
    session.commit()
    from matcher.interviews.service import propose

    ref_interview = propose(session=session, actor=world.accounts["emp_b"], referral_id=ref_sent.id,
                            starts_at=clock.now() + dt.timedelta(days=3), place="佛堂镇工业区 3 号",
                            contact_name="李经理", contact_phone="0579-85000000")
    free = kit.new_candidate(session, world.accounts["cw_b"], residence=kit.FOTANG, seq=22)
    ref_free = create_referral(session=session, actor=world.accounts["cw_b"], candidate_id=free.id,
                               slot_id=world.slot_b.id, send=True)
    session.commit()
    tasks = _ok(api.get("/api/v1/follow-up-tasks", headers=admin))
    task = next(t["id"] for t in tasks if t["days"] == 30)
    notif_emp_b = session.query(Notification).filter_by(account_id=world.accounts["emp_b"].id).first()
    assert notif_emp_b is not None, "sending a referral notifies the base"

    fair = _ok(api.post("/api/v1/fairs", json=_fair_body(), headers=org), 201)
    booth = _ok(api.post(f"/api/v1/fairs/{fair['id']}/booths", headers=org, json={
        "company_id": world.company_a.id, "slot_ids": [world.slot_a.id], "interviews_per_block": 1}), 201)
    _ok(api.post(f"/api/v1/fairs/{fair['id']}/invitations", headers=org,
                 json={"public_ids": [world.cand_a.public_id, world.cand_b.public_id]}))
    invitations = {i["candidate"]["public_id"]: i["id"]
                   for i in _ok(api.get(f"/api/v1/fairs/{fair['id']}/invitations", headers=org))}
    inv_a, inv_b = invitations[world.cand_a.public_id], invitations[world.cand_b.public_id]
    _ok(api.post(f"/api/v1/fair-invitations/{inv_a}/answer", json={"attending": True, "consent": True},
                 headers=world.h("cw_a")))
    _ok(api.post(f"/api/v1/fairs/{fair['id']}/plan", json={}, headers=org), 201)
    interviews = _ok(api.get(f"/api/v1/fairs/{fair['id']}/interviews", headers=org))
    interview = next(iv["id"] for iv in interviews if iv["invitation_id"] == inv_a)
    # A second booth (base B) to remove; added after the plan so the plan is unchanged.
    booth_b = _ok(api.post(f"/api/v1/fairs/{fair['id']}/booths", headers=org, json={
        "company_id": world.company_b.id, "slot_ids": [world.slot_b.id]}), 201)

    # A third certified base with a slot and no booth yet (to add one).
    from matcher.bases.service import create_company, decide_certification

    company_c = create_company(session=session, actor=world.accounts["admin"], data={
        "name": "戊家政有限公司", "credit_code": kit.make_credit_code("91330782EEE"), "industry": "家政",
        "place": {"code": kit.CHOUCHENG}})
    decide_certification(session=session, actor=world.accounts["admin"], company_id=company_c.id, action="certify",
                         valid_until=today() + dt.timedelta(days=365))
    slot_c = kit.new_slot(session, world.accounts["admin"], title="保洁C", company_id=company_c.id)
    session.commit()

    complaint = _ok(api.post(f"/api/v1/bases/{world.company_a.id}/complaints", headers=admin,
                             json={"received_on": today().isoformat(), "summary": "拖欠工资"}), 201)
    draft = _ok(api.post("/api/v1/assignments", json={"course": "cooking"}, headers=admin), 201)
    visit = _ok(api.post(f"/api/v1/candidates/{world.cand_a.id}/visits", headers=world.h("cw_a"), json={
        "visited_on": today().isoformat(), "kind": "home", "note": "上门走访"}), 201)
    export_req = _ok(api.post("/api/v1/export-requests", headers=world.h("cw_a"), json={
        "kind": "candidates", "params": {"format": "csv"}, "reason": "核对名单"}), 201)
    export_ok = _ok(api.post("/api/v1/export-requests", headers=world.h("cw_a"), json={
        "kind": "candidates", "params": {"format": "csv"}, "reason": "移交档案"}), 201)
    _ok(api.post(f"/api/v1/export-requests/{export_ok['id']}/approve", json={}, headers=admin))
    # Never a real version: other tests may leave a trained model in the shared models folder, which would
    # make the administrator's answer depend on the order tests run in.
    model_version = "v-none"
    return {
        "fair": fair["id"], "booth": booth["id"], "booth_b": booth_b["id"], "inv_a": inv_a, "inv_b": inv_b,
        "interview": interview, "task": task, "ref_sent": ref_sent.id, "ref_interview": ref_interview.id,
        "ref_free": ref_free.id, "notif_emp_b": notif_emp_b.id,
        "complaint": complaint["id"], "draft": draft["id"], "model_version": model_version,
        "admin_dy": admin_dy.id, "admin_dy_token": world.tokens["admin_dy"],
        "export_req": export_req["id"], "export_ok": export_ok["id"],
        "company_a": world.company_a.id, "company_b": world.company_b.id, "company_c": company_c.id,
        "slot_c": slot_c.id, "slot_a": world.slot_a.id,
        "slot_b": world.slot_b.id, "cand_a": world.cand_a.id, "office_a": world.office_a.id, "visit": visit["id"],
        "cand_a_number": kit.make_id_number(seq=11),
        "cand_dual_public_id": world.cand_dual.public_id, "import_kind": "candidates",
        "credit_code_new": kit.make_credit_code("91330782DDD"),
        "new_candidate": {"name": "新人", "id_number": kit.make_id_number(seq=77), "education": "junior_secondary",
                          "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG},
                          "release_date": (today() - dt.timedelta(days=10)).isoformat(),
                          "offence_category": "theft"},
    }


def _headers(world, role):
    return {"Accept-Language": "en"} if role == "anon" else world.h(role)


def _call(api, world, row: Row, role: str, objects: dict, path_objects: dict | None = None):
    path = row.path.format(**(path_objects or objects))
    body = row.body(objects) if callable(row.body) else row.body
    if row.files:
        data = {"file": (io.BytesIO("name,id_number\n张三,123\n".encode()), "bad.csv")}
        return api.open(path, method=row.method, data=data, headers=_headers(world, role),
                        content_type="multipart/form-data")
    return api.open(path, method=row.method, json=body, headers=_headers(world, role))


def _check(api, world, row: Row, role: str, objects: dict) -> int:
    expected = row.codes()[role]
    witness = row.witness.format(**objects) if row.witness else None
    before = api.get(witness, headers=world.h("admin")).get_data() if witness and expected >= 400 else None
    response = _call(api, world, row, role, objects)
    if response.status_code >= 400 and response.is_json:
        body = response.json
        assert isinstance(body, dict) and set(body) <= ERROR_KEYS, (role, body)
        assert body["code"] == response.status_code, (role, body)
    if before is not None and response.status_code >= 400:
        assert api.get(witness, headers=world.h("admin")).get_data() == before, f"{role}'s refused call changed it"
    if OBSERVE and response.status_code in (403, 409, 422):
        print(f"\nOBSERVED {row.method} {row.path} as {role}: {response.get_data(as_text=True)[:300]}")
    if response.status_code == 500:
        pytest.fail(f"{row.method} {row.path} as {role}: 500")
    return response.status_code


def _cases():
    for name, row in MATRIX.items():
        codes = row.codes()
        if not row.once:
            yield pytest.param(name, ROLES, id=name)
            continue
        refused = tuple(r for r in ROLES if codes[r] >= 300)
        yield pytest.param(name, refused, id=f"{name} refused")
        for role in ROLES:
            if codes[role] < 300:
                yield pytest.param(name, (role,), id=f"{name} as {role}")




# Taken at the fair only: refused (409) before its day. The matrix's fair is tomorrow's; these rows run at the first
# second of that day (China time), when the tokens issued today are still valid.
ON_THE_FAIRS_DAY = ("POST /fairs/{id}/invitations/{inv}/check-in", "POST /fairs/{id}/walk-ins",
                    "POST /fair-interviews/{iv}/outcome")


@pytest.mark.parametrize(("name", "roles"), list(_cases()))
def test_endpoint_matrix(api, world, objects, name, roles, time_machine):
    row = MATRIX[name]
    codes = row.codes()
    if name in ON_THE_FAIRS_DAY:
        time_machine.move_to(dt.datetime.combine(tomorrow(), dt.time(0, 0, 1), tzinfo=CHINA_TZ), tick=True)
    order = sorted(roles, key=lambda role: codes[role] < 300)  # refusals first: they must change nothing
    actual = {role: _check(api, world, row, role, objects) for role in order}
    if OBSERVE:
        print(f"\nOBSERVED {name}: " + " ".join(str(actual.get(r, "-")) for r in ROLES))
    assert actual == {role: codes[role] for role in order}


def test_unknown_ids_are_not_found_for_everyone(api, world, objects):
    """Every row with an object id, given an id that does not exist: 404 for every role (never 500)."""
    actual = {}
    missing = dict.fromkeys(objects, 987654) | {"model_version": "no-such-model"}
    for name, row in MATRIX.items():
        if "{" not in row.path or row.path.startswith("/api/v1/imports"):
            continue
        for role in ("admin", "cw_a", "emp_a", "org"):
            response = _call(api, world, row, role, objects, missing)
            actual[f"{name} as {role}"] = response.status_code
    assert actual == dict.fromkeys(actual, 404)


def test_every_api_rule_is_classified(app):
    """Walk the URL map: a new endpoint without a matrix row fails here, by name."""
    covered = {(row.method, _normalise(row.path)) for row in MATRIX.values()} | _scope_matrix_endpoints()
    listed = {(m, _normalise(p)) for m, p in (*SELF_ONLY, *PUBLIC)}
    rules = {(method, _normalise(rule)): f"{method} {rule}" for method, rule in _api_rules(app)}
    unclassified = sorted(name for key, name in rules.items()
                          if key not in covered and key not in listed)
    assert unclassified == [], "endpoints with no matrix row (add one to MATRIX, or to SELF_ONLY / PUBLIC)"
    stale = sorted(f"{m} {p}" for m, p in covered | listed if (m, p) not in rules)
    assert stale == [], "rows or list entries for endpoints that no longer exist"
    print(f"\nwalked {len(rules)} API rule+method pairs: {len(covered & set(rules))} in a matrix, "
          f"{len(listed)} self-only or public")


def _concrete(rule: str) -> str:
    """A URL for a rule: ids 1, `any(...)` its first choice, other parameters `x`."""
    rule = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), rule)
    rule = re.sub(r"<id:[^>]+>", "1", rule)
    return re.sub(r"<[^>]+>", "x", rule)


def test_every_protected_endpoint_answers_401_without_a_token(api, app, world):
    """Every /api/v1 rule and method but the public ones: 401 with the error shape, before its body is read
    (a token that is not valid too)."""
    public = {(m, _normalise(p)) for m, p in PUBLIC}
    actual = {}
    for method, rule in sorted(_api_rules(app), key=lambda x: (x[1], x[0])):
        if (method, _normalise(rule)) in public:
            continue
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = api.open(_concrete(rule), method=method, json={}, headers={"Accept-Language": "en", **headers})
            key = f"{method} {rule}{' (bad token)' if headers else ''}"
            actual[key] = response.status_code
            if response.status_code == 401:
                assert response.is_json and set(response.json) <= ERROR_KEYS, key
    assert actual == dict.fromkeys(actual, 401)
    assert len(actual) >= 2 * 95


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/candidates?q=%00", None),
    ("GET", "/api/v1/slots?place=33%0007&course=a", None),
    ("GET", "/api/v1/places/3307%0082", None),
    ("POST", "/api/v1/models/v1%00x/activate", None),
    ("POST", "/api/v1/fairs", {"name": "招聘\x00会", "held_on": tomorrow().isoformat(), "venue": "某地",
                               "starts_at": "09:00"}),
    ("PATCH", "/api/v1/bases/{company_a}", {"description": "a\x00b"}),
])
def test_a_nul_character_is_refused_not_a_server_error(api, world, objects, method, path, body):
    """PostgreSQL cannot store or compare text holding NUL: the edge refuses it (422), or finds nothing (404)."""
    response = api.open(path.format(**objects), method=method, json=body, headers=world.h("admin"))
    assert response.status_code in (404, 422), response.get_data(as_text=True)[:300]
    assert set(response.json) <= ERROR_KEYS


def test_the_operations_endpoints_outside_the_api(api, world):
    """/healthz, /readyz and /metrics sit outside /api/v1 and are anonymous by design (matcher/ops): liveness and
    readiness say nothing internal; metrics answer a remote caller only with XINTU_METRICS_TOKEN."""
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert api.get("/healthz", environ_base=remote).status_code == 200
    ready = api.get("/readyz", environ_base=remote)
    assert ready.status_code in (200, 503) and "Traceback" not in ready.get_data(as_text=True)
    metrics = api.get("/metrics", environ_base=remote)
    assert metrics.status_code in (401, 403, 404), metrics.status_code
    assert b"python_gc" not in metrics.get_data()
    assert api.get("/metrics", headers=world.h("admin"), environ_base=remote).status_code in (401, 403, 404)
