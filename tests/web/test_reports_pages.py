"""The administrator's report page: the period picker and area, every figure with its definition, the tables by
district and office, charts without inline script, the print layout and the Excel download."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from html import unescape

import pytest

from matcher.clock import today

Y = today().year - 1


def html(response) -> str:
    return response.get_data(as_text=True)


def _download(page, url):
    """A binary answer: the page client reads every answer as text (for its CSRF token), so go round it."""
    from flask import g

    from matcher.extensions import db

    for key in ("_login_user", "_flask_babel", "csrf_token"):
        g.pop(key, None)
    try:
        return page.client.get(url, headers={"Accept-Language": "en" if page.lang == "en" else "zh-CN"})
    finally:
        db.session.rollback()


def _figures(body: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="figure-(\w+)"[^>]*>\s*<small>[^<]*</small>\s*'
                           r'<div class="figure" data-value="([^"]*)"', body))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_every_figure_with_its_definition(browser, world, session, lang):
    from matcher.reports.definitions import FIGURES
    from matcher.reports.service import report

    page = browser("admin", lang)
    response = page.get("/admin/reports")
    assert response.status_code == 200
    body = html(response)
    expected = report(session=session, actor=world.accounts["admin"], date_from=dt.date(today().year, 1, 1),
                      date_to=dt.date(today().year, 12, 31))["figures"]
    shown = _figures(body)
    assert set(shown) == {f.key for f in FIGURES}
    for key, value in expected.items():
        assert shown[key] == ("" if value is None else str(value)), key
    if lang == "en":
        assert "Registered candidates" in body and "People who started a job (a job slot) in the period" in body
        assert "What is counted" in body and "How the figures are counted" in body
    else:
        assert "在册安置帮教对象" in body and "统计期内开始就业（就业岗位）的人数" in body and "统计口径" in body
    assert 'data-testid="by-district"' in body and 'data-testid="by-office"' in body
    assert body.count('<tr data-code="330') == 9 + 146  # every district and every office of 金华市
    assert re.search(r'<tr data-code="330782001"><th scope="row">[^<]+</th><td>义乌市</td>\s*'
                     r'<td data-key="registered">1</td>', body)


def test_charts_and_scripts_are_files_not_inline(browser, world):
    body = html(browser("admin", "en").get(f"/admin/reports?year={Y}"))
    assert "vendor/chartjs/chart.umd.min.js" in body and "reports.js" in body and "reports.css" in body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), "no inline script: the CSP forbids it"
    assert " on" + "click=" not in body
    charts = {name: json.loads(unescape(data)) for name, data in
              re.findall(r'<canvas id="chart-(\w+)"[^>]*data-chart=\'([^\']*)\'', body)}
    assert set(charts) == {"months", "areas"}
    assert charts["months"]["labels"] == [f"{Y}-{m:02d}" for m in range(1, 13)]
    assert [d["label"] for d in charts["months"]["datasets"]] == ["Newly received", "Placed in work or training",
                                                                   "Stayed 90 days"]
    assert len(charts["areas"]["labels"]) == 9 and charts["areas"]["horizontal"] is True


def test_the_period_picker(browser, world):
    page = browser("admin", "en")
    first_half = html(page.get(f"/admin/reports?part=h1&year={Y}"))
    assert f"{Y}-01-01" in first_half and f'value="{Y}-06-30"' in first_half
    assert 'data-testid="report-period"' in first_half
    second = html(page.get(f"/admin/reports?part=h2&year={Y}"))
    assert f'value="{Y}-07-01"' in second and f'value="{Y}-12-31"' in second
    dates = html(page.get(f"/admin/reports?part=dates&from={Y}-03-05&to={Y}-04-06"))
    assert f'value="{Y}-03-05"' in dates and f'value="{Y}-04-06"' in dates
    assert f"{Y}-03" in dates and f'"{Y}-05"' not in dates  # the month chart covers March and April only
    assert 'id="district-error"' not in dates


def test_one_district_and_one_office(browser, world):
    page = browser("admin", "en")
    district = html(page.get("/admin/reports?district=330782"))
    assert 'data-testid="by-district"' not in district and "义乌市" in district
    assert _figures(district)["registered"] == "3"
    office = html(page.get(f"/admin/reports?office_id={world.office_b.id}"))
    assert _figures(office)["registered"] == "2" and 'id="chart-areas"' not in office
    assert f'<option value="{world.office_b.id}" selected>' in office


@pytest.mark.parametrize(("query", "field"), [
    ("district=110101", "district"),
    ("district=330702&office_id={office_a}", "office_id"),
    ("office_id=abc", "office_id"),
    (f"part=dates&from={Y}-05-01&to={Y}-04-01", "date_to"),
    ("part=dates&from={tomorrow}&to={tomorrow}", "date_from"),
])
def test_a_bad_choice_is_shown_next_to_its_field(browser, world, query, field):
    page = browser("admin", "zh")
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    response = page.get("/admin/reports?" + query.format(office_a=world.office_a.id, tomorrow=tomorrow))
    assert response.status_code == 200
    body = html(response)
    assert f'id="{field}-error"' in body
    assert 'class="flash flash-error" role="alert"' in body and 'data-testid="fallback"' in body
    assert _figures(body)["registered"] == "3"  # the whole area, this year, instead


def test_the_excel_download_follows_the_choice(browser, world):
    from openpyxl import load_workbook

    page = browser("admin", "en")
    body = html(page.get(f"/admin/reports?part=h1&year={Y}&district=330782"))
    link = unescape(re.search(r'href="([^"]*figures\.xlsx[^"]*)"', body).group(1))
    assert f"year={Y}" in link and "part=h1" in link and "district=330782" in link and "lang=en" in link
    response = _download(page, link)
    assert response.status_code == 200
    assert f'filename="report-330782-{Y}0101-{Y}0630.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Summary", "By district", "By office", "By month"]
    assert book["Summary"]["B2"].value == "义乌市" and book["By month"].max_row == 6 + 2
    chinese = load_workbook(io.BytesIO(_download(page, link.replace("lang=en", "lang=zh")).data))
    assert chinese.sheetnames[0] == "汇总"


def test_the_print_layout_is_a4(app):
    css = (app.static_folder and open(f"{app.static_folder}/reports.css", encoding="utf-8").read())
    assert "@media print" in css and "size: A4 landscape" in css
    assert ".print-hide" in css and ".report-section { break-before: page; }" in css


def test_only_administrators_see_reports(browser, world):
    for who in ("cw_a", "emp_a", "org"):
        page = browser(who, "en")
        assert page.get("/admin/reports").status_code == 404
        assert page.get("/admin/reports/figures.xlsx").status_code == 404
    anonymous = browser()
    response = anonymous.get("/admin/reports")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_navigation_leads_here(browser, world):
    body = html(browser("admin", "zh").get("/admin"))
    assert 'href="/admin/reports"' in body
