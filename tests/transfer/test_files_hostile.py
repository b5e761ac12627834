"""Files a bureau really has (issue 16): padded with blank rows, hidden sheets, UTF-16, stray NULs, other
separators, unbalanced quotes. Each test makes the file that reproduces the problem."""

from __future__ import annotations

import codecs
import tracemalloc

import pytest

from bench import hostile_files as hf
from matcher.errors import Invalid
from matcher.transfer.columns import BASE_COLUMNS
from matcher.transfer.files import count_data_rows, read_table

HEADER = ["name", "credit_code", "industry", "place"]
ROWS = [["甲公司", "X1", "餐饮", "义乌市稠城街道"], ["乙公司", "X2", "物流", "义乌市江东街道"]]
CELLS = [dict(zip(HEADER, row, strict=True)) for row in ROWS]


@pytest.fixture
def messages(app):
    """A request context, so lazily translated messages can be read."""
    with app.test_request_context():
        yield


def read(data: bytes, filename: str = "f.csv"):
    return read_table(data, filename, BASE_COLUMNS)


def refusal(data: bytes, filename: str = "f.csv") -> Invalid:
    with pytest.raises(Invalid) as caught:
        read(data, filename)
    return caught.value


def peak_memory_of(function) -> tuple[object, int]:
    """What `function()` returns, and the most memory (bytes) Python held for it meanwhile."""
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- blank rows: skipped as they are read, never kept --------------------------------------------------------


@pytest.mark.parametrize("blank", ["\r\n", ",,,\r\n", " , ,\t,\r\n"])
def test_a_csv_padded_with_blank_lines_is_read_in_little_memory(blank):
    data = hf.padded_csv(HEADER, ROWS, 200_000, blank)
    table, peak = peak_memory_of(lambda: read(data))
    assert [row.cells for row in table.rows] == CELLS
    # Keeping each blank line as a row took about 150 bytes a line (30 MB here; 514 MB for 3 MB of them).
    assert peak < 8_000_000


def test_a_tiny_workbook_with_a_million_empty_rows_is_read_in_little_memory():
    data = hf.pad_workbook(hf.workbook([("data", [HEADER, *ROWS], "visible")]), 1_000_000, after_row=3)
    assert len(data) < 30_000
    table, peak = peak_memory_of(lambda: read(data, "f.xlsx"))
    assert [row.cells for row in table.rows] == CELLS
    assert peak < 8_000_000


@pytest.mark.parametrize(("formatted", "keep_dimension"), [(True, False), (False, False), (False, True)])
def test_data_after_a_long_run_of_blank_rows_is_still_read(formatted, keep_dimension):
    # The quick scan for the last row holding a value must never cut a row off: numbered (formatted) blank rows and
    # unnumbered ones (counted by their place), then data far below; nor may a stated size (A1:D3) that is wrong.
    data = hf.pad_workbook(hf.workbook([("data", [HEADER, *ROWS], "visible")]), 50_000, after_row=3,
                           formatted=formatted, then=[(60_000, "丙公司"), (60_002, "丁公司")],
                           keep_dimension=keep_dimension)
    table = read(data, "f.xlsx")
    assert [(row.number, row.cells["name"]) for row in table.rows] == [
        (2, "甲公司"), (3, "乙公司"), (60_000, "丙公司"), (60_002, "丁公司")]


def test_reading_stops_at_the_first_row_past_the_limit(messages):
    # 20,001 data rows, then damage that reading on would report instead (an unbalanced quote at the end).
    rows = [[f"甲{n}", "X", "餐饮", "义乌市"] for n in range(20_001)]
    data = (hf.csv_text(HEADER, rows) + '"unclosed,X,餐饮,义乌市\r\n').encode()
    assert "20,000" in str(refusal(data).message)
    assert count_data_rows(data, "f.csv", BASE_COLUMNS, up_to=1_000) == 1_000


# --- hidden sheets -------------------------------------------------------------------------------------------


def test_a_hidden_first_sheet_is_not_read_in_place_of_the_visible_one():
    data = hf.workbook([("old", [HEADER, ["旧公司", "X0", "餐饮", "义乌市"]], "hidden"),
                        ("lookup", [["code", "label"]], "veryHidden"),
                        ("data", [HEADER, *ROWS], "visible")], active=2)
    assert [row.cells for row in read(data, "f.xlsx").rows] == CELLS


def test_the_active_sheet_is_read_when_it_is_visible_else_the_first_visible_one():
    sheets = [("one", [HEADER, ROWS[0]], "visible"), ("two", [HEADER, ROWS[1]], "visible")]
    assert read(hf.workbook(sheets, active=1), "f.xlsx").rows[0].cells == CELLS[1]
    hidden_active = [("one", [HEADER, ROWS[0]], "hidden"), ("two", [HEADER, ROWS[1]], "visible")]
    assert read(hf.workbook(hidden_active, active=0), "f.xlsx").rows[0].cells == CELLS[1]


# --- encodings, NULs, separators, quotes: read, or one message saying what to do ------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read(encoding):
    data = hf.csv_text(HEADER, ROWS).encode(encoding)
    assert not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    assert [row.cells for row in read(data).rows] == CELLS


def test_chinese_headers_in_utf16_without_a_bom_are_read():
    data = hf.csv_text(["名称", "统一社会信用代码", "行业", "所在地"], ROWS).encode("utf-16-le")
    assert [row.cells for row in read(data).rows] == CELLS


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_one_stray_nul_is_named_by_its_line(messages, encoding):
    text = hf.csv_text(HEADER, ROWS).replace("乙公司", "乙\x00公司")
    problem = refusal(text.encode(encoding))
    assert "Line 3 of the file holds a NUL character" in str(problem.message)
    assert "not a text" not in str(problem.message)
    assert list(problem.errors) == ["file"]


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_other_separators_are_recognised_by_the_header(delimiter):
    rows = [[*ROWS[0][:3], "义乌市,稠城街道"], ROWS[1]]  # a comma inside a cell of a ;-separated file
    data = ("义乌市安置基地名册\r\n" + hf.csv_text(HEADER, rows, delimiter=delimiter)).encode()
    table = read(data)
    assert [row.cells["place"] for row in table.rows] == ["义乌市,稠城街道", "义乌市江东街道"]
    assert [row.number for row in table.rows] == [3, 4]


def test_an_unbalanced_quote_is_one_error_naming_the_line_where_it_opens(messages):
    data = (hf.csv_text(HEADER, ROWS) + '丙公司,"X3,餐饮,义乌市\r\n丁公司,X4,餐饮,义乌市\r\n'
            "戊公司,X5,餐饮,义乌市\r\n").encode()
    problem = refusal(data)
    assert "opens on line 4 is never closed" in str(problem.message)
    assert list(problem.errors) == ["file"] and len(problem.errors["file"]) == 1


def test_an_unbalanced_quote_early_in_a_long_file_is_named_too(messages):
    # The rest of the file in one cell passes the csv module's limit (131,072 characters) before the file ends.
    rows = [[f"公司{n}", f"X{n}", "餐饮", "义乌市"] for n in range(10_000)]
    data = (hf.csv_text(HEADER, ROWS) + '丙公司,"X3,餐饮,义乌市\r\n' + hf.csv_text(HEADER, rows)).encode()
    assert "opens on line 4 is never closed" in str(refusal(data).message)


def test_blank_lines_skipped_unparsed_still_count_as_rows(messages):
    head = ",".join(HEADER) + "\r\n\r\n,,,\r\n"
    table = read((head + ",".join(ROWS[0]) + '\r\n \r\n"丙公司\r\n",X3,餐饮,义乌市\r\n' + ",".join(ROWS[1])).encode())
    assert [(row.number, row.cells["name"]) for row in table.rows] == [(4, "甲公司"), (6, "丙公司"), (7, "乙公司")]
    # A blank line inside a quoted cell is the cell's, not a blank row.
    table = read((head + '"甲\r\n\r\n公司",X1,餐饮,义乌市\r\n' + ",".join(ROWS[1])).encode())
    assert [(row.number, row.cells["name"]) for row in table.rows] == [(4, "甲\r\n\r\n公司"), (5, "乙公司")]
    problem = refusal((head + ",".join(ROWS[0]) + '\r\n\r\n\r\n丙公司,"X3,餐饮,义乌市\r\n\r\n').encode())
    assert "opens on line 7 is never closed" in str(problem.message)


def test_a_quoted_cell_over_several_lines_is_still_one_cell():
    data = (hf.csv_text(HEADER, ROWS) + '丙公司,X3,餐饮,"义乌市\r\n稠城街道"\r\n').encode()
    assert read(data).rows[-1].cells["place"] == "义乌市\r\n稠城街道"
