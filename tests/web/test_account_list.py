"""The administrators' accounts list: search by any part of a username or name, sort by column, and each
account's scope in words (its office, its base's name, its bureau's area), never "company #3" or "330782"."""

from __future__ import annotations

import re


def _usernames(body: str) -> list[str]:
    table = body.split('data-testid="accounts"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'href="/admin/accounts/\d+">([^<]+)</a>', table)


def test_search_and_sort(browser, world):
    page = browser("admin")
    everyone = _usernames(page.get("/admin/accounts").get_data(as_text=True))
    assert len(everyone) > 3
    found = _usernames(page.get("/admin/accounts?q=cw_").get_data(as_text=True))
    assert found and all("cw_" in name for name in found)
    assert _usernames(page.get("/admin/accounts?q=没有这个人").get_data(as_text=True)) == []
    ascending = page.get("/admin/accounts?sort=username").get_data(as_text=True)
    assert _usernames(ascending) == sorted(everyone) and 'aria-sort="ascending"' in ascending
    descending = _usernames(page.get("/admin/accounts?sort=-username").get_data(as_text=True))
    assert descending == sorted(everyone, reverse=True)
    assert page.get("/admin/accounts?sort=password_hash").status_code == 200  # not a column: the default order


def test_scope_is_shown_in_words(browser, world):
    body = browser("admin").get("/admin/accounts").get_data(as_text=True)
    table = body.split('data-testid="accounts"', 1)[1].split("</table>", 1)[0]
    assert world.company_a.name in table
    assert not re.search(r">\s*33\d{4,10}\s*<", table)  # no bare place code
    assert "company #" not in table and "基地 #" not in table
