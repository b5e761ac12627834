"""The calendar pages (issue 15): week and month views for every role, the .ics download, the secret feed link."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar

from matcher import clock
from matcher.extensions import db


def body(response) -> str:
    return response.get_data(as_text=True)


def raw_get(page, url):
    """A download through the page client (its own get() parses every answer as a page)."""
    from flask import g

    for key in ("_login_user", "_flask_babel", "csrf_token"):
        g.pop(key, None)
    try:
        return page.client.get(url, headers={"Accept-Language": "zh-CN"})
    finally:
        db.session.rollback()


@pytest.fixture
def releasing(world, session):
    world.cand_a.release_date = clock.today() + dt.timedelta(days=1)
    session.commit()
    return world.cand_a


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("who", ["cw_a", "emp_a", "org", "admin"])
@pytest.mark.parametrize("view", ["week", "month"])
def test_every_role_has_a_week_and_a_month(browser, world, who, lang, view):
    page = browser(who, lang=lang)
    response = page.get(f"/calendar?view={view}&date={clock.today().isoformat()}")
    html = body(response)
    assert response.status_code == 200
    assert f'data-testid="cal-{view}"' in html and 'data-testid="calendar-link"' in html
    assert ("日历" if lang == "zh" else "Calendar") in html


def test_the_week_shows_a_release_day_without_the_name(browser, world, releasing):
    html = body(browser("cw_a").get(f"/calendar?view=week&date={releasing.release_date.isoformat()}"))
    event = html.split('data-kind="release"')[1].split("</li>")[0]
    assert "释放日" in event and f"{releasing.public_id} 测*" in event
    assert releasing.name not in html  # 测试11: only 测* is shown
    assert f'href="/caseworker/candidates/{releasing.id}"' in event


def test_month_view_and_a_bad_date_falls_back_to_today(browser, world):
    page = browser("cw_a")
    month = body(page.get("/calendar?view=month&date=2026-02-10"))
    assert "2026年2月1日 – 2026年2月28日" in month
    assert page.get("/calendar?view=year&date=nonsense").status_code == 200


def test_download_is_an_icalendar_file_in_china_time(browser, world, releasing):
    page = browser("cw_a")
    response = raw_get(page, "/calendar/download.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    [event] = [e for e in calendar.walk("VEVENT") if str(e["uid"]).startswith(f"release-{releasing.id}@")]
    assert str(event["summary"]) == f"释放日：{releasing.public_id} 测*"
    assert event.decoded("dtstart") == releasing.release_date  # a whole day
    assert releasing.name.encode() not in response.data and world.cand_a.id_number_masked.encode() not in response.data
    assert "Asia/Shanghai" in response.data.decode()


def test_the_feed_link_is_shown_once_replaced_and_turned_off(browser, world, releasing):
    page = browser("cw_a")
    page.get("/calendar")
    made = body(page.post("/calendar/feed"))
    url = re.search(r'data-testid="feed-url"|value="(http[^"]+/calendar/feed/[^"]+\.ics)"', made)
    url = re.search(r'id="feed-url" readonly value="([^"]+)"', made).group(1)
    path = url.split("localhost", 1)[1]
    anonymous = browser()
    feed = raw_get(anonymous, path)
    assert feed.status_code == 200 and f"{releasing.public_id} 测*".encode() in feed.data
    assert path.rsplit("/", 1)[1] not in body(page.get("/calendar"))  # shown only once
    page.post("/calendar/feed")  # a new link: the old one stops working
    assert raw_get(anonymous, path).status_code == 404
    newer = re.search(r'id="feed-url" readonly value="([^"]+)"', body(page.post("/calendar/feed"))).group(1)
    page.post("/calendar/feed/revoke")
    assert raw_get(anonymous, newer.split("localhost", 1)[1]).status_code == 404
    assert raw_get(anonymous, "/calendar/feed/cal_guess.ics").status_code == 404


def test_download_needs_a_login(browser, world):
    assert raw_get(browser(), "/calendar/download.ics").status_code == 302


def test_a_busy_day_in_the_month_shows_four_and_links_to_the_rest(browser, world, session):
    from matcher.agenda import service as agenda

    day = clock.today()

    def many(session, actor, first, last):
        return [agenda.Event(uid=f"x-{n}", kind=agenda.Kind.FAIR, day=day, subject=f"招聘会{n}") for n in range(6)]

    agenda.SOURCES.append(many)
    try:
        html = body(browser("org").get(f"/calendar?view=month&date={day.isoformat()}"))
    finally:
        agenda.SOURCES.remove(many)
    assert html.count('data-kind="fair"') == 4 and "另有 2 项" in html
