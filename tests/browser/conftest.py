"""Browser tests: the web application served live on 127.0.0.1, driven by Playwright in Debian's Chromium.

One server and one browser for the whole session (a small demo city on a fresh SQLite file); every test
opens its own browser contexts (one per role it plays), sized as a desktop or a phone and set to Chinese or
English. A failed test leaves screenshots of its open pages in test-artifacts/screenshots/.

Chromium is Debian's (/usr/bin/chromium), never a downloaded one. Without it the tests are skipped on a
laptop, but fail in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEMO_PASSWORD = "xintu-demo-2026"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
}
# The language a test asks for -> the cookie the app remembers it by, the <html lang>, Accept-Language.
LANGUAGES = {"zh": ("zh_CN", "zh-CN", "zh-CN"), "en": ("en", "en", "en-US")}
TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the web pages in a real (headless) Chromium")
    try:
        from playwright.sync_api import expect
    except ImportError:  # the browser fixture reports it; collection must not break
        return
    expect.set_options(timeout=TIMEOUT_MS)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# ---- the live server -----------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    app: object
    ids: dict = field(default_factory=dict)

    def __call__(self, path: str) -> str:
        return self.url + path

    @contextlib.contextmanager
    def db(self):
        """The live database, for arranging and checking what the pages cannot show."""
        from matcher.extensions import db
        from matcher.uow import unit_of_work

        with self.app.app_context():
            try:
                with unit_of_work():  # arranged as a request would: committed when the block ends
                    yield db.session
            finally:
                db.session.remove()

    def gettext(self, msgid: str, lang: str, **variables) -> str:
        """A message as the app translates it: assertions follow the catalogue, not copied copy."""
        from flask_babel import force_locale, gettext

        with self.app.test_request_context(), force_locale(LANGUAGES[lang][0]):
            return gettext(msgid, **variables)

    def label(self, group: str, code: str, lang: str) -> str:
        """The shown label of a stored code (a status, say) in a language: 已发送至基地 / Sent to base."""
        from matcher.web.labels import LABELS

        return self.gettext(LABELS[group][code], lang)


@pytest.fixture(scope="session")
def live_server():
    from werkzeug.serving import make_server

    from matcher import create_app
    from matcher.demo.generator import DemoSpec, build_demo
    from matcher.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="xintu-browser-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'browser.db'}", "MODELS_DIR": str(tmp / "models"),
                      "SECRET_KEY": "browser-tests", "ID_NUMBER_PEPPER": "browser-pepper",
                      "AUDIT_KEY": "browser-tests-audit-key-of-32-bytes+",
                      "AUDIT_ANCHOR_PATH": str(tmp / "anchors.jsonl"),
                      # Every test logs in from 127.0.0.1, often as the same demo users: throttling (tested in
                      # tests/security) would answer 429 before the session is over.
                      "LOGIN_RATE_LIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        build_demo(db.session, DemoSpec(seed=7, candidates=400, open_slots=30, certified_bases=6),
                   echo=lambda _line: None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="xintu-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- the browser -----------------------------------------------------------------------------------

def _browser_environment() -> dict[str, str]:
    """The browser runs on the machine's real clock: the suite may run under libfaketime (README, Dates and
    times), which moves the service's clock (the one the pages are about) but makes Chromium hang at exit."""
    return {name: value for name, value in os.environ.items()
            if name != "LD_PRELOAD" and not name.startswith("FAKETIME")}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
        if _in_ci():
            pytest.fail(message + "; CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="xintu-chromium-")
    with sync_playwright() as playwright:
        # A persistent context is the only way to give Chromium its own fresh --user-data-dir; every
        # test then opens new (incognito-like) contexts from its browser, so no state is shared.
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, env=_browser_environment())
        try:
            yield context.browser
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


class Pages:
    """Opens pages for a test: one browser context per role, sized for a device, in a language."""

    def __init__(self, browser, live_server: LiveServer):
        self.browser = browser
        self.live = live_server
        self.contexts: list = []
        self.pages: list = []

    def open(self, *, device: str = "desktop", lang: str = "zh"):
        cookie_value, _html_lang, accept = LANGUAGES[lang]
        context = self.browser.new_context(locale=accept, **DEVICES[device])
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([{"name": "lang", "value": cookie_value, "url": self.live.url}])
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append(page)
        return page

    def login(self, username: str, *, device: str = "desktop", lang: str = "zh", password: str = DEMO_PASSWORD):
        """A page logged in as `username`, on the role's home."""
        page = self.open(device=device, lang=lang)
        page.goto(self.live("/login"))
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation() as navigation:
            page.locator("form button[type=submit]").first.click()
        response = navigation.value
        assert "/login" not in page.url, f"login as {username} failed: still on {page.url}"
        assert response is not None and response.ok, f"{username}'s home answered {response and response.status}"
        return page

    def close(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except Exception:  # noqa: BLE001 - the browser may already be gone
                pass


@pytest.fixture
def pages(browser, live_server):
    opened = Pages(browser, live_server)
    yield opened
    opened.close()


# ---- screenshots of failures ------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    opened = item.funcargs.get("pages") if hasattr(item, "funcargs") else None
    if not isinstance(opened, Pages) or not opened.pages:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1]).strip("_")
    for index, page in enumerate(opened.pages):
        name = test_id if index == 0 else f"{test_id}-{index + 1}"
        try:
            if not page.is_closed():
                page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot must never hide the failure itself
            pass
