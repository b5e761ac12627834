"""Onboarding a bureau: a folder of its files (bases, slots, candidates, referral history) loaded in that order
through `import_file`, all of them or none.

Each file is imported as `import_file` imports it (every row checked by the services, all rows or none), inside
one savepoint around them all: when any file fails, the savepoint is rolled back and the caller's unit of work
holds nothing of any file; every file is still read and checked, so one run lists every file's errors. A dry run
imports everything the same way (later files see earlier ones: slots find their bases) and then rolls back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import PurePath

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matcher.auth.models import Account
from matcher.errors import DomainError, Invalid
from matcher.transfer.service import import_file

# The files of a folder, in the order they load (a slot names its base, a referral its candidate and slot),
# by the stems their names may have: the kind's English name or its Chinese title. Any of the documented
# formats (.csv, .xlsx) is read.
ONBOARDING_FILES: dict[str, tuple[str, ...]] = {
    "bases": ("bases", "基地", "安置基地"),
    "slots": ("slots", "岗位", "岗位与培训名额"),
    "candidates": ("candidates", "帮教对象"),
    "referrals": ("referrals", "推荐记录"),
}
SUFFIXES = (".csv", ".xlsx")


@dataclass
class FileReport:
    kind: str
    filename: str
    rows: int = 0
    created: int = 0
    seconds: float = 0.0
    errors: dict = field(default_factory=dict)
    message: str | None = None


@dataclass
class OnboardingReport:
    dry_run: bool
    files: list[FileReport]

    @property
    def seconds(self) -> float:
        return sum(file.seconds for file in self.files)


def kind_of(filename: str) -> str | None:
    """The kind a file of the folder holds, by its name (bases.xlsx, 基地.csv ...), or None."""
    path = PurePath(filename)
    if path.suffix.lower() not in SUFFIXES:
        return None
    stem = path.stem.strip().lower()
    return next((kind for kind, stems in ONBOARDING_FILES.items() if stem in stems), None)


def plan_folder(filenames: list[str]) -> list[tuple[str, str]]:
    """(kind, filename) in loading order. Files of no kind, or a second file of a kind, refuse the folder (a
    misspelt name must not be skipped silently: the bureau would believe it loaded). Hidden files (".x") are
    not the bureau's data and are passed over."""
    found: dict[str, list[str]] = {}
    unknown = []
    for name in sorted(filenames):
        if name.startswith("."):
            continue
        kind = kind_of(name)
        if kind is None:
            unknown.append(name)
        else:
            found.setdefault(kind, []).append(name)
    errors: dict[str, list] = {}
    for name in unknown:
        errors[name] = [_l("Not a file onboarding reads: name it bases, slots, candidates or referrals (or 基地, "
                           "岗位, 帮教对象, 推荐记录), .csv or .xlsx.")]
    for names in found.values():
        if len(names) > 1:
            for name in names:
                errors[name] = [_l("Two files of the same kind: %(names)s.", names=", ".join(names))]
    if errors:
        raise Invalid(_l("The folder holds files onboarding cannot take; nothing was imported."),
                      errors={"files": errors})
    if not found:
        raise Invalid(_l("The folder holds none of the files onboarding reads (bases, slots, candidates, "
                         "referrals)."))
    return [(kind, found[kind][0]) for kind in ONBOARDING_FILES if kind in found]


def onboard(*, session: Session, actor: Account, files: list[tuple[str, str, bytes]],
            dry_run: bool = False) -> OnboardingReport:
    """Import (kind, filename, content) in the order given, all files or none; raises Invalid naming each
    file's errors (the report's files under `files`) when any file fails."""
    reports = []
    failed = False
    with session.begin_nested() as everything:
        for kind, filename, content in files:
            report = FileReport(kind=kind, filename=filename)
            started = time.perf_counter()
            try:
                imported = import_file(session=session, actor=actor, kind=kind, data=content, filename=filename)
                report.rows, report.created = imported.rows, imported.created
            except DomainError as exc:
                failed = True
                report.message, report.errors = exc.message, exc.errors
            report.seconds = time.perf_counter() - started
            reports.append(report)
        if failed or dry_run:
            everything.rollback()
    result = OnboardingReport(dry_run=dry_run, files=reports)
    if failed:
        raise OnboardingRefused(result)
    return result


class OnboardingRefused(Invalid):
    """Some file failed: nothing was imported. Carries the whole report, so the edge prints every file's errors
    (and the files that would have loaded)."""

    def __init__(self, report: OnboardingReport):
        bad = [file.filename for file in report.files if file.message is not None]
        super().__init__(_l("%(count)s of %(total)s files have errors; nothing was imported.", count=len(bad),
                            total=len(report.files)))
        self.report = report
