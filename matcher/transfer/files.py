"""Reading spreadsheets (CSV in UTF-8, GBK or UTF-16, .xlsx) into rows of named cells, and writing them back.

Every problem with the file as a whole becomes `Invalid` (422) with a message naming it and saying how to save the
file so that it loads; nothing here knows about the database.

Files are read as a stream: a row is looked at, and kept only when it holds data, so a file padded with millions of
blank rows (a 22 kB workbook can hold two million) costs time to skip and no memory; reading stops as soon as the
file has more data rows than an import takes.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zlib
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
# Separators a CSV file may use: Excel writes ; where the decimal mark is a comma, some systems write | or tabs.
DELIMITERS = (",", "\t", ";", "|")
CHUNK = 1 << 20  # bytes decoded or decompressed at a time: what reading a file holds besides its rows
SAMPLE = 1 << 16  # bytes looked at to tell the encoding and the separator


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the first row is 1
    cells: dict[str, Any]  # column name -> value (str, int, float, date, bool); empty cells left out


@dataclass
class Table:
    columns: list[Column]  # the recognised importable columns present in the file
    rows: list[Row]  # the rows holding data, in file order (blank rows are never kept)


def file_error(message) -> Invalid:
    return Invalid(message, field="file")


def read_table(data: bytes, filename: str | None, columns: Sequence[Column]) -> Table:
    """Parse an uploaded or local file into its data rows keyed by column name."""
    present, header_number, data_rows = _data_rows(data, filename, columns)
    rows: list[Row] = []
    for row in data_rows:
        if len(rows) >= MAX_ROWS:  # refused at the first row past the limit: the rest is never read
            raise file_error(_l("The file has more than %(max)s rows; split it into smaller files.",
                                max=format(MAX_ROWS, ",")))
        rows.append(row)
    if not rows:
        raise file_error(_l("The file has a header (row %(row)s) but no rows below it.", row=header_number))
    return Table(columns=present, rows=rows)


def count_data_rows(data: bytes, filename: str | None, columns: Sequence[Column], *, up_to: int) -> int:
    """How many data rows the file holds, counting no further than `up_to` (so a large file is told from a small
    one after reading `up_to` rows of it). 0 when the file cannot be read: the import itself then says why."""
    try:
        _present, _number, data_rows = _data_rows(data, filename, columns)
        count = 0
        for _row in data_rows:
            count += 1
            if count >= up_to:
                break
        return count
    except Invalid:
        return 0


def _data_rows(data: bytes, filename: str | None, columns: Sequence[Column]):
    """The importable columns present, the header's row number, and an iterator over the data rows."""
    if not data or not data.strip():
        raise file_error(_l("The file is empty."))
    extension = PurePath(filename or "").suffix.lower()
    lookup = header_lookup(tuple(columns))
    if data.startswith(ZIP_MAGIC):
        raw_rows = _xlsx_rows(data)
    elif data.startswith(OLE_MAGIC):
        raise file_error(_l("This is an old Excel .xls file (or a workbook with a password); save it as "
                            ".xlsx without a password, or as CSV, and try again."))
    elif extension in XLSX_EXTENSIONS:
        raise file_error(_l("The file is not a readable Excel (.xlsx) workbook."))
    elif extension in CSV_EXTENSIONS:
        raw_rows = _csv_rows(data, lookup)
    else:
        raise file_error(_l("Files of type %(ext)s cannot be imported; use CSV or Excel (.xlsx).",
                            ext=extension))
    rows_iter = iter(raw_rows)
    header_number, header, skipped = _find_header(rows_iter, lookup)
    if header is None:
        raise file_error(_l("The file is empty."))
    positions, present = _map_header(header, lookup, columns)
    return present, header_number, _rows_below(header, positions, _chain(skipped, rows_iter))


def _rows_below(header: list[Any], positions: dict[int, Column],
                raw_rows: Iterator[tuple[int, list[Any]]]) -> Iterator[Row]:
    for number, values in raw_rows:
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
        if cells:
            yield Row(number=number, cells=cells)


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


def csv_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); UTF-16 with a BOM or without one (told by the
    NUL bytes in every other position that its ASCII characters have). The whole file is checked, in chunks: a
    character that is not in the encoding, or a NUL, is refused saying where."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            _check_text(data, "utf-8-sig")
        except UnicodeDecodeError:
            raise file_error(_l("The file says it is UTF-8 but is not; save it again as CSV UTF-8.")) \
                from None
        return "utf-8-sig"
    utf16 = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else _utf16_without_bom(data)
    if utf16:
        try:
            _check_text(data, utf16)
        except UnicodeDecodeError:
            raise file_error(_l("The file looks like UTF-16 text but cannot be read as such; save it as CSV "
                                "UTF-8 and try again.")) from None
        return utf16
    if _binary(data):
        raise file_error(_l("The file is not a text (CSV) file."))
    for encoding in ("utf-8", "gb18030"):
        try:
            _check_text(data, encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise file_error(_l("The file is neither UTF-8 nor GBK text; save it as CSV UTF-8 or as .xlsx."))


def _utf16_without_bom(data: bytes) -> str | None:
    """utf-16-le or utf-16-be when the file's NUL bytes sit at every other position, as the high bytes of the
    ASCII letters, digits, separators and line ends of UTF-16 text do; else None."""
    sample = data[:SAMPLE - SAMPLE % 2]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    # Chinese text in UTF-16 has few such NULs (its characters' bytes are not 0), but its separators and line ends
    # give at least one in eight bytes; one or two stray NULs in UTF-8 text are not enough.
    if max(even, odd) < max(8, len(sample) // 8) or min(even, odd) * 10 > max(even, odd):
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


def _binary(data: bytes) -> bool:
    """NUL bytes in numbers that no damaged text holds: a picture, a PDF, an executable."""
    nuls = data[:SAMPLE].count(0)
    return nuls >= 16 and nuls * 100 > min(len(data), SAMPLE)


def _check_text(data: bytes, encoding: str) -> None:
    """Decode the whole file a chunk at a time (keeping none of it): UnicodeDecodeError when it is not in
    `encoding`, Invalid naming the line of a NUL character (which no CSV cell can hold, and PostgreSQL cannot
    store)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        text = decoder.decode(view[start:start + CHUNK], final=start + CHUNK >= len(data))
        nul = text.find("\x00")
        if nul >= 0:
            raise file_error(_l("Line %(line)s of the file holds a NUL character (an invisible \\0), which a CSV "
                                "file cannot hold: delete it, or open the file in Excel and save it again as CSV "
                                "UTF-8.", line=lines + text.count("\n", 0, nul) + 1))
        lines += text.count("\n")
    decoder.decode(b"", final=True)


def _csv_rows(data: bytes, lookup: dict[str, Column]) -> Iterator[tuple[int, list[Any]]]:
    encoding = csv_encoding(data)
    delimiter = _delimiter(data, encoding, lookup)
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    blank = " \t\r\n" + delimiter
    ended = False
    between_records = True  # the reader's next line starts a record (it is not inside a quoted cell)
    skipped = 0  # blank lines passed over between records: each is a row of the spreadsheet
    line_number = record_starts = 0  # lines read from the file; the line where the record being read starts

    def lines() -> Iterator[str]:
        nonlocal ended, between_records, skipped, line_number, record_starts
        for line in stream:
            line_number += 1
            if between_records:
                if not line.strip(blank):
                    skipped += 1  # a blank row, passed over before the csv module parses it (a million cost 1 s)
                    continue
                between_records, record_starts = False, line_number
            yield line
        ended = True

    reader = csv.reader(lines(), delimiter=delimiter)
    # One record is one spreadsheet row, even when a quoted cell holds a line break.
    records = 0
    while True:
        between_records = True
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise file_error(_l("The CSV file could not be read (line %(line)s: %(problem)s).",
                                    line=line_number, problem=str(exc))) from None
            ended = True  # a cell of over 131,072 characters: a quote that never closes in a long file
        if ended:
            # The reader asked for a line past the end of the file inside a quoted cell: a quote opened that
            # never closes, and every line after it would be one cell (and a row of misplaced values).
            raise file_error(_l("The quote (\") that opens on line %(line)s is never closed, so the rest of the "
                                "file would be read as one cell: delete that quote, or put the whole cell in "
                                "quotes and write a quote inside it twice (\"\").", line=record_starts))
        records += 1
        yield records + skipped, record


def _delimiter(data: bytes, encoding: str, lookup: dict[str, Column]) -> str:
    """The separator that makes the header (a row of the first few naming known columns) split into the most known
    column names; without a recognisable header, the one the first line holds most of (a comma when none)."""
    decoder = codecs.getincrementaldecoder(encoding)("ignore")
    head = decoder.decode(data[:SAMPLE])
    lines = [line for line in head.splitlines()[:HEADER_SEARCH_ROWS * 2] if line.strip()][:HEADER_SEARCH_ROWS]
    if not lines:
        return ","

    def known(delimiter: str) -> int:
        try:
            records = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            return 0
        return max((sum(1 for cell in record if normalise_header(cell) in lookup) for record in records), default=0)

    scores = {delimiter: known(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])  # the first of equals: the comma before the others
    if scores[best] >= 2:
        return best
    counts = {delimiter: lines[0].count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


# --- Excel --------------------------------------------------------------------------------------

# In a worksheet's XML: a row's start tag (its number in r="…", when it has one), and what a cell holding a value has
# (<v>, or <is> for text written in the cell). The plain forms are found with bytes.find and .count (fast); a sheet
# whose tags carry a namespace prefix (x:row) with the regular expressions.
ROW_STARTS = (b"<row ", b"<row>", b"<row/>", b"<row\n", b"<row\r", b"<row\t")
VALUE_STARTS = (b"<v>", b"<v ", b"<is>", b"<is ")
ROW_START = re.compile(rb"<(?:[\w.-]+:)?row[\s>/]")
ROW_NUMBER = re.compile(rb'\sr="(\d+)"')
LAST_ROW_NUMBER = re.compile(rb'(?s).*<(?:[\w.-]+:)?row\s[^>]*?\br="(\d+)"')
LAST_VALUE = re.compile(rb"(?s).*<(?:[\w.-]+:)?(?:v|is)[\s>/]")
PREFIXED_ROOT = re.compile(rb"<[\w.-]+:worksheet[\s>]")


@dataclass
class _Sheet:
    title: str
    state: str  # visible, hidden or veryHidden
    path: str  # its part in the zip file


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the sheet `_pick_sheet` picks that hold a value, read as a stream (see `_sheet_rows`)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    try:
        # What load_workbook(read_only=True) does, without opening each worksheet: openpyxl parses a sheet without
        # a stated size (<dimension>) to its end as it opens it, keeping every row's element (160 MB for the two
        # million blank rows of a 22 kB file).
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        sheets = [_Sheet(sheet.name, sheet.state or "visible", rel.target)
                  for sheet, rel in reader.parser.find_sheets()
                  if "chartsheet" not in rel.Type and rel.target in reader.valid_files]
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (BadZipFile, KeyError ...) on damage
        raise file_error(_l("The file is not a readable Excel (.xlsx) workbook (%(problem)s).",
                            problem=type(exc).__name__)) from None
    try:
        sheet = _pick_sheet(sheets, reader.wb._active_sheet_index, reader.parser.find_sheets)  # noqa: SLF001
        try:
            yield from _sheet_rows(reader, sheet)
        except Invalid:
            raise
        except Exception as exc:  # noqa: BLE001 - damage inside the sheet, found while reading it
            raise file_error(_l("The file is not a readable Excel (.xlsx) workbook (%(problem)s).",
                                problem=type(exc).__name__)) from None
    finally:
        reader.archive.close()


def _pick_sheet(worksheets: list[_Sheet], active_index: int, all_sheets) -> _Sheet:
    """The sheet a person sees on opening the workbook: the active one if it is a visible worksheet, else the first
    visible worksheet. A hidden sheet (a lookup table, an old copy) is never read in its place."""
    ordered = [rel.target for _sheet, rel in all_sheets()]  # the active index counts chart sheets too
    active_path = ordered[active_index] if 0 <= active_index < len(ordered) else None
    visible = [sheet for sheet in worksheets if sheet.state == "visible"]
    for sheet in visible:
        if sheet.path == active_path:
            return sheet
    if visible:
        return visible[0]
    raise file_error(_l("The workbook has no visible worksheet: unhide the sheet to import (right-click a sheet "
                        "tab, Unhide), save, and try again."))


def _sheet_rows(reader, sheet: _Sheet) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of each row holding a value, up to the last one.

    openpyxl's own read-only rows keep something of every row they pass (an emptied XML element, and the attributes
    of a formatted row), so a workbook of two million blank formatted rows grows the process by hundreds of MB;
    this reads the sheet's XML with openpyxl's cell parser, dropping each row once read. The last row that holds a
    value is found first by a quick scan of the raw XML (`_last_row_with_value`), and reading stops there: the
    blank rows after it cost a decompression, not a parse each. The scan errs only towards reading more. The sheet's
    stated size (<dimension>) is not used: programs that append rows often leave it too small."""
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    row_tag, data_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}sheetData"
    value_tags = (f"{{{SHEET_MAIN_NS}}}v", f"{{{SHEET_MAIN_NS}}}is")
    workbook = reader.wb
    last = _last_row_with_value(reader.archive, sheet.path)
    with reader.archive.open(sheet.path) as source:
        parser = WorkSheetParser(source, reader.shared_strings, data_only=True, epoch=workbook.epoch,
                                 date_formats=workbook._date_formats,  # noqa: SLF001 - as openpyxl's reader
                                 timedelta_formats=workbook._timedelta_formats)  # noqa: SLF001
        sheet_data = None
        number = 0
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == data_tag:
                    sheet_data = element
                continue
            if element.tag != row_tag:
                continue
            attribute = element.get("r")
            number = int(float(attribute)) if attribute else number + 1  # as openpyxl numbers rows
            if last is not None and number > last:
                break
            if any(cell.find(tag) is not None for cell in element for tag in value_tags):
                parser.row_counter, parser.col_counter = number, 0
                cells = [parser.parse_cell(cell) for cell in element]
                values: list[Any] = [None] * max((cell["column"] for cell in cells), default=0)
                for cell in cells:
                    values[cell["column"] - 1] = _xlsx_value(cell["value"])
                yield number, values
            element.clear()
            if sheet_data is not None:
                sheet_data.remove(element)  # else the emptied element stays, one per row


def _last_row_with_value(archive, path: str) -> int | None:
    """The number of the last row of the sheet's XML that holds a <v> or <is> (0: none), found by scanning the
    decompressed XML a chunk at a time; None when that cannot be told (then every row is read). Rows are numbered as
    openpyxl numbers them: by r="…", else one more than the row before."""
    try:
        number, last, carry, prefixed = 0, 0, b"", None
        with archive.open(path) as source:
            while True:
                chunk = source.read(CHUNK)
                if prefixed is None:
                    prefixed = PREFIXED_ROOT.search(chunk) is not None
                text = carry + chunk
                cut = len(text) if not chunk else text.rfind(b">") + 1  # whole tags only; the rest waits
                text, carry = text[:cut], text[cut:]
                value_end = _last_value_end(text, prefixed)
                if value_end >= 0:
                    last = number = _rows_through(text[:value_end], number, prefixed)
                    text = text[value_end:]
                number = _rows_through(text, number, prefixed)
                if not chunk:
                    return last
                if len(carry) > CHUNK:
                    return None  # no tag ends in a whole chunk: not a sheet this scan understands
    except (OSError, ValueError, zlib.error):
        return None


def _last_value_end(text: bytes, prefixed: bool) -> int:
    """Where the start of the last value in `text` ends, or -1."""
    if prefixed:
        found = LAST_VALUE.match(text)
        return found.end() if found else -1
    start = max(text.rfind(form) for form in VALUE_STARTS)
    return start + 2 if start >= 0 else -1


def _row_starts(text: bytes, prefixed: bool) -> int:
    if prefixed:
        return sum(1 for _ in ROW_START.finditer(text))
    return sum(text.count(form) for form in ROW_STARTS)


def _rows_through(text: bytes, number: int, prefixed: bool) -> int:
    """The number of the last row started in `text`, given that of the row before it: the last numbered row's r
    plus the unnumbered rows after it."""
    if b' r="' not in text:  # nothing numbered here (rows written as <row/>): count them
        return number + _row_starts(text, prefixed)
    if not prefixed:
        end = len(text)
        for _ in range(4):  # the last row tags, from the end, until one has its number
            start = max(text.rfind(form, 0, end) for form in ROW_STARTS)
            if start < 0:
                return number + _row_starts(text, prefixed)
            tag_end = text.find(b">", start)
            named = ROW_NUMBER.search(text, start, tag_end)
            if named is not None:
                return int(named.group(1)) + _row_starts(text[tag_end:], prefixed)
            end = start
    named = LAST_ROW_NUMBER.match(text)
    if named is not None:
        number, text = int(named.group(1)), text[named.end():]
    return number + _row_starts(text, prefixed)


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
