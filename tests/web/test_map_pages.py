"""The map pages (issue 15): server-side SVG from shipped data, counts only, linked from the navigation."""

from __future__ import annotations

import re

import pytest

from matcher.extensions import db


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_caseworker_map_draws_counts_bases_and_slots_without_addresses(browser, world, session, lang):
    world.cand_a.residence_address = "稠城街道某某路88号"
    session.commit()
    page = browser("cw_a", lang=lang)
    home = body(page.get("/caseworker"))
    assert 'href="/caseworker/map" data-testid="map-link"' in home
    response = page.get("/caseworker/map")
    html = body(response)
    assert response.status_code == 200 and '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert html.count('data-testid="map-count"') == 2  # 稠城 and 佛堂, one person each
    assert "某某路" not in html and world.cand_a.name not in html and world.cand_dual.name not in html
    assert "甲餐饮有限公司" in html and html.count("<rect x=") >= 2  # bases are companies: drawn by name
    assert "义乌市" in html and "<polygon points=" in html  # the district sketched from shipped centres
    assert "tile" not in html.lower() and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert re.search(r"<td>义乌市</td><td>稠城街道</td><td>1</td>", html)


def test_the_organiser_map_and_its_fair_choice(browser, world, session):
    import datetime as dt

    from matcher import clock
    from matcher.fairs import service as fairs

    org = world.accounts["org"]
    fair = fairs.create_fair(session=session, actor=org, data=dict(
        name="春风行动招聘会", held_on=clock.today() + dt.timedelta(days=3), venue="义乌市人力资源市场",
        starts_at=dt.time(9, 0), block_minutes=30, n_blocks=4, max_interviews=2))
    fairs.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": [world.cand_a.public_id]})
    db.session.commit()
    page = browser("org")
    assert 'href="/organiser/map" data-testid="map-link"' in body(page.get("/organiser"))
    html = body(page.get(f"/organiser/map?fair={fair.id}"))
    assert f'<option value="{fair.id}" selected>' in html
    assert html.count('data-testid="map-count"') == 1 and world.cand_a.name not in html
    assert page.get(f"/organiser/map?fair={fair.id + 999}").status_code == 404


@pytest.mark.parametrize("who,url", [("emp_a", "/caseworker/map"), ("emp_a", "/organiser/map"),
                                     ("cw_a", "/organiser/map"), ("org", "/caseworker/map")])
def test_other_roles_do_not_get_the_map(browser, world, who, url):
    assert browser(who).get(url).status_code == 404
