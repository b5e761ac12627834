"""The organiser's job-fair setup in a real browser: set up a fair, register two bases, invite an office's
candidates (counting first); the caseworker confirms some with their consent; the organiser makes the plan,
reads how good the plan is, and opens the candidates' print page.

Assertions lean on data-testid hooks and on the app's own catalogue; the database confirms what the pages claim.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CASEWORKER = "cw330782001"
CONFIRM = 6  # candidates the caseworker confirms: enough for a plan, few enough to stay quick


def submit(page, locator) -> None:
    locator.click()
    page.wait_for_load_state()


def demo_office(live_server) -> int:
    from sqlalchemy import select

    from matcher.auth.models import Account

    with live_server.db() as session:
        return session.scalar(select(Account.office_id).where(Account.username == CASEWORKER))


def test_organiser_sets_up_invites_and_plans_a_fair(pages, live_server):
    from sqlalchemy import select

    from matcher.auth.models import Account
    from matcher.clock import today
    from matcher.fairs import service
    from matcher.fairs.models import Fair, FairInvitation, FairPlanRun, InvitationStatus

    lang = "zh"
    name = "E2E 安置帮教专场招聘会"
    office_id = demo_office(live_server)

    # 1. The organiser sets the fair up.
    organiser = pages.login("organiser", lang=lang)
    organiser.goto(live_server("/organiser/fairs"))
    submit(organiser, organiser.get_by_test_id("new-fair"))
    form = organiser.get_by_test_id("fair-form")
    form.locator("[name=name]").fill(name)
    form.locator("[name=held_on]").fill((today() + dt.timedelta(days=3)).isoformat())
    form.locator("[name=venue]").fill("义乌市人力资源市场二楼")
    form.locator("[name=starts_at]").fill("09:00")
    form.locator("[name=block_minutes]").fill("30")
    form.locator("[name=n_blocks]").fill("4")
    form.locator("[name=max_interviews]").fill("2")
    form.locator("[name=preferred_courses_only]").uncheck()
    submit(organiser, organiser.get_by_test_id("save-fair"))
    match = re.search(r"/organiser/fairs/(\d+)/booths", organiser.url)
    assert match, f"setting up the fair did not lead to its booths: {organiser.url}"
    fair_id = int(match.group(1))
    expect(organiser.locator(".flash").first).to_be_visible()

    # 2. Two bases register, each with all of its open slots (ticked by default).
    for _ in range(2):
        base = organiser.get_by_test_id("register-base").filter(has=organiser.get_by_test_id("add-booth")).first
        base.locator("summary").click()
        submit(organiser, base.get_by_test_id("add-booth"))
        expect(organiser.locator(".flash").first).to_be_visible()
    expect(organiser.get_by_test_id("booth")).to_have_count(2)

    # 3. Invite the demo caseworker's office, counting first.
    organiser.goto(live_server(f"/organiser/fairs/{fair_id}/invitations"))
    invite = organiser.get_by_test_id("invite-form")
    invite.locator("select[name=office_ids]").select_option(str(office_id))
    submit(organiser, organiser.get_by_test_id("count-invitations"))
    expect(organiser.get_by_test_id("invite-count")).to_be_visible()
    with live_server.db() as session:
        assert session.scalar(select(FairInvitation.id).where(FairInvitation.fair_id == fair_id)) is None
    submit(organiser, organiser.get_by_test_id("send-invitations"))
    expect(organiser.get_by_test_id("invitation").first).to_be_visible()

    # 4. The caseworker confirms some of them, with the candidate's consent.
    caseworker = pages.login(CASEWORKER, lang=lang)
    caseworker.goto(live_server("/caseworker/fair-invitations"))
    section = caseworker.locator(f"[data-testid=fair-invitations][data-fair-id='{fair_id}']")
    expect(section).to_be_visible()
    for _ in range(CONFIRM):
        waiting = section.locator("[data-testid=invitation][data-status=invited]").filter(
            has=caseworker.get_by_test_id("confirm"))
        if not waiting.count():
            break
        row = waiting.first
        row.get_by_test_id("consent").check()
        submit(caseworker, row.get_by_test_id("confirm"))
        expect(caseworker.locator(".flash").first).to_be_visible()
    with live_server.db() as session:
        confirmed = session.scalars(select(FairInvitation).where(
            FairInvitation.fair_id == fair_id, FairInvitation.status == InvitationStatus.CONFIRMED)).all()
        assert confirmed, "the caseworker confirmed nobody"

    # 5. The organiser makes the plan and reads how good it is.
    organiser.goto(live_server(f"/organiser/fairs/{fair_id}/plan"))
    submit(organiser, organiser.get_by_test_id("make-plan"))
    gap = organiser.get_by_test_id("plan-gap")
    expect(gap).to_be_visible()
    expect(gap).to_have_text(re.compile(r"已找到最佳方案。|方案可能不是最佳"))
    with live_server.db() as session:
        assert session.scalar(select(FairPlanRun.id).where(FairPlanRun.fair_id == fair_id)) is not None
        fair = session.get(Fair, fair_id)
        organiser_account = session.scalar(select(Account).where(Account.username == "organiser"))
        planned = service.schedule(session=session, actor=organiser_account, fair_id=fair_id)
        expected = [(iv.invitation.candidate.name, fair.block_label(iv.block)) for iv in planned]
    assert expected, "the plan holds no interview"

    # 6. The print page: one sheet per candidate with their times.
    submit(organiser, organiser.get_by_test_id("print-candidates"))
    assert organiser.url.endswith(f"/organiser/fairs/{fair_id}/print/candidates")
    sheets = organiser.get_by_test_id("candidate-sheet")
    expect(sheets).to_have_count(len({who for who, _time in expected}))
    candidate, time = expected[0]
    sheet = sheets.filter(has_text=candidate).first
    expect(sheet).to_contain_text(name)
    expect(sheet).to_contain_text(time)
    expect(organiser.get_by_test_id("print")).to_be_visible()
