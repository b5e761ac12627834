"""From a spreadsheet cell to what a create schema reads, and from a model's value back to a cell.

Parsing is forgiving about form (Chinese labels, 2025/3/1, 是/否, full-width separators) and leaves the
judging to the schemas: a value it cannot normalise is passed on as written, so the schema's own
message reports it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l

from matcher.transfer.columns import BOOL, DATE, DATES, ENUM, FLOAT, INT, LIST, PLACE, SKILLS, TEXT, Column

LIST_SEPARATORS = re.compile(r"[;；\n]")
SKILL_LEVEL = re.compile(r"^(.*?)\s*[:：]\s*(\S+)$")
DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
DATE_WITH_TIME = re.compile(r"^(\S+)[ T]00:00(:00)?$")
TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "有", "√", "✓"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "无", "×"}


class CellError(ValueError):
    """A cell whose form is wrong; the message says how to write it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class Vocabulary:
    """Codes and names of the reference tables a cell may name, read once per import."""

    def __init__(self, skill_codes: Iterable[str] = (), courses: Iterable[tuple[str, str, str]] = ()):
        self.skill_codes = set(skill_codes)
        self.course_codes: dict[str, str] = {}
        for code, name_zh, name_en in courses:
            self.course_codes[code.lower()] = code
            self.course_codes[name_zh] = code
            self.course_codes[name_en.lower()] = code

    def course(self, text: str) -> str:
        return self.course_codes.get(text) or self.course_codes.get(text.lower()) or text


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_cell(column: Column, value: Any, vocabulary: Vocabulary) -> Any:
    """The value of one non-empty cell in the form the create schema expects."""
    kind = column.type
    if kind == TEXT:
        if isinstance(value, float) and abs(value) >= 2**53:
            # An 18-digit ID number or credit code typed into a number-formatted Excel column.
            raise CellError(_l("Excel stored this as a number and lost its last digits: format the column as "
                               "text and type it again."))
        text = text_of(value)
        return vocabulary.course(text) if column.lookup else text
    if kind == INT:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value) if float(value).is_integer() else value
        return text_of(value).replace(",", "")
    if kind == FLOAT:
        return value if isinstance(value, int | float) and not isinstance(value, bool) else text_of(value)
    if kind == DATE:
        return parse_date(value)
    if kind == BOOL:
        return parse_bool(value)
    if kind == ENUM:
        return parse_choice(column, text_of(value))
    if kind == PLACE:
        text = text_of(value)
        return {"code": text} if text.isdigit() else {"name": text}
    if kind == LIST:
        items = split_list(text_of(value))
        if column.choices:
            return [parse_choice(column, item) for item in items]
        if column.lookup:
            return [vocabulary.course(item) for item in items]
        return items
    if kind == SKILLS:
        return parse_skills(text_of(value), vocabulary)
    if kind == DATES:
        return [parse_date(item) for item in split_list(text_of(value))]
    raise AssertionError(f"unknown cell type {kind}")


def split_list(text: str) -> list[str]:
    return [item.strip() for item in LIST_SEPARATORS.split(text) if item.strip()]


def parse_choice(column: Column, text: str) -> str:
    """A code, one of the Chinese forms the column lists, or the pages' label in either language (which is what
    an export with labels writes, matcher.transfer.labels)."""
    from matcher.transfer.labels import page_labels

    lowered = text.strip().lower()
    for value, labels in (column.choices or {}).items():
        if lowered == value or text.strip() in labels:
            return value
    return page_labels(column).get(lowered, text)  # else the schema names the allowed values


def parse_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = text_of(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_l("Write true or false (also yes/no, 1/0, 是/否)."))


def parse_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = text_of(value)
    timed = DATE_WITH_TIME.match(text)
    if timed:
        text = timed.group(1)
    for form in DATE_FORMS:
        match = form.match(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                raise CellError(_l("There is no such date.")) from None
    raise CellError(_l("Write a date as 2025-03-01 (or 2025/3/1, 2025年3月1日)."))


def parse_skills(text: str, vocabulary: Vocabulary) -> list[dict]:
    """`chinese_cooking:3;叉车:2` -> skill entries; a known code becomes skill_code, anything else free text
    (which the service turns into a code when it is a taxonomy name)."""
    entries = []
    for item in split_list(text):
        match = SKILL_LEVEL.match(item)
        name, level = (match.group(1).strip(), match.group(2)) if match else (item, None)
        if not name:
            raise CellError(_l("Write skills as code_or_text:level separated by ; (levels 1 to 4)."))
        code = name.lower()
        entry: dict[str, Any] = ({"skill_code": code} if code in vocabulary.skill_codes
                                 else {"free_text": name})
        if level is not None:
            if not level.isdigit():
                raise CellError(_l("Write skills as code_or_text:level separated by ; (levels 1 to 4)."))
            entry["level"] = int(level)
        entries.append(entry)
    return entries


# --- Export -------------------------------------------------------------------------------------


def format_skills(entries: Iterable[Any]) -> str | None:
    text = ";".join(f"{e.skill_code or e.free_text}:{e.level}" for e in entries)
    return text or None


def format_list(items: Iterable[str]) -> str | None:
    text = ";".join(items)
    return text or None


def enum_value(value: Any) -> Any:
    return getattr(value, "value", value)
