"""The scoring-model pages (administrators): the models with their cards, activating one, evaluating the active one
on recorded outcomes, and retraining on demand."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.matching.schemas import EvaluationQuerySchema
from matcher.matching.service import (
    activate_model,
    active_model,
    evaluate,
    list_models,
    new_outcomes_since,
    outcomes_learned_from,
    retrain,
)
from matcher.web.base import actor, bp, page
from matcher.web.forms import run_form, text

ADMIN = Role.ADMINISTRATOR


@bp.app_template_global("outcomes_recorded_since")
def outcomes_recorded_since() -> int:
    """Outcomes recorded since the active model learned (the models page)."""
    return new_outcomes_since(db.session, active_model(db.session))


def _models_page(*, report=None, table=None, error=None, status: int = 200):
    records = list_models(session=db.session, actor=actor())
    models = [{"record": r, "card": json.loads(r.card_json)} for r in records]
    active = next((m for m in models if m["record"].active), None)
    return render_template("web/admin/models.html", models=models, active=active, report=report, table=table,
                           error=error), status


@bp.route("/admin/models")
@page(ADMIN)
def admin_models():
    return _models_page()


@bp.route("/admin/models/<version>/activate", methods=["POST"])
@page(ADMIN)
def admin_model_activate(version: str):
    outcome = run_form(lambda: activate_model(session=db.session, actor=actor(), version=version))
    if not outcome.ok:
        return _models_page(error=outcome.summary, status=outcome.status)
    flash(_("Model %(version)s now scores every recommendation.", version=version), "info")
    return redirect(url_for("web.admin_models"), 303)


@bp.route("/admin/models/evaluate", methods=["POST"])
@page(ADMIN)
def admin_models_evaluate():
    from matcher.engine.evaluation import format_table

    outcome = run_form(lambda query: evaluate(session=db.session, actor=actor(), **query),
                       {"horizon_days": text(request.form, "horizon_days") or "90"}, schema=EvaluationQuerySchema())
    if not outcome.ok:
        return _models_page(error=outcome.summary, status=outcome.status)
    return _models_page(report=outcome.value, table=format_table(outcome.value))


@bp.route("/admin/models/retrain", methods=["POST"])
@page(ADMIN)
def admin_models_retrain():
    asked = bool(text(request.form, "activate_if_better"))
    outcome = run_form(lambda: retrain(session=db.session, actor=actor(), min_new_outcomes=0,
                                       activate_if_better=asked))
    if not outcome.ok:
        flash(outcome.summary, "error")
        return redirect(url_for("web.admin_models"), 303)
    result = outcome.value
    if not result.trained:
        flash(_("No outcome was recorded since the active model learned; there is nothing new to learn from."),
              "info")
        return redirect(url_for("web.admin_models"), 303)
    learned = outcomes_learned_from(result.record)
    values = {"version": result.record.version, "count": "—" if learned is None else learned}
    if result.activated:
        flash(_("Model %(version)s learned from %(count)s outcomes and now scores every recommendation.",
                **values), "info")
    elif asked:
        flash(_("Model %(version)s learned from %(count)s outcomes; the active model stays, as it does better on "
                "held-out referrals.", **values), "info")
    else:
        flash(_("Model %(version)s learned from %(count)s outcomes; activate it below when you are ready.",
                **values), "info")
    return redirect(url_for("web.admin_models"), 303)
