"""The bases import carries a migrated register's certifications (certification_status, certified_until), with
the certify decision's rules, so open slots can be imported right after."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from matcher import clock
from matcher.bases.models import CertificationEvent, CertificationStatus, Company
from matcher.errors import Invalid
from matcher.slots.models import Slot, SlotStatus
from matcher.transfer.service import import_file

HEADER = ["name", "credit_code", "industry", "place", "certification_status", "certified_until"]
SLOT_HEADER = ["company_credit_code", "kind", "title", "seats", "place", "starts_on", "status"]


def run_import(session, people, kind, content):
    return import_file(session=session, actor=people.actor("admin"), kind=kind, data=content, filename="f.csv")


def test_certified_rows_are_certified_and_their_open_slots_import(session, people, tx):
    until = clock.today() + dt.timedelta(days=400)
    rows = [["认定的基地", tx.credit_code(11), "制造", "义乌市", "已认定", until.isoformat()],
            ["申请中的基地", tx.credit_code(12), "制造", "义乌市", "", ""],
            ["写明申请的基地", tx.credit_code(13), "制造", "义乌市", "applied", ""]]
    assert run_import(session, people, "bases", tx.csv_bytes(HEADER, rows)).created == 3
    certified = session.scalar(select(Company).where(Company.credit_code == tx.credit_code(11)))
    assert certified.certification_status == CertificationStatus.CERTIFIED and certified.certified_until == until
    events = session.scalars(select(CertificationEvent).where(CertificationEvent.company_id == certified.id)
                             .order_by(CertificationEvent.id)).all()
    assert [e.to_status for e in events] == [CertificationStatus.APPLIED, CertificationStatus.CERTIFIED]
    assert events[1].decided_by_id == people.ids["admin"]
    applied = session.scalar(select(Company).where(Company.credit_code == tx.credit_code(12)))
    assert applied.certification_status == CertificationStatus.APPLIED
    slot = [tx.credit_code(11), "job", "装配工", "3", "义乌市", clock.today().isoformat(), "open"]
    assert run_import(session, people, "slots", tx.csv_bytes(SLOT_HEADER, [slot])).created == 1
    assert session.scalar(select(Slot.status).where(Slot.title == "装配工")) == SlotStatus.OPEN


def test_a_certification_follows_the_certify_rules(session, people, tx):
    today = clock.today()
    rows = [["无期限", tx.credit_code(21), "制造", "义乌市", "certified", ""],
            ["已过期", tx.credit_code(22), "制造", "义乌市", "certified", today.isoformat()],
            ["暂停的", tx.credit_code(23), "制造", "义乌市", "suspended", ""],
            ["申请却有期限", tx.credit_code(24), "制造", "义乌市", "applied", "2099-01-01"],
            ["好的", tx.credit_code(25), "制造", "义乌市", "certified", "2099-01-01"]]
    with pytest.raises(Invalid) as caught:
        run_import(session, people, "bases", tx.csv_bytes(HEADER, rows))
    errors = caught.value.errors["rows"]
    assert set(errors) == {"2", "3", "4", "5"}
    assert list(errors["2"]) == ["certified_until"] and list(errors["3"]) == ["certified_until"]
    assert list(errors["4"]) == ["certification_status"] and list(errors["5"]) == ["certified_until"]
    assert session.scalar(select(Company.id).where(Company.credit_code == tx.credit_code(25))) is None
