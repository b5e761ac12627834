"""Shared fixtures: one app and schema per test session, tables emptied after each test.

Set XINTU_TEST_DATABASE_URL to run the whole suite against PostgreSQL; SQLite is the default.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import MutableMapping

import pytest
from sqlalchemy import text

from matcher import clock, create_app
from matcher.extensions import db
from tests.db_support import empty_tables, restored

PASSWORD = "correct-horse-battery"


DATABASE_FIXTURES = {"app", "shared_app", "database_url"}
# Seconds a file takes, about (measured on SQLite, 2 workers), for the files that take longest. The run hands
# whole files to its two workers (scripts/test.sh: --dist loadfile --no-loadscope-reorder), longest first, so
# that no long file starts last and leaves one worker idle while the other finishes it. Other files count a
# quarter of a second per test.
LONG_FILES = {
    "tests/security/test_schemathesis.py": 150, "tests/security/test_endpoint_matrix.py": 100,
    "tests/referrals/test_lifecycle_properties.py": 48, "tests/security/test_disclosure.py": 30,
    "tests/demo/test_demo.py": 30, "tests/matching/test_retrain.py": 30, "tests/referrals/test_seat_races.py": 24,
    "tests/web/test_caseworker_pages.py": 20, "tests/matching/test_models_cli.py": 15,
    "tests/retention/test_retention_figures.py": 15, "tests/test_migrations.py": 15,
    "tests/reports/test_reconciliation.py": 12, "tests/ops/test_metrics.py": 10, "tests/test_onboarding.py": 12,
    # The page checks: every page of a role, three times (tests/browser/pagecheck.py, role_matrix).
    "tests/browser/test_pages_organiser.py": 45, "tests/browser/test_pages_administrator.py": 45,
    "tests/browser/test_pages_caseworker.py": 40, "tests/browser/test_pages_employer.py": 40,
    "tests/browser/test_pages_public.py": 20,
}


# The page tests (Flask's test client over the pages): the pages are the same on either database, and the services
# and queries under them are tested on both; they run in the SQLite run. Dates at any hour stay on both: China's
# day in SQL is where the two databases differ.
PAGE_TESTS = "tests/web/"
PAGE_TESTS_ON_BOTH = ("tests/web/test_any_hour.py",)


def _on_postgres_too(item) -> bool:
    path = item.nodeid.split("::")[0]
    if path.startswith(PAGE_TESTS) and not path.startswith(PAGE_TESTS_ON_BOTH):
        return False
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    """Longest files first (see LONG_FILES). On PostgreSQL (XINTU_TEST_DATABASE_URL set), leave out the tests
    that never reach a database (no `app`, `shared_app` or `database_url` among their fixtures) and the page tests
    (PAGE_TESTS): the SQLite run has run them, and they would run the same here (XINTU_TEST_ALL_ON_POSTGRES=1 keeps
    them)."""
    if os.environ.get("XINTU_TEST_DATABASE_URL") and not os.environ.get("XINTU_TEST_ALL_ON_POSTGRES"):
        kept, left_out = [], []
        for item in items:
            (kept if _on_postgres_too(item) else left_out).append(item)
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = kept
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    order = sorted(files, key=lambda path: -LONG_FILES.get(path, 0.25 * len(files[path])))
    items[:] = [item for path in order for item in files[path]]


# Files whose tests are each long and independent: each test is a unit of its own for the workers (the
# schemathesis runs as the administrator and as a caseworker run side by side, not one after the other; a role's
# page checks on its devices and languages spread over both workers).
SPLIT_FILES = ("tests/security/test_schemathesis.py", "tests/browser/test_pages_administrator.py",
               "tests/browser/test_pages_caseworker.py", "tests/browser/test_pages_organiser.py",
               "tests/browser/test_pages_employer.py")


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, but each test of SPLIT_FILES is scheduled on its own."""
    if getattr(config.option, "dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileSplittingLongFiles(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(SPLIT_FILES) else super()._split_scope(nodeid)

    return LoadFileSplittingLongFiles(config, log)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """SQLite in a temporary folder, or XINTU_TEST_DATABASE_URL. Under pytest-xdist each worker gets a database of
    its own: its own SQLite file, or a fresh PostgreSQL database named after the given one and the worker."""
    url = os.environ.get("XINTU_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'xintu-test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine, make_url

    given = make_url(url)
    name = f"{given.database}_{worker}"
    admin = create_engine(given.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a crash: commits return without waiting for the WAL flush.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def shared_app(database_url, tmp_path_factory):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "MODELS_DIR": str(tmp_path_factory.mktemp("models")),
                      "SECRET_KEY": "test", "ID_NUMBER_PEPPER": "test-pepper",
                      "AUDIT_KEY": "test-audit-key-of-at-least-32-bytes",
                      "AUDIT_ANCHOR_PATH": str(tmp_path_factory.mktemp("audit") / "anchors.jsonl"),
                      # Fast hashes: the suite creates hundreds of accounts.
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})

    @app.before_request
    def _forget_previous_login():
        # Tests keep an app context open around client calls, so `g` (where Flask-Login caches the
        # user) would outlive a request; in production every request has a fresh `g`.
        from flask import g

        g.pop("_login_user", None)
    with app.app_context():
        db.drop_all()
        db.create_all()
        from matcher.demo.reference import load_all_reference

        load_all_reference(db.session)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def app(shared_app):
    return shared_app


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        empty_tables(db.session)
        db.session.remove()
    from matcher.matching.pipeline import forget_open_slots

    forget_open_slots()  # the next test's data may repeat this one's version (same ids, a clock standing still)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(ctx):
    return db.session


# ---- a small world: two offices, two bases, a slot each, candidates on both sides ---------------

def make_id_number(region: str = "330782", born: str = "19900101", seq: int = 123) -> str:
    from matcher.identifiers import id_number_check_char

    first17 = f"{region}{born}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_credit_code(body: str = "91330782MA2") -> str:
    from matcher.identifiers import credit_code_check_char

    first17 = (body + "0" * 17)[:17]
    return first17 + credit_code_check_char(first17)


def _world_models() -> dict[str, type]:
    from matcher.bases.models import Company
    from matcher.candidates.models import Candidate
    from matcher.offices.models import JudicialOffice as Office
    from matcher.slots.models import Slot

    return {"office_a": Office, "office_b": Office, "company_a": Company, "company_b": Company,
            "company_applied": Company, "slot_a": Slot, "slot_b": Slot, "draft_a": Slot, "cand_a": Candidate,
            "cand_b": Candidate, "cand_dual": Candidate}


class _LazyAccounts(MutableMapping):
    """The world's accounts by name, each loaded the first time a test reads it; a test may add its own."""

    def __init__(self, session, ids: dict[str, int]):
        self._session, self._ids, self._loaded = session, ids, {}

    def __getitem__(self, name: str):
        if name not in self._loaded:
            from matcher.auth.models import Account

            self._loaded[name] = self._session.get(Account, self._ids[name])
        return self._loaded[name]

    def __setitem__(self, name: str, account) -> None:
        self._ids = {**self._ids, name: account.id}
        self._loaded[name] = account

    def __delitem__(self, name: str) -> None:
        self._ids = {key: value for key, value in self._ids.items() if key != name}
        self._loaded.pop(name, None)

    def __iter__(self):
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class World:
    """The small world's rows, each loaded the first time a test reads it: most tests read two or three of its
    fifteen rows, and a load is a query (with its eager joins) that most would pay for nothing."""

    def __init__(self, session, ids: dict):
        self._session, self._ids = session, ids
        self.tokens = dict(ids["tokens"])
        self.accounts = _LazyAccounts(session, ids["accounts"])

    def __getattr__(self, name: str):  # only for attributes not yet set: the rows
        model = _world_models().get(name)
        if model is None:
            raise AttributeError(name)
        row = self._session.get(model, self._ids[name])
        setattr(self, name, row)
        return row

    def h(self, who: str, lang: str = "en") -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}", "Accept-Language": lang}


CHOUCHENG, FOTANG, JIANGDONG = "330782001", "330782100", "330782002"  # 稠城街道, 佛堂镇, 江东街道


def new_candidate(session, actor, *, residence: str, hukou: str | None = None, seq: int = 1, **extra):
    from matcher.candidates.models import ConsentKind
    from matcher.candidates.service import create_candidate

    data = {
        "name": f"测试{seq}", "id_number": make_id_number(seq=seq), "education": "junior_secondary",
        "hukou": {"code": hukou or residence}, "residence": {"code": residence},
        "release_date": clock.today() - dt.timedelta(days=100), "offence_category": "theft",
        "skills": [{"skill_code": "chinese_cooking", "level": 3}], "preferred_courses": ["cooking"],
        "consents": [ConsentKind.DATA_PROCESSING, ConsentKind.REFERRAL],
    }
    data.update(extra)
    candidate = create_candidate(session=session, actor=actor, data=data)
    session.commit()
    return candidate


def new_slot(session, actor, *, title="厨师", seats=3, open_it=True, **extra):
    from matcher.slots.service import create_slot, set_slot_status

    data = {"kind": "job", "title": title, "course_code": "cooking", "seats": seats,
            "place": {"code": CHOUCHENG}, "starts_on": clock.today(), "pay_min": 4000, "pay_max": 5000,
            "required_skills": [{"skill_code": "chinese_cooking", "level": 2}]}
    data.update(extra)
    slot = create_slot(session=session, actor=actor, data=data)
    if open_it:
        slot = set_slot_status(session=session, actor=actor, slot_id=slot.id, status="open")
    session.commit()
    return slot


def _build_world(session) -> dict:
    """The small world, through the services; its ids and tokens."""
    from matcher.auth.service import create_account, issue_token
    from matcher.bases.service import create_company, decide_certification
    from matcher.offices.service import office_for_township

    office_a = office_for_township(session, CHOUCHENG)
    office_b = office_for_township(session, FOTANG)
    admin = create_account(session=session, actor=None, data=dict(
        username="admin", display_name="Admin", password=PASSWORD, role="administrator", bureau_code="330700"))

    def company(name, code_body):
        c = create_company(session=session, actor=admin, data={
            "name": name, "credit_code": make_credit_code(code_body), "industry": "餐饮",
            "place": {"code": CHOUCHENG}})
        return c

    company_a = company("甲餐饮有限公司", "91330782AAA")
    company_b = company("乙汽车服务有限公司", "91330782BBB")
    company_applied = company("丙物流有限公司", "91330782CCC")
    for c in (company_a, company_b):
        decide_certification(session=session, actor=admin, company_id=c.id, action="certify",
                             valid_until=clock.today() + dt.timedelta(days=365))
    accounts = {"admin": admin}
    for username, role, extra in (
        ("cw_a", "caseworker", {"office_id": office_a.id}),
        ("cw_b", "caseworker", {"office_id": office_b.id}),
        ("emp_a", "employer", {"company_id": company_a.id}),
        ("emp_b", "employer", {"company_id": company_b.id}),
        ("org", "organiser", {"bureau_code": "330700"}),
    ):
        accounts[username] = create_account(session=session, actor=None, data=dict(
            username=username, display_name=username, password=PASSWORD, role=role, **extra))
    tokens = {name: issue_token(session=session, account=acc, ttl_days=1)[0] for name, acc in accounts.items()}
    slot_a = new_slot(session, accounts["emp_a"], title="厨师A")
    slot_b = new_slot(session, accounts["emp_b"], title="汽修B", course_code="auto_repair",
                      required_skills=[{"skill_code": "engine_repair", "level": 2}])
    draft_a = new_slot(session, accounts["emp_a"], title="草稿", open_it=False)
    cand_a = new_candidate(session, accounts["cw_a"], residence=CHOUCHENG, seq=11)
    cand_b = new_candidate(session, accounts["cw_b"], residence=FOTANG, seq=12)
    # Lives in 佛堂 (office B keeps the file), registered in 稠城 (office A may read it).
    cand_dual = new_candidate(session, accounts["cw_b"], residence=FOTANG, hukou=CHOUCHENG, seq=13)
    return {"accounts": {name: acc.id for name, acc in accounts.items()}, "tokens": tokens,
            "office_a": office_a.id, "office_b": office_b.id, "company_a": company_a.id,
            "company_b": company_b.id, "company_applied": company_applied.id, "slot_a": slot_a.id,
            "slot_b": slot_b.id, "draft_a": draft_a.id, "cand_a": cand_a.id, "cand_b": cand_b.id,
            "cand_dual": cand_dual.id}


@pytest.fixture
def world(session, app) -> World:
    """Built through the services once per worker (and date), then restored from its rows for later tests
    (tests/db_support.py): the same rows, ids, tokens and audit chain, committed, at a fraction of the cost."""
    ids = restored(session, "world", lambda: _build_world(session))
    return World(session, ids)


# ---- appended for the API test modules: a client that forgets `g` between requests, and helpers -----

@pytest.fixture
def api(app):
    """A test client whose every request loads its own account and locale.

    While a test holds an app context (`session` and `world` do), Flask reuses that context for the
    client's requests, so the account Flask-Login caches in `g` (and the locale Flask-Babel caches
    there) would carry over from one request to the next: a request sent as one user would run as
    whoever asked first. This client drops both before every request. It commits what the test's session
    holds before each request (the test's setup is its own unit of work, which the request must see), and
    after it rolls back what the request left uncommitted, as the end of a real request (session removal)
    would."""
    from flask import g, has_app_context
    from flask.testing import FlaskClient

    class FreshRequestClient(FlaskClient):
        def open(self, *args, **kwargs):
            held = has_app_context()
            if held:
                db.session.commit()  # the test's own work is a unit of work of its own, before the request's
                for key in ("_login_user", "_flask_babel"):
                    g.pop(key, None)
            try:
                return super().open(*args, **kwargs)
            finally:
                if held:
                    db.session.rollback()

    return FreshRequestClient(app, app.response_class, use_cookies=False)


@pytest.fixture
def kit():
    """The module-level helpers of this conftest, for test modules (they cannot import it)."""
    import types

    return types.SimpleNamespace(
        make_id_number=make_id_number, make_credit_code=make_credit_code, new_candidate=new_candidate,
        new_slot=new_slot, CHOUCHENG=CHOUCHENG, FOTANG=FOTANG, JIANGDONG=JIANGDONG, PASSWORD=PASSWORD)

