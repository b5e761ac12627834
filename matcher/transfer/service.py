"""Imports (all rows or none, through the feature services) and scoped exports of spreadsheets.

How all-or-nothing works: the import runs the feature services on a second Session bound to the caller's own
connection with `join_transaction_mode="create_savepoint"`, so everything it does sits in one SAVEPOINT of the
caller's unit of work, and each row in a SAVEPOINT of its own inside that: a row that breaks a rule (or a
database constraint) undoes only itself and is reported. Each row therefore meets exactly the rules an API call
meets, and later rows see earlier ones (duplicates, seats). At the end the import's savepoint is released when
every row passed, or rolled back when any row failed or on a dry run; the caller's unit of work is left to its
edge.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from matcher import uow
from matcher.audit.service import record as audit
from matcher.auth.models import Account
from matcher.candidates.service import IdLookupsExhausted, record_id_lookups
from matcher.clock import today
from matcher.errors import DomainError, Forbidden, Invalid, NotFound
from matcher.reference.models import Course, Skill
from matcher.transfer.cells import CellError, Vocabulary, enum_value, parse_cell
from matcher.transfer.columns import KINDS, Column
from matcher.transfer.files import XLSX_MIMETYPE, Row, read_table, write_csv, write_xlsx
from matcher.transfer.kinds import EXPORTERS, IMPORTERS, Importer
from matcher.transfer.labels import Labeller

FORMATS = ("csv", "xlsx")
HEADER_LANGUAGES = ("en", "zh")
ENCODINGS = ("utf-8", "gbk")
ROW_KEY = "_row"  # errors of a row as a whole, not of one column


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: int  # data rows read from the file
    created: int  # rows created (0 on a dry run)
    # Kinds that may update what is stored (release_list): rows that updated a file (0 on a dry run), and per
    # office what the rows did (or, on a dry run, would do): created, updated, dual_registration ...
    updated: int | None = None
    offices: list[dict[str, Any]] | None = None
    # Slots: job rows with no occupation code, each with the code suggested from its title (never filled in).
    occupation_suggestions: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class ExportFile:
    content: bytes
    filename: str
    mimetype: str
    count: int


# session.info key: how long the last import's write phase took, in seconds (bench/bench_import.py reads it).
WRITE_SECONDS = "import_write_seconds"
PROGRESS_EVERY = 500  # rows between two progress reports (the job's writer keeps at most five a second)
CHECKING = "Checking and importing the rows"


def import_file(*, session: Session, actor: Account, kind: str, data: bytes, filename: str | None,
                dry_run: bool = False, progress=None) -> ImportReport:
    """Check every row of the file and create all of them, or none (raising Invalid with each bad row).

    In two phases. The check phase reads what the rows need in a few queries, then checks every row in memory
    with the rules of the create schemas and services, later rows seeing earlier ones (duplicates, seats); it
    writes nothing, so a long job may end its reads between progress reports (matcher.jobs) and, on SQLite, lets
    other writers in. The write phase then writes every row in a few bulk statements, in a savepoint of the
    caller's unit of work: the write lock is held for that short time only. Should the database still refuse
    the batch (a row written meanwhile by someone else), the savepoint is rolled back and the rows are imported
    one at a time, so that the refusal is told for its row. Kinds that update what is stored (release_list)
    import one row at a time (`_import_row_by_row`)."""
    importer_cls = IMPORTERS.get(kind)
    if importer_cls is None:
        raise NotFound(_l("Unknown kind of file %(kind)s.", kind=kind))
    if actor.role not in importer_cls.roles:
        raise Forbidden(_l("Your role cannot import %(kind)s.", kind=kind))
    table = read_table(data, filename, importer_cls.columns)
    if not importer_cls.batch:
        return _import_row_by_row(session, actor, importer_cls, kind, table, dry_run, progress)
    total, columns = len(table.rows), table.columns
    # Each row is let go of once the next phase holds it: the cells once loaded, the loaded data once built.
    rows, table = table.rows[::-1], None
    errors: dict[int, dict] = {}
    importer = importer_cls(session, actor)
    # A job's progress report may end the check's reads (matcher.jobs): what the check read stays loaded.
    own = session() if isinstance(session, scoped_session) else session
    expire_on_commit, own.expire_on_commit = own.expire_on_commit, False
    try:
        if progress is not None:  # a long job's progress (matcher.jobs): rows checked so far
            progress(0, total, CHECKING)
        vocabulary = _vocabulary(session)
        loaded_rows: list[tuple[int, dict]] = []
        while rows:
            row = rows.pop()
            if progress is not None and len(rows) % PROGRESS_EVERY == 0:  # reading is the first half of checking
                progress((total - len(rows)) // 2, total, CHECKING)
            loaded, row_errors = _load_row(importer, columns, row, vocabulary)
            if row_errors:
                errors[row.number] = row_errors
            else:
                loaded_rows.append((row.number, loaded))
        importer.prefetch([loaded for _number, loaded in loaded_rows])
        loaded_rows.reverse()
        built = []
        done = 0
        while loaded_rows:
            number, loaded = loaded_rows.pop()
            done += 1
            try:
                problems = importer.check(loaded, number)
                item = None if problems else importer.build(loaded)
            except IdLookupsExhausted:
                raise
            except DomainError as exc:
                problems = exc.errors or {ROW_KEY: [exc.message]}
            if problems:
                errors[number] = column_errors(problems, importer.columns)
            else:
                built.append(item)
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress((total + done) // 2, total, CHECKING)
        outcome = importer.outcome()
        own.expire_on_commit = expire_on_commit
        if not errors and not dry_run:
            started = time.perf_counter()
            try:
                with session.begin_nested():
                    importer.write(built)
            except (DomainError, IntegrityError):
                # Rare: the database or a rule refused the batch (a row written meanwhile elsewhere): one row at a
                # time tells which. If none fails now, that path has imported them all.
                del built
                table = read_table(data, filename, importer_cls.columns)
                return _import_row_by_row(session, actor, importer_cls, kind, table, dry_run, progress)
            finally:
                session.info[WRITE_SECONDS] = round(time.perf_counter() - started, 3)
    finally:
        own.expire_on_commit = expire_on_commit
        if importer.id_lookups:
            # Kept whatever becomes of the import: a dry run or a refused file must still leave this trace.
            record_id_lookups(session, actor, importer.id_lookups)
    return _report(kind, dry_run, total, errors, outcome)


def _load_row(importer: Importer, columns: list[Column], row: Row, vocabulary: Vocabulary) -> tuple[dict, dict]:
    """The row as its create schema loads it, or its errors by column (a cell that could not be read: once)."""
    data, errors = build_data(columns, row, vocabulary)
    importer.prepare(data)
    try:
        loaded = importer.schema.load(data)
    except ValidationError as exc:
        for name, messages in column_errors(exc.messages, importer.columns).items():
            errors.setdefault(name, messages)
        return {}, errors  # put in column order once, by _report
    if errors:
        return {}, errors
    return loaded, {}


def _in_column_order(errors: dict, columns: tuple[Column, ...]) -> dict:
    order = {column.name: index for index, column in enumerate(columns)}
    return dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1)))


def _report(kind: str, dry_run: bool, total: int, errors: dict[int, dict], outcome: dict) -> ImportReport:
    if errors:
        rows = {str(number): _in_column_order(errors[number], IMPORTERS[kind].columns) for number in sorted(errors)}
        raise Invalid(_l("%(count)s of %(total)s rows have errors; nothing was imported.",
                         count=len(errors), total=total), errors={"rows": rows})
    created = outcome.get("created", total)
    updated = outcome.get("updated")
    return ImportReport(kind=kind, dry_run=dry_run, rows=total, created=0 if dry_run else created,
                        updated=None if updated is None else 0 if dry_run else updated,
                        offices=outcome.get("offices"), occupation_suggestions=outcome.get("occupation_suggestions"))


def _import_row_by_row(session: Session, actor: Account, importer_cls: type[Importer], kind: str, table,
                       dry_run: bool, progress) -> ImportReport:
    """Each row checked and created in a savepoint of its own, in the import's savepoint (see the module's
    docstring): for kinds that update what is stored, and to tell which row the database refused. Its progress
    is told before it writes, then at its end only: a job's progress report may end the reads of the unit of
    work (matcher.jobs), which must not happen once rows are written."""
    errors: dict[int, dict] = {}
    importer: Importer | None = None
    total = len(table.rows)
    if progress is not None:
        progress(0, total, CHECKING)
    try:
        with _savepoint_session(session) as work:
            importer = importer_cls(work, work.get(Account, actor.id))
            vocabulary = _vocabulary(work)
            for row in table.rows:
                loaded, row_errors = _load_row(importer, table.columns, row, vocabulary)
                if not row_errors:
                    importer.prefetch([loaded])
                    row_errors = _create_row(importer, loaded, row.number)
                if row_errors:
                    errors[row.number] = row_errors
            outcome = importer.outcome()
            if errors or dry_run:
                work.rollback()
            else:
                work.commit()
    finally:
        if importer is not None and importer.id_lookups:
            # Kept whatever becomes of the import: a dry run or a refused file must still leave this trace.
            record_id_lookups(session, actor, importer.id_lookups)
    return _report(kind, dry_run, total, errors, outcome)


@contextmanager
def _savepoint_session(session: Session) -> Iterator[Session]:
    """A Session on `session`'s connection whose transaction is a savepoint inside `session`'s."""
    session.flush()
    work = Session(bind=session.connection(), join_transaction_mode="create_savepoint",
                   expire_on_commit=False)
    try:
        yield work
    finally:
        work.close()  # rolls back a savepoint still open: an import that raised leaves nothing


def _vocabulary(session: Session) -> Vocabulary:
    return Vocabulary(skill_codes=session.scalars(select(Skill.code)),
                      courses=session.execute(select(Course.code, Course.name_zh, Course.name_en)).all())


def _create_row(importer: Importer, loaded: dict, row_number: int) -> dict:
    problems = importer.check(loaded, row_number)
    if problems:
        return column_errors(problems, importer.columns)
    try:
        with importer.session.begin_nested():  # a row that fails undoes itself only
            importer.create(loaded)
    except DomainError as exc:
        return column_errors(exc.errors, importer.columns) if exc.errors else {ROW_KEY: [exc.message]}
    except IntegrityError:
        return {ROW_KEY: [_l("The database refused this row (it conflicts with data already stored).")]}
    return {}


def build_data(columns: list[Column], row: Row, vocabulary: Vocabulary) -> tuple[dict, dict]:
    """The row as the create schema's input, and the cells whose form could not be read."""
    data: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for column in columns:
        if column.name not in row.cells:
            continue
        try:
            value = parse_cell(column, row.cells[column.name], vocabulary)
        except CellError as exc:
            errors[column.name] = [exc.message]
            continue
        head, _, sub = column.field.partition(".")
        if sub:
            data.setdefault(head, {})[sub] = value
        elif isinstance(value, dict) and isinstance(data.get(head), dict):
            data[head].update(value)
        else:
            data[head] = value
    return data, errors


def column_errors(errors: dict, columns: tuple[Column, ...]) -> dict[str, list]:
    """Schema or service errors keyed by field ("residence": {"lat": [...]}, "skills": {"0": ...},
    "preferred_courses.1") -> messages keyed by the file's column names."""
    by_field = {column.field: column.name for column in columns}
    out: dict[str, list] = {}
    for key, value in errors.items():
        head = str(key).split(".")[0]
        if isinstance(value, dict) and any(f"{head}.{sub}" in by_field for sub in value):
            for sub, messages in value.items():
                name = by_field.get(f"{head}.{sub}") or by_field.get(head, ROW_KEY)
                out.setdefault(name, []).extend(_messages(messages))
            continue
        name = by_field.get(str(key)) or by_field.get(head, ROW_KEY)
        out.setdefault(name, []).extend(_messages(value))
    return out


def _messages(value: Any) -> list:
    """Flatten nested messages; an item of a list cell is named by its position (1 = first)."""
    if isinstance(value, dict):
        flat = []
        for key, inner in value.items():
            for message in _messages(inner):
                if str(key).isdigit():
                    flat.append(_l("Item %(number)s: %(message)s", number=int(key) + 1, message=message))
                else:
                    flat.append(message)
        return flat
    if isinstance(value, list | tuple):
        return [m for item in value for m in _messages(item)]
    return [value]


# Export columns that carry a field whose reading the audit log records.
SENSITIVE_EXPORT_COLUMNS = ("offence_category", "risk_grade", "id_number_masked", "hukou", "residence",
                            "residence_address", "residence_lat", "residence_lng")


VALUES = ("codes", "labels")


def export_file(*, session: Session, actor: Account, kind: str, format: str = "csv", headers: str = "en",
                encoding: str = "utf-8", identified: bool = False, request_id: int | None = None,
                values: str | None = None) -> ExportFile:
    """Everything of a kind the actor may see, as a CSV or Excel file: pseudonymous, unless `identified`
    (only matcher.exports.service passes it, for an approved export request `request_id`).

    `values`: "labels" writes the pages' labels and place, course and skill names in the headers' language;
    "codes" the stored codes. By default a file with Chinese headers has labels (never "male" under 性别) and one
    with English headers codes (the contract). Both import again (matcher.transfer.labels)."""
    values = values or ("labels" if headers == "zh" else "codes")
    if values not in VALUES:
        raise Invalid(_l("Values are codes or labels."), field="values")
    exporter_cls = EXPORTERS.get(kind)
    if exporter_cls is None:
        raise NotFound(_l("Unknown kind of file %(kind)s.", kind=kind))
    if format not in FORMATS:
        raise Invalid(_l("Export as csv or xlsx."), field="format")
    if headers not in HEADER_LANGUAGES:
        raise Invalid(_l("Headers are en or zh."), field="headers")
    if encoding not in ENCODINGS:
        raise Invalid(_l("The encoding is utf-8 or gbk."), field="encoding")
    if actor.role not in exporter_cls.roles:
        raise Forbidden(_l("Your role cannot export %(kind)s.", kind=kind))
    exporter = exporter_cls(session, actor, identified=identified)
    columns = exporter.columns()
    rows = [{name: enum_value(value) for name, value in row.items()} for row in exporter.rows()]
    if values == "labels":
        rows = Labeller(session, headers).rows(columns, rows)
    # The file leaves the application: who took which sensitive columns is kept (names only, one event per file).
    audit(session, actor=actor, action="export",
          object_type="export_request" if request_id is not None else "export", object_id=request_id,
          fields=[column.name for column in columns if column.name in SENSITIVE_EXPORT_COLUMNS
                  or (exporter.identified and column.personal)])
    uow.flush(session)
    stem = f"{kind}-{today().isoformat()}"
    if format == "xlsx":
        content = write_xlsx(columns, rows, headers=headers, sheet_title=kind)
        return ExportFile(content, f"{stem}.xlsx", XLSX_MIMETYPE, len(rows))
    content = write_csv(columns, rows, headers=headers, encoding=encoding)
    return ExportFile(content, f"{stem}.csv", f"text/csv; charset={encoding}", len(rows))


__all__ = ["KINDS", "ExportFile", "ImportReport", "export_file", "import_file"]
