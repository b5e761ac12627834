"""Exports: who sees what, what never leaves the system, and how the files are written."""

from __future__ import annotations

import codecs
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.candidates.models import Candidate
from matcher.errors import Forbidden, Invalid
from matcher.referrals import service as referrals
from matcher.referrals.lifecycle import ReferralStatus
from matcher.slots.models import Slot
from matcher.transfer.columns import CANDIDATE_COLUMNS, REFERRAL_COLUMNS
from matcher.transfer.service import export_file, import_file

HEADER = ["name", "id_number", "education", "hukou", "residence", "release_date", "offence_category",
          "residence_address", "consents"]


@pytest.fixture
def files_of_two_offices(session, people, tx):
    """稠城 (office of `cw`): 周军; 佛堂 (office of `cw_other`): 吴敏, and 郑强 who lives in 佛堂
    but is registered in 稠城 (dual registration); a slot of each base; referrals to both."""
    rows = [["周军", tx.id_number(1), "primary", tx.CHOUCHENG, tx.CHOUCHENG, "2025-01-01", "robbery",
             "稠州路1号", "data_processing;referral"],
            ["吴敏", tx.id_number(2), "primary", tx.FOTANG, tx.FOTANG, "2025-01-01", "drugs", "佛堂老街",
             "data_processing;referral"],
            ["郑强", tx.id_number(3), "primary", tx.CHOUCHENG, tx.FOTANG, "2025-01-01", "fraud", "",
             "data_processing;referral"]]
    import_file(session=session, actor=people.actor("admin"), kind="candidates",
                data=tx.csv_bytes(HEADER, rows), filename="c.csv")
    slot_header = ["company_id", "kind", "title", "seats", "place", "starts_on", "status"]
    import_file(session=session, actor=people.actor("admin"), kind="slots", filename="s.csv",
                data=tx.csv_bytes(slot_header, [[people.company, "job", "甲的岗位", "2", tx.CHOUCHENG,
                                                 "2025-01-01", "open"],
                                                [people.other_company, "job", "乙的岗位", "2", tx.CHOUCHENG,
                                                 "2025-01-01", "open"]]))
    ids = {c.name: c.id for c in session.scalars(select(Candidate))}
    slots = {s.title: s.id for s in session.scalars(select(Slot))}
    admin = people.actor("admin")
    for name, title in (("周军", "甲的岗位"), ("吴敏", "甲的岗位"), ("郑强", "乙的岗位")):
        referrals.create_referral(session=session, actor=admin, candidate_id=ids[name], slot_id=slots[title],
                                  send=True)
    # A proposal not yet sent: the base must not see it.
    referrals.create_referral(session=session, actor=admin, candidate_id=ids["郑强"],
                              slot_id=slots["甲的岗位"])
    return ids


def export_rows(session, people, tx, kind, who, **options):
    result = export_file(session=session, actor=people.actor(who), kind=kind, **options)
    return tx.parse_file(result.content, options.get("format", "csv"), options.get("encoding", "utf-8"))


def test_candidate_export_is_pseudonymous_by_default(session, people, tx, files_of_two_offices):
    header, rows = export_rows(session, people, tx, "candidates", "admin")
    assert header == [c.name for c in CANDIDATE_COLUMNS if c.exported and not c.personal]
    for column in ("name", "id_number", "id_number_masked", "phone", "residence_address", "offence_category",
                   "risk_grade", "hukou", "ethnicity"):
        assert column not in header
    assert len(rows) == 3 and all(row["public_id"].startswith("XT-") for row in rows)
    content = export_file(session=session, actor=people.actor("admin"), kind="candidates").content
    for secret in ("周军", "吴敏", "郑强", "*" * 12, "robbery", "稠州路1号"):
        assert secret.encode() not in content


def test_candidate_export_never_holds_the_id_number(session, people, tx, files_of_two_offices):
    header, rows = export_rows(session, people, tx, "candidates", "admin", identified=True)
    assert header == [c.name for c in CANDIDATE_COLUMNS if c.exported]
    assert "id_number" not in header and "id_number_masked" in header
    content = export_file(session=session, actor=people.actor("admin"), kind="candidates",
                          identified=True).content
    for seq in (1, 2, 3):
        assert tx.id_number(seq).encode() not in content
        assert tx.id_number(seq)[6:14].encode() not in content  # not even the birth date part
    assert {row["id_number_masked"] for row in rows} == {tx.id_number(n)[:4] + "*" * 12 + tx.id_number(n)[-2:]
                                                         for n in (1, 2, 3)}


def test_caseworkers_export_the_files_their_office_sees(session, people, tx, files_of_two_offices):
    _, own = export_rows(session, people, tx, "candidates", "cw", identified=True)
    _, other = export_rows(session, people, tx, "candidates", "cw_other", identified=True)
    assert sorted(row["name"] for row in own) == ["周军", "郑强"]  # 郑强: registered in 稠城 (双列管)
    assert sorted(row["name"] for row in other) == ["吴敏", "郑强"]
    _, referrals_seen = export_rows(session, people, tx, "referrals", "cw", identified=True)
    assert sorted(row["candidate_name"] for row in referrals_seen) == ["周军", "郑强", "郑强"]
    header, _ = export_rows(session, people, tx, "referrals", "cw")
    assert "candidate_name" not in header


def test_employer_referral_export_is_pseudonymous(session, people, tx, files_of_two_offices):
    header, rows = export_rows(session, people, tx, "referrals", "emp", identified=True)  # never for employers
    # No name, no note, and none of the bureau's own references.
    assert header == [c.name for c in REFERRAL_COLUMNS if c.exported and not c.personal and not c.staff_only]
    public_ids = {c.id: c.public_id for c in session.scalars(select(Candidate))}
    ids = files_of_two_offices
    # Only the referrals sent to their own base; the unsent proposal for 郑强 is not among them.
    expected = [public_ids[ids["周军"]], public_ids[ids["吴敏"]]]
    assert sorted(row["candidate"] for row in rows) == sorted(expected)
    assert {row["status"] for row in rows} == {"sent"}
    content = export_file(session=session, actor=people.actor("emp"), kind="referrals",
                          format="xlsx").content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    text = " ".join(str(value) for row in sheet.iter_rows(values_only=True) for value in row)
    assert "XT-" in text
    for secret in ("周军", "吴敏", "郑强", "robbery", "drugs", "稠州路1号", "佛堂老街", "3307", "green",
                   "primary", tx.CHOUCHENG):
        assert secret not in text


def test_employer_exports_only_their_own_slots_and_base(session, people, tx, files_of_two_offices):
    _, slots = export_rows(session, people, tx, "slots", "emp")
    assert [row["title"] for row in slots] == ["甲的岗位"]
    _, bases = export_rows(session, people, tx, "bases", "emp")
    assert [row["name"] for row in bases] == ["甲餐饮有限公司"]
    _, all_slots = export_rows(session, people, tx, "slots", "cw")
    assert sorted(row["title"] for row in all_slots) == ["乙的岗位", "甲的岗位"]


def test_employers_cannot_export_candidates(session, people):
    with pytest.raises(Forbidden):
        export_file(session=session, actor=people.actor("emp"), kind="candidates")


def test_headers_encodings_and_formats(session, people, tx, files_of_two_offices):
    utf8 = export_file(session=session, actor=people.actor("admin"), kind="candidates")
    assert utf8.content.startswith(codecs.BOM_UTF8) and utf8.mimetype == "text/csv; charset=utf-8"
    gbk = export_file(session=session, actor=people.actor("admin"), kind="candidates", encoding="gbk",
                      headers="zh", identified=True)
    assert not gbk.content.startswith(codecs.BOM_UTF8) and gbk.mimetype == "text/csv; charset=gbk"
    assert gbk.content.decode("gbk").splitlines()[0].split(",")[:3] == ["编号", "本单位编号", "姓名"]
    xlsx = export_file(session=session, actor=people.actor("admin"), kind="slots", format="xlsx")
    assert xlsx.filename.endswith(".xlsx") and xlsx.content.startswith(b"PK")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.title == "slots" and sheet["A1"].value == "id" and sheet.max_row == 3
    with pytest.raises(Invalid):
        export_file(session=session, actor=people.actor("admin"), kind="slots", format="pdf")


def test_text_that_looks_like_a_formula_stays_text(session, people, tx):
    header = ["name", "credit_code", "industry", "place", "description"]
    import_file(session=session, actor=people.actor("admin"), kind="bases", filename="b.csv",
                data=tx.csv_bytes(header, [["公式公司", tx.credit_code(9), "制造", "义乌市",
                                            '=HYPERLINK("http://x","y")']]))
    csv_content = export_file(session=session, actor=people.actor("admin"), kind="bases").content
    assert b"'=HYPERLINK" in csv_content
    xlsx_content = export_file(session=session, actor=people.actor("admin"), kind="bases",
                               format="xlsx").content
    sheet = load_workbook(io.BytesIO(xlsx_content)).worksheets[0]
    # Guarded as in CSV, so that the workbook saved again as CSV is still safe.
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == '\'=HYPERLINK("http://x","y")']
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_referral_history_export_for_a_started_placement(session, people, tx, files_of_two_offices):
    ids = files_of_two_offices
    referral = referrals.list_referrals(session=session, actor=people.actor("admin"),
                                        filters={"candidate_id": ids["周军"]})
    referral = session.scalars(referral).first()
    employer = people.actor("emp")
    referrals.transition(session=session, actor=employer, referral_id=referral.id, to=ReferralStatus.OFFERED)
    referrals.transition(session=session, actor=employer, referral_id=referral.id, to=ReferralStatus.STARTED)
    _, rows = export_rows(session, people, tx, "referrals", "admin")
    started = [row for row in rows if row["status"] == "started"]
    assert len(started) == 1 and started[0]["started_on"] == started[0]["created_on"] != ""
