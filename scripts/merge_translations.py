"""Merge the translation parts (matcher/translations/zh/parts/*.po) into messages.po and compile it.

Parts let several areas of the UI keep their own translations; messages.po is what Flask-Babel loads.
Usage: python scripts/merge_translations.py
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent / "matcher" / "translations" / "zh" / "LC_MESSAGES"
PARTS = ROOT.parent / "parts"


def main() -> None:
    with (ROOT / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale="zh")
    for part in sorted(PARTS.glob("*.po")):
        with part.open("rb") as handle:
            for message in read_po(handle, locale="zh"):
                if message.id and message.string:
                    catalogue.add(message.id, message.string)
    for message in catalogue:
        message.flags.discard("fuzzy")
    with (ROOT / "messages.po").open("wb") as handle:
        write_po(handle, catalogue, width=0, no_location=True, sort_output=True)
    with (ROOT / "messages.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    print(f"{len([m for m in catalogue if m.id])} messages")


if __name__ == "__main__":
    main()
