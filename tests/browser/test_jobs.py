"""A long job in a real browser: the administrator starts a batch assignment, the job page follows it with the
polling script (no inline script: the CSP holds) and shows the result once it is done."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_batch_assignment_job_is_followed_to_its_result(pages, live_server):
    page = pages.login("admin", lang="zh")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server("/jobs"))
    form = page.get_by_test_id("assignment-form")
    form.locator("input[name=course]").fill("cooking")
    with page.expect_navigation():
        page.get_by_test_id("start-assignment").click()
    assert "/jobs/" in page.url
    # The job runs in a thread of the live server (no queue configured); the script polls, then reloads.
    job = page.get_by_test_id("job")
    expect(job).to_have_attribute("data-job-state", "succeeded", timeout=60_000)
    expect(page.get_by_test_id("job-result")).to_be_visible()
    expect(page.get_by_test_id("result-link")).to_contain_text("/api/v1/assignments/")
    assert not [e for e in errors if "Content Security Policy" in e], errors
