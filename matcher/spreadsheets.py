"""Writing cells the one safe way, for every CSV file and workbook Xintu writes: text stays text (never a formula,
whatever it starts with, in the file or after a spreadsheet program saves it again), numbers stay numbers, dates
and times get a date format, rates a percentage format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

# Cells starting with these are formulas to spreadsheet programs (CSV injection); Excel on Chinese systems also
# takes the full-width forms.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
FORMULA_GUARD = "'"


def neutralise_formula(text: str) -> str:
    """Text that a spreadsheet program would run as a formula, with a leading ' so that it shows as written. Every
    text cell of every export goes through here, lists included (`=HYPERLINK(...):2;叉车:1` starts a formula)."""
    return FORMULA_GUARD + text if text.startswith(FORMULA_STARTS) else text


def strip_formula_guard(text: str) -> str:
    """The text as it was before `neutralise_formula`: an imported file we wrote reads back as the original."""
    return text[1:] if text.startswith(FORMULA_GUARD) and text[1:].startswith(FORMULA_STARTS) else text


def append_row(sheet, values: Sequence[Any], *, bold: bool = False, percent_columns: Collection[int] = (),
               wrap_over: int | None = None) -> None:
    """Append one row. `percent_columns` are 0-based indexes whose float values are rates; text longer than
    `wrap_over` characters wraps."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    cells = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            # Control characters (a pasted name, a fuzzer) are not allowed in a workbook: openpyxl raises.
            value = neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
        cell = WriteOnlyCell(sheet, value=value)  # a Cell that both kinds of worksheet take
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would make text starting with = a formula
            if wrap_over is not None and len(value) > wrap_over:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        elif isinstance(value, dt.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, float) and index in percent_columns:
            cell.number_format = "0.0%"
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def set_widths(sheet, widths: Sequence[int]) -> None:
    """Column widths in characters, from the first column on."""
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
