"""Files a bureau really has, as the outside test of issue 16 met them: padded with blank rows, hidden sheets,
UTF-16, stray NULs, other separators, unbalanced quotes. Made in memory, small where they can be; used by
bench/bench_import_files.py and tests/transfer/test_files_hostile.py."""

from __future__ import annotations

import csv
import io
import re
import zipfile


def csv_text(header: list[str], rows: list[list], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return buffer.getvalue()


def padded_csv(header: list[str], rows: list[list], blank_lines: int, blank: str = "\r\n") -> bytes:
    """A CSV file whose data rows are followed by `blank_lines` blank lines (`,,,,\\r\\n` when `blank` says so)."""
    return (csv_text(header, rows) + blank * blank_lines).encode()


def workbook(sheets: list[tuple[str, list[list], str]], active: int = 0) -> bytes:
    """An .xlsx of (title, rows, state) sheets, state visible, hidden or veryHidden; `active` is the sheet shown."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    book.active = active
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SHEET_DATA_END = re.compile(rb"</(?:\w+:)?sheetData>")


def pad_workbook(xlsx: bytes, blank_rows: int, *, after_row: int, formatted: bool = False,
                 then: list[tuple[int, str]] = (), keep_dimension: bool = False) -> bytes:
    """The workbook with `blank_rows` empty rows written into its first sheet after row `after_row`, then optionally
    cells (row, text) further down. Plain rows are `<row/>` (numbered by their place: two million take 22 kB
    compressed, the file of issue 16); formatted ones are numbered and styled, as the rows of a sheet coloured or
    resized to the bottom are (a million take about 2.5 MB). `keep_dimension` leaves the sheet's stated size as it
    was, which then understates it (as a program that appends rows without updating it leaves it)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    attributes = b' ht="15" customHeight="1" s="0" customFormat="1"' if formatted else b""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = after_row + 1
                blank = (b"".join(b'<row r="%d"%s/>' % (number, attributes)
                                  for number in range(start, start + blank_rows))
                         if formatted else b"<row/>" * blank_rows)
                tail = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>'
                                % (number, number, text.encode()) for number, text in then)
                end = SHEET_DATA_END.search(content)
                content = content[:end.start()] + blank + tail + content[end.start():]
                if not keep_dimension:
                    content = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", content)
            target.writestr(item.filename, content)
    return out.getvalue()
