"""The free-text skills page (/skill-texts): texts the matcher cannot read for sure, most affected first, and the
readings administrators confirm (a caseworker suggests for the texts of their own files)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.reference import skill_mappings
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in, lang_code, run_form, text
from matcher.web.labels import skill_choices, skill_label

NOTHING = "-"  # the select's value for "names nothing in the taxonomy"


def _how_label(how: str) -> str:
    return {"similar": _("read by similarity"), "contained": _("read by a name it contains"),
            "ambiguous": _("near two skills"), "unknown": _("not understood"), "exact": _("read exactly"),
            "nothing": _("names no skill")}.get(how, how)


def _page(*, errors=None, summary=None, status: int = 200):
    session, who = db.session, actor()
    show = request.values.get("show", "pending")
    show = show if show in skill_mappings.QUEUE_SHOWS else "pending"
    q = text(request.values, "q")[:60]
    items = skill_mappings.queue(session=session, actor=who, show=show, q=q or None)
    limit = int_in(request.args.get("limit"), high=1000) or 50
    skills = {s.code: skill_label(s) for s in skill_mappings.skill_choices(session)}
    return render_template("web/admin/skill_texts.html", items=items[:limit], more=max(0, len(items) - limit),
                           show=show, shows=skill_mappings.QUEUE_SHOWS, q=q, skills=skills,
                           groups=skill_choices(), counts=skill_mappings.queue_counts(session=session, actor=who),
                           decides=who.role == Role.ADMINISTRATOR, how_label=_how_label, nothing=NOTHING,
                           errors=errors or {}, summary=summary, lang=lang_code()), status


@bp.route("/skill-texts")
@page(Role.ADMINISTRATOR, Role.CASEWORKER)
def skill_texts():
    return _page()


def _back():
    return redirect(url_for("web.skill_texts", show=request.form.get("show") or None,
                            q=request.form.get("q") or None), 303)


def _reading() -> dict:
    code = text(request.form, "skill_code")
    return {"text": text(request.form, "text"), "skill_code": None if code in ("", NOTHING) else code,
            "chosen": code}


@bp.route("/skill-texts/confirm", methods=["POST"])
@page(Role.ADMINISTRATOR)
def skill_text_confirm():
    data = _reading()
    if not data["chosen"]:
        return _page(errors={"skill_code": [_("Choose the skill the text means, or that it names none.")]},
                     summary=_("Some fields are not valid."), status=422)
    outcome = run_form(lambda: skill_mappings.confirm_mapping(session=db.session, actor=actor(), text=data["text"],
                                                              skill_code=data["skill_code"]))
    if not outcome.ok:
        return _page(errors=outcome.errors, summary=outcome.summary, status=outcome.status)
    flash(_("Confirmed: “%(text)s” is read so from now on, in every recommendation and plan.", text=data["text"]),
          "info")
    return _back()


@bp.route("/skill-texts/suggest", methods=["POST"])
@page(Role.ADMINISTRATOR, Role.CASEWORKER)
def skill_text_suggest():
    data = _reading()
    outcome = run_form(lambda: skill_mappings.suggest_mapping(session=db.session, actor=actor(), text=data["text"],
                                                              skill_code=data["skill_code"]))
    if not outcome.ok:
        return _page(errors=outcome.errors, summary=outcome.summary, status=outcome.status)
    flash(_("Suggested: an administrator will confirm how “%(text)s” is read.", text=data["text"]), "info")
    return _back()


@bp.route("/skill-texts/<id:mapping_id>/withdraw", methods=["POST"])
@page(Role.ADMINISTRATOR)
def skill_text_withdraw(mapping_id: int):
    outcome = run_form(lambda: skill_mappings.withdraw_mapping(session=db.session, actor=actor(),
                                                               mapping_id=mapping_id))
    if not outcome.ok:
        return _page(errors=outcome.errors, summary=outcome.summary, status=outcome.status)
    flash(_("Withdrawn: the text is read by similarity again."), "info")
    return _back()
