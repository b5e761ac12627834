"""The place picker in a real browser (issue 15): choosing a district narrows the townships through htmx, under the
Content-Security-Policy, on the employer's phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_district_narrows_the_townships_on_the_phone(pages):
    page = pages.login("employer", device="phone")
    page.goto(pages.live("/employer/slots/new"))
    townships = page.locator("#place option")
    everything = townships.count()
    assert page.locator("#place optgroup").count() >= 10  # without a district: every township, grouped
    with page.expect_response(lambda r: "/places/townships" in r.url and r.ok):
        page.select_option("#place_district", "330783")
    # Waited for from Python, not with a page-side predicate: under the policy (no 'unsafe-eval') the page may not
    # evaluate a string of script, and a test must not loosen the policy it checks.
    expect(townships).not_to_have_count(everything)
    assert 10 < townships.count() < everything and page.locator("#place optgroup").count() == 0
    page.select_option("#place", label="吴宁街道")
    assert page.locator("#place").input_value() == "330783001"
