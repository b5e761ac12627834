"""The Content-Security-Policy (no inline scripts or styles) breaks nothing: Swagger UI, the dashboard's
charts and the caseworker's pages work in a real browser without a single CSP violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _watch_violations(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    return violations


def test_swagger_ui_works_under_the_csp(pages, live_server):
    page = pages.open(lang="en")
    violations = _watch_violations(page)
    page.goto(live_server("/api/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Xintu")
    expect(page.locator(".opblock").first).to_be_visible()
    assert not violations, violations


def test_dashboard_charts_and_caseworker_pages_have_no_csp_violations(pages, live_server):
    admin = pages.login("admin", lang="en")
    violations = _watch_violations(admin)
    admin.goto(live_server("/admin"))
    expect(admin.locator("#chart-district")).to_be_visible()
    # Chart.js drew on both canvases (a blank canvas stays 0 x 0 in the backing store until drawn).
    admin.wait_for_function("() => window.Chart && Chart.getChart('chart-district') && Chart.getChart('chart-months')")
    admin.goto(live_server("/admin/base-records"))
    assert not violations, violations
    caseworker = pages.login("cw330782001", lang="en")
    violations = _watch_violations(caseworker)
    caseworker.goto(live_server("/caseworker/referrals"))
    caseworker.goto(live_server("/caseworker/follow-up"))
    board = caseworker.locator(".board, .tasks").first
    if board.count():
        assert board.evaluate("el => getComputedStyle(el).display") == "grid"  # the moved stylesheet applies
    assert not violations, violations


@pytest.mark.parametrize("username,prefixes", [
    ("admin", ("/admin", "/notifications")), ("organiser", ("/organiser",)),
    ("cw330782001", ("/caseworker",)), ("employer", ("/employer",))])
def test_every_page_of_a_role_has_no_csp_violations(pages, live_server, username, prefixes):
    urls = sorted(rule.rule for rule in live_server.app.url_map.iter_rules()
                  if rule.endpoint.startswith("web.") and "GET" in rule.methods and not rule.arguments
                  and rule.rule.startswith(prefixes) and not rule.rule.endswith((".xlsx", ".csv")))
    assert urls
    page = pages.login(username, lang="en")
    violations = _watch_violations(page)
    for url in urls:
        response = page.goto(live_server(url))
        assert response is not None and response.ok, url
        page.wait_for_load_state("load")
    assert not violations, violations
