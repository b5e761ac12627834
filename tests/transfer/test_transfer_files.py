"""Reading files (encodings, Excel, headers, bad files) and cells, and the generated format docs."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from matcher.errors import Invalid
from matcher.transfer import columns as column_tables
from matcher.transfer.cells import CellError, Vocabulary, parse_cell, parse_date, parse_skills
from matcher.transfer.columns import BASE_COLUMNS, CANDIDATE_COLUMNS, KIND_COLUMNS, markdown
from matcher.transfer.files import read_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
BASE_HEADER = ["name", "credit_code", "industry", "place"]
ROW = ["甲公司", "91330782000000001X", "餐饮", "义乌市稠城街道"]


@pytest.fixture
def messages(app):
    """A request context, so lazily translated messages can be read."""
    with app.test_request_context():
        yield


def read(data: bytes, filename: str = "f.csv", table=BASE_COLUMNS):
    return read_table(data, filename, table)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(tx, encoding):
    table = read(tx.csv_bytes(BASE_HEADER, [ROW], encoding=encoding))
    assert [r.cells for r in table.rows] == [dict(zip(BASE_HEADER, ROW, strict=True))]


def test_chinese_headers_tabs_title_rows_and_blank_rows(tx):
    tsv = "\ufeff名称\t统一社会信用代码\t行业\t所在地\t序号\n甲公司\tX\t餐饮\t义乌市\t1\n".encode()
    assert read(tsv).rows[0].cells == {"name": "甲公司", "credit_code": "X", "industry": "餐饮",
                                       "place": "义乌市"}
    xlsx = tx.xlsx_bytes(["名称*", "Credit_Code", "行业", "所在地"],
                         [ROW, [None, None], ["乙公司", "Y", "制造", 330782]],
                         title_rows=[["义乌市安置基地名册"], []])
    table = read(xlsx, "bases.xlsx")
    # Spreadsheet row numbers: title (1), empty (2), header (3), rows 4 and 6 (5 is empty).
    assert [r.number for r in table.rows] == [4, 6]
    assert table.rows[1].cells["place"] == 330782


def test_excel_detected_by_its_magic_bytes_whatever_the_name(tx):
    xlsx = tx.xlsx_bytes(BASE_HEADER, [ROW])
    assert read(xlsx, "upload.bin").rows[0].cells["name"] == "甲公司"
    assert read(xlsx, None).rows[0].cells["name"] == "甲公司"


@pytest.mark.parametrize(("data", "filename", "words"), [
    (b"", "f.csv", "empty"),
    (b"  \r\n\r\n", "f.csv", "empty"),
    (b"name,credit_code,industry,place\r\n", "f.csv", "no rows"),
    (b"%PDF-1.4 ...", "f.pdf", ".pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls"),
    (b"this is not a workbook", "f.xlsx", "Excel"),
    (b"PK\x03\x04 broken zip", "f.csv", "Excel"),
    (b"name\x00,credit\x00\r\n", "f.csv", "Line 1 of the file holds a NUL character"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" * 8, "f.csv", "not a text"),
    (b"name,industry\r\n\x81\x20\x81", "f.csv", "neither UTF-8 nor GBK"),
])
def test_bad_files_are_refused_with_a_reason(messages, data, filename, words):
    with pytest.raises(Invalid) as caught:
        read(data, filename)
    assert words in str(caught.value.message)
    assert "file" in caught.value.errors


def test_missing_unknown_and_repeated_columns(messages, tx):
    with pytest.raises(Invalid) as caught:
        read(tx.csv_bytes(["name", "industry", "place"], [["a", "b", "c"]]))
    assert "credit_code (统一社会信用代码)" in str(caught.value.message)
    assert list(caught.value.errors["columns"]) == ["credit_code"]
    with pytest.raises(Invalid) as caught:
        read(tx.csv_bytes([*BASE_HEADER, "备注", "credit code"], [[*ROW, "x", "y"]]))
    assert set(caught.value.errors["columns"]) == {"备注", "credit code"}
    with pytest.raises(Invalid) as caught:
        read(tx.csv_bytes([*BASE_HEADER, "名称"], [[*ROW, "甲"]]))
    assert "twice" in str(caught.value.message)
    # Export-only columns (the id) are recognised and skipped.
    table = read(tx.csv_bytes(["id", *BASE_HEADER], [["7", *ROW]]))
    assert set(table.rows[0].cells) == set(BASE_HEADER)


def test_data_outside_the_header_is_refused(messages):
    # An unquoted comma in the address shifts the row by one cell.
    data = "name,credit_code,industry,place\r\n甲,X,餐饮,义乌市\r\n乙,Y,餐饮,义乌市,稠州路\r\n".encode()
    with pytest.raises(Invalid) as caught:
        read(data)
    assert "Row 3" in str(caught.value.message) and "column E" in str(caught.value.message)
    # Past Z the letters go on as a spreadsheet names them: the 28th column is AB.
    data = ("name,credit_code,industry,place\r\n甲,X,餐饮,义乌市" + "," * 24 + "stray\r\n").encode()
    with pytest.raises(Invalid) as caught:
        read(data)
    assert "Row 2" in str(caught.value.message) and "column AB" in str(caught.value.message)


def test_residence_coordinates_stand_in_for_the_residence_column(tx):
    header = ["name", "id_number", "education", "hukou", "release_date", "offence_category", "residence_lat",
              "residence_lng"]
    table = read(tx.csv_bytes(header, [["a"] * len(header)]), table=CANDIDATE_COLUMNS)
    assert len(table.rows) == 1
    with pytest.raises(Invalid):
        read(tx.csv_bytes(header[:-1], [["a"] * (len(header) - 1)]), table=CANDIDATE_COLUMNS)


def test_more_than_twenty_thousand_rows_are_refused(messages, tx):
    rows = "\r\n".join(f"甲{n},X,餐饮,义乌市" for n in range(20_001))
    data = ("name,credit_code,industry,place\r\n" + rows).encode()
    with pytest.raises(Invalid) as caught:
        read(data)
    assert "20,000" in str(caught.value.message)
    assert len(read(data.rsplit(b"\r\n", 1)[0]).rows) == 20_000


def test_cells(messages):
    vocabulary = Vocabulary(skill_codes=["chinese_cooking"], courses=[("cooking", "烹饪", "Cooking")])
    by_name = {c.name: c for c in CANDIDATE_COLUMNS}
    assert parse_skills("chinese_cooking:3；叉车：2;焊接", vocabulary) == [
        {"skill_code": "chinese_cooking", "level": 3}, {"free_text": "叉车", "level": 2},
        {"free_text": "焊接"}]
    with pytest.raises(CellError):
        parse_skills("chinese_cooking:high", vocabulary)
    assert parse_cell(by_name["preferred_courses"], "烹饪;ecommerce", vocabulary) == ["cooking", "ecommerce"]
    assert parse_cell(by_name["consents"], "推荐;data_processing", vocabulary) == \
        ["referral", "data_processing"]
    assert parse_cell(by_name["sex"], "女", vocabulary) == "female"
    assert parse_cell(by_name["education"], "Primary", vocabulary) == "primary"
    assert parse_cell(by_name["education"], "博士", vocabulary) == "博士"  # left for the schema to refuse
    assert parse_cell(by_name["hukou"], 330782001, vocabulary) == {"code": "330782001"}
    assert parse_cell(by_name["hukou"], "稠城街道", vocabulary) == {"name": "稠城街道"}
    assert parse_cell(by_name["key_subject"], "是", vocabulary) is True
    assert parse_cell(by_name["max_travel_km"], 15.0, vocabulary) == 15
    with pytest.raises(CellError):
        parse_cell(by_name["key_subject"], "maybe", vocabulary)
    for text in ("2025-03-01", "2025/3/1", "2025.3.1", "2025年3月1日", "20250301", "2025-03-01 00:00:00"):
        assert parse_date(text) == "2025-03-01"
    for text in ("2025-02-30", "next week"):
        with pytest.raises(CellError):
            parse_date(text)


def test_every_kind_documents_each_column_once():
    for kind, table in KIND_COLUMNS.items():
        names = [c.name for c in table]
        assert len(names) == len(set(names)), kind
        assert len({c.zh for c in table}) == len(table), kind
        assert all(c.description for c in table)


def test_docs_are_generated_from_the_column_tables():
    """docs/formats.md is the output of `python -m matcher.transfer.columns`."""
    assert DOCS.read_text(encoding="utf-8") == markdown()
    assert column_tables.MAX_ROWS == 20_000


def test_bom_is_not_part_of_the_first_header(tx):
    data = codecs.BOM_UTF8 + b"name,credit_code,industry,place\r\na,b,c,d\r\n"
    assert read(data).rows[0].cells["name"] == "a"
