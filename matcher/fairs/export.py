"""The interview plan of a job fair as an Excel workbook, to print and hand out: the summary, the schedule, one
block of rows per booth (a page each when printed) and the candidates left unplaced. Used by the API, the pages
and the CLI; the service decides who may have it (the fair's organisers and administrators).

Pseudonymous by default: candidates are listed by their file number (public id), never by name. The identified
plan (names beside the numbers) is an export like any other holding personal data: it is requested, approved by
an administrator and downloaded once (matcher.exports.service, kind `fair_plan`)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from sqlalchemy.orm import Session

from matcher import clock
from matcher.auth.models import Account
from matcher.fairs import service
from matcher.fairs.models import FairInterview, InterviewStatus
from matcher.fairs.service import reason_text
from matcher.spreadsheets import append_row, set_widths

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIVE = (InterviewStatus.PLANNED, InterviewStatus.HELD)

SHEETS = {
    "zh": {"summary": "汇总", "schedule": "面试安排", "by_booth": "按展位", "unplaced": "未安排"},
    "en": {"summary": "Summary", "schedule": "Schedule", "by_booth": "By booth", "unplaced": "Unplaced"},
}
LABELS = {
    "zh": {
        "fair": "招聘会", "held_on": "日期", "venue": "地点", "hours": "时间", "blocks": "时段数",
        "block_minutes": "每个时段（分钟）", "max_interviews": "每人最多面试", "booths": "展位数",
        "plan": "面试安排", "planned_at": "安排时间（北京时间）", "from_block": "从第几个时段起安排",
        "interviews": "面试场次", "placed": "已安排人数", "candidates": "确认参会人数", "unplaced": "未安排人数",
        "expected_stays": "预计稳定就业人数", "objective": "目标值", "bound": "上界", "gap": "差距",
        "solver_status": "求解状态", "model_version": "模型版本", "no_plan": "尚未安排面试",
        "time": "时间", "booth": "展位", "base": "安置基地", "slot": "岗位", "public_id": "编号", "name": "姓名",
        "office": "司法所", "status": "状态", "reason": "原因", "withdrawn": "自第 {n} 个时段起撤展",
        "no_interviews": "（无面试）",
        "optimal": "最优", "feasible": "可行",
    },
    "en": {
        "fair": "Job fair", "held_on": "Date", "venue": "Venue", "hours": "Hours", "blocks": "Blocks",
        "block_minutes": "Minutes per block", "max_interviews": "Interviews per candidate (max)", "booths": "Booths",
        "plan": "Interview plan", "planned_at": "Planned at (China time)", "from_block": "Planned from block",
        "interviews": "Interviews", "placed": "Candidates placed", "candidates": "Candidates confirmed",
        "unplaced": "Candidates unplaced", "expected_stays": "Expected stays", "objective": "Objective",
        "bound": "Bound", "gap": "Gap", "solver_status": "Solver status", "model_version": "Model version",
        "no_plan": "No plan yet",
        "time": "Time", "booth": "Booth", "base": "Base", "slot": "Slot", "public_id": "Candidate no.",
        "name": "Name", "office": "Judicial office", "status": "Status", "reason": "Reason",
        "withdrawn": "withdrawn from block {n}", "no_interviews": "(no interviews)",
        "optimal": "optimal", "feasible": "feasible",
    },
}
STATUS = {
    "zh": {"planned": "待面试", "held": "已面试", "no_show": "未到场", "cancelled": "已取消"},
    "en": {"planned": "planned", "held": "held", "no_show": "no-show", "cancelled": "cancelled"},
}


def plan_workbook(*, session: Session, actor: Account, fair_id: int, lang: str = "zh",
                  identified: bool = False) -> bytes:
    """The fair's latest plan as an .xlsx file (Chinese sheet names and headers unless `lang` is "en");
    with names only when `identified` (an approved export request)."""
    from openpyxl import Workbook

    lang = "en" if lang == "en" else "zh"
    labels, sheets = LABELS[lang], SHEETS[lang]
    overview = service.fair_overview(session=session, actor=actor, fair_id=fair_id)  # organisers and admins only
    fair = service.get_fair(session=session, actor=actor, fair_id=fair_id)
    run, summary = overview["run"], overview["summary"] or {}
    interviews = sorted((iv for iv in service.schedule(session=session, actor=actor, fair_id=fair.id)
                         if iv.status in LIVE), key=lambda iv: (iv.block, iv.booth.label, iv.id))
    unplaced = service.unplaced(session, run)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheets["summary"]
    rows: list[Sequence] = [
        (labels["fair"], fair.name),
        (labels["held_on"], fair.held_on),
        (labels["venue"], fair.venue),
        (labels["hours"], f"{fair.starts_at:%H:%M}–{fair.ends_at:%H:%M}"),
        (labels["blocks"], fair.n_blocks),
        (labels["block_minutes"], fair.block_minutes),
        (labels["max_interviews"], fair.max_interviews),
        (labels["booths"], len(fair.booths)),
        (),
    ]
    if run is None:
        rows.append((labels["plan"], labels["no_plan"]))
    else:
        rows += [
            (labels["plan"], f"#{run.id}"),
            (labels["planned_at"], clock.in_china(run.created_at).replace(tzinfo=None)),  # Excel keeps no offset
            (labels["from_block"], run.from_block),
            (labels["interviews"], len(interviews)),
            (labels["placed"], len({iv.invitation_id for iv in interviews})),
            (labels["candidates"], summary.get("candidates")),
            (labels["unplaced"], len(unplaced)),
            (labels["expected_stays"], round(sum(iv.score for iv in interviews))),  # people: a whole number
            (labels["objective"], round(run.objective, 4)),
            (labels["bound"], round(run.bound, 4)),
            (labels["gap"], run.gap),
            (labels["solver_status"], labels.get(run.solver_status, run.solver_status)),
            (labels["model_version"], run.model_version),
        ]
    for row in rows:
        append_row(sheet, row)
    for cell in sheet["A"]:
        if cell.value == labels["gap"]:
            sheet.cell(cell.row, 2).number_format = "0.00%"
    set_widths(sheet, [28, 48])

    sheet = workbook.create_sheet(sheets["schedule"])
    who = ("public_id", "name", "office") if identified else ("public_id", "office")
    header = [labels[k] for k in ("time", "booth", "base", "slot", *who, "status")]
    append_row(sheet, header, bold=True)
    for iv in interviews:
        append_row(sheet, [fair.block_label(iv.block), iv.booth.label, iv.booth.company.name, iv.slot.title,
                        *_who(iv.invitation.candidate, identified), STATUS[lang][iv.status.value]])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    set_widths(sheet, [14, 8, 28, 20, 14, *([10] if identified else []), 20, 10])

    _by_booth(workbook.create_sheet(sheets["by_booth"]), fair, interviews, labels, lang, identified)

    sheet = workbook.create_sheet(sheets["unplaced"])
    append_row(sheet, [labels[k] for k in (*who, "reason")], bold=True)
    for invitation, code in unplaced:
        append_row(sheet, [*_who(invitation.candidate, identified), reason_text(code, lang)])
    sheet.freeze_panes = "A2"
    set_widths(sheet, [14, *([10] if identified else []), 20, 70])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _who(candidate, identified: bool) -> list[str]:
    office = candidate.office.name if candidate.office else ""
    return [candidate.public_id, candidate.name, office] if identified else [candidate.public_id, office]


def _by_booth(sheet, fair, interviews: list[FairInterview], labels: dict, lang: str, identified: bool) -> None:
    """One block of rows per booth, each starting on a new printed page."""
    from openpyxl.worksheet.pagebreak import Break

    row_of_booth: dict[int, list[FairInterview]] = {}
    for iv in interviews:
        row_of_booth.setdefault(iv.booth_id, []).append(iv)
    first = True
    for booth in sorted(fair.booths, key=lambda b: b.label):
        if not first:
            sheet.row_breaks.append(Break(id=sheet.max_row))
            append_row(sheet, [])
        first = False
        title = f"{booth.label}  {booth.company.name}"
        if booth.withdrawn_from_block is not None:
            title += f"  ({labels['withdrawn'].format(n=booth.withdrawn_from_block + 1)})"
        append_row(sheet, [title], bold=True)
        who = ("public_id", "name", "office") if identified else ("public_id", "office")
        append_row(sheet, [labels[k] for k in ("time", "slot", *who, "status")], bold=True)
        rows = row_of_booth.get(booth.id, [])
        for iv in rows:
            append_row(sheet, [fair.block_label(iv.block), iv.slot.title, *_who(iv.invitation.candidate, identified),
                               STATUS[lang][iv.status.value]])
        if not rows:
            append_row(sheet, [labels["no_interviews"]])
    set_widths(sheet, [14, 20, 14, *([10] if identified else []), 20, 10])
