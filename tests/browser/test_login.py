"""The login page in a real browser: keyboard order, the language switch (remembered), wrong passwords, logout."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)")


@pytest.mark.parametrize("lang,device", [("zh", "desktop"), ("en", "phone")])
def test_login_form_is_keyboard_reachable_and_usable(pages, live_server, lang, device):
    page = pages.open(device=device, lang=lang)
    page.goto(live_server("/login"))
    # From the top of the page, Tab reaches the username field within a few stops (skip link, brand,
    # language switch), then goes username -> password -> the submit button.
    for _ in range(10):
        page.keyboard.press("Tab")
        if _focused_id(page) == "username":
            break
    assert _focused_id(page) == "username", "Tab never reached the username field"
    page.keyboard.type("cw330782001")
    page.keyboard.press("Tab")
    assert _focused_id(page) == "password"
    page.keyboard.type("xintu-demo-2026")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.type]")
    assert focused == ["BUTTON", "submit"]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")


def test_language_is_chinese_by_default_and_english_is_remembered(pages, live_server):
    page = pages.open(lang="zh")
    page.context.clear_cookies()  # no remembered choice: the Chinese default
    page.goto(live_server("/login"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text(live_server.gettext("Log in", "zh"))
    assert live_server.gettext("Log in", "zh") == "登录"

    page.locator("a[href*='/language/en']").first.click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in")
    assert "/login" in page.url  # the switch comes back to the page it was asked on

    page.goto(live_server("/login"))  # remembered (cookie)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("a[href*='/language/zh_CN']").first.click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("登录")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_wrong_password_shows_the_error_next_to_the_field(pages, live_server, lang):
    page = pages.open(lang=lang)
    page.goto(live_server("/login"))
    page.fill("#username", "cw330782001")
    page.fill("#password", "not-the-password")
    page.locator("form button[type=submit]").first.click()
    error = page.locator("#login-error")
    expect(error).to_have_text(live_server.gettext("Wrong username or password.", lang))
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#username")).to_have_value("cw330782001")


@pytest.mark.parametrize("username,home", [("admin", "/admin"), ("employer", "/employer"),
                                           ("cw330782001", "/caseworker")])
def test_each_role_lands_on_its_home_and_can_log_out(pages, live_server, username, home):
    page = pages.login(username, lang="en")
    assert page.url.rstrip("/").endswith(home), page.url
    page.goto(live_server("/"))
    assert page.url.rstrip("/").endswith(home), page.url
    page.get_by_test_id("account-menu").click()  # the account's menu (its name) holds the logout button
    page.locator("form[action$='/logout'] button").first.click()
    page.wait_for_load_state()
    assert "/login" in page.url
    expect(page.locator(".flash").first).to_have_text(live_server.gettext("You have logged out.", "en"))
    page.goto(live_server(home))
    assert "/login" in page.url  # logged out for real
