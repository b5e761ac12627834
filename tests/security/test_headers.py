"""Every answer carries the security headers; personal data is never cached; pages need no inline code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROLES = ("admin", "cw_a", "emp_a", "org")
TEMPLATES = Path(__file__).resolve().parents[2] / "matcher" / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.I)


def assert_security_headers(response, *, url: str, personal: bool = True, https: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp, url
    assert "frame-ancestors 'none'" in csp and "base-uri 'self'" in csp and "form-action 'self'" in csp, url
    assert "img-src 'self' data:" in csp, url
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") == "same-origin", url
    assert ("Strict-Transport-Security" in headers) == https, url
    if personal:
        assert headers.get("Cache-Control") == "no-store", url


def _page_routes(app) -> list[str]:
    """The web blueprint's GET pages that take no parameters."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("web.") and "GET" in rule.methods and not rule.arguments)


def test_every_page_of_every_role_carries_the_headers(app, world, pages):
    routes = _page_routes(app)
    assert len(routes) > 20
    ids = [f"/caseworker/candidates/{world.cand_a.id}", f"/employer/slots/{world.slot_a.id}",
           f"/admin/bases/{world.company_a.id}", f"/admin/accounts/{world.accounts['cw_a'].id}"]
    seen_ok = 0
    for role in ROLES:
        client = pages(role)
        for url in routes + ids:
            response = client.get(url)
            assert response.status_code < 500, (role, url)
            assert_security_headers(response, url=f"{role} {url}")
            if response.status_code == 200 and response.mimetype == "text/html":
                seen_ok += 1
                html = response.get_data(as_text=True)
                assert not INLINE_SCRIPT.search(html), (role, url, INLINE_SCRIPT.search(html).group(0))
                assert not INLINE_STYLE.search(html), (role, url, INLINE_STYLE.search(html).group(0))
    assert seen_ok > 25  # each role's own pages rendered, not only redirects and not-found pages


def test_anonymous_pages_api_and_errors_carry_the_headers(client, world):
    for url in ("/login", "/", "/no-such-page", "/healthz", "/api/v1/me", "/api/v1/slots"):
        assert_security_headers(client.get(url, headers={"Accept": "text/html"}), url=url)
    api = client.get("/api/v1/slots", headers=world.h("cw_a"))
    assert api.status_code == 200
    assert_security_headers(api, url="/api/v1/slots (token)")


def test_static_files_and_the_api_description_may_be_cached(client):
    for url in ("/static/xintu.css", "/api/openapi.json", "/api/docs"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url=url, personal=False)
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


def test_hsts_only_over_https(client):
    assert_security_headers(client.get("/login", base_url="https://localhost"), url="https /login", https=True)
    assert "max-age=" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]
    assert_security_headers(client.get("/login"), url="http /login", https=False)


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_hold_no_inline_script_or_style(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(source), "move it into matcher/static (CSP: script-src 'self')"
    assert not INLINE_STYLE.search(source), "move it into matcher/static (CSP: style-src 'self')"


def test_swagger_ui_page_has_no_inline_script(client):
    html = client.get("/api/docs").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html and "/static/swagger-init.js" in html
    assert not INLINE_SCRIPT.search(html)
