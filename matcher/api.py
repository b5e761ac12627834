"""Registers every API blueprint on the one flask-smorest Api (/api/v1, /api/openapi.json, /api/docs)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from matcher.apiutil import EveryOperationPlugin, IdConverter, id_param_schema


def register_api(app: Flask) -> tuple:
    from matcher.audit.api import blp as audit_blp
    from matcher.auth.api import blp as auth_blp
    from matcher.bases.api import blp as bases_blp
    from matcher.bases.records_api import blp as base_records_blp
    from matcher.candidates.api import blp as candidates_blp
    from matcher.exports.api import blp as exports_blp
    from matcher.fairs.api import blp as fairs_blp
    from matcher.followup.api import blp as followup_blp
    from matcher.interviews.api import blp as interviews_blp
    from matcher.jobs.api import blp as jobs_blp
    from matcher.matching.api import blp as matching_blp
    from matcher.notify.api import blp as notify_blp
    from matcher.places.api import blp as reference_blp
    from matcher.reference.api import blp as skill_texts_blp
    from matcher.referrals.api import blp as referrals_blp
    from matcher.reports.api import blp as reports_blp
    from matcher.retention.api import blp as retention_blp
    from matcher.slots.api import blp as slots_blp
    from matcher.transfer.api import blp as transfer_blp

    # One Api per app: flask-smorest keeps the OpenAPI spec on the instance, and tests build many apps.
    app.url_map.converters["id"] = IdConverter
    api = Api(app, spec_kwargs={"extra_plugins": [EveryOperationPlugin()]})
    api.register_converter(IdConverter, id_param_schema)
    blueprints = (auth_blp, reference_blp, bases_blp, slots_blp, candidates_blp, referrals_blp, transfer_blp,
                  matching_blp, interviews_blp, fairs_blp, base_records_blp, followup_blp, notify_blp,
                  reports_blp, audit_blp, jobs_blp, exports_blp, retention_blp, skill_texts_blp)
    for blp in blueprints:
        api.register_blueprint(blp)
    return blueprints
