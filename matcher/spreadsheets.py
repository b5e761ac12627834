"""Writing rows into openpyxl worksheets the one safe way: text stays text (never a formula, whatever it starts
with), dates and times get a date format, rates a percentage format. Used by every workbook Xintu writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any


def append_row(sheet, values: Sequence[Any], *, bold: bool = False, percent_columns: Collection[int] = (),
               wrap_over: int | None = None) -> None:
    """Append one row. `percent_columns` are 0-based indexes whose float values are rates; text longer than
    `wrap_over` characters wraps."""
    from openpyxl.cell import Cell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    cells = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            # Control characters (a pasted name, a fuzzer) are not allowed in a workbook: openpyxl raises.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = Cell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
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
