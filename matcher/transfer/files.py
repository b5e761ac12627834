"""Reading spreadsheets (CSV in UTF-8 or GBK, .xlsx) into rows of named cells, and writing them back.

Every problem with the file as a whole becomes `Invalid` (422) with a message naming it; nothing here
knows about the database.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from flask_babel import lazy_gettext as _l

from matcher.errors import Invalid
from matcher.spreadsheets import append_row, neutralise_formula, strip_formula_guard
from matcher.transfer.columns import (
    IGNORED_HEADERS,
    MAX_ROWS,
    Column,
    header_lookup,
    normalise_header,
)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
CSV_EXTENSIONS = (".csv", ".txt", ".tsv", "")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A title row or two above the header is common in rosters; look this far for the header.
HEADER_SEARCH_ROWS = 10


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the first row is 1
    cells: dict[str, Any]  # column name -> value (str, int, float, date, bool); empty cells left out


@dataclass
class Table:
    columns: list[Column]  # the recognised importable columns present in the file
    rows: list[Row]


def file_error(message) -> Invalid:
    return Invalid(message, field="file")


def read_table(data: bytes, filename: str | None, columns: Sequence[Column]) -> Table:
    """Parse an uploaded or local file into rows keyed by column name."""
    if not data or not data.strip():
        raise file_error(_l("The file is empty."))
    extension = PurePath(filename or "").suffix.lower()
    if data.startswith(ZIP_MAGIC):
        raw_rows = _xlsx_rows(data)
    elif data.startswith(OLE_MAGIC):
        raise file_error(_l("This is an old Excel .xls file (or a workbook with a password); save it as "
                            ".xlsx without a password, or as CSV, and try again."))
    elif extension in XLSX_EXTENSIONS:
        raise file_error(_l("The file is not a readable Excel (.xlsx) workbook."))
    elif extension in CSV_EXTENSIONS:
        raw_rows = _csv_rows(data)
    else:
        raise file_error(_l("Files of type %(ext)s cannot be imported; use CSV or Excel (.xlsx).",
                            ext=extension))
    return _table(raw_rows, columns)


def _table(raw_rows: Iterable[tuple[int, list[Any]]], columns: Sequence[Column]) -> Table:
    lookup = header_lookup(tuple(columns))
    rows_iter = iter(raw_rows)
    header_number, header, skipped = _find_header(rows_iter, lookup)
    if header is None:
        raise file_error(_l("The file is empty."))
    positions, present = _map_header(header, lookup, columns)
    rows: list[Row] = []
    for number, values in _chain(skipped, rows_iter):
        if _blank(values):
            continue
        for index, value in enumerate(values):
            if index not in positions and not _blank([value]) \
                    and (index >= len(header) or _blank([header[index]])):
                from openpyxl.utils import get_column_letter  # openpyxl loads only when a file needs it

                # Often a comma inside an unquoted CSV cell, which shifts the cells after it.
                raise file_error(_l("Row %(row)s has data in column %(col)s, which has no header.",
                                    row=number, col=get_column_letter(index + 1)))
        cells = {}
        for index, column in positions.items():
            value = _clean(values[index]) if index < len(values) else None
            if value is not None:
                cells[column.name] = value
        if not cells:
            continue
        if len(rows) >= MAX_ROWS:
            raise file_error(_l("The file has more than %(max)s rows; split it into smaller files.",
                                max=format(MAX_ROWS, ",")))
        rows.append(Row(number=number, cells=cells))
    if not rows:
        raise file_error(_l("The file has a header (row %(row)s) but no rows below it.", row=header_number))
    return Table(columns=present, rows=rows)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _find_header(rows: Iterator[tuple[int, list[Any]]], lookup: dict[str, Column]):
    """The first row naming at least two known columns (or only known ones); title rows above are skipped."""
    seen: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if _blank(values):
            continue
        names = [normalise_header(v) for v in values if not _blank([v])]
        known = sum(1 for name in names if name in lookup)
        if known >= 2 or (names and known == len(names)):
            return number, values, []
        seen.append((number, values))
        if len(seen) >= HEADER_SEARCH_ROWS:
            break
    if not seen:
        return None, None, []
    # No recognisable header: take the first non-empty row, so the column check says what is wrong.
    number, values = seen[0]
    return number, values, seen[1:]


def _map_header(header: list[Any], lookup: dict[str, Column], columns: Sequence[Column]):
    positions: dict[int, Column] = {}
    unknown, by_name = [], {}
    for index, raw in enumerate(header):
        if _blank([raw]):
            continue
        name = normalise_header(raw)
        column = lookup.get(name)
        if column is None:
            if name not in IGNORED_HEADERS:
                unknown.append(str(raw).strip())
            continue
        if column.name in by_name:
            raise Invalid(_l("The column %(name)s appears twice.", name=column.name),
                          errors={"columns": {column.name: [_l("This column appears twice.")]}})
        by_name[column.name] = index
        if column.imported:
            positions[index] = column
    if unknown:
        raise Invalid(_l("Unknown columns: %(names)s. Use the column names of the format "
                         "(see docs/formats.md).", names=", ".join(unknown)),
                      errors={"columns": {name: [_l("Unknown column.")] for name in unknown}})
    missing = [c for c in columns if c.required and c.imported and c.name not in by_name
               and not (c.alternative and all(alt in by_name for alt in c.alternative))]
    if missing:
        raise Invalid(_l("Required columns are missing: %(names)s.",
                         names=", ".join(f"{c.name} ({c.zh})" for c in missing)),
                      errors={"columns": {c.name: [_l("This required column is missing.")] for c in missing}})
    present = [c for c in columns if c.name in by_name and c.imported]
    return positions, present


def _blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = strip_formula_guard(value.strip())  # our own guard against formulas, on export
        return value or None
    return value


# --- CSV ----------------------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); UTF-16 when it says so with a BOM."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError:
            raise file_error(_l("The file says it is UTF-8 but is not; save it again as CSV UTF-8.")) \
                from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise file_error(_l("The file could not be read as UTF-16 text.")) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise file_error(_l("The file is neither UTF-8 nor GBK text; save it as CSV UTF-8 or as .xlsx.")) \
            from None


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(data)
    if "\x00" in text:
        raise file_error(_l("The file is not a text (CSV) file."))
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    non_blank = 0
    try:
        # One record is one spreadsheet row, even when a quoted cell holds a line break.
        for number, record in enumerate(reader, start=1):
            rows.append((number, record))
            if not _blank(record):
                non_blank += 1
                if non_blank > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                    break  # enough to know it is too long: _table reports the limit
    except csv.Error as exc:
        raise file_error(_l("The CSV file could not be read (line %(line)s: %(problem)s).",
                            line=reader.line_num, problem=str(exc))) from None
    return iter(rows)


# --- Excel --------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = []
        non_blank = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [_xlsx_value(v) for v in values]
            rows.append((number, values))
            if not _blank(values):
                non_blank += 1
                if non_blank > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                    break  # enough to know it is too long: _table reports the limit
        workbook.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (BadZipFile, KeyError ...) on damage
        raise file_error(_l("The file is not a readable Excel (.xlsx) workbook (%(problem)s).",
                            problem=type(exc).__name__)) from None
    return iter(rows)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# --- Writing ------------------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str):  # every text cell, whatever its column (lists too); numbers stay numbers
        return neutralise_formula(value)
    return str(value)


def write_csv(columns: Sequence[Column], rows: Iterable[dict], *, headers: str = "en",
              encoding: str = "utf-8") -> bytes:
    """UTF-8 with a BOM (Excel then reads it right), or GBK for older office software."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header(headers) for c in columns])
    for row in rows:
        writer.writerow([_csv_text(row.get(c.name)) for c in columns])
    text = buffer.getvalue()
    if encoding in ("gbk", "gb18030"):
        try:
            return text.encode("gbk")
        except UnicodeEncodeError:
            # A rare character outside GBK: GB18030 keeps it, and is byte-identical for everything else.
            return text.encode("gb18030")
    return codecs.BOM_UTF8 + text.encode("utf-8")


def write_xlsx(columns: Sequence[Column], rows: Iterable[dict], *, headers: str = "en",
               sheet_title: str = "data") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    append_row(sheet, [column.header(headers) for column in columns], bold=True)
    for row in rows:
        append_row(sheet, [row.get(column.name) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
