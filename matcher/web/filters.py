"""Template helpers: locale-aware dates and numbers, labels of enum values, the current language."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

from matcher.web.forms import china_time
from matcher.web.labels import label


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else "—"
    app.jinja_env.filters["datetime"] = lambda value: format_datetime(value, "short") if value else "—"
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) if value is not None else "—"
    app.jinja_env.filters["percent"] = lambda value: format_percent(value) if value is not None else "—"
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["china_time"] = china_time  # `{{ moment|china_time }}`, `{{ moment|china_time('%H:%M') }}`

    @app.context_processor
    def _language():
        locale = get_locale()
        language = "zh" if locale is None or locale.language == "zh" else "en"
        return {"lang": language, "html_lang": "zh-CN" if language == "zh" else "en",
                "current_path": request.full_path.rstrip("?")}
