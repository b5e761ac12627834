"""The bureau's report as an Excel workbook: the summary with each figure's definition, then the same figures by
district, by judicial office and by month, each with the area's total as its last row. Chinese sheet names and
headers unless English is asked for; labels and definitions come from the one catalogue the pages use."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from matcher import clock
from matcher.auth.models import Account
from matcher.reports.definitions import FIGURES, MONTHLY, RATE, RULES
from matcher.reports.service import report
from matcher.spreadsheets import append_row, set_widths

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCALES = {"zh": "zh_CN", "en": "en"}
N_ = str  # msgids, translated when the workbook is written

TEXT = {
    "title": N_("Resettlement assistance report"), "summary": N_("Summary"), "by_district": N_("By district"),
    "by_office": N_("By office"), "by_month": N_("By month"), "area": N_("Area"), "period": N_("Period"),
    "counted_to": N_("Counted up to"), "made_at": N_("Made at (China time)"), "figure": N_("Figure"),
    "value": N_("Reported value"), "definition": N_("Definition"), "notes": N_("Notes"), "district": N_("District"),
    "code": N_("Code"), "office": N_("Judicial office"), "month": N_("Month"), "total": N_("Total"),
}


def report_workbook(*, session: Session, actor: Account, date_from: dt.date, date_to: dt.date,
                    district: str | None = None, office_id: int | None = None, lang: str = "zh") -> bytes:
    """The report (administrators only, as the service decides) as the bytes of an .xlsx file."""
    result = report(session=session, actor=actor, date_from=date_from, date_to=date_to, district=district,
                    office_id=office_id, by="both", months=True)
    with force_locale(LOCALES.get(lang, "zh_CN")):
        return _workbook(result)


def workbook_name(area_code: str, date_from: dt.date, date_to: dt.date) -> str:
    return f"report-{area_code}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.xlsx"


def _workbook(result: dict) -> bytes:
    from openpyxl import Workbook

    t = {key: gettext(msgid) for key, msgid in TEXT.items()}
    labels = {f.key: gettext(f.label) for f in FIGURES}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = t["summary"][:31]
    _row(sheet, [t["title"]], bold=True)
    _row(sheet, [t["area"], result["area"]["name"]])
    _row(sheet, [t["period"], f"{result['date_from']:%Y-%m-%d} – {result['date_to']:%Y-%m-%d}"])
    _row(sheet, [t["counted_to"], result["on"]])
    made_at = clock.in_china(clock.now()).replace(microsecond=0, tzinfo=None)  # Excel keeps no offset
    _row(sheet, [t["made_at"], made_at])
    _row(sheet, [])
    _row(sheet, [t["figure"], t["value"], t["definition"]], bold=True)
    for figure in FIGURES:
        _row(sheet, [labels[figure.key], result["figures"][figure.key], gettext(figure.definition)],
             percent_columns={1} if figure.when == RATE else ())
    _row(sheet, [])
    _row(sheet, [t["notes"]], bold=True)
    for rule in RULES:
        _row(sheet, ["", "", gettext(rule)])
    set_widths(sheet, [26, 14, 110])

    keys = [f.key for f in FIGURES]
    sheet = workbook.create_sheet(t["by_district"][:31])
    _table(sheet, [t["district"], t["code"]], keys, labels,
           [([row["name"], row["code"]], row["figures"]) for row in result["by_district"]],
           [t["total"], result["area"]["code"]], result["figures"])
    sheet = workbook.create_sheet(t["by_office"][:31])
    _table(sheet, [t["office"], t["code"], t["district"]], keys, labels,
           [([row["name"], row["code"], row["district_name"]], row["figures"]) for row in result["by_office"]],
           [t["total"], result["area"]["code"], ""], result["figures"])
    sheet = workbook.create_sheet(t["by_month"][:31])
    _table(sheet, [t["month"]], list(MONTHLY), labels,
           [([row["month"]], row["figures"]) for row in result["by_month"]],
           [t["total"]], result["figures"])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _table(sheet, heads: list[str], keys: list[str], labels: dict, rows: list, total_heads: list,
           total: dict) -> None:
    rates = {f.key for f in FIGURES if f.when == RATE}
    percent = {len(heads) + i for i, k in enumerate(keys) if k in rates}
    _row(sheet, [*heads, *(labels[k] for k in keys)], bold=True)
    for head, figures in rows:
        _row(sheet, [*head, *(figures[k] for k in keys)], percent_columns=percent)
    _row(sheet, [*total_heads, *(total[k] for k in keys)], bold=True, percent_columns=percent)
    sheet.freeze_panes = sheet.cell(2, len(heads) + 1).coordinate
    set_widths(sheet, [16] * len(heads) + [12] * len(keys))


def _row(sheet, values: Sequence, **options) -> None:
    append_row(sheet, values, wrap_over=60, **options)  # definitions are long: they wrap
