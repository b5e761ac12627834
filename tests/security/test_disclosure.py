"""The disclosure model, proved from the outside (issue 13).

1. Every field of every resource the API answers with is classified (matcher.disclosure.FIELDS), and every
   classified field exists; every root resource says who the reader is to it. A new field or endpoint without a
   classification fails here, by name.
2. The README's table of who sees what is the one the classification makes.
3. Canaries: a unique token is written into every free-text and identifying field of a world with every kind of
   object (files, visits, consents, screenings, re-offences, bans, referrals and their events, follow-up checks,
   bases, slots, certification, agreements, complaints, a job fair with booths, invitations, interviews and a
   plan, export requests). Then every role reads everything it can reach through every channel: every GET of the
   API, every export in both formats, the fair plan workbook, the report workbook, its notifications and their
   emails, and the pages (crawled from the home page, printouts included). Each token found is checked against
   who may read the field it was written into, decided here from the domain's rules, not from the classification
   under test. The log records of the whole sweep are checked too: no token at all.
4. The sweep notices a wrong classification: told that a base may read the office's internal notes, it finds
   the base reading them.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import html
import io
import itertools
import logging
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from matcher import disclosure, policy
from matcher.extensions import db
from tests.security.test_endpoint_matrix import _jobs_queue, objects  # noqa: F401 - fixtures: the big world
from tests.web.conftest import PageClient

ROLES = ("admin", "admin_yiwu", "admin_dongyang", "cw_a", "cw_b", "emp_a", "emp_b", "org")
STAFF = {"admin", "admin_yiwu", "admin_dongyang", "cw_a", "cw_b", "org"}
CANARY = re.compile(r"ZQ(\d{5})")
PAGE_LIMIT = 120  # pages crawled per role
SKIPPED_PAGES = ("/logout", "/static/", "/api/", "/-/", "/login", "/language/")
SKIPPED_QUERIES = ("encoding=gbk",)  # the same file as the UTF-8 one, which is read


# ---- 1 and 2: the classification covers the API, and the README shows it -------------------------------------

def _response_schemas(document: dict) -> tuple[set[str], set[str]]:
    """(roots, all): the schemas 2xx answers name directly, and every schema reachable from them."""
    schemas = document["components"]["schemas"]

    def refs(node, found):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    found.add(value.rsplit("/", 1)[-1])
                else:
                    refs(value, found)
        elif isinstance(node, list):
            for value in node:
                refs(value, found)
        return found

    roots: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                for code, answer in operation.get("responses", {}).items():
                    if code.startswith("2"):
                        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                        schema = schema.get("items", schema)
                        if "$ref" in schema:
                            roots.add(schema["$ref"].rsplit("/", 1)[-1])
    reachable, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in reachable and name in schemas:
            reachable.add(name)
            todo += list(refs(schemas[name], set()))
    return roots, reachable


def test_every_field_that_leaves_the_server_is_classified(app):
    document = app.test_client().get("/api/openapi.json").json
    roots, reachable = _response_schemas(document)
    unclassified = [f"{name}.{field}" for name in sorted(reachable)
                    for field in document["components"]["schemas"][name].get("properties", {})
                    if not disclosure.audience(name, field)]
    assert not unclassified, "classify these in matcher.disclosure.FIELDS: " + ", ".join(unclassified)
    stale = [f"{name}.{field}" for name, fields in disclosure.FIELDS.items() for field in fields
             if field not in document["components"]["schemas"].get(name, {}).get("properties", {})]
    assert not stale, "these classified fields are in no answer: " + ", ".join(stale)
    without_resolver = sorted(roots - set(policy.RESOLVERS) - policy.ANSWERS_TO_THE_ASKER)
    assert not without_resolver, "say who the reader is to these (matcher.policy.resolver): " + \
        ", ".join(without_resolver)


def test_the_readme_shows_who_sees_what_as_the_classification_says():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert disclosure.table() in readme, "paste `flask --app matcher disclosure table` into the README"


# ---- 3: canaries --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Canaries:
    """Where each token was written, and who may read it there."""

    where: dict[int, tuple[str, int]] = dataclasses.field(default_factory=dict)  # token -> (source, row id)
    readers: dict[int, frozenset[str]] = dataclasses.field(default_factory=dict)  # token -> roles
    next_token: int = 1

    def plant(self, session, model, column: str, row_id: int, readers: set[str], template: str = "{}") -> None:
        token = self.next_token
        self.next_token += 1
        self.where[token] = (f"{model.__tablename__}.{column}", row_id)
        self.readers[token] = frozenset(readers)
        session.execute(update(model).where(model.id == row_id)
                        .values({column: template.format(f"ZQ{token:05d}")}))


@dataclasses.dataclass
class Sweep:
    forbidden: list = dataclasses.field(default_factory=list)  # (role, channel, source, row)
    seen: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # channel -> tokens read
    reads: int = 0  # answers read

    def check(self, canaries: Canaries, role: str, channel: str, text: str) -> None:
        self.reads += 1
        for match in CANARY.finditer(text):
            token = int(match.group(1))
            if token not in canaries.where:
                continue
            self.seen[channel] += 1
            if role not in canaries.readers[token]:
                self.forbidden.append((role, channel, *canaries.where[token]))


def _office_roles(world, candidate) -> set[str]:
    """Who keeps or reads the file: its offices' caseworkers and the administrators whose area holds it."""
    from matcher.places.models import code_prefix

    roles = {"admin"}
    if candidate.residence_code.startswith(code_prefix("330782")) or candidate.hukou_code.startswith("330782"):
        roles.add("admin_yiwu")
    for role, office in (("cw_a", world.office_a), ("cw_b", world.office_b)):
        if candidate.office_id == office.id or candidate.hukou_code == office.township_code:
            roles.add(role)
    return roles


def _employers_of(company_id, world) -> set[str]:
    return {"emp_a"} if company_id == world.company_a.id else {"emp_b"} if company_id == world.company_b.id else set()


@pytest.fixture
def canaried(api, world, session, objects):  # noqa: F811 - the fixture imported above
    """The matrix's world, with district administrators, a consent to show one person's name to a base, a
    visit, screening, re-offence and ban for each file, notes everywhere, and a canary in every text field."""
    from matcher.auth.service import create_account, issue_token
    from matcher.bases.models import Agreement, CertificationEvent, Company, Complaint
    from matcher.candidates.models import (
        Candidate,
        Consent,
        ConsentKind,
        DisclosurePurpose,
        Reoffence,
        RiskAssessment,
        Visit,
        VisitKind,
    )
    from matcher.clock import today
    from matcher.exports.models import ExportRequest
    from matcher.fairs.models import FairBooth, FairInterview, FairInvitation
    from matcher.followup.models import FollowUpTask
    from matcher.matching.models import OccupationalBan
    from matcher.referrals.models import Referral, ReferralEvent
    from matcher.slots.models import Slot

    for username, code in (("admin_yiwu", "330782"), ("admin_dongyang", "330783")):
        account = create_account(session=session, actor=None, data=dict(
            username=username, display_name=username, password="correct-horse-battery", role="administrator",
            bureau_code=code))
        world.accounts[username] = account
        world.tokens[username] = issue_token(session=session, account=account, ttl_days=1)[0]
    worker = session.scalar(select(Candidate).where(Candidate.name == "测试21"))  # started at base A
    session.add(Consent(candidate_id=worker.id, kind=ConsentKind.DISCLOSE_IDENTITY, granted=True,
                        base_id=world.company_a.id, purpose=DisclosurePurpose.EMPLOYMENT, recorded_on=today()))
    people = session.scalars(select(Candidate).order_by(Candidate.id)).all()
    for person in people:
        session.add_all([
            Visit(candidate_id=person.id, visited_on=today(), kind=VisitKind.HOME, note="x"),
            RiskAssessment(candidate_id=person.id, grade="yellow", assessed_on=today(), reason="x"),
            Reoffence(candidate_id=person.id, recorded_on=today(), note="x"),
            OccupationalBan(candidate_id=person.id, kind="court_order", courses="welding", note="x")])
    session.add(Agreement(company_id=world.company_a.id, signed_on=today(), term_months=12, ends_on=today(),
                          note="x"))
    session.flush()
    session.execute(update(Referral).values(internal_note="x", shared_note="x"))
    session.execute(update(ReferralEvent).values(internal_note="x", shared_note="x"))
    session.execute(update(FollowUpTask).values(note="x"))
    session.execute(update(FairInvitation).values(answer_note="x"))
    session.execute(update(FairInterview).values(outcome_note="x"))
    session.execute(update(FairBooth).values(withdrawn_reason="x"))
    session.commit()

    canaries = Canaries()
    invited = set(session.scalars(select(FairInvitation.candidate_id)))
    fair_runners = {"admin", "org"}  # the fair is the city bureau's
    for person in people:
        office = _office_roles(world, person)
        named_to = {"emp_a"} if person.id == worker.id else set()
        canaries.plant(session, Candidate, "name", person.id,
                       office | named_to | (fair_runners if person.id in invited else set()), "测试{}")
        canaries.plant(session, Candidate, "phone", person.id, office | named_to)
        for column in ("residence_address", "release_institution", "ethnicity", "external_id"):
            canaries.plant(session, Candidate, column, person.id, office)
        for model, column in ((Visit, "note"), (RiskAssessment, "reason"), (Reoffence, "note"),
                              (OccupationalBan, "note"), (Consent, "note")):
            for row_id in session.scalars(select(model.id).where(model.candidate_id == person.id)):
                canaries.plant(session, model, column, row_id, office)
    for referral in session.scalars(select(Referral)):
        office, base = _office_roles(world, referral.candidate), _employers_of(referral.slot.company_id, world)
        canaries.plant(session, Referral, "internal_note", referral.id, office)
        canaries.plant(session, Referral, "shared_note", referral.id, office | base)
        for event in referral.events:
            canaries.plant(session, ReferralEvent, "internal_note", event.id, office)
            canaries.plant(session, ReferralEvent, "shared_note", event.id, office | base)
        for task in session.scalars(select(FollowUpTask).where(FollowUpTask.referral_id == referral.id)):
            canaries.plant(session, FollowUpTask, "note", task.id, office)
    for invitation in session.scalars(select(FairInvitation)):
        canaries.plant(session, FairInvitation, "answer_note", invitation.id,
                       _office_roles(world, invitation.candidate) | fair_runners)
    for interview in session.scalars(select(FairInterview)):
        canaries.plant(session, FairInterview, "outcome_note", interview.id,
                       fair_runners | _employers_of(interview.booth.company_id, world))
    for booth in session.scalars(select(FairBooth)):
        canaries.plant(session, FairBooth, "withdrawn_reason", booth.id,
                       fair_runners | _employers_of(booth.company_id, world))
    for company in session.scalars(select(Company)):
        bureau = {"admin", "admin_yiwu"} if company.place_code.startswith("330782") else {"admin"}
        for column in ("description", "contact_name", "contact_phone"):
            canaries.plant(session, Company, column, company.id, STAFF | _employers_of(company.id, world))
        canaries.plant(session, Company, "external_id", company.id, STAFF)  # the bureau's reference: never a base's
        for event_id in session.scalars(select(CertificationEvent.id).where(CertificationEvent.company_id ==
                                                                            company.id)):
            canaries.plant(session, CertificationEvent, "reason", event_id, bureau | _employers_of(company.id, world))
        for agreement_id in session.scalars(select(Agreement.id).where(Agreement.company_id == company.id)):
            canaries.plant(session, Agreement, "note", agreement_id, bureau | _employers_of(company.id, world))
        for complaint_id in session.scalars(select(Complaint.id).where(Complaint.company_id == company.id)):
            canaries.plant(session, Complaint, "summary", complaint_id, bureau)
    for slot in session.scalars(select(Slot)):
        canaries.plant(session, Slot, "description", slot.id, STAFF | _employers_of(slot.company_id, world))
        canaries.plant(session, Slot, "external_id", slot.id, STAFF)
    for request in session.scalars(select(ExportRequest)):
        requester = {name for name, account in world.accounts.items() if account.id == request.requested_by_id}
        canaries.plant(session, ExportRequest, "reason", request.id,
                       requester | {"admin", "admin_yiwu", "admin_dongyang"})
    session.commit()
    return world, objects, canaries


def _text_of(response) -> str:
    """What a reader gets: the page or JSON as text, or every cell of a workbook."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)):
            book = load_workbook(io.BytesIO(data))
        return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    return html.unescape(data.decode("utf-8", "replace"))


def _api_paths(app, ids: dict, world) -> list[str]:
    """Every GET of the API, with each object of the world put into its path parameters."""
    values = {
        "candidate_id": [world.cand_a.id, world.cand_b.id, world.cand_dual.id],
        "referral_id": ids["referral_ids"], "slot_id": [world.slot_a.id, world.slot_b.id, world.draft_a.id],
        "company_id": [world.company_a.id, world.company_b.id, world.company_applied.id],
        "fair_id": [ids["fair"]], "booth_id": [ids["booth"], ids["booth_b"]],
        "invitation_id": [ids["inv_a"], ids["inv_b"]], "interview_id": [ids["interview"]],
        "task_id": ids["task_ids"], "visit_id": ids["visit_ids"], "account_id": [a.id for a in world.accounts.values()],
        "notification_id": ids["notification_ids"], "draft_id": [ids["draft"]], "job_id": [ids["job"]],
        "request_id": [ids["export_req"], ids["export_ok"]], "office_id": [world.office_a.id],
        "kind": ["candidates", "bases", "slots", "referrals"], "slot": [world.slot_a.id],
        "version": [ids["model_version"]], "code": ["330782001"],
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or "GET" not in rule.methods:
            continue
        names = sorted(rule.arguments)
        missing = [name for name in names if name not in values]
        assert not missing, f"say which objects to read at {rule.rule}: {missing}"
        for combination in itertools.product(*(values[name] for name in names)):
            paths.append(rule.build(dict(zip(names, combination, strict=True)), append_unknown=False)[1])
    return paths


def _crawl(client: PageClient, start: str = "/") -> dict[str, str]:
    """The pages a person can click to, from the home page (downloads and printouts included)."""
    seen: dict[str, str] = {}
    queue = collections.deque([start])
    while queue and len(seen) < PAGE_LIMIT:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        if 300 <= response.status_code < 400:  # the home page sends each role to its own
            seen[url] = ""
            location = response.headers.get("Location", "")
            if location.startswith("/"):
                queue.append(location)
            continue
        if response.status_code >= 400:
            seen[url] = ""
            continue
        text = _text_of(response)
        seen[url] = text
        if response.mimetype != "text/html":
            continue
        for link in re.findall(r'href="(/[^"#]*)"', response.get_data(as_text=True)):
            link = html.unescape(link)
            if not link.startswith(SKIPPED_PAGES) and not any(q in link for q in SKIPPED_QUERIES) \
                    and link not in seen:
                queue.append(link)
    return seen


def _sweep(app, api, world, ids, canaries, caplog) -> Sweep:
    from matcher.auth.models import Account
    from matcher.notify.models import Notification
    from matcher.notify.service import email_text

    sweep = Sweep()
    paths = _api_paths(app, ids, world)
    with caplog.at_level(logging.DEBUG):
        for role in ROLES:
            for path in paths:
                sweep.check(canaries, role, "api", _text_of(api.get(path, headers=world.h(role))))
            for kind in ("candidates", "bases", "slots", "referrals"):
                for fmt in ("csv", "xlsx"):
                    answer = api.get(f"/api/v1/exports/{kind}?format={fmt}", headers=world.h(role))
                    sweep.check(canaries, role, f"export {fmt}", _text_of(answer))
            sweep.check(canaries, role, "fair plan workbook",
                        _text_of(api.get(f"/api/v1/fairs/{ids['fair']}/plan.xlsx", headers=world.h(role))))
            sweep.check(canaries, role, "report workbook",
                        _text_of(api.get("/api/v1/reports/figures.xlsx", headers=world.h(role))))
            account = db.session.get(Account, world.accounts[role].id)
            for notification in db.session.scalars(select(Notification).where(Notification.account_id == account.id)):
                with app.test_request_context():
                    mail = email_text(notification, account.role)
                sweep.check(canaries, role, "email", mail.subject + "\n" + mail.body)
            # The pages in Chinese, the default: an English page is the same template showing the same fields (the
            # canaries are data, not words), so crawling both would read every field twice.
            for url, text in _crawl(PageClient(app, "zh").login(role)).items():
                sweep.check(canaries, role, "printout" if "print" in url else "page", text)
    for record in caplog.records:
        sweep.check(canaries, "nobody", "log", record.getMessage() + str(record.__dict__))
    return sweep


@pytest.fixture
def reachable(canaried, session, api):
    world, ids, canaries = canaried
    from matcher.candidates.models import Visit
    from matcher.followup.models import FollowUpTask
    from matcher.notify.models import Notification
    from matcher.referrals.models import Referral

    ids = dict(ids, referral_ids=list(session.scalars(select(Referral.id))),
               task_ids=list(session.scalars(select(FollowUpTask.id))),
               visit_ids=list(session.scalars(select(Visit.id))),
               notification_ids=list(session.scalars(select(Notification.id).limit(6))))
    return world, ids, canaries


@pytest.mark.once_on_postgres  # long: run once per `make test`, on PostgreSQL
def test_no_canary_reaches_a_reader_its_field_does_not_name(app, api, reachable, caplog):
    world, ids, canaries = reachable
    sweep = _sweep(app, api, world, ids, canaries, caplog)
    from matcher.audit.models import AuditEvent

    refusals = db.session.scalar(select(func.count()).where(AuditEvent.action == "refused"))
    print(f"\ndisclosure sweep: {len(canaries.where)} canaries planted, {sweep.reads} answers read as "
          f"{len(ROLES)} roles, appearances by channel {dict(sweep.seen)}, {len(sweep.forbidden)} forbidden, "
          f"{refusals} refusals in the audit log")
    assert sweep.seen["api"] and sweep.seen["page"] and sweep.seen["export csv"], "the sweep read nothing"
    assert not sweep.forbidden, sorted(set(sweep.forbidden))[:40]


def test_the_sweep_finds_a_wrong_classification(app, api, reachable, caplog, monkeypatch):
    """Told that a base may read the office's internal notes, the API hands them over: the sweep must say so."""
    world, ids, canaries = reachable
    wrong = dict(disclosure.FIELDS["ReferralEvent"], internal_note=frozenset({disclosure.Party.OFFICE,
                                                                             disclosure.Party.BASE}))
    monkeypatch.setitem(disclosure.FIELDS, "ReferralEvent", wrong)
    sweep = Sweep()
    for referral_id in ids["referral_ids"]:
        sweep.check(canaries, "emp_a", "api", _text_of(api.get(f"/api/v1/referrals/{referral_id}",
                                                                headers=world.h("emp_a"))))
    assert any(source == "referral_events.internal_note" for _role, _channel, source, _row in sweep.forbidden)


def test_csv_is_read_whole():
    """The sweep reads a CSV export as text: every cell is in it, quoted or not."""
    rows = list(csv.reader(io.StringIO('a,"b ZQ00001, c"\n')))
    assert rows == [["a", "b ZQ00001, c"]] and CANARY.search('a,"b ZQ00001, c"')
