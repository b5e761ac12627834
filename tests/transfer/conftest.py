"""Fixtures for import/export tests: one app and database for the package, emptied after each test.

Self-contained on purpose (the shared tests/conftest.py may change under us): `app`, `client` and
`runner` here override the shared ones for tests/transfer. No app context is held while the test client
runs, so each request loads its own account.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from types import SimpleNamespace

import pytest
from werkzeug.security import generate_password_hash

from matcher import clock, create_app
from matcher.extensions import db

REFERENCE_TABLES = {"places", "courses", "skills", "occupations", "judicial_offices", "alembic_version"}
CHOUCHENG, JIANGDONG, FOTANG = "330782001", "330782002", "330782100"  # 稠城街道, 江东街道, 佛堂镇
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def app(database_url, request):
    """A second app on the suite's database (SQLite or PostgreSQL, whose schema the shared `app`
    fixture builds), whose default language is English so messages outside requests read in English."""
    request.getfixturevalue("shared_app")  # builds the tables and loads the reference data
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "test", "ID_NUMBER_PEPPER": "test-pepper", "BABEL_DEFAULT_LOCALE": "en",
                      "AUDIT_KEY": "test-audit-key-of-at-least-32-bytes"})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(app):
    yield
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


# The command line speaks the shell's language (matcher.commands.cli_locale): these tests read English.
ENGLISH_SHELL = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


@pytest.fixture
def runner(app):
    return app.test_cli_runner(env=ENGLISH_SHELL)


@pytest.fixture
def session(app):
    """The app's session, inside a request context for the test's body (so messages can be rendered).
    Not for tests that also use the test client: those requests would share this context's `g`."""
    with app.test_request_context():
        yield db.session
        db.session.remove()


# --- helpers ------------------------------------------------------------------------------------


def id_number(seq: int, region: str = "330782", born: str = "19900101") -> str:
    from matcher.identifiers import id_number_check_char

    first17 = f"{region}{born}{seq:03d}"
    return first17 + id_number_check_char(first17)


def credit_code(n: int) -> str:
    from matcher.identifiers import credit_code_check_char

    first17 = f"91330782{n:09d}"
    return first17 + credit_code_check_char(first17)


def csv_bytes(header: list[str], rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header: list[str], rows: list[list], title_rows: list[list] = ()) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in [*title_rows, header, *rows]:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, as typed: not a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse_file(content: bytes, fmt: str, encoding: str = "utf-8") -> tuple[list[str], list[dict]]:
    """Read an exported file back with the plain csv / openpyxl readers (not the code under test)."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
        values = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        text = content.decode("utf-8-sig" if encoding == "utf-8" else "gb18030")
        values = list(csv.reader(io.StringIO(text, newline="")))
    header, body = values[0], values[1:]
    return header, [dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True)) for row in body]


def rewrite(content: bytes, fmt: str, encoding: str, change) -> bytes:
    """Parse a file, let `change(header, rows)` edit it, and write it back in the same format."""
    header, rows = parse_file(content, fmt, encoding)
    header, rows = change(header, rows)
    table = [[row.get(name, "") for name in header] for row in rows]
    if fmt == "xlsx":
        return xlsx_bytes(header, table)
    return csv_bytes(header, table, "utf-8-sig" if encoding == "utf-8" else "gbk")


def comparable(rows: list[dict], drop: set[str]) -> list[tuple]:
    """Rows as sorted tuples of text, without the columns that differ after a reload (ids ...)."""
    return sorted(tuple(sorted((k, str(v)) for k, v in row.items() if k not in drop)) for row in rows)


@pytest.fixture
def tx():
    """The helpers above, for test modules (importing from a conftest is fragile)."""
    return SimpleNamespace(id_number=id_number, credit_code=credit_code, csv_bytes=csv_bytes,
                           xlsx_bytes=xlsx_bytes, parse_file=parse_file, rewrite=rewrite,
                           comparable=comparable, CHOUCHENG=CHOUCHENG, JIANGDONG=JIANGDONG, FOTANG=FOTANG)


@pytest.fixture
def people(app, monkeypatch):
    """Accounts and two certified bases. Returns ids and names; fetch objects in your own session."""
    import matcher.auth.service as auth_service
    from matcher.auth.service import create_account, issue_token
    from matcher.bases.service import create_company, decide_certification
    from matcher.offices.service import office_for_township

    # A cheap hash keeps account creation fast; logging in with passwords is not what is tested here.
    monkeypatch.setattr(auth_service, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1"))
    with app.app_context():
        session = db.session
        office = office_for_township(session, CHOUCHENG)
        other_office = office_for_township(session, FOTANG)
        admin = create_account(session=session, actor=None, data=dict(
            username="admin", display_name="管理员", password=PASSWORD, role="administrator",
            bureau_code="330700"))
        companies = []
        for n, name in ((1, "甲餐饮有限公司"), (2, "乙物流有限公司")):
            company = create_company(session=session, actor=admin, data={
                "name": name, "credit_code": credit_code(n), "industry": "餐饮",
                "place": {"code": CHOUCHENG}})
            decide_certification(session=session, actor=admin, company_id=company.id, action="certify",
                                 valid_until=clock.today() + dt.timedelta(days=365))
            companies.append(company.id)
        ids = {"admin": admin.id}
        for username, role, extra in (
            ("cw", "caseworker", {"office_id": office.id}),
            ("cw_other", "caseworker", {"office_id": other_office.id}),
            ("emp", "employer", {"company_id": companies[0]}),
            ("emp_other", "employer", {"company_id": companies[1]}),
        ):
            ids[username] = create_account(session=session, actor=None, data=dict(
                username=username, display_name=username, password=PASSWORD, role=role, **extra)).id
        tokens = {}
        for username, account_id in ids.items():
            from matcher.auth.models import Account

            tokens[username] = issue_token(session=session, account=session.get(Account, account_id),
                                           ttl_days=1)[0]
        result = SimpleNamespace(ids=ids, tokens=tokens, company=companies[0], other_company=companies[1],
                                 office=office.id, other_office=other_office.id)
        db.session.commit()  # the fixture is a unit of work of its own: the tests' requests must find it
        db.session.remove()

    def actor(username: str):
        from matcher.auth.models import Account

        return db.session.get(Account, ids[username])

    def headers(username: str, lang: str = "en") -> dict:
        return {"Authorization": f"Bearer {tokens[username]}", "Accept-Language": lang}

    result.actor, result.headers = actor, headers
    return result
