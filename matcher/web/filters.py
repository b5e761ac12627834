"""Template helpers: locale-aware dates, instants on China's clock, numbers, labels of enum values, the language.

Dates and times have one style per language: a date is Babel's medium date (zh: 2026年12月7日, en: Dec 7,
2026); an instant is that date and the 24-hour time in China, labelled (zh: 2026年12月7日 09:30（北京时间）,
en: Dec 7, 2026 09:30 (China time)). The label goes with every time, as a phone shows table cells one by one.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, request
from flask_babel import format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from matcher import clock
from matcher.web.labels import label


def date_text(value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
    """A calendar date; an instant gives its date in China."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = clock.china_date(value)
    return format_date(value, fmt)


def instant_text(moment: dt.datetime | None, style: str = "datetime") -> str:
    """An instant on China's clock: `datetime` (date and time to the minute), `seconds` (to the second, for the
    audit log) or `time` (the time only, for the events of a fair's day)."""
    if moment is None:
        return "—"
    local = clock.in_china(moment)
    time = local.strftime("%H:%M:%S" if style == "seconds" else "%H:%M")
    text = time if style == "time" else f"{format_date(local.date(), 'medium')} {time}"
    return _("%(moment)s (China time)", moment=text)


def instant(moment: dt.datetime | None, style: str = "datetime") -> Markup | str:
    """`{{ moment|instant }}`: the text in a <time> element that carries the exact UTC instant."""
    if moment is None:
        return "—"
    stamp = clock.rfc3339(moment, timespec="seconds")
    return Markup('<time datetime="{}">{}</time>').format(stamp, escape(instant_text(moment, style)))


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["date"] = date_text
    app.jinja_env.filters["instant"] = instant  # `{{ moment|instant }}`, `{{ moment|instant('time') }}`
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) if value is not None else "—"
    app.jinja_env.filters["percent"] = lambda value: format_percent(value) if value is not None else "—"
    app.jinja_env.filters["label"] = label

    @app.context_processor
    def _language():
        locale = get_locale()
        language = "zh" if locale is None or locale.language == "zh" else "en"
        # `colon`: after a label, as each language writes it ("状态：", "Status: ").
        return {"lang": language, "html_lang": "zh-CN" if language == "zh" else "en",
                "colon": "：" if language == "zh" else ": ",
                "current_path": request.full_path.rstrip("?")}
