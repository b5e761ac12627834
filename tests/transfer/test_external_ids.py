"""The bureau's own references (external_id, 本单位编号) in files: kept, unique per county, found within the
importer's area, written back for bureau staff and never for a base."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from matcher.auth.service import create_account
from matcher.bases.models import Company
from matcher.candidates.models import Candidate
from matcher.errors import Invalid
from matcher.referrals.models import Referral
from matcher.slots.models import Slot
from matcher.transfer.service import export_file, import_file

CANDIDATE_HEADER = ["external_id", "name", "id_number", "education", "hukou", "residence", "release_date",
                    "offence_category"]
BASE_HEADER = ["external_id", "name", "credit_code", "industry", "place"]
SLOT_HEADER = ["external_id", "company_external_id", "kind", "title", "seats", "place", "starts_on", "status"]
REFERRAL_HEADER = ["candidate", "candidate_external_id", "slot_id", "slot_external_id", "status", "created_on",
                   "started_on", "ended_on"]
DONGYANG = "330783"  # another county of the same city


def person(tx, seq, reference):
    return [reference, f"张{seq}", tx.id_number(seq), "junior_secondary", tx.CHOUCHENG, tx.CHOUCHENG,
            "2025-01-15", "theft"]


def run(session, actor, kind, header, rows, tx, dry_run=False):
    return import_file(session=session, actor=actor, kind=kind, data=tx.csv_bytes(header, rows),
                       filename="file.csv", dry_run=dry_run)


def row_errors(caught) -> dict[str, set[str]]:
    return {number: set(errors) for number, errors in caught.value.errors["rows"].items()}


def exported(session, actor, kind, tx) -> tuple[list[str], list[dict]]:
    return tx.parse_file(export_file(session=session, actor=actor, kind=kind).content, "csv")


def test_candidate_references_are_kept_trimmed_and_unique_per_county(session, people, tx):
    admin = people.actor("admin")
    run(session, admin, "candidates", CANDIDATE_HEADER, [person(tx, 1, "  YW-2019-001 "), person(tx, 2, "")], tx)
    first = session.scalar(select(Candidate).where(Candidate.name == "张1"))
    second = session.scalar(select(Candidate).where(Candidate.name == "张2"))
    assert (first.external_id, first.external_scope) == ("YW-2019-001", "330782")
    assert (second.external_id, second.external_scope) == (None, None)

    with pytest.raises(Invalid) as caught:  # row 2: twice in the file; row 4: already held by 张1's file
        run(session, admin, "candidates", CANDIDATE_HEADER,
            [person(tx, 3, "YW-9"), person(tx, 4, "YW-9"), person(tx, 5, "YW-2019-001"),
             person(tx, 6, "x" * 65)], tx)
    assert row_errors(caught) == {"3": {"external_id"}, "4": {"external_id"}, "5": {"external_id"}}

    header, rows = exported(session, people.actor("cw"), "candidates", tx)
    assert header[:2] == ["public_id", "external_id"]
    assert {row["public_id"]: row["external_id"] for row in rows} == {first.public_id: "YW-2019-001",
                                                                     second.public_id: ""}


def test_a_slot_names_its_base_by_reference_only_within_the_importers_area(session, people, tx):
    admin = people.actor("admin")  # the city bureau (330700)
    # Two counties' files (one file is one bureau's: a reference twice in it is a row error).
    run(session, admin, "bases", BASE_HEADER, [["JD-1", "义乌基地", tx.credit_code(11), "制造", tx.CHOUCHENG]], tx)
    run(session, admin, "bases", BASE_HEADER, [["JD-1", "东阳基地", tx.credit_code(12), "制造", DONGYANG]], tx)
    yiwu = session.scalar(select(Company).where(Company.name == "义乌基地"))
    dongyang = session.scalar(select(Company).where(Company.name == "东阳基地"))
    assert (yiwu.external_scope, dongyang.external_scope) == ("330782", DONGYANG)  # one reference, two counties
    with pytest.raises(Invalid) as caught:  # within one county it is taken
        run(session, admin, "bases", BASE_HEADER, [["JD-1", "又一个", tx.credit_code(13), "制造", tx.JIANGDONG]], tx)
    assert row_errors(caught) == {"2": {"external_id"}}

    slot = ["GW-1", "JD-1", "job", "厨师", "2", tx.CHOUCHENG, "2025-09-01", ""]
    with pytest.raises(Invalid) as caught:  # the city bureau's area holds both: it must say which
        run(session, admin, "slots", SLOT_HEADER, [slot], tx)
    assert row_errors(caught) == {"2": {"company_external_id"}}

    yiwu_admin = create_account(session=session, actor=None, data=dict(
        username="admin_yiwu", display_name="义乌", password="correct-horse-battery", role="administrator",
        bureau_code="330782"))
    run(session, yiwu_admin, "slots", SLOT_HEADER, [slot, ["GW-2", "JD-1", "job", "帮厨", "1", tx.CHOUCHENG,
                                                           "2025-09-01", ""]], tx)
    with pytest.raises(Invalid) as caught:  # Dongyang's base is never found from Yiwu
        run(session, yiwu_admin, "slots", SLOT_HEADER, [["", "JD-404", "job", "x" * 3, "1", DONGYANG,
                                                         "2025-09-01", ""]], tx)
    assert row_errors(caught) == {"2": {"company_external_id"}}
    stored = session.scalar(select(Slot).where(Slot.external_id == "GW-1"))
    assert (stored.company_id, stored.external_scope) == (yiwu.id, "330782")

    header, rows = exported(session, admin, "slots", tx)
    assert {"external_id", "company_external_id"} <= set(header)
    assert {(row["external_id"], row["company_external_id"]) for row in rows
            if row["company_id"] == str(yiwu.id)} == {("GW-1", "JD-1"), ("GW-2", "JD-1")}


def test_a_base_never_reads_nor_writes_the_bureaus_references(session, people, tx):
    admin = people.actor("admin")
    base = session.get(Company, people.company)
    base.external_id, base.external_scope = "JD-7", "330782"
    run(session, admin, "slots", SLOT_HEADER, [["GW-7", "JD-7", "job", "厨师", "2", tx.CHOUCHENG, "2025-09-01",
                                                "open"]], tx)
    employer = people.actor("emp")
    for kind in ("bases", "slots"):
        header, rows = exported(session, employer, kind, tx)
        assert not {"external_id", "company_external_id"} & set(header)
        assert not any("JD-7" in value or "GW-7" in value for row in rows for value in row.values())
    with pytest.raises(Invalid) as caught:
        run(session, employer, "slots", ["external_id", "kind", "title", "seats", "place", "starts_on"],
            [["GW-8", "job", "服务员", "1", tx.CHOUCHENG, "2025-09-01"]], tx)
    assert row_errors(caught) == {"2": {"external_id"}}


def test_referral_history_by_the_bureaus_references(session, people, tx):
    admin = people.actor("admin")
    run(session, admin, "candidates", CANDIDATE_HEADER, [person(tx, 1, "YW-1"), person(tx, 2, "YW-2")], tx)
    base = session.get(Company, people.company)
    base.external_id, base.external_scope = "JD-1", "330782"
    run(session, admin, "slots", SLOT_HEADER, [["GW-1", "JD-1", "job", "厨师", "3", tx.CHOUCHENG, "2024-01-01",
                                                "open"]], tx)
    slot = session.scalar(select(Slot))
    someone = session.scalar(select(Candidate.public_id).where(Candidate.external_id == "YW-2"))
    rows = [["", "YW-1", "", "GW-1", "started", "2024-02-01", "2024-02-10", ""],
            [someone, "YW-2", slot.id, "GW-1", "sent", "2024-03-01", "", ""]]  # both given, and they agree
    assert run(session, admin, "referrals", REFERRAL_HEADER, rows, tx).created == 2
    by_reference = {r.candidate.external_id: r.slot_id for r in session.scalars(select(Referral))}
    assert by_reference == {"YW-1": slot.id, "YW-2": slot.id}

    with pytest.raises(Invalid) as caught:
        run(session, admin, "referrals", REFERRAL_HEADER, [
            [someone, "YW-1", "", "GW-1", "sent", "2024-03-01", "", ""],  # two different files
            ["", "", "", "GW-1", "sent", "2024-03-01", "", ""],  # no candidate at all
            ["", "YW-404", "", "GW-404", "sent", "2024-03-01", "", ""],  # references nobody holds
            ["", "YW-1", 999999, "GW-1", "sent", "2024-03-01", "", ""]], tx)  # slot id and reference disagree
    assert row_errors(caught) == {"2": {"candidate_external_id"}, "3": {"candidate"},
                                  "4": {"candidate_external_id", "slot_external_id"}, "5": {"slot_id"}}

    header, exported_rows = exported(session, admin, "referrals", tx)
    assert {(row["candidate_external_id"], row["slot_external_id"]) for row in exported_rows} == {
        ("YW-1", "GW-1"), ("YW-2", "GW-1")}
    header, _rows = exported(session, people.actor("emp"), "referrals", tx)
    assert not {"candidate_external_id", "slot_external_id"} & set(header)
