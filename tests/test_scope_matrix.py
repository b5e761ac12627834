"""Who may reach which object: the role x object matrix over every endpoint that takes an id.

The rule: an object outside your scope does not exist for you. It answers 404, never 403 (which
would confirm it exists) and never 200. 403 is kept for one case: the object is visible to you
but the action is not yours to take (a caseworker reading a dual-registration file kept by the
other office; an employer making a caseworker's move on a referral it can see). An action a role
never has (a caseworker editing a base, an employer certifying) is answered 404 as well.

World (tests/conftest.py): company_a and company_b are certified bases (emp_a, emp_b work there),
company_applied is only an applicant; slot_a / draft_a belong to company_a, slot_b to company_b;
cand_a is kept by office A (cw_a), cand_b by office B (cw_b), cand_dual is kept by office B but
household-registered in office A's township (双列管), so cw_a may read it but not change it.
Referrals made here: ref_a (cand_a -> slot_a, sent), ref_a_proposed (cand_a -> slot_b, not sent),
ref_dual (cand_dual -> slot_a, sent by office B), ref_b (cand_b -> slot_b, sent).

    endpoint                               object           admin cw_a cw_b emp_a emp_b org  anon
    GET    /bases/<id>                     company_a         200  200  200  200   404  200  401
                                           company_b         200  200  200  404   200  200  401
                                           company_applied   200  404  404  404   404  404  401
    PATCH  /bases/<id>                     company_a         200  404  404  200   404  404  401
                                           company_applied   200  404  404  404   404  404  401
    GET    /bases/<id>/certification       company_a         200  404  404  200   404  404  401
    GET    /bases/<id>/agreements          company_applied   200  404  404  404   404  404  401
    POST   /bases/<id>/certification       company_a         200  404  404  404   404  404  401
                                           company_applied   200  404  404  404   404  404  401
    POST   /bases/<id>/agreements          company_a         201  404  404  404   404  404  401
                                           company_applied   201  404  404  404   404  404  401
    GET    /slots/<id>                     slot_a            200  200  200  200   404  200  401
                                           slot_b            200  200  200  404   200  200  401
                                           draft_a           200  404  404  200   404  404  401
    PATCH  /slots/<id>                     slot_a, draft_a   200  404  404  200   404  404  401
    POST   /slots/<id>/status              slot_b            200  404  404  404   200  404  401
    GET    /candidates/<id>                cand_a            200  200  404  404   404  404  401
    GET    /candidates/<id>/risk-assess.., cand_b            200  404  200  404   404  404  401
           .../consents, .../visits        cand_dual         200  200  200  404   404  404  401
    PATCH  /candidates/<id>                cand_a            200  200  404  404   404  404  401
    POST   /candidates/<id>/risk-assess..  cand_b            200  404  200  404   404  404  401
           .../consents, .../visits        cand_dual         200  403  200  404   404  404  401
           (POSTs answer 201 where PATCH answers 200)
    GET    /referrals/<id>                 ref_a             200  200  404  200   404  404  401
                                           ref_a_proposed    200  200  404  404   404  404  401
                                           ref_dual          200  200  200  200   404  404  401
                                           ref_b             200  404  200  404   200  404  401
    POST   /referrals/<id>/transitions     ref_a             200  200  404  200   404  404  401
           (caseworkers and admin:         ref_a_proposed    200  200  404  404   404  404  401
            withdraw; employers:           ref_dual          200  403  200  200   404  404  401
            interview; org: withdraw)      ref_b             200  404  200  404   200  404  401
    GET/PATCH /accounts/<id>               any account       200  404  404  404   404  404  401
    GET    /offices/<id>                   office_a          200  200  200  200   200  200  401
    GET    /places/<code>                  330782001         200  200  200  200   200  200  401
    (unknown ids answer 404 to every role)

List endpoints are scoped the same way (tested below the matrix).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from matcher.clock import today

ROLES = ("admin", "cw_a", "cw_b", "emp_a", "emp_b", "org", "anon")
ERROR_KEYS = {"code", "status", "message", "errors"}


def _iso(day: dt.date) -> str:
    return day.isoformat()


@dataclasses.dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {id}
    body: object = None  # a dict, or a callable(role) -> dict
    witness: str | None = None  # path an administrator reads to see whether a refused write changed anything

    def body_for(self, role: str):
        return self.body(role) if callable(self.body) else self.body


def _transition_body(role: str) -> dict:
    if role.startswith("emp"):
        return {"to": "interview"}
    return {"to": "withdrawn", "reason": "本人另有安排"}


ENDPOINTS = {
    "GET base": Endpoint("GET", "/api/v1/bases/{id}"),
    "PATCH base": Endpoint("PATCH", "/api/v1/bases/{id}", {"description": "改过的介绍"},
                           "/api/v1/bases/{id}"),
    "GET certification": Endpoint("GET", "/api/v1/bases/{id}/certification"),
    "POST certification": Endpoint(
        "POST", "/api/v1/bases/{id}/certification",
        lambda _role: {"action": "certify", "valid_until": _iso(today() + dt.timedelta(days=400))},
        "/api/v1/bases/{id}/certification"),
    "GET agreements": Endpoint("GET", "/api/v1/bases/{id}/agreements"),
    "POST agreements": Endpoint(
        "POST", "/api/v1/bases/{id}/agreements",
        lambda _role: {"signed_on": _iso(today()), "term_months": 36}, "/api/v1/bases/{id}/agreements"),
    "GET slot": Endpoint("GET", "/api/v1/slots/{id}"),
    "PATCH slot": Endpoint("PATCH", "/api/v1/slots/{id}", {"title": "改过的标题"}, "/api/v1/slots/{id}"),
    "POST slot status": Endpoint("POST", "/api/v1/slots/{id}/status", {"status": "closed"},
                                 "/api/v1/slots/{id}"),
    "GET candidate": Endpoint("GET", "/api/v1/candidates/{id}"),
    "PATCH candidate": Endpoint("PATCH", "/api/v1/candidates/{id}", {"needs_housing": True},
                                "/api/v1/candidates/{id}"),
    "GET risk": Endpoint("GET", "/api/v1/candidates/{id}/risk-assessments"),
    "POST risk": Endpoint("POST", "/api/v1/candidates/{id}/risk-assessments",
                          lambda _role: {"grade": "yellow", "assessed_on": _iso(today())},
                          "/api/v1/candidates/{id}/risk-assessments"),
    "GET consents": Endpoint("GET", "/api/v1/candidates/{id}/consents"),
    "POST consents": Endpoint("POST", "/api/v1/candidates/{id}/consents",
                              lambda _role: {"kind": "referral", "granted": True,
                                             "recorded_on": _iso(today())},
                              "/api/v1/candidates/{id}/consents"),
    "GET visits": Endpoint("GET", "/api/v1/candidates/{id}/visits"),
    "POST visits": Endpoint("POST", "/api/v1/candidates/{id}/visits",
                            lambda _role: {"visited_on": _iso(today()), "kind": "home", "note": "走访"},
                            "/api/v1/candidates/{id}/visits"),
    "GET referral": Endpoint("GET", "/api/v1/referrals/{id}"),
    "POST transition": Endpoint("POST", "/api/v1/referrals/{id}/transitions", _transition_body,
                                "/api/v1/referrals/{id}"),
    "GET account": Endpoint("GET", "/api/v1/accounts/{id}"),
    "PATCH account": Endpoint("PATCH", "/api/v1/accounts/{id}", {"display_name": "改过的名字"},
                              "/api/v1/accounts/{id}"),
    "GET office": Endpoint("GET", "/api/v1/offices/{id}"),
    "GET place": Endpoint("GET", "/api/v1/places/{id}"),
}

# (endpoints, objects, expected answers for admin cw_a cw_b emp_a emp_b org anon)
MATRIX = [
    (["GET base"], ["company_a"], "200 200 200 200 404 200 401"),
    (["GET base"], ["company_b"], "200 200 200 404 200 200 401"),
    (["GET base"], ["company_applied"], "200 404 404 404 404 404 401"),
    (["PATCH base", "GET certification", "GET agreements"], ["company_a"], "200 404 404 200 404 404 401"),
    (["PATCH base", "GET certification", "GET agreements"], ["company_applied"],
     "200 404 404 404 404 404 401"),
    (["POST certification"], ["company_a", "company_applied"], "200 404 404 404 404 404 401"),
    (["POST agreements"], ["company_a", "company_applied"], "201 404 404 404 404 404 401"),
    (["GET slot"], ["slot_a"], "200 200 200 200 404 200 401"),
    (["GET slot"], ["slot_b"], "200 200 200 404 200 200 401"),
    (["GET slot"], ["draft_a"], "200 404 404 200 404 404 401"),
    (["PATCH slot", "POST slot status"], ["slot_a", "draft_a"], "200 404 404 200 404 404 401"),
    (["PATCH slot", "POST slot status"], ["slot_b"], "200 404 404 404 200 404 401"),
    (["GET candidate", "GET risk", "GET consents", "GET visits"], ["cand_a"], "200 200 404 404 404 404 401"),
    (["GET candidate", "GET risk", "GET consents", "GET visits"], ["cand_b"], "200 404 200 404 404 404 401"),
    (["GET candidate", "GET risk", "GET consents", "GET visits"], ["cand_dual"],
     "200 200 200 404 404 404 401"),
    (["PATCH candidate"], ["cand_a"], "200 200 404 404 404 404 401"),
    (["PATCH candidate"], ["cand_b"], "200 404 200 404 404 404 401"),
    (["PATCH candidate"], ["cand_dual"], "200 403 200 404 404 404 401"),
    (["POST risk", "POST consents", "POST visits"], ["cand_a"], "201 201 404 404 404 404 401"),
    (["POST risk", "POST consents", "POST visits"], ["cand_b"], "201 404 201 404 404 404 401"),
    (["POST risk", "POST consents", "POST visits"], ["cand_dual"], "201 403 201 404 404 404 401"),
    (["GET referral", "POST transition"], ["ref_a"], "200 200 404 200 404 404 401"),
    (["GET referral", "POST transition"], ["ref_a_proposed"], "200 200 404 404 404 404 401"),
    (["GET referral"], ["ref_dual"], "200 200 200 200 404 404 401"),
    (["POST transition"], ["ref_dual"], "200 403 200 200 404 404 401"),
    (["GET referral", "POST transition"], ["ref_b"], "200 404 200 404 200 404 401"),
    (["GET account", "PATCH account"], ["acc_cw_a", "acc_emp_a", "acc_admin"], "200 404 404 404 404 404 401"),
    (["GET office"], ["office_a"], "200 200 200 200 200 200 401"),
    (["GET place"], ["place_choucheng"], "200 200 200 200 200 200 401"),
]


def _rows(*, transitions: bool):
    """The matrix rows, one per (endpoints, objects) line: the moves of a referral separately."""
    for endpoints, objects, answers in MATRIX:
        codes = [int(code) for code in answers.split()]
        assert len(codes) == len(ROLES)
        chosen = [e for e in endpoints if (e == "POST transition") == transitions]
        if chosen:
            yield chosen, objects, dict(zip(ROLES, codes, strict=True))


@pytest.fixture
def objects(world, session):
    """Referrals in every visibility class, and the id of every object the matrix names."""
    from matcher.referrals.service import create_referral

    cw_a, cw_b = world.accounts["cw_a"], world.accounts["cw_b"]
    ref_a = create_referral(session=session, actor=cw_a, candidate_id=world.cand_a.id,
                            slot_id=world.slot_a.id, send=True)
    ref_a_proposed = create_referral(session=session, actor=cw_a, candidate_id=world.cand_a.id,
                                     slot_id=world.slot_b.id)
    ref_dual = create_referral(session=session, actor=cw_b, candidate_id=world.cand_dual.id,
                               slot_id=world.slot_a.id, send=True)
    ref_b = create_referral(session=session, actor=cw_b, candidate_id=world.cand_b.id,
                            slot_id=world.slot_b.id, send=True)
    return {
        "company_a": world.company_a.id, "company_b": world.company_b.id,
        "company_applied": world.company_applied.id,
        "slot_a": world.slot_a.id, "slot_b": world.slot_b.id, "draft_a": world.draft_a.id,
        "cand_a": world.cand_a.id, "cand_b": world.cand_b.id, "cand_dual": world.cand_dual.id,
        "ref_a": ref_a.id, "ref_a_proposed": ref_a_proposed.id, "ref_dual": ref_dual.id, "ref_b": ref_b.id,
        "acc_cw_a": world.accounts["cw_a"].id, "acc_emp_a": world.accounts["emp_a"].id,
        "acc_admin": world.accounts["admin"].id,
        "office_a": world.office_a.id, "place_choucheng": "330782001",
    }


def _headers(world, role: str) -> dict:
    return {"Accept-Language": "en"} if role == "anon" else world.h(role)


def _call(api, world, endpoint: Endpoint, role: str, object_id):
    return api.open(endpoint.path.format(id=object_id), method=endpoint.method, json=endpoint.body_for(role),
                    headers=_headers(world, role))


def _check_one(api, world, spec: Endpoint, role: str, object_id, expected: int) -> int:
    """Make the call as `role`; for a refusal, check the answer carries nothing of the object and a
    refused write changed nothing. Returns the status for the caller's table."""
    witness = spec.witness.format(id=object_id) if spec.witness else None
    before = api.get(witness, headers=world.h("admin")).json if witness and expected >= 400 else None
    response = _call(api, world, spec, role, object_id)
    body = response.json
    if response.status_code >= 400:
        # An error answer is only the error shape: nothing of the object leaks with it.
        assert isinstance(body, dict) and set(body) <= ERROR_KEYS, (role, body)
        assert body["code"] == response.status_code and body["message"], (role, body)
        if before is not None:
            after = api.get(witness, headers=world.h("admin")).json
            assert after == before, f"{role}'s refused write changed it"
    elif spec.method == "GET" and isinstance(body, dict) and "id" in body:
        assert body["id"] == object_id, (role, body)
    return response.status_code


@pytest.mark.parametrize(("endpoints", "objects_", "expected"), [
    pytest.param(e, o, x, id=f"{'+'.join(e)}-{'+'.join(o)}") for e, o, x in _rows(transitions=False)])
def test_scope_matrix(api, world, objects, endpoints, objects_, expected):
    """Every role against each object of a matrix line. For each endpoint and object the refusals go
    first (they must leave the object as it was); the writes that are allowed are repeatable (the
    same patch, another agreement, another visit)."""
    order = sorted(ROLES, key=lambda role: expected[role] < 400)
    actual, wanted = {}, {}
    for endpoint in endpoints:
        for obj in objects_:
            for role in order:
                key = f"{endpoint} {obj} as {role}"
                wanted[key] = expected[role]
                actual[key] = _check_one(api, world, ENDPOINTS[endpoint], role, objects[obj], expected[role])
    assert actual == wanted


def _transition_cases():
    for _endpoints, objects_, expected in _rows(transitions=True):
        for obj in objects_:
            refused = tuple(role for role in ROLES if expected[role] >= 400)
            yield pytest.param(obj, refused, {r: expected[r] for r in refused}, id=f"{obj}-refused")
            for role in ROLES:
                if expected[role] < 400:
                    yield pytest.param(obj, (role,), {role: expected[role]}, id=f"{obj}-{role}")


@pytest.mark.parametrize(("obj", "roles", "expected"), list(_transition_cases()))
def test_scope_matrix_transitions(api, world, objects, obj, roles, expected):
    """Moves are not repeatable: every role allowed one gets fresh referrals; the refused ones are
    checked together (a refusal changes nothing, which `_check_one` verifies)."""
    spec = ENDPOINTS["POST transition"]
    actual = {role: _check_one(api, world, spec, role, objects[obj], expected[role]) for role in roles}
    assert actual == expected


def test_unknown_ids_are_not_found_for_everyone(api, world):
    actual = {}
    for name, spec in ENDPOINTS.items():
        if name == "GET place":
            continue
        for role in ("admin", "cw_a", "emp_a", "org"):
            response = _call(api, world, spec, role, 987654)
            assert set(response.json) <= ERROR_KEYS, (name, role, response.json)
            actual[f"{name} as {role}"] = response.status_code
    assert actual == dict.fromkeys(actual, 404)
    assert len(actual) == 4 * (len(ENDPOINTS) - 1)


def test_unknown_place_code_is_not_found(api, world):
    response = api.get("/api/v1/places/330782999", headers=world.h("org"))
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_employer_cannot_make_a_caseworkers_move_on_a_visible_referral(api, world, objects):
    response = api.post(f"/api/v1/referrals/{objects['ref_a']}/transitions",
                        json={"to": "withdrawn", "reason": "不想去了"}, headers=world.h("emp_a"))
    assert response.status_code == 403
    assert api.get(f"/api/v1/referrals/{objects['ref_a']}", headers=world.h("emp_a")).json["status"] == "sent"


def test_caseworker_cannot_make_an_employers_move(api, world, objects):
    response = api.post(f"/api/v1/referrals/{objects['ref_a']}/transitions", json={"to": "interview"},
                        headers=world.h("cw_a"))
    assert response.status_code == 403


# ---- list endpoints are scoped ----------------------------------------------------------------------

def _ids(response) -> set:
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json}


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", {"cand_a", "cand_b", "cand_dual"}),
    ("cw_a", {"cand_a", "cand_dual"}),
    ("cw_b", {"cand_b", "cand_dual"}),
])
def test_candidate_list_is_scoped(api, world, objects, role, expected):
    assert _ids(api.get("/api/v1/candidates", headers=world.h(role))) == {objects[name] for name in expected}


@pytest.mark.parametrize("role", ["emp_a", "emp_b", "org"])
def test_candidate_list_does_not_exist_for_employers_and_organisers(api, world, role):
    response = api.get("/api/v1/candidates", headers=world.h(role))
    assert response.status_code == 404
    assert set(response.json) <= ERROR_KEYS


def test_a_filter_cannot_widen_the_candidate_scope(api, world, objects):
    office_b = world.office_b.id
    listed = _ids(api.get(f"/api/v1/candidates?office_id={office_b}", headers=world.h("cw_a")))
    assert listed == {objects["cand_dual"]}  # office B's file cw_a may read, never cand_b
    by_name = api.get("/api/v1/candidates", query_string={"q": world.cand_b.name}, headers=world.h("cw_a"))
    assert _ids(by_name) == set()


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", {"slot_a", "slot_b", "draft_a"}),
    ("cw_a", {"slot_a", "slot_b"}),
    ("org", {"slot_a", "slot_b"}),
    ("emp_a", {"slot_a", "draft_a"}),
    ("emp_b", {"slot_b"}),
])
def test_slot_list_is_scoped(api, world, objects, role, expected):
    assert _ids(api.get("/api/v1/slots", headers=world.h(role))) == {objects[name] for name in expected}


def test_employer_slot_list_never_shows_another_company(api, world):
    response = api.get("/api/v1/slots", query_string={"company_id": world.company_a.id},
                       headers=world.h("emp_b"))
    assert _ids(response) == set()
    response = api.get("/api/v1/slots", headers=world.h("emp_b"))
    assert {item["company_id"] for item in response.json} == {world.company_b.id}


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", {"company_a", "company_b", "company_applied"}),
    ("cw_a", {"company_a", "company_b"}),
    ("org", {"company_a", "company_b"}),
    ("emp_a", {"company_a"}),
    ("emp_b", {"company_b"}),
])
def test_base_list_is_scoped(api, world, objects, role, expected):
    assert _ids(api.get("/api/v1/bases", headers=world.h(role))) == {objects[name] for name in expected}


@pytest.mark.parametrize(("role", "expected"), [
    ("admin", {"ref_a", "ref_a_proposed", "ref_dual", "ref_b"}),
    ("cw_a", {"ref_a", "ref_a_proposed", "ref_dual"}),
    ("cw_b", {"ref_dual", "ref_b"}),
    ("emp_a", {"ref_a", "ref_dual"}),
    ("emp_b", {"ref_b"}),  # ref_a_proposed targets slot_b but was never sent
    ("org", set()),
])
def test_referral_list_is_scoped(api, world, objects, role, expected):
    assert _ids(api.get("/api/v1/referrals", headers=world.h(role))) == {objects[name] for name in expected}


def test_employer_cannot_find_a_proposed_referral_by_filtering(api, world, objects):
    response = api.get("/api/v1/referrals", query_string={"status": "proposed"}, headers=world.h("emp_b"))
    assert _ids(response) == set()
    response = api.get("/api/v1/referrals", query_string={"candidate_id": world.cand_a.id},
                       headers=world.h("emp_b"))
    assert _ids(response) == set()


@pytest.mark.parametrize("role", ["cw_a", "emp_a", "org"])
def test_account_list_is_for_administrators_only(api, world, role):
    assert api.get("/api/v1/accounts", headers=world.h(role)).status_code == 404
    listed = api.get("/api/v1/accounts", headers=world.h("admin"))
    assert {a["username"] for a in listed.json} == {"admin", "cw_a", "cw_b", "emp_a", "emp_b", "org"}


@pytest.mark.parametrize("path", ["/api/v1/candidates", "/api/v1/slots", "/api/v1/bases", "/api/v1/referrals",
                                  "/api/v1/accounts", "/api/v1/places", "/api/v1/offices", "/api/v1/me",
                                  "/api/v1/reference/courses"])
def test_lists_need_a_login(api, world, path):
    response = api.get(path)
    assert response.status_code == 401
    assert set(response.json) <= ERROR_KEYS
