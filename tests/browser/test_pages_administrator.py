"""Every page of the administrator: on its device in Chinese and English, on the other in Chinese
(tests/browser/pagecheck.py, role_matrix)."""

from __future__ import annotations

import pytest

from tests.browser.pagecheck import matrix_ids, role_matrix, role_pages, run_checks

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device,lang", role_matrix("administrator"), ids=matrix_ids(role_matrix("administrator")))
def test_every_administrator_page_looks_right(browser, live_server, device, lang):
    run_checks(browser, live_server, role="administrator", device=device, lang=lang,
               paths=role_pages(live_server, browser, "administrator"))
