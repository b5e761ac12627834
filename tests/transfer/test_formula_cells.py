"""No exported cell is a formula (CSV/XLSX injection), list cells included, for every role that exports; numbers
stay numbers; and a file we wrote imports back as the original text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from matcher.candidates.models import Candidate
from matcher.candidates.schemas import CandidateCreateSchema
from matcher.candidates.service import create_candidate
from matcher.slots.models import Slot
from matcher.transfer.service import export_file, import_file

FORMULA = '=HYPERLINK("//evil.example","x")'
# What spreadsheet programs take for the start of a formula, in ASCII and full width.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
CERTIFICATE = "+cmd|' /C calc'!A0"
SKILL = "＝1+1"
NAME = "@SUM(1+1)"
SLOT_HEADER = ["company_id", "kind", "title", "description", "required_skills", "seats", "place", "pay_min",
               "pay_max", "starts_on", "status"]


@pytest.fixture
def poisoned(session, people, tx):
    """An employer's open slot whose title and required skill are formulas; a candidate whose name, certificate
    and skill are."""
    import_file(session=session, actor=people.actor("emp"), kind="slots", filename="slots.csv",
                data=tx.csv_bytes(SLOT_HEADER, [["", "job", FORMULA, "-1+1", f"{FORMULA}:2;chinese_cooking:1", "2",
                                                 tx.CHOUCHENG, "4000", "5000", "2025-09-01", "open"]]))
    create_candidate(session=session, actor=people.actor("cw"), data=CandidateCreateSchema().load({
        "name": NAME, "id_number": tx.id_number(1), "education": "primary", "hukou": {"code": tx.CHOUCHENG},
        "residence": {"code": tx.CHOUCHENG}, "residence_address": "-2+3", "release_date": "2025-01-01",
        "offence_category": "theft", "skills": [{"free_text": SKILL, "level": 2}],
        "certificates": [{"name": CERTIFICATE}, {"name": "叉车证"}]}))


def cells(content: bytes, fmt: str) -> list:
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).worksheets[0]
        return [cell for row in sheet.iter_rows() for cell in row]
    return [value for row in csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")) for value in row]


def assert_no_formula(content: bytes, fmt: str) -> list:
    """Every cell of the file is inert; returns the cell values."""
    values = []
    for cell in cells(content, fmt):
        value = cell.value if fmt == "xlsx" else cell
        if fmt == "xlsx":
            assert cell.data_type != "f", cell.coordinate
        assert not (isinstance(value, str) and value.startswith(FORMULA_STARTS)), value
        values.append(value)
    return values


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("who", ["admin", "cw", "emp"])
def test_no_cell_of_a_slot_export_is_a_formula(session, people, poisoned, fmt, who):
    content = export_file(session=session, actor=people.actor(who), kind="slots", format=fmt).content
    values = assert_no_formula(content, fmt)
    assert f"'{FORMULA}" in values  # the title
    assert f"'{FORMULA}:2;chinese_cooking:1" in values  # the list of required skills
    assert "'-1+1" in values
    if fmt == "xlsx":  # numbers stay numbers
        assert 2 in values and 4000 in values and "2" not in values


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("who", "identified"), [("admin", True), ("cw", True), ("cw", False)])
def test_no_cell_of_a_candidate_export_is_a_formula(session, people, poisoned, fmt, who, identified):
    content = export_file(session=session, actor=people.actor(who), kind="candidates", format=fmt,
                          identified=identified).content
    values = assert_no_formula(content, fmt)
    assert f"'{CERTIFICATE};叉车证" in values and f"'{SKILL}:2" in values
    assert (f"'{NAME}" in values and "'-2+3" in values) is identified


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_slot_export_imports_back_as_the_original_text(session, people, poisoned, fmt):
    content = export_file(session=session, actor=people.actor("admin"), kind="slots", format=fmt).content
    assert import_file(session=session, actor=people.actor("admin"), kind="slots", data=content,
                       filename=f"slots.{fmt}").created == 1
    slots = session.scalars(select(Slot)).all()
    assert [(s.title, s.description) for s in slots] == [(FORMULA, "-1+1")] * 2
    assert [[(r.free_text, r.skill_code, r.level) for r in s.required_skills] for s in slots] == \
        [[(FORMULA, None, 2), (None, "chinese_cooking", 1)]] * 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_candidate_export_imports_back_as_the_original_text(session, people, poisoned, tx, fmt):
    content = export_file(session=session, actor=people.actor("admin"), kind="candidates", format=fmt,
                          identified=True).content

    def add_id_number(header, rows):  # the export never holds it: the office fills it in again
        for row in rows:
            row["id_number"] = tx.id_number(1)
        return [*header, "id_number"], rows

    session.execute(delete(Candidate))
    session.commit()
    assert import_file(session=session, actor=people.actor("admin"), kind="candidates", filename=f"c.{fmt}",
                       data=tx.rewrite(content, fmt, "utf-8", add_id_number)).created == 1
    candidate = session.scalar(select(Candidate))
    assert (candidate.name, candidate.residence_address) == (NAME, "-2+3")
    assert [c.name for c in candidate.certificates] == [CERTIFICATE, "叉车证"]
    assert [(s.free_text, s.level) for s in candidate.skills] == [(SKILL, 2)]
