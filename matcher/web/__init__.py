"""The web application: server-rendered pages over the same services as the API (zh-CN first)."""

from __future__ import annotations

from flask import Flask

from matcher.web.base import bp, csrf


def register_web(app: Flask, api_blueprints) -> None:
    csrf.init_app(app)
    for blueprint in api_blueprints:  # bearer-token API: no cookies, so no CSRF token
        csrf.exempt(blueprint)
    # Importing the page modules registers their routes on bp.
    from matcher.web import (  # noqa: F401
        accounts,
        agenda,
        audit,
        bases,
        candidates,
        exports,
        fairday,
        fairs,
        followup,
        handover,
        homes,
        interviews,
        jobs,
        listing,
        maps,
        matching,
        models,
        notify,
        places,
        records,
        referrals,
        reports,
        skill_texts,
        slots,
        views,
    )

    app.register_blueprint(bp)

    from matcher.web.filters import register_filters

    register_filters(app)
