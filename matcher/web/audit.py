"""The administrators' page of the audit log (/admin/audit): search it and verify its hash chain.

Each event is described in words (修改 基地 #46, 读取 帮教对象 #12), searched by the action as it is shown (a
select of the labelled actions) and sorted by column. Verifying the chain is a POST that redirects back to the
log with its filters (post/redirect/get), so the filter form and the column links always lead to the log itself.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matcher.audit import service as audit
from matcher.auth.models import Role
from matcher.extensions import db
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, lang_code, parse_date, text

PAGE_SIZE = 50
FILTERS = ("actor", "object_type", "object_id", "action", "date_from", "date_to", "q", "sort")
VERIFIED = "audit_verification"  # the session key that carries a verification's outcome across the redirect

# What was done, as the log's reader says it (the stored action codes are the API's).
ACTION_LABELS = {
    "read": _l("Viewed"), "create": _l("Added"), "update": _l("Changed"), "delete": _l("Deleted"),
    "export": _l("Exported"), "request": _l("Requested"), "approve": _l("Granted"), "refuse": _l("Turned down"),
    "refused": _l("Access refused"), "archive": _l("Archived"), "assess_risk": _l("Risk assessed"),
    "consent": _l("Consent recorded"), "move": _l("Status changed"), "visit": _l("Visit recorded"),
    "login": _l("Logged in"), "login_failed": _l("Log-in failed"), "login_locked": _l("Log-in locked"),
    "lock": _l("Locked"), "unlock": _l("Unlocked"), "issue_token": _l("API token issued"),
    "revoke_token": _l("API token revoked"), "id_lookup": _l("ID number looked up"),
    "issue_calendar_feed": _l("Calendar link made"), "revoke_calendar_feed": _l("Calendar link turned off"),
    "suggest": _l("Reading suggested"), "confirm": _l("Reading confirmed"), "withdraw": _l("Reading withdrawn"),
}
# The kind of record, by the name services give it or the table a change was recorded on.
RECORD_LABELS = {
    "account": _l("Account"), "accounts": _l("Account"), "api_token": _l("API token"), "api_tokens": _l("API token"),
    "candidate": _l("Candidate file"), "candidates": _l("Candidate file"),
    "company": _l("Base"), "companies": _l("Base"), "slot": _l("Slot"), "slots": _l("Slot"),
    "referral": _l("Referral"), "referrals": _l("Referral"), "export": _l("Export file"),
    "export_request": _l("Export request"), "export_requests": _l("Export request"),
    "fair": _l("Job fair"), "fairs": _l("Job fair"), "fair_invitation": _l("Fair invitation"),
    "fair_invitations": _l("Fair invitation"), "fair_booths": _l("Fair booth"), "fair_booth_slots": _l("Fair booth"),
    "fair_interviews": _l("Fair interview"), "fair_plan_runs": _l("Fair plan"),
    "follow_up_task": _l("Follow-up check"), "follow_up_tasks": _l("Follow-up check"), "job": _l("Background job"),
    "notification": _l("Notification"), "assignment_draft": _l("Assignment plan"),
    "assignment_drafts": _l("Assignment plan"), "assignment_draft_items": _l("Assignment plan"),
    "agreements": _l("Agreement"), "base_complaints": _l("Complaint about a base"),
    "certification_events": _l("Certification decision"), "judicial_offices": _l("Judicial office"),
    "occupational_bans": _l("Occupational ban"), "reoffences": _l("Reoffence"), "visits": _l("Visit"),
    "scoring_models": _l("Scoring model"), "places": _l("Place"), "courses": _l("Course"), "skills": _l("Skill"),
    "occupations": _l("Occupation"), "slot_skills": _l("Slot"), "login_locks": _l("Log-in lock"),
    "referral_interview": _l("Interview at a base"), "referral_interviews": _l("Interview at a base"),
    "calendar_feed": _l("Calendar link"), "calendar_feeds": _l("Calendar link"),
    "skill_text_mapping": _l("Free-text skill reading"), "skill_text_mappings": _l("Free-text skill reading"),
}


# The names of the fields read or changed (the log keeps names only, never values).
FIELD_LABELS = {
    "offence_category": _l("Offence"), "risk_grade": _l("Risk colour"), "id_number": _l("ID number"),
    "id_number_masked": _l("ID number (masked)"), "hukou": _l("Household registration"),
    "residence_address": _l("Address"), "residence": _l("Residence"), "name": _l("Full name"), "phone": _l("Phone"),
    "status": _l("Status"), "username": _l("Username"), "password": _l("Password"), "role": _l("Role"),
    "occupational_bans": _l("Occupational bans"), "candidate_id": _l("Candidate file"), "slot_id": _l("Slot"),
    "ethnicity": _l("Ethnicity"), "referral_id": _l("Referral"), "starts_at": _l("Interview time"),
    "external_id": _l("Bureau's own reference"),
    "skill_code": _l("Skill"), "suggested_code": _l("Suggested skill"),
}


def field_label(name: str) -> str:
    """A field by its name on the pages; the Chinese header of the spreadsheet columns otherwise."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    if lang_code() == "zh":
        from matcher.transfer.columns import KIND_COLUMNS

        for columns in KIND_COLUMNS.values():
            for column in columns:
                if column.name == name:
                    return column.zh
    return name.replace("_", " ")


def fields_text(fields: str | None) -> str:
    if not fields:
        return "—"
    separator = "、" if lang_code() == "zh" else ", "
    return separator.join(field_label(name) if name != "…" else name for name in fields.split(","))


def action_label(code: str | None) -> str:
    return str(ACTION_LABELS[code]) if code in ACTION_LABELS else (code or "—")


def record_label(code: str | None) -> str:
    return str(RECORD_LABELS[code]) if code in RECORD_LABELS else (code or "—")


def describe(event) -> str:
    """修改 基地 #46 / Edit Base #46: the event in words."""
    what = _("%(action)s %(record)s", action=action_label(event.action), record=record_label(event.object_type))
    return f"{what} #{event.object_id}" if event.object_id is not None else what


def _choices(codes: list[str], label) -> list[tuple[str, str]]:
    """A select's options: each stored code once, by its label (codes of one label share an option's label)."""
    return sorted(((code, label(code)) for code in codes), key=lambda item: item[1])


def _filters(args) -> tuple[dict, dict]:
    """The search form as the service's filters; a username that names nobody matches nothing."""
    raw = {name: text(args, name) for name in FILTERS}
    filters = {"object_type": raw["object_type"] or None, "action": raw["action"] or None,
               "object_id": int_in(raw["object_id"]), "date_from": parse_date(raw["date_from"]),
               "date_to": parse_date(raw["date_to"]), "actor_username": raw["actor"] or None,
               "q": raw["q"] or None, "sort": raw["sort"] or None}
    words = raw["q"].lower()
    if words:  # the search box also finds an action or a kind of record by the name the page shows
        filters["q_actions"] = [code for code in ACTION_LABELS if words in action_label(code).lower()]
        filters["q_object_types"] = [code for code in RECORD_LABELS if words in record_label(code).lower()]
    return raw, filters


@bp.route("/admin/audit")
@page(Role.ADMINISTRATOR)
def admin_audit():
    raw, filters = _filters(request.args)
    stmt = audit.search_events(session=db.session, actor=actor(), filters=filters)
    paged = db.paginate(stmt, page=int_in(request.args.get("page")) or 1, per_page=PAGE_SIZE, error_out=False)
    return render_template("web/audit/index.html", events=paged.items, filters=raw, total=paged.total,
                           page=paged.page, pages=paged.pages or 1, usernames=audit.usernames(db.session),
                           verification=session.pop(VERIFIED, None), query={k: v for k, v in raw.items() if v},
                           actions=_choices(audit.actions(db.session), action_label),
                           object_types=_choices(audit.object_types(db.session), record_label),
                           describe=describe, action_label=action_label,
                           fields_text=fields_text)


@bp.route("/admin/audit/verify", methods=["POST"])
@page(Role.ADMINISTRATOR)
def admin_audit_verify():
    """Verify, then show the log again (with the filters it was verified from) and the outcome above it."""
    result = audit.verify_log_for(session=db.session, actor=actor())
    chain, anchors = result.chain, result.anchors
    session[VERIFIED] = {
        "chain_ok": chain.ok, "checked": chain.checked, "first_bad_id": chain.first_bad_id,
        "anchors_ok": anchors.ok, "anchors_checked": anchors.checked, "failing_line": anchors.failing_line,
        "anchor_problem": str(anchors.message) if anchors.message is not None else None,
        "latest_anchor_event": anchors.latest.event_id if anchors.latest else None}
    raw = _filters(request.args)[0]
    return redirect(url_for("web.admin_audit", **{k: v for k, v in raw.items() if v}), 303)
