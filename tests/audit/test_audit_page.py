"""The audit log page in words: 修改 安置基地 #46 instead of "update companies:46", a select of the labelled actions
(读取 finds the reads), search and sort by column, and filtering again after 校验哈希链 (no 405)."""

from __future__ import annotations

import re

from matcher.audit.service import record


def _events(world, session):
    cw, admin = world.accounts["cw_a"], world.accounts["admin"]
    record(session, actor=cw, action="read", object_type="candidate", object_id=world.cand_a.id,
           fields=("risk_grade", "offence_category"))
    record(session, actor=admin, action="update", object_type="companies", object_id=46, fields=("name",))
    session.commit()


def _rows(body: str) -> list[str]:
    table = body.split('data-testid="audit-events"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"<[^>]+>|\s+", " ", row).strip().lstrip("> ") for row in table.split("<tr")[2:]]


def test_events_are_described_in_words_in_chinese(world, session, browser):
    _events(world, session)
    body = browser("admin").get("/admin/audit").get_data(as_text=True)
    rows = _rows(body)
    assert any("修改 安置基地 #46" in row for row in rows), rows[:3]
    assert any(f"读取 帮教对象档案 #{world.cand_a.id}" in row and "风险等级" in row for row in rows), rows[:3]
    assert "update companies:46" not in body and "companies:46<" not in body
    assert ">risk_grade<" not in body and ">update<" not in body


def test_filtering_by_the_shown_action_finds_the_reads(world, session, browser):
    _events(world, session)
    page = browser("admin")
    body = page.get("/admin/audit").get_data(as_text=True)
    assert '<option value="read">读取</option>' in body  # the select offers the action as it is shown
    reads = _rows(page.get("/admin/audit?action=read").get_data(as_text=True))
    assert reads and all("读取" in row for row in reads)
    assert not any("修改" in row for row in reads)
    searched = _rows(page.get("/admin/audit?q=读取").get_data(as_text=True))  # typed into the search box too
    assert searched and all("读取" in row for row in searched)
    assert any("修改 安置基地 #46" in row for row in _rows(page.get("/admin/audit?q=安置基地").get_data(as_text=True)))


def test_filter_after_verifying_the_chain_is_not_a_405(world, session, browser):
    """Today: 校验哈希链 renders the log at /admin/audit/verify, whose filter form GETs that POST-only URL."""
    _events(world, session)
    page = browser("admin")
    verified = page.post("/admin/audit/verify?action=read", follow_redirects=True)
    body = verified.get_data(as_text=True)
    assert verified.status_code == 200 and verified.request.path == "/admin/audit"
    assert 'data-testid="audit-verified"' in body
    assert 'action="/admin/audit"' in body.split('data-testid="audit-filters"')[0].rsplit("<form", 1)[1]
    assert all("读取" in row for row in _rows(body))  # the filters it was verified from are kept
    again = page.get("/admin/audit?action=update")
    assert again.status_code == 200 and "405" not in again.get_data(as_text=True)
    # The outcome is shown once: reloading the log does not show it again.
    assert 'data-testid="audit-verified"' not in again.get_data(as_text=True)


def test_search_and_sort(world, session, browser):
    _events(world, session)
    page = browser("admin")
    found = _rows(page.get("/admin/audit?q=cw_").get_data(as_text=True))
    assert found and all("cw_" in row for row in found)
    assert any("修改 安置基地 #46" in row for row in _rows(page.get("/admin/audit?q=46").get_data(as_text=True)))
    body = page.get("/admin/audit?sort=action").get_data(as_text=True)
    assert 'aria-sort="ascending"' in body
    ascending = [int(row.split()[0]) for row in _rows(page.get("/admin/audit?sort=id").get_data(as_text=True))]
    assert ascending == sorted(ascending)
    assert page.get("/admin/audit?sort=nonsense").status_code == 200


def test_api_searches_and_sorts(world, session, api):
    _events(world, session)
    h = world.h("admin")
    found = api.get("/api/v1/audit-events?q=46&sort=id", headers=h).json
    assert [e["object_type"] for e in found if e["object_id"] == 46] == ["companies"]
    assert api.get("/api/v1/audit-events?sort=bogus", headers=h).status_code == 422
