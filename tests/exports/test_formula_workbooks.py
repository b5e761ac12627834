"""The workbooks beside the transfer exports (a fair's interview plan, pseudonymous and identified, and the
bureau's report) hold no formula, whatever the text typed into the records they show."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from matcher import clock
from matcher.fairs import service as fairs
from matcher.fairs.export import plan_workbook

FORMULA = '=HYPERLINK("//evil.example","x")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def inert_values(content: bytes) -> list:
    """Every cell of every sheet, checked: none is a formula, none a text a spreadsheet program would run when
    the workbook is saved as CSV. Returns the values."""
    values = []
    for sheet in load_workbook(io.BytesIO(content)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                assert not (isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)), cell.value
                values.append(cell.value)
    return values


@pytest.fixture
def planned_fair(world, session):
    """A fair whose name, venue, base, slot and candidate are formulas, planned: cand_a meets base A."""
    org = world.accounts["org"]
    world.slot_a.title = FORMULA
    world.company_a.name = "+cmd|' /C calc'!A0"
    world.cand_a.name = "@SUM(1+1)"
    session.commit()
    fair = fairs.create_fair(session=session, actor=org, data=dict(
        name="＝1+1", held_on=clock.today() + dt.timedelta(days=1), venue="-2+3", starts_at=dt.time(9, 0),
        block_minutes=30, n_blocks=4, max_interviews=2))
    fairs.add_booth(session=session, actor=org, fair_id=fair.id, data=dict(
        company_id=world.company_a.id, slot_ids=[world.slot_a.id], interviews_per_block=1, label="=A1"))
    fairs.invite(session=session, actor=org, fair_id=fair.id, data={"public_ids": [world.cand_a.public_id]})
    for invitation in session.scalars(fairs.list_invitations(session=session, actor=world.accounts["cw_a"],
                                                             filters={"fair_id": fair.id})):
        fairs.answer_invitation(session=session, actor=world.accounts["cw_a"], invitation_id=invitation.id,
                                attending=True)
    fairs.make_plan(session=session, actor=org, fair_id=fair.id)
    assert fairs.schedule(session=session, actor=org, fair_id=fair.id)
    return fair


@pytest.mark.parametrize("identified", [False, True])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_cell_of_a_fair_plan_is_a_formula(world, session, planned_fair, identified, lang):
    content = plan_workbook(session=session, actor=world.accounts["org"], fair_id=planned_fair.id, lang=lang,
                            identified=identified)
    values = inert_values(content)
    assert f"'{FORMULA}" in values and "'＝1+1" in values and "'-2+3" in values
    assert ("'@SUM(1+1)" in values) is identified
    assert any(isinstance(v, str) and v.startswith("'=A1") for v in values)  # the booth's label
    assert 4 in values  # numbers stay numbers (blocks)


def test_the_plan_downloaded_through_the_api_is_inert_too(api, world, session, planned_fair):
    response = api.get(f"/api/v1/fairs/{planned_fair.id}/plan.xlsx", headers=world.h("org"))
    assert response.status_code == 200
    assert f"'{FORMULA}" in inert_values(response.data)


def test_no_cell_of_the_report_is_a_formula(api, world, session):
    name = world.office_a.name
    world.office_a.name = FORMULA
    session.commit()
    try:
        response = api.get("/api/v1/reports/figures.xlsx?district=330782", headers=world.h("admin"))
    finally:  # offices are reference data: the suite keeps them between tests
        world.office_a.name = name
        session.commit()
    assert response.status_code == 200
    values = inert_values(response.data)
    assert f"'{FORMULA}" in values
    assert any(isinstance(v, int) and not isinstance(v, bool) for v in values)  # the figures stay numbers
