"""What a referral page shows of its interviews (matcher.web.referrals includes it; matcher.web.interviews holds
the interview forms' routes)."""

from __future__ import annotations

from flask import current_app
from werkzeug.datastructures import MultiDict

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.interviews import service as interviews
from matcher.notify.sms import text_messenger
from matcher.web.base import actor


def interview_context(referral, *, form: MultiDict | None = None, errors: dict | None = None) -> dict:
    """What a referral page shows of its interviews: each with the steps open to the reader, whether the base may
    propose one now, the form (with what was typed and its errors), and whether text messages can be sent."""
    who = actor()
    rows = interviews.list_for_referral(session=db.session, actor=who, referral_id=referral.id)
    live = any(row.status in interviews.LIVE for row in rows)
    can_propose = (not live and referral.status in interviews.OPEN_FOR_INTERVIEW
                   and who.role in (Role.EMPLOYER, Role.ADMINISTRATOR) and "base" in interviews.side_of(who, referral))
    return {"interviews": [(row, interviews.allowed_actions(who, row)) for row in rows],
            "can_propose": can_propose, "interview_form": form or MultiDict(), "interview_errors": errors or {},
            "sms_configured": text_messenger(current_app.config) is not None,
            "phone_on_file": bool(getattr(referral.candidate, "phone", None)) if who.role != Role.EMPLOYER else None,
            "min_start": interviews.min_start_text()}
