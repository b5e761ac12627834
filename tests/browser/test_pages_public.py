"""The pages without a role (login, a page not found), and that the page checks reach every page of the app."""

from __future__ import annotations

import pytest

from tests.browser.pagecheck import GALLERY, MATRIX, MATRIX_IDS, ROLES, SKIPPED, page_rules, role_pages, run_checks

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device,lang", MATRIX, ids=MATRIX_IDS)
def test_the_login_and_error_pages_look_right(browser, live_server, device, lang):
    run_checks(browser, live_server, role=None, device=device, lang=lang,
               paths=[("web.login", "/login"), ("error", "/no-such-page")])


def test_the_page_checks_reach_every_page(browser, live_server):
    checked = {role: role_pages(live_server, browser, role) for role in ROLES}
    reached = {endpoint for pages in checked.values() for endpoint, _path in pages}
    rules = {rule.endpoint: rule.rule for rule in page_rules(live_server.app)}
    lines = [f"{role:<14} {endpoint:<40} {path}" for role, pages in checked.items() for endpoint, path in pages]
    lines += [f"{'skipped':<14} {endpoint:<40} {reason}" for endpoint, reason in sorted(SKIPPED.items())]
    GALLERY.mkdir(parents=True, exist_ok=True)
    (GALLERY / "pages.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    missing = sorted(f"{rule} ({endpoint})" for endpoint, rule in rules.items() if endpoint not in reached)
    assert not missing, ("pages no role reaches through the links of its pages (give the role a link, or add "
                         "the endpoint to SKIPPED in tests/browser/pagecheck.py with the reason):\n  "
                         + "\n  ".join(missing))
