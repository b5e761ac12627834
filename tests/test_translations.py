"""Every user-facing message has a Chinese translation, and the compiled catalogue is current.

Messages are found the way `make translations` finds them: Babel's extractor with babel.cfg and the same keywords.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "matcher" / "translations" / "zh" / "LC_MESSAGES"
# The Makefile's `pybabel extract -k _l -k lazy_gettext -k N_` (gettext, _ and ngettext are Babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w*(?:![rsa])?\}")


def _source_messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = extract_from_dir(str(ROOT / "matcher"), method_map, options_map, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _file, _line, message, _comments, _context in found}


def _catalogue():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_message_in_the_code_is_translated():
    # A fuzzy translation is a guess that compiling leaves out: it counts as missing.
    translated = {m.id: m.string for m in _catalogue() if m.id and not m.fuzzy}
    missing = sorted(m for m in _source_messages() if not translated.get(m))
    assert not missing, "run `make translations`, write their Chinese in messages.po, run it again: " + \
        "; ".join(missing)


def test_the_messages_libraries_write_are_extracted():
    from matcher.i18n_messages import FIELD_MESSAGES, RANGE_SENTENCES, SCHEMA_MESSAGES, VALIDATOR_MESSAGES

    source = _source_messages()
    library = {text for messages in [*FIELD_MESSAGES.values(), *VALIDATOR_MESSAGES.values()]
               for text in messages.values() if "{{" not in text}
    assert library | set(RANGE_SENTENCES) | set(SCHEMA_MESSAGES.values()) <= source


def test_compiled_catalogue_matches_the_po_file():
    po = {m.id: m.string for m in _catalogue() if m.id and not m.fuzzy}
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        mo = {m.id: m.string for m in read_mo(handle) if m.id}
    assert po == mo, "run: make translations"


def test_placeholders_survive_translation():
    for message in _catalogue():
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), \
                message.id


def test_library_messages_are_read_in_the_language_of_whoever_reads_them(app):
    # A background job validates with no request, then keeps its errors in both languages (jobs/service.py).
    import enum

    from flask_babel import force_locale
    from marshmallow import Schema, ValidationError, fields, validate

    from matcher.errors import translate_errors

    class Kind(enum.Enum):
        A = "a"
        B = "b"

    class Sample(Schema):
        seats = fields.Int(required=True, validate=validate.Range(min=1, max=10))
        above = fields.Int(validate=validate.Range(min=0, min_inclusive=False))
        code = fields.Str(validate=validate.Length(max=2))
        kind = fields.Enum(Kind, by_value=True)
        day = fields.Date()

    try:
        Sample().load({"seats": 20, "above": 0, "code": "abc", "kind": "c", "day": "x", "extra": 1})
    except ValidationError as error:
        errors = error.messages
    with app.app_context():
        with force_locale("zh_CN"):
            chinese = translate_errors(errors)
        with force_locale("en"):
            english = translate_errors(errors)
    assert chinese == {"seats": ["必须大于等于 1 且小于等于 10。"], "above": ["必须大于 0。"],
                       "code": ["长度不能超过 2。"], "kind": ["必须是以下之一：a, b。"], "day": ["不是有效的日期。"],
                       "extra": ["未知字段。"]}
    assert english == {"seats": ["Must be greater than or equal to 1 and less than or equal to 10."],
                       "above": ["Must be greater than 0."], "code": ["Longer than maximum length 2."],
                       "kind": ["Must be one of: a, b."], "day": ["Not a valid date."], "extra": ["Unknown field."]}
    # Read as plain text, a message is marshmallow's English, as before.
    assert errors["seats"] == ["Must be greater than or equal to 1 and less than or equal to 10."]
