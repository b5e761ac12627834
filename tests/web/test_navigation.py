"""The navigation (base.html, _nav.html; issue 15, item 7): one row on an office desktop, with the rarer pages
under "More" and the account's name holding the logout; on a phone one menu button that opens it all. The page
checks (tests/browser/test_pages_*.py) measure it in Chromium; these say what the markup promises."""

from __future__ import annotations

import re

import pytest


def html(response) -> str:
    return response.get_data(as_text=True)


def bar_items(page_html: str) -> list[str]:
    """The texts of the links sitting in the bar itself (not in a group)."""
    nav = page_html.split('id="main-nav"', 1)[1].split("</nav>", 1)[0]
    outside_groups = re.sub(r"<details.*?</details>", "", nav, flags=re.S)
    return [re.sub(r"<[^>]+>|\s+", "", text) for text in re.findall(r"<a [^>]*>(.*?)</a>", outside_groups, re.S)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_administrators_bar_is_short_and_the_rest_is_under_more(browser, lang):
    page = html(browser("admin", lang).get("/admin"))
    # Fourteen links in one bar broke words on a 1366 px desktop ("新/途", "退出登/录").
    assert len(bar_items(page)) <= 8, bar_items(page)
    assert 'data-nav-toggle aria-expanded="false"' in page and 'aria-controls="main-nav"' in page
    more = page.split("data-nav-group>", 1)[1].split("</details>", 1)[0]
    for path in ("/admin/base-records", "/admin/release-lists", "/admin/export-requests", "/jobs"):
        assert f'href="{path}"' in more, path
    account = page.split('data-testid="account-menu"', 1)[1].split("</details>", 1)[0]
    assert 'action="/logout"' in account


def test_the_current_page_is_marked(browser):
    page = html(browser("cw_a").get("/caseworker/referrals"))
    assert re.search(r'<a href="/caseworker/referrals" aria-current="page"', page)


def test_english_pages_use_english_colons(browser, world):
    """"Sent to base：3" in English: the label's colon follows the page's language."""
    page = html(browser("cw_a", "en").get(f"/caseworker/candidates/{world.cand_a.id}"))
    assert "：" not in page.split('id="consent"', 1)[1].split("</section>", 1)[0]
    zh = html(browser("cw_a", "zh").get(f"/caseworker/candidates/{world.cand_a.id}"))
    assert "：" in zh.split('id="consent"', 1)[1].split("</section>", 1)[0]
