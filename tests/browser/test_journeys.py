"""Each role's main journey in a real browser, in Chinese and English, on a desktop and on a phone.

- administrator: certifies a base that applied (applied -> certified, with a valid-until date);
- the placement chain: the employer posts a slot and opens it; the caseworker refers a candidate to it from
  the candidate's recommendations; the employer answers (interview, offer); the caseworker records the
  acceptance and the start.

Assertions lean on the agreed hooks (data-testid, URLs) and on labels taken from the app's own catalogue,
so a change of wording does not break them; the database confirms what the pages claim.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from matcher import clock

pytestmark = pytest.mark.browser

MATRIX = [("zh", "desktop"), ("zh", "phone"), ("en", "desktop"), ("en", "phone")]
MATRIX_IDS = [f"{lang}-{device}" for lang, device in MATRIX]
CASEWORKER = "cw330782001"
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def flash(page):
    """The flash messages of the page (role=status, or role=alert for errors)."""
    return page.locator(".flash")


def expect_lang(page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])


def submit(page, locator) -> None:
    """Click a submit button and wait for the page that answers (a full reload or an htmx swap)."""
    locator.click()
    page.wait_for_load_state()


# ---- administrator -----------------------------------------------------------------------------------

def applied_companies(live_server) -> list[int]:
    from sqlalchemy import select

    from matcher.bases.models import CertificationStatus, Company

    with live_server.db() as session:
        return list(session.scalars(select(Company.id).where(
            Company.certification_status == CertificationStatus.APPLIED).order_by(Company.id)))


@pytest.mark.parametrize("lang,device", MATRIX, ids=MATRIX_IDS)
def test_admin_certifies_an_applied_base(pages, live_server, lang, device):
    from matcher.bases.models import CertificationStatus, Company

    # The demo has four applied bases: each run of the matrix takes its own.
    applied = live_server.ids.setdefault("applied", applied_companies(live_server))
    assert len(applied) >= len(MATRIX), f"the demo should hold {len(MATRIX)} applied bases, has {len(applied)}"
    company_id = applied[MATRIX.index((lang, device))]
    valid_until = clock.today() + dt.timedelta(days=365 + MATRIX.index((lang, device)))
    page = pages.login("admin", device=device, lang=lang)
    page.goto(live_server(f"/admin/bases/{company_id}"))
    expect_lang(page, lang)
    certify = page.get_by_test_id("certify")
    form = page.locator("form").filter(has=certify)
    form.locator("input[name=valid_until]").fill(valid_until.isoformat())
    reason = form.locator("[name=reason]")
    if reason.count():
        reason.fill("现场核查通过" if lang == "zh" else "On-site check passed")
    submit(page, certify)

    assert re.search(rf"/admin/bases/{company_id}(\b|$|\?|#)", page.url), page.url
    expect(flash(page).first).to_be_visible()
    expect(page.get_by_test_id("certification-status")).to_have_text(
        live_server.label("certification_status", "certified", lang))
    with live_server.db() as session:
        company = session.get(Company, company_id)
        assert company.certification_status == CertificationStatus.CERTIFIED
        assert company.certified_until == valid_until


# ---- the placement chain: employer, caseworker, employer, caseworker ------------------------------

def referable_candidates(live_server) -> list[int]:
    """The demo caseworker's own candidates who are seeking work and consented to referral."""
    from sqlalchemy import select

    from matcher.auth.models import Account
    from matcher.candidates.models import Candidate, CandidateStatus, ConsentKind
    from matcher.candidates.service import has_consent
    from matcher.policy import candidates as visible_candidates

    with live_server.db() as session:
        caseworker = session.scalar(select(Account).where(Account.username == CASEWORKER))
        rows = session.scalars(visible_candidates(caseworker).where(
            Candidate.status.in_([CandidateStatus.ACTIVE, CandidateStatus.PRE_RELEASE]),
            Candidate.office_id == caseworker.office_id).order_by(Candidate.id))
        return [c.id for c in rows if has_consent(session, c.id, ConsentKind.REFERRAL)]


def post_and_open_slot(page, live_server, lang: str, title: str) -> int:
    """The employer's journey: post a slot (saved as a draft), then open it for referrals."""
    from matcher.slots.models import Slot, SlotStatus

    page.goto(live_server("/employer/slots/new"))
    expect_lang(page, lang)
    form = page.get_by_test_id("slot-form")
    form.locator("input[name=kind][value=job]").check()
    form.locator("[name=title]").fill(title)
    form.locator("select[name=course_code]").select_option("cooking")
    form.locator("[name=seats]").fill("5")
    form.locator("select[name=place]").select_option("330782001")  # 稠城街道 (picked): where the candidates live
    form.locator("[name=pay_min]").fill("5500")
    form.locator("[name=pay_max]").fill("7000")
    form.locator("[name=starts_on]").fill(clock.today().isoformat())
    housing = form.locator("input[name=housing_provided]")
    if housing.count():
        housing.check()
    submit(page, page.get_by_test_id("save-slot"))

    match = re.search(r"/employer/slots/(\d+)", page.url)
    assert match, f"saving the slot did not lead to its page: {page.url}"
    slot_id = int(match.group(1))
    expect(flash(page).first).to_be_visible()
    expect(page.get_by_test_id("slot-status")).to_have_text(live_server.label("slot_status", "draft", lang))

    submit(page, page.get_by_test_id("open-slot"))
    expect(page.get_by_test_id("slot-status")).to_have_text(live_server.label("slot_status", "open", lang))
    expect(flash(page).first).to_be_visible()
    expect(page.get_by_test_id("open-slot")).to_have_count(0)
    with live_server.db() as session:
        assert session.get(Slot, slot_id).status == SlotStatus.OPEN
    return slot_id


def refer_from_recommendations(page, live_server, lang: str, candidate_id: int, slot_id: int) -> int:
    """The caseworker's journey: find the slot among the candidate's ranked recommendations, refer."""
    from sqlalchemy import select

    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral

    row = None
    for page_no in range(1, 6):  # the new slot may rank below the first page
        page.goto(live_server(f"/caseworker/candidates/{candidate_id}/recommendations?page={page_no}"))
        expect_lang(page, lang)
        rows = page.get_by_test_id("recommendation")
        if page_no == 1:
            expect(rows.first).to_be_visible()
        if not rows.count():
            break
        found = page.locator(f"[data-testid=recommendation][data-slot-id='{slot_id}']")
        if found.count():
            row = found.first
            break
    assert row is not None, f"slot {slot_id} is not among candidate {candidate_id}'s recommendations"
    row.scroll_into_view_if_needed()
    refer = row.get_by_test_id("refer")
    refer.click()
    page.wait_for_load_state()
    # htmx swaps the button for the outcome (role=status); without htmx the page reloads with a flash and
    # the row marked as referred. Either way the row says so and no second referral can be made from it.
    expect(row.locator("[data-testid=referred], .referred").first).to_be_visible()
    expect(row.get_by_test_id("refer")).to_have_count(0)

    with live_server.db() as session:
        referral = session.scalar(select(Referral).where(
            Referral.candidate_id == candidate_id, Referral.slot_id == slot_id))
        assert referral is not None, "no referral was stored"
        assert referral.status == ReferralStatus.SENT
        return referral.id


def move(page, live_server, lang: str, to: str) -> None:
    button = page.get_by_test_id(f"move-{to}")
    button.scroll_into_view_if_needed()
    submit(page, button)
    expect(page.get_by_test_id("referral-status")).to_have_text(live_server.label("referral_status", to, lang))
    expect(flash(page).first).to_be_visible()


@pytest.mark.parametrize("lang,device", MATRIX, ids=MATRIX_IDS)
def test_placement_journey_post_refer_answer_start(pages, live_server, lang, device):
    from matcher.candidates.models import Candidate, CandidateStatus
    from matcher.referrals.lifecycle import ReferralStatus
    from matcher.referrals.models import Referral
    from matcher.slots.models import Slot

    run = MATRIX.index((lang, device))
    referable = live_server.ids.setdefault("referable", referable_candidates(live_server))
    assert len(referable) >= len(MATRIX), f"the demo caseworker has {len(referable)} referable candidates"
    candidate_id = referable[run]
    title = f"E2E 中式厨师 {lang}-{device}"

    # 1. The employer posts a slot and opens it.
    employer = pages.login("employer", device=device, lang=lang)
    slot_id = post_and_open_slot(employer, live_server, lang, title)

    # 2. The caseworker refers a candidate to it from the recommendations.
    caseworker = pages.login(CASEWORKER, device=device, lang=lang)
    referral_id = refer_from_recommendations(caseworker, live_server, lang, candidate_id, slot_id)

    # 3. The employer finds it among the referrals waiting for an answer: interview, then offer.
    employer.goto(live_server("/employer/referrals"))
    link = employer.locator(f"a[href$='/employer/referrals/{referral_id}']")
    expect(link).to_be_visible()
    submit(employer, link)
    assert employer.url.endswith(f"/employer/referrals/{referral_id}")
    expect(employer.get_by_test_id("referral-status")).to_have_text(
        live_server.label("referral_status", "sent", lang))
    move(employer, live_server, lang, "interview")
    move(employer, live_server, lang, "offered")

    # 4. The caseworker sees it on the board, records the acceptance and the start.
    caseworker.goto(live_server("/caseworker/referrals"))
    expect(caseworker.locator(f"a[href$='/caseworker/referrals/{referral_id}']").first).to_be_attached()
    caseworker.goto(live_server(f"/caseworker/referrals/{referral_id}"))
    expect_lang(caseworker, lang)
    move(caseworker, live_server, lang, "accepted")
    move(caseworker, live_server, lang, "started")

    with live_server.db() as session:
        referral = session.get(Referral, referral_id)
        assert referral.status == ReferralStatus.STARTED
        assert referral.slot_id == slot_id
        assert session.get(Slot, slot_id).seats_taken == 1
        assert session.get(Candidate, candidate_id).status == CandidateStatus.PLACED
