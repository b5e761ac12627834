"""Interview pages: the base proposes a time on its referral page (phone), the office confirms, asks for another
time or cancels on its referral page (desktop), either records attendance, and the office prints the person's
appointment slip. Thin views over matcher.interviews.service; the referral pages include the interview section.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.interviews import service as interviews
from matcher.interviews.schemas import InterviewActionSchema, InterviewProposeSchema
from matcher.notify.sms import TEMPLATES, text_messenger, text_of
from matcher.referrals import service as referrals
from matcher.web.base import actor, bp, page
from matcher.web.forms import fields, run_form, text
from matcher.web.referrals import _referral_page

CW, EMPLOYER = Role.CASEWORKER, Role.EMPLOYER
PROPOSE_FIELDS = ("starts_at", "place", "contact_name", "contact_phone", "bring", "note")


def _china_input(value: str) -> str:
    """A datetime-local value (China's wall clock, no offset) as the instant the schema reads."""
    value = value.strip()
    if len(value) == 16 and "T" in value:  # 2026-12-08T09:30
        return value + ":00+08:00"
    if len(value) == 19 and "T" in value:
        return value + "+08:00"
    return value


# ---- the base proposes (phone) ----------------------------------------------------------------------

@bp.route("/employer/referrals/<id:referral_id>/interviews", methods=["POST"])
@page(EMPLOYER)
def employer_propose_interview(referral_id: int):
    data = fields(request.form, *PROPOSE_FIELDS)
    if data.get("starts_at"):
        data["starts_at"] = _china_input(data["starts_at"])
    outcome = run_form(lambda loaded: interviews.propose(session=db.session, actor=actor(), referral_id=referral_id,
                                                         **loaded), data, schema=InterviewProposeSchema())
    if not outcome.ok:
        referral = referrals.get_referral(session=db.session, actor=actor(), referral_id=referral_id)
        return _referral_page(referral, interview_form=request.form, interview_errors=outcome.errors_or_summary(),
                              status=outcome.status)
    flash(_("Interview proposed. The judicial office will confirm it."), "success")
    return redirect(url_for("web.employer_referral", referral_id=referral_id) + "#interviews", 303)


@bp.route("/employer/interviews/<id:interview_id>/act", methods=["POST"])
@page(EMPLOYER)
def employer_interview_act(interview_id: int):
    return _act(interview_id, "web.employer_referral")


# ---- the office answers (desktop) -------------------------------------------------------------------

@bp.route("/caseworker/interviews/<id:interview_id>/act", methods=["POST"])
@page(CW)
def caseworker_interview_act(interview_id: int):
    return _act(interview_id, "web.caseworker_referral")


def _act(interview_id: int, referral_page: str):
    interview = interviews.get_interview(session=db.session, actor=actor(), interview_id=interview_id)
    referral_id = interview.referral_id
    data = fields(request.form, "action", "note")
    outcome = run_form(lambda loaded: interviews.act(session=db.session, actor=actor(), interview_id=interview_id,
                                                     **loaded), data, schema=InterviewActionSchema())
    if not outcome.ok:
        flash(" ".join(message for messages in outcome.errors_or_summary().values() for message in messages)
              or (outcome.summary or ""), "error")
        return redirect(url_for(referral_page, referral_id=referral_id) + "#interviews", 303)
    action = text(request.form, "action")
    if action == interviews.Action.CONFIRM:
        messenger = text_messenger(current_app.config)
        interviews.text_after_confirming(interview_id, messenger)
        flash(_("Interview confirmed; the base is told. Print the appointment slip for the person. A text message "
                "goes to the phone in the file.") if messenger is not None else
              _("Interview confirmed; the base is told. No text-message service is configured, so no text message "
                "is sent: print the appointment slip for the person."), "success")
    else:
        flash(_("Interview updated: %(status)s.", status=_label(outcome.value.status)), "success")
    return redirect(url_for(referral_page, referral_id=referral_id) + "#interviews", 303)


def _label(status) -> str:
    from matcher.web.labels import label

    return label(status, "referral_interview_status")


# ---- the person's slip ----------------------------------------------------------------------------------

@bp.route("/caseworker/interviews/<id:interview_id>/slip")
@page(CW)
def caseworker_interview_slip(interview_id: int):
    """The appointment slip for the person, to print (A5 by default, A4 on request)."""
    interview = interviews.get_interview(session=db.session, actor=actor(), interview_id=interview_id)
    size = "a4" if request.args.get("size") == "a4" else "a5"
    slip = interviews.slip_view(interview)
    return render_template("web/caseworker/interview_slip.html", slip=slip, interview=interview, size=size,
                           sms_text=text_of("appointment", interviews.text_params(interview)),
                           template_text=TEMPLATES["appointment"])
