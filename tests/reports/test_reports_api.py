"""The report through the API: administrators of the bureau only, field errors in Chinese and English, the
workbook opens and carries the same figures, and the OpenAPI document carries the definitions."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from matcher.clock import today

URL = "/api/v1/reports/figures"
Y = today().year - 1


def test_administrators_get_the_figures_with_rows_and_months(api, world):
    response = api.get(f"{URL}?date_from={Y}-01-01&date_to={Y}-12-31&by=both&months=true", headers=world.h("admin"))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["area"] == {"level": "bureau", "code": "330700", "name": "金华市", "district": None,
                            "office_id": None}
    assert body["on"] == f"{Y}-12-31" and len(body["by_month"]) == 12
    assert len(body["by_district"]) == 9 and len(body["by_office"]) == 146
    assert set(body["figures"]) == {d["key"] for d in body["definitions"]}
    assert body["definitions"][0] == {
        "key": "registered", "label": "Registered candidates", "when": "end",
        "definition": "People under assistance on the last day: released on or before it, their five-year "
                      "assistance period not over by then, and the file not closed by then. Pre-release hand-overs not "
                      "yet released are not counted."}
    chinese = api.get(URL, headers=world.h("admin", "zh")).json
    assert chinese["definitions"][0]["label"] == "在册安置帮教对象"
    assert chinese["date_from"] == f"{today().year}-01-01" and chinese["on"] == today().isoformat()
    assert chinese["figures"]["registered"] == 3 and chinese["by_district"] is None and chinese["by_month"] is None


def test_one_district_and_one_office(api, world):
    district = api.get(f"{URL}?district=330782&by=office", headers=world.h("admin")).json
    assert district["area"]["level"] == "district" and district["figures"]["registered"] == 3
    assert district["by_district"] is None and {r["office_id"] for r in district["by_office"]} >= {
        world.office_a.id, world.office_b.id}
    office = api.get(f"{URL}?office_id={world.office_b.id}", headers=world.h("admin")).json
    assert office["area"] == {"level": "office", "code": "330782100", "name": world.office_b.name,
                              "district": "330782", "office_id": world.office_b.id}
    assert office["figures"]["registered"] == 2  # cand_b and cand_dual, kept by office B


@pytest.mark.parametrize("who", ["cw_a", "emp_a", "org"])
def test_other_roles_do_not_find_it(api, world, who):
    assert api.get(URL, headers=world.h(who)).status_code == 404
    assert api.get(f"{URL}.xlsx", headers=world.h(who)).status_code == 404


def test_anonymous_must_log_in(api):
    assert api.get(URL).status_code == 401
    assert api.get(f"{URL}.xlsx").status_code == 401


@pytest.mark.parametrize(("query", "field", "english", "chinese"), [
    ("district=110101", "district", "Choose a district of your bureau's area.", "请选择本局辖区内的区县。"),
    ("district=330702&office_id={office_a}", "office_id",
     "Choose a judicial office of your bureau's area (and of the district chosen).",
     "请选择本局辖区内（及所选区县内）的司法所。"),
    ("date_from=2025-05-01&date_to=2025-04-30", "date_to", "The period ends before it starts.",
     "统计期的结束日期早于开始日期。"),
    ("date_from={tomorrow}&date_to={tomorrow}", "date_from",
     "The period starts after today: nothing has happened in it yet.", "统计期的开始日期晚于今天，期内尚无数据。"),
    ("date_from=2000-01-01&date_to=2025-12-31", "date_from", "A report covers at most ten years.",
     "一份报表最长统计十年。"),
    ("by=county", "by", "Must be one of: district, office, both.", "必须是以下之一：district, office, both。"),
    ("date_from=2025-13-01", "date_from", "Not a valid date.", "不是有效的日期。"),
])
def test_a_bad_request_names_the_field_in_both_languages(api, world, query, field, english, chinese):
    query = query.format(office_a=world.office_a.id, tomorrow=(today() + dt.timedelta(days=1)).isoformat())
    urls = [f"{URL}?{query}"] + ([f"{URL}.xlsx?{query}"] if field != "by" else [])
    for url in urls:
        answer = api.get(url, headers=world.h("admin", "en"))
        assert answer.status_code == 422, (url, answer.json)
        assert list(answer.json["errors"]) == [field] and answer.json["errors"][field] == [english]
        zh = api.get(url, headers=world.h("admin", "zh")).json
        assert list(zh["errors"]) == [field]
        if chinese:
            assert zh["errors"][field] == [chinese]


def test_the_workbook_opens_with_the_same_figures(api, world):
    from openpyxl import load_workbook

    query = f"date_from={Y}-01-01&date_to={Y}-12-31"
    figures = api.get(f"{URL}?{query}", headers=world.h("admin")).json["figures"]
    response = api.get(f"{URL}.xlsx?{query}", headers=world.h("admin"))
    assert response.status_code == 200
    assert response.content_type.startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert f'filename="report-330700-{Y}0101-{Y}1231.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["汇总", "按区县", "按司法所", "按月"]
    summary = book["汇总"]
    assert summary["A1"].value == "安置帮教工作统计报表" and summary["B2"].value == "金华市"
    header = [c.value for c in summary[7]]
    assert header == ["指标", "数值", "统计口径"]
    values = {row[0].value: row[1].value for row in summary.iter_rows(min_row=8, max_row=27)}
    assert values["在册安置帮教对象"] == figures["registered"] and len(values) == 20
    by_office = book["按司法所"]
    assert [c.value for c in by_office[1]][:3] == ["司法所", "代码", "区县"]
    assert by_office.max_row == 146 + 2  # header, one row per office, the total
    assert by_office.cell(by_office.max_row, 1).value == "合计"
    assert [c.value for c in book["按月"]["A"]][1:13] == [f"{Y}-{m:02d}" for m in range(1, 13)]

    english = load_workbook(io.BytesIO(api.get(f"{URL}.xlsx?{query}&lang=en", headers=world.h("admin")).data))
    assert english.sheetnames == ["Summary", "By district", "By office", "By month"]
    assert english["Summary"]["A8"].value == "Registered candidates"
    assert english["Summary"]["C8"].value.startswith("People under assistance on the last day")


def test_text_in_the_workbook_is_never_a_formula(api, world, session):
    from openpyxl import load_workbook

    name = world.office_a.name
    world.office_a.name = "=HYPERLINK(\"x\")稠城司法所"
    session.commit()
    try:
        data = api.get(f"{URL}.xlsx?district=330782", headers=world.h("admin")).data
    finally:  # offices are reference data: the suite keeps them between tests
        world.office_a.name = name
        session.commit()
    sheet = load_workbook(io.BytesIO(data))["按司法所"]
    cell = next(c for c in sheet["A"] if str(c.value).startswith("'=HYPERLINK"))
    assert cell.data_type == "s"


def test_the_openapi_document_carries_the_definitions(client):
    spec = client.get("/api/openapi.json").json
    assert "/api/v1/reports/figures" in spec["paths"] and "/api/v1/reports/figures.xlsx" in spec["paths"]
    figures = spec["components"]["schemas"]["ReportFigures"]["properties"]
    assert figures["placement_rate"]["description"].startswith("Placement rate: People placed in work or training")
    assert "(On the period's last day)" in figures["registered"]["description"]
    assert "(In the period)" in figures["visits_in_period"]["description"]
