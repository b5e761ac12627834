"""Disclosure of name and phone: a separate consent per base and purpose, withdrawn at once.

A base sees a candidate's name and phone only where the latest disclose_identity record for that candidate,
that base and that purpose grants it: on a referral to the base (interview before the start, employment from
the start on), or at the base's booth at a job fair (job_fair)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import matcher.web.candidates  # noqa: F401 - registers the pages on the blueprint before the app is made
from matcher.candidates.models import Consent, ConsentKind, DisclosurePurpose
from matcher.clock import today

PHONE = "13800007777"


@pytest.fixture
def referred(world, session):
    """cand_a (with a phone) referred and sent to company_a's slot."""
    from matcher.referrals.service import create_referral

    world.cand_a.phone = PHONE
    referral = create_referral(session=session, actor=world.accounts["cw_a"], candidate_id=world.cand_a.id,
                               slot_id=world.slot_a.id, send=True)
    session.commit()
    return referral


def _consent(api, world, candidate_id, who="cw_a", lang="en", **body):
    body = {"kind": "disclose_identity", "granted": True, "recorded_on": today().isoformat(), **body}
    return api.post(f"/api/v1/candidates/{candidate_id}/consents", json=body, headers=world.h(who, lang))


def _card(api, world, referral, who="emp_a"):
    response = api.get(f"/api/v1/referrals/{referral.id}", headers=world.h(who))
    assert response.status_code == 200, response.json
    return response.json["candidate"]


# ---- the service ------------------------------------------------------------------------------------

def test_disclosure_is_per_base_and_purpose_and_the_latest_record_decides(world, session):
    from matcher.candidates.service import disclosed_candidate_ids, has_consent, record_consent
    from matcher.policy import consented as disclosure_allowed
    from matcher.policy import disclosures_in_force

    cw, a, b = world.accounts["cw_a"], world.company_a.id, world.company_b.id
    cid = world.cand_a.id
    # An old blanket record, made before consent per base existed, grants nothing.
    session.add(Consent(candidate_id=cid, kind=ConsentKind.DISCLOSE_IDENTITY, granted=True, recorded_on=today()))
    session.commit()
    assert not any(disclosure_allowed(session, cid, base, p) for base in (a, b) for p in DisclosurePurpose)

    def record(base, purpose, granted=True, day=None):
        record_consent(session=session, actor=cw, candidate_id=cid, data={
            "kind": ConsentKind.DISCLOSE_IDENTITY, "granted": granted, "base_id": base, "purpose": purpose,
            "recorded_on": day or today()})

    record(a, DisclosurePurpose.INTERVIEW)
    assert disclosure_allowed(session, cid, a, DisclosurePurpose.INTERVIEW)
    assert disclosure_allowed(session, cid, a, "interview")
    assert not disclosure_allowed(session, cid, b, DisclosurePurpose.INTERVIEW)
    assert not disclosure_allowed(session, cid, a, DisclosurePurpose.JOB_FAIR)
    assert not disclosure_allowed(session, cid, a, DisclosurePurpose.EMPLOYMENT)
    assert not disclosure_allowed(session, cid, None, DisclosurePurpose.INTERVIEW)
    # A withdrawal takes effect at once, even one dated before the grant it withdraws.
    record(a, DisclosurePurpose.INTERVIEW, granted=False, day=today() - dt.timedelta(days=3))
    assert not disclosure_allowed(session, cid, a, DisclosurePurpose.INTERVIEW)
    record(a, DisclosurePurpose.INTERVIEW)
    record(b, DisclosurePurpose.JOB_FAIR)
    # The bulk helpers agree, in one query for a list.
    others = [world.cand_b.id, world.cand_dual.id]
    assert disclosed_candidate_ids(session, [cid, *others], a, DisclosurePurpose.INTERVIEW) == {cid}
    assert disclosed_candidate_ids(session, [cid, *others], b, "job_fair") == {cid}
    assert disclosed_candidate_ids(session, [cid], None, "job_fair") == set()
    keys = [(cid, a, DisclosurePurpose.INTERVIEW), (cid, a, DisclosurePurpose.JOB_FAIR),
            (cid, b, DisclosurePurpose.JOB_FAIR), (world.cand_b.id, a, DisclosurePurpose.INTERVIEW)]
    assert disclosures_in_force(session, keys) == {keys[0], keys[2]}
    # Referral and data-processing consents keep their own rule; asking has_consent about disclosure is an error.
    assert has_consent(session, cid, ConsentKind.REFERRAL)
    with pytest.raises(ValueError):
        has_consent(session, cid, ConsentKind.DISCLOSE_IDENTITY)


def test_the_purpose_of_a_referral_follows_its_stage_and_ends_with_it(world, session, referred):
    from matcher.policy import referral_purpose
    from matcher.referrals.lifecycle import ReferralStatus

    assert referral_purpose(referred) == DisclosurePurpose.INTERVIEW
    for status in (ReferralStatus.INTERVIEW, ReferralStatus.OFFERED, ReferralStatus.ACCEPTED):
        referred.status = status
        assert referral_purpose(referred) == DisclosurePurpose.INTERVIEW, status
    for status in (ReferralStatus.STARTED, ReferralStatus.STAYED_90):
        referred.status = status
        assert referral_purpose(referred) == DisclosurePurpose.EMPLOYMENT, status
    # Declined, withdrawn, left: the purpose is over, and with it the consent's effect.
    for status in (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN, ReferralStatus.LEFT):
        referred.status = status
        assert referral_purpose(referred) is None, status
    session.rollback()


# ---- the API ------------------------------------------------------------------------------------------

def test_a_base_sees_name_and_phone_only_on_its_own_referral_with_consent(api, world, session, referred):
    cid = world.cand_a.id
    card = _card(api, world, referred)
    assert card.get("name") is None and "phone" not in card
    # Consent for another base, or for this base at a fair, does not name the person on this referral.
    assert _consent(api, world, cid, base_id=world.company_b.id, purpose="interview").status_code == 201
    assert _consent(api, world, cid, base_id=world.company_a.id, purpose="job_fair").status_code == 201
    assert _consent(api, world, cid, base_id=world.company_a.id, purpose="employment").status_code == 201
    card = _card(api, world, referred)
    assert card.get("name") is None and "phone" not in card
    assert _consent(api, world, cid, base_id=world.company_a.id, purpose="interview").status_code == 201
    card = _card(api, world, referred)
    assert card["name"] == world.cand_a.name and card["phone"] == PHONE
    listed = api.get("/api/v1/referrals", headers=world.h("emp_a")).json
    assert [(r["candidate"]["name"], r["candidate"]["phone"]) for r in listed] == [(world.cand_a.name, PHONE)]
    # Withdrawal: hidden at the next request.
    assert _consent(api, world, cid, base_id=world.company_a.id, purpose="interview",
                    granted=False).status_code == 201
    card = _card(api, world, referred)
    assert card.get("name") is None and "phone" not in card
    # The caseworker still sees who it is.
    assert _card(api, world, referred, who="cw_a")["name"] == world.cand_a.name


def test_once_started_the_employment_consent_decides(api, world, session, referred):
    from matcher.referrals.service import transition

    cw, emp = world.accounts["cw_a"], world.accounts["emp_a"]
    assert _consent(api, world, world.cand_a.id, base_id=world.company_a.id, purpose="interview").status_code == 201
    assert _card(api, world, referred)["name"] == world.cand_a.name
    for to, who in (("interview", emp), ("offered", emp), ("accepted", cw), ("started", emp)):
        transition(session=session, actor=who, referral_id=referred.id, to=to)
    session.commit()
    assert _card(api, world, referred).get("name") is None  # the interview consent is not one for employment
    assert _consent(api, world, world.cand_a.id, base_id=world.company_a.id,
                    purpose="employment").status_code == 201
    assert _card(api, world, referred)["name"] == world.cand_a.name


def test_the_consent_list_shows_base_and_purpose(api, world, session):
    assert _consent(api, world, world.cand_a.id, base_id=world.company_a.id, purpose="job_fair",
                    note="本人签字").status_code == 201
    listed = api.get(f"/api/v1/candidates/{world.cand_a.id}/consents", headers=world.h("cw_a")).json
    last = listed[-1]
    assert (last["kind"], last["base_id"], last["purpose"], last["granted"]) == (
        "disclose_identity", world.company_a.id, "job_fair", True)
    assert last["base"] == {"id": world.company_a.id, "name": world.company_a.name}
    assert listed[0]["kind"] == "data_processing" and listed[0]["base"] is None and listed[0]["purpose"] is None


@pytest.mark.parametrize(("lang", "words"), [("en", "base"), ("zh", "基地")])
@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"base_id", "purpose"}),
    ({"purpose": "interview"}, {"base_id"}),
    ({"base_id": 999_999, "purpose": "interview"}, {"base_id"}),
    ({"base_id": "__a__"}, {"purpose"}),
    ({"base_id": "__a__", "purpose": "payroll"}, {"purpose"}),
    ({"base_id": "__a__", "purpose": "interview", "recorded_on": "__tomorrow__"}, {"recorded_on"}),
    ({"kind": "referral", "base_id": "__a__"}, {"base_id"}),
    ({"kind": "data_processing", "purpose": "interview"}, {"purpose"}),
])
def test_bad_consents_are_refused_with_the_field_named(api, world, session, lang, words, body, fields):
    body = dict(body)
    if body.get("base_id") == "__a__":
        body["base_id"] = world.company_a.id
    if body.get("recorded_on") == "__tomorrow__":
        body["recorded_on"] = (today() + dt.timedelta(days=1)).isoformat()
    before = session.query(Consent).count()
    response = _consent(api, world, world.cand_a.id, lang=lang, **body)
    assert response.status_code == 422, response.json
    assert fields <= set(response.json["errors"]), response.json
    if "base_id" in fields and body.get("kind", "disclose_identity") == "disclose_identity":
        assert words in " ".join(response.json["errors"]["base_id"]) + response.json["message"]
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", " ".join(m for f in fields for m in response.json["errors"][f]))
    assert session.query(Consent).count() == before


def test_a_blanket_disclosure_is_refused_at_intake(api, world, kit):
    body = {"name": "钱七", "id_number": kit.make_id_number(seq=77), "education": "primary",
            "hukou": {"code": kit.CHOUCHENG}, "residence": {"code": kit.CHOUCHENG},
            "release_date": (today() - dt.timedelta(days=10)).isoformat(), "offence_category": "theft",
            "consents": ["data_processing", "disclose_identity"]}
    response = api.post("/api/v1/candidates", json=body, headers=world.h("cw_a", "zh"))
    assert response.status_code == 422 and "consents" in response.json["errors"], response.json


def test_only_the_candidates_office_records_disclosure(api, world, session):
    response = _consent(api, world, world.cand_a.id, who="emp_a", base_id=world.company_a.id, purpose="interview")
    assert response.status_code in (403, 404)
    response = _consent(api, world, world.cand_a.id, who="cw_b", base_id=world.company_a.id, purpose="interview")
    assert response.status_code in (403, 404)
    assert session.query(Consent).filter_by(kind=ConsentKind.DISCLOSE_IDENTITY).count() == 0


def test_the_consent_is_audited_without_its_values(api, world, session):
    from matcher.audit.models import AuditEvent

    assert _consent(api, world, world.cand_a.id, base_id=world.company_a.id, purpose="interview").status_code == 201
    event = session.query(AuditEvent).filter_by(action="consent").order_by(AuditEvent.id.desc()).first()
    assert event.fields == "consents" and event.object_id == world.cand_a.id


# ---- the pages ----------------------------------------------------------------------------------------

def _html(response) -> str:
    return response.get_data(as_text=True)


def test_the_caseworker_records_and_withdraws_a_disclosure_on_the_file(world, session, referred, browser):
    cw, emp = browser("cw_a"), browser("emp_a", "en")
    file_page = f"/caseworker/candidates/{world.cand_a.id}"
    body = _html(cw.get(file_page))
    assert 'data-testid="no-disclosures"' in body
    # The base the person is referred to comes first; every certified base can be chosen.
    select = body[body.index('id="disclosure-base_id"'):]
    select = select[:select.index("</select>")]
    assert select.index("已推荐前往的基地") < select.index(world.company_a.name) < select.index("其他已认定的基地") \
        < select.index(world.company_b.name)
    assert world.company_applied.name not in select  # not certified
    assert 'value="disclose_identity"' not in body  # the general consent form has no blanket disclosure
    employer_page = f"/employer/referrals/{referred.id}"
    assert world.cand_a.name not in _html(emp.get(employer_page))

    response = cw.post(f"{file_page}/disclosures", {"base_id": world.company_a.id, "purpose": "interview",
                                                    "recorded_on": today().isoformat()})
    assert response.status_code == 302 and response.headers["Location"].endswith("#disclosure")
    body = _html(cw.get(file_page))
    assert re.search(rf'data-testid="disclosure" data-base="{world.company_a.id}" data-purpose="interview"', body)
    assert 'data-testid="in-force"' in body and "推荐后安排面试" in body
    employer_body = _html(emp.get(employer_page))
    assert world.cand_a.name in employer_body and PHONE in employer_body

    response = cw.post(f"{file_page}/disclosures/withdraw", {"base_id": world.company_a.id, "purpose": "interview"})
    assert response.status_code == 302
    body = _html(cw.get(file_page))
    assert 'data-testid="in-force"' not in body and 'data-testid="withdraw"' not in body and "已撤回" in body
    employer_body = _html(emp.get(employer_page))
    assert world.cand_a.name not in employer_body and PHONE not in employer_body
    latest = session.query(Consent).order_by(Consent.id.desc()).first()
    assert (latest.granted, latest.base_id, latest.purpose) == (False, world.company_a.id, DisclosurePurpose.INTERVIEW)


def test_the_disclosure_form_offers_no_base_whose_certification_has_run_out(world, session, browser):
    """A base still marked certified whose certification ended yesterday is out of date: the form offers only the
    bases the bases service holds certified today (status and end date), as the API and the slot pages do."""
    from matcher.bases.models import CertificationStatus

    world.company_b.certified_until = today() - dt.timedelta(days=1)
    session.commit()
    assert world.company_b.certification_status == CertificationStatus.CERTIFIED  # by its status alone: certified
    body = _html(browser("cw_a").get(f"/caseworker/candidates/{world.cand_a.id}"))
    select = body[body.index('id="disclosure-base_id"'):]
    select = select[:select.index("</select>")]
    assert world.company_a.name in select
    assert world.company_b.name not in select and f'value="{world.company_b.id}"' not in select


def test_the_disclosure_form_names_the_missing_fields(world, session, browser):
    cw = browser("cw_a", "en")
    file_page = f"/caseworker/candidates/{world.cand_a.id}"
    cw.get(file_page)
    response = cw.post(f"{file_page}/disclosures", {"recorded_on": today().isoformat()})
    body = _html(response)
    assert response.status_code == 422
    assert re.search(r'id="disclosure-base_id-error" class="field-error"[^>]*>Choose the base', body)
    # The withdraw button cannot be forged without the CSRF token.
    response = cw.post(f"{file_page}/disclosures/withdraw", {"base_id": world.company_a.id, "purpose": "interview"},
                       csrf=False)
    assert response.status_code in (400, 403)
    assert session.query(Consent).filter_by(kind=ConsentKind.DISCLOSE_IDENTITY).count() == 0


def test_another_office_cannot_record_a_disclosure(world, session, browser):
    cw = browser("cw_b")
    page = f"/caseworker/candidates/{world.cand_dual.id}"  # kept by office B: its own candidate
    assert cw.get(page).status_code == 200
    foreign = f"/caseworker/candidates/{world.cand_a.id}"
    response = cw.post(f"{foreign}/disclosures", {"base_id": world.company_a.id, "purpose": "interview",
                                                  "recorded_on": today().isoformat()})
    assert response.status_code in (403, 404)
    assert session.query(Consent).filter_by(kind=ConsentKind.DISCLOSE_IDENTITY).count() == 0


# ---- import -------------------------------------------------------------------------------------------

def test_an_imported_file_cannot_give_a_disclosure(world, session, kit):
    """A spreadsheet cannot name the base: 披露身份 is a per-row error, and nothing is imported."""
    from matcher.candidates.models import Candidate
    from matcher.errors import Invalid
    from matcher.transfer.service import import_file

    header = "name,id_number,education,hukou,residence,release_date,offence_category,consents"
    released = (today() - dt.timedelta(days=20)).isoformat()
    rows = [f"孙八,{kit.make_id_number(seq=81)},初中,{kit.CHOUCHENG},{kit.CHOUCHENG},{released},盗窃,信息处理;推荐",
            f"周九,{kit.make_id_number(seq=82)},初中,{kit.CHOUCHENG},{kit.CHOUCHENG},{released},盗窃,信息处理;披露身份"]
    before = session.query(Candidate).count()
    with pytest.raises(Invalid) as caught:
        import_file(session=session, actor=world.accounts["cw_a"], kind="candidates",
                    data="\n".join([header, *rows]).encode(), filename="people.csv")
    errors = caught.value.errors["rows"]
    assert list(errors) == ["3"] and list(errors["3"]) == ["consents"]
    assert "基地" in str(errors["3"]["consents"][0])  # outside a request: the default language
    assert session.query(Candidate).count() == before
