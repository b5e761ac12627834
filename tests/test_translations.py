"""Every user-facing message has a Chinese translation, and the compiled catalogue is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "matcher" / "translations" / "zh" / "LC_MESSAGES"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}


def _source_messages() -> set[str]:
    found = extract_from_dir(str(ROOT / "matcher"), method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
                             keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def test_every_message_in_the_code_is_translated():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id: m.string for m in catalogue if m.id}
    missing = sorted(m for m in _source_messages() if not translated.get(m))
    assert not missing, "add these to messages.po (see README, Translations): " + "; ".join(missing)


def test_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle) if m.id}
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        mo = {m.id: m.string for m in read_mo(handle) if m.id}
    assert po == mo, "run: .venv/bin/python scripts/merge_translations.py"


def test_placeholders_survive_translation():
    import re

    with (CATALOGUE / "messages.po").open("rb") as handle:
        for message in read_po(handle):
            if message.id:
                assert set(re.findall(r"%\(\w+\)s", message.id)) == set(re.findall(r"%\(\w+\)s", message.string)), \
                    message.id
