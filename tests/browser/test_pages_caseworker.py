"""Every page of the caseworker, on a desktop and a phone, in Chinese and English (tests/browser/pagecheck.py)."""

from __future__ import annotations

import pytest

from tests.browser.pagecheck import MATRIX, MATRIX_IDS, role_pages, run_checks

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device,lang", MATRIX, ids=MATRIX_IDS)
def test_every_caseworker_page_looks_right(browser, live_server, device, lang):
    run_checks(browser, live_server, role="caseworker", device=device, lang=lang,
               paths=role_pages(live_server, browser, "caseworker"))
