"""`flask --app matcher bases certify`: the certify decision of the pages and the API, from the command line."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from matcher import clock
from matcher.audit.models import AuditEvent
from matcher.bases.models import CertificationEvent, CertificationStatus, Company
from matcher.extensions import db

ENGLISH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def _certify(app, *args: str):
    return app.test_cli_runner().invoke(args=["bases", "certify", *args], env=ENGLISH)


def _company(app, company_id: int) -> Company:
    with app.app_context():
        company = db.session.get(Company, company_id)
        db.session.expunge(company)
        return company


def test_certify_one_base_by_credit_code_with_its_agreement(app, world):
    applied_id, code = world.company_applied.id, world.company_applied.credit_code
    db.session.remove()  # the test's own reads must not hold SQLite's lock while the command writes
    until = (clock.today() + dt.timedelta(days=730)).isoformat()
    result = _certify(app, "--credit-code", code.lower(), "--until", until, "--agreement", "金司协〔2026〕12号")
    assert result.exit_code == 0, result.output
    assert "Certified 1 bases" in result.output
    company = _company(app, applied_id)
    assert company.certification_status == CertificationStatus.CERTIFIED
    assert company.certified_until.isoformat() == until
    with app.app_context():
        event = db.session.scalar(select(CertificationEvent).where(CertificationEvent.company_id == applied_id)
                                  .order_by(CertificationEvent.id.desc()))
        assert event.to_status == CertificationStatus.CERTIFIED and event.reason == "金司协〔2026〕12号"
        assert event.decided_by_id is not None  # the system account decided
        changed = db.session.scalar(select(AuditEvent).where(AuditEvent.object_type == "companies",
                                                             AuditEvent.object_id == applied_id,
                                                             AuditEvent.action == "update"))
        assert changed is not None and changed.actor_id == event.decided_by_id


def test_all_applied_certifies_every_application_and_nothing_else(app, world):
    applied_id, certified_id = world.company_applied.id, world.company_a.id
    db.session.remove()
    until = (clock.today() + dt.timedelta(days=365)).isoformat()
    certified_before = _company(app, certified_id).certified_until
    result = _certify(app, "--all-applied", "--until", until)
    assert result.exit_code == 0, result.output
    assert "Certified 1 bases" in result.output
    assert _company(app, applied_id).certification_status == CertificationStatus.CERTIFIED
    assert _company(app, certified_id).certified_until == certified_before


def test_the_certify_rules_hold(app, world):
    applied_id = world.company_applied.id
    db.session.remove()
    past = _certify(app, "--id", str(applied_id), "--until", clock.today().isoformat())
    assert past.exit_code == 1 and "must be in the future" in past.output
    both = _certify(app, "--id", str(applied_id), "--all-applied", "--until", "2099-01-01")
    assert both.exit_code == 1 and "one way" in both.output
    unknown = _certify(app, "--credit-code", "91330782000000000X", "--until", "2099-01-01")
    assert unknown.exit_code == 1 and "No base has this credit code" in unknown.output
    employer = _certify(app, "--id", str(applied_id), "--until", "2099-01-01", "--as", "emp_a")
    assert employer.exit_code == 1
    assert _company(app, applied_id).certification_status == CertificationStatus.APPLIED
