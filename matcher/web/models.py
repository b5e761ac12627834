"""The scoring-model pages (administrators): the models with their cards, activating one, evaluating the active one
on recorded outcomes, and retraining on demand."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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

# Every name the model card holds, in words (the card keeps the code; the page shows the label and the code).
FEATURE_LABELS = {
    "skill_match": _l("Required skills held"), "text_match": _l("Own skills text matches the slot"),
    "certified_skill": _l("Certificate for a required skill"), "course_rank": _l("Wished course"),
    "distance_km": _l("Distance from home (km)"), "over_travel_km": _l("Distance beyond the travel limit (km)"),
    "housing_gap": _l("Needs housing the slot lacks"), "pay": _l("Pay against the usual pay"),
    "education": _l("Education"), "certificate_subsidy": _l("Awards a certificate (training subsidy)"),
    "base_stay_rate": _l("Base's past stay rate"), "is_training": _l("Training slot (not a job)"),
}
METRIC_LABELS = {
    "n_history": _l("Recorded outcomes learned from"), "n_train": _l("Outcomes trained on (earlier referrals)"),
    "n_test": _l("Outcomes held out for testing (latest referrals)"), "split_on": _l("Held-out referrals from"),
    "base_rate": _l("Share that stayed (all outcomes)"), "roc_auc": _l("ROC AUC: ranks stayers above leavers"),
    "brier": _l("Brier score: error of the predicted chance (lower is better)"),
    "prior_roc_auc": _l("ROC AUC of the rule-based prior"), "prior_brier": _l("Brier score of the rule-based prior"),
}
GROUP_LABELS = {"sex": _l("Sex"), "age_band": _l("Age"), "risk_grade": _l("Risk grade")}
AGE_BANDS = {"<30": _l("Under 30"), "30-44": _l("30 to 44"), "45+": _l("45 and over")}
KIND_LABELS = {"learned": _l("Learned model"), "prior": _l("Rule-based prior")}
# The forms train_scorer compares on held-out referrals (the card's `variant` and `metrics.candidates`).
VARIANT_LABELS = {"prior": _l("Rule-based prior"), "additive": _l("Additive: one step function per feature"),
                  "interaction": _l("With interactions: a table for each named pair of features")}


@bp.app_template_global("model_names")
def model_names() -> dict:
    """The scoring-model page's labels: features, metrics, fairness groups and their values, model kinds and forms."""
    return {"features": FEATURE_LABELS, "metrics": METRIC_LABELS, "groups": GROUP_LABELS, "ages": AGE_BANDS,
            "kinds": KIND_LABELS, "variants": VARIANT_LABELS}


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


@bp.app_template_filter("isodate")
def isodate(value):
    """An ISO day stored on a model card ("2026-07-03") as a date, for the `date` filter; anything else as it is."""
    import datetime as dt

    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value
