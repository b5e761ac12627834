"""Bases: the register of companies, their certification lifecycle and agreements."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from matcher import policy, uow
from matcher.apiutil import apply_sort
from matcher.auth.models import Account, Role
from matcher.bases.models import Agreement, CertificationEvent, CertificationStatus, Company, certified_in_date
from matcher.clock import today
from matcher.errors import Conflict, Invalid
from matcher.external_ids import BUREAU_SETS_REFERENCE, set_reference
from matcher.places.models import code_prefix
from matcher.places.service import resolve_place


def _credit_code_taken() -> Conflict:
    return Conflict(_l("A company with this credit code is already registered."), field="credit_code")


BASE_REFERENCE_TAKEN = _l("Another base of this county has this reference.")


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def list_companies(*, session: Session, actor: Account, filters: dict) -> Select:
    stmt = policy.companies(actor)
    status = filters.get("status")
    if status == CertificationStatus.EXPIRED:
        stmt = stmt.where(or_(Company.certification_status == CertificationStatus.EXPIRED,
                              and_(Company.certification_status == CertificationStatus.CERTIFIED,
                                   Company.certified_until < today())))
    elif status == CertificationStatus.CERTIFIED:
        stmt = stmt.where(certified_in_date())
    elif status is not None:
        stmt = stmt.where(Company.certification_status == status)
    if filters.get("place"):
        stmt = stmt.where(Company.place_code.startswith(code_prefix(filters["place"])))
    if filters.get("q"):
        stmt = stmt.where(or_(Company.name.contains(filters["q"], autoescape=True),
                              Company.industry.contains(filters["q"], autoescape=True)))
    columns = {"name": Company.name, "created_at": Company.created_at, "certified_until": Company.certified_until}
    return apply_sort(stmt, filters.get("sort", "name"), columns, Company.id)


def get_company(*, session: Session, actor: Account, company_id: int) -> Company:
    return policy.find(session, actor, policy.companies(actor), Company, company_id, _l("No such base."),
                       object_type="company")


def managed_company(session: Session, actor: Account, company_id: int) -> Company:
    """A base whose certification, agreements and complaints the actor decides: an administrator of its area."""
    policy.require(actor, policy.Rule.BASE_MANAGE, object_type="company", object_id=company_id)
    company = get_company(session=session, actor=actor, company_id=company_id)
    if not policy.manages_base(actor, company):
        raise policy.forbid(actor, _l("This base is in another bureau's area: its administrators decide for it."),
                            object_type="company", object_id=company.id)
    return company


def _apply_profile(session: Session, company: Company, data: dict) -> None:
    data = dict(data)
    if "place" in data:
        place = resolve_place(session=session, field="place", require_township=False, **data.pop("place"))
        company.place_code, company.lat, company.lng = place.code, place.lat, place.lng
    if "credit_code" in data:
        data["credit_code"] = data["credit_code"].strip().upper()
    for key, value in data.items():
        setattr(company, key, value)
    if "external_id" in data:
        set_reference(session, company, company.place_code, BASE_REFERENCE_TAKEN)


def build_new_company(*, session: Session, actor: Account | None, data: dict) -> Company:
    """Every rule of registering a company but the credit code's uniqueness (the unique column guards it; a
    batch asks first, `registered_credit_codes`), writing nothing: the company, not in the session."""
    if actor is not None:
        policy.require(actor, policy.Rule.BASE_MANAGE)
    company = Company(certification_status=CertificationStatus.APPLIED)
    _apply_profile(session, company, data)
    if actor is not None and not policy.in_area(actor, company.place_code):  # another bureau registers it
        raise Invalid(_l("This is outside your bureau's area."), field="place")
    return company


def registered_credit_codes(session: Session, codes) -> set[str]:
    """Which of these credit codes (in their stored form: trimmed, upper case) a company already has."""
    codes = list({code.strip().upper() for code in codes})
    found: set[str] = set()
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        found.update(session.scalars(select(Company.credit_code).where(Company.credit_code.in_(chunk))))
    return found


def create_company(*, session: Session, actor: Account | None, data: dict) -> Company:
    """Register a company; it starts as an application (applied) until an administrator certifies it."""
    company = build_new_company(session=session, actor=actor, data=data)
    session.add(company)
    uow.flush_or(_credit_code_taken(), session)
    _applied(session, actor, [company])
    return company


def write_new_companies(*, session: Session, actor: Account | None, companies: list[Company]) -> None:
    """Register companies built by `build_new_company` in one flush, as create_company registers one. A credit
    code taken meanwhile raises IntegrityError (the caller finds the company one at a time)."""
    session.add_all(companies)
    session.flush()
    _applied(session, actor, companies)


def _applied(session: Session, actor: Account | None, companies: list[Company]) -> None:
    session.add_all([CertificationEvent(company_id=company.id, from_status=None,
                                        to_status=CertificationStatus.APPLIED,
                                        decided_by_id=actor.id if actor else None, reason=None)
                     for company in companies])
    uow.flush(session)


def update_company(*, session: Session, actor: Account, company_id: int, data: dict) -> Company:
    company = get_company(session=session, actor=actor, company_id=company_id)
    policy.require(actor, policy.Rule.BASE_PROFILE)
    if actor.role == Role.EMPLOYER and "credit_code" in data and data["credit_code"] != company.credit_code:
        raise Invalid(_l("Only the bureau can change a registered credit code."), field="credit_code")
    if actor.role == Role.EMPLOYER and "external_id" in data:
        raise Invalid(BUREAU_SETS_REFERENCE, field="external_id")
    if actor.role == Role.EMPLOYER and "employees" in data and data["employees"] != company.employees:
        raise Invalid(_l("The bureau records a base's size (it sets the referrals the base receives a month)."),
                      field="employees")
    _apply_profile(session, company, data)
    uow.flush_or(_credit_code_taken(), session)
    uow.flush(session)
    return company


ALLOWED_FROM = {
    "certify": {CertificationStatus.APPLIED, CertificationStatus.CERTIFIED,
                CertificationStatus.SUSPENDED, CertificationStatus.EXPIRED, CertificationStatus.REFUSED},
    "refuse": {CertificationStatus.APPLIED},
    "suspend": {CertificationStatus.CERTIFIED},
    "revoke": {CertificationStatus.APPLIED, CertificationStatus.CERTIFIED,
               CertificationStatus.SUSPENDED, CertificationStatus.EXPIRED},
}
TARGET = {"certify": CertificationStatus.CERTIFIED, "suspend": CertificationStatus.SUSPENDED,
          "revoke": CertificationStatus.REVOKED, "refuse": CertificationStatus.REFUSED}
# Decisions whose reason the base reads (on its home page) as well as the bureau.
REASON_SHOWN_TO_BASE = frozenset({CertificationStatus.REFUSED, CertificationStatus.SUSPENDED,
                                  CertificationStatus.REVOKED})


def decide_certification(*, session: Session, actor: Account, company_id: int, action: str,
                         valid_until: dt.date | None = None, reason: str | None = None) -> Company:
    """Certify (or renew), suspend or revoke a base, or refuse an application (不予认定), recording who decided
    and why (the certification history; the change is audited with the request). A refusal tells the base's
    employers."""
    company = managed_company(session, actor, company_id)
    current = company.effective_status()
    if current not in ALLOWED_FROM[action]:
        raise Conflict(_l("A base that is %(status)s cannot be given this decision.", status=current.value),
                       field="action")
    if action == "certify":
        if valid_until is None:
            raise Invalid(_l("Certifying needs a valid-until date."), field="valid_until")
        if valid_until <= today():
            raise Invalid(_l("The valid-until date must be in the future."), field="valid_until")
    elif not reason:
        raise Invalid(_l("Say why: a reason is required."), field="reason")
    target = TARGET[action]
    company.certification_status = target
    company.certified_until = valid_until if action == "certify" else company.certified_until
    if target == CertificationStatus.REVOKED:
        # A revoked base takes no more referrals: its open slots close.
        from matcher.slots.models import Slot, SlotStatus

        session.execute(update(Slot).where(Slot.company_id == company.id, Slot.status == SlotStatus.OPEN)
                        .values(status=SlotStatus.CLOSED))
    event = CertificationEvent(company_id=company.id, from_status=current, to_status=target,
                               valid_until=valid_until, reason=reason, decided_by_id=actor.id)
    session.add(event)
    uow.flush(session)
    if target == CertificationStatus.REFUSED:
        from matcher.notify.models import NotificationKind
        from matcher.notify.service import employers_of, notify

        notify(session, account_ids=employers_of(session, [company.id]).get(company.id, []),
               kind=NotificationKind.CERTIFICATION_REFUSED, key=f"company:{company.id}:decision:{event.id}",
               subject_type="company", subject_id=company.id, params={"company": company.name, "on": today()})
        uow.flush(session)
    return company


def bases_to_decide(*, session: Session, actor: Account, company_id: int | None = None,
                    credit_code: str | None = None, all_applied: bool = False) -> list[Company]:
    """The bases one decision is for, named one way only: by id, by credit code, or every application (applied)
    the actor manages, oldest first (the command line certifies a migrated register so)."""
    if sum((company_id is not None, bool(credit_code), all_applied)) != 1:
        raise Invalid(_l("Name the bases one way: an id, a credit code, or all applications."), field="base")
    if company_id is not None:
        return [managed_company(session, actor, company_id)]
    if credit_code:
        found = session.scalar(policy.companies(actor).where(Company.credit_code == credit_code.strip().upper()))
        if found is None:
            raise Invalid(_l("No base has this credit code."), field="credit_code")
        return [managed_company(session, actor, found.id)]
    policy.require(actor, policy.Rule.BASE_MANAGE, object_type="company")
    applied = session.scalars(policy.companies(actor).where(
        Company.certification_status == CertificationStatus.APPLIED).order_by(Company.id))
    return [company for company in applied.unique() if policy.manages_base(actor, company)]


def last_decision_for_base(*, session: Session, actor: Account, company_id: int) -> CertificationEvent | None:
    """The decision behind a base's present refusal, suspension or revocation, for the base's own page: the base
    reads why (the reason box says so). None when the base is not in such a state."""
    company = get_company(session=session, actor=actor, company_id=company_id)
    if company.certification_status not in REASON_SHOWN_TO_BASE:
        return None
    return session.scalar(select(CertificationEvent).where(
        CertificationEvent.company_id == company.id, CertificationEvent.to_status == company.certification_status)
        .order_by(CertificationEvent.id.desc()).limit(1))


def list_certification_events(*, session: Session, actor: Account, company_id: int) -> list[CertificationEvent]:
    policy.require(actor, policy.Rule.BASE_HISTORY)
    company = get_company(session=session, actor=actor, company_id=company_id)
    return list(session.scalars(select(CertificationEvent).where(CertificationEvent.company_id == company.id)
                                .order_by(CertificationEvent.id)))


def add_agreement(*, session: Session, actor: Account | None, company_id: int, data: dict) -> Agreement:
    if actor is not None:
        managed_company(session, actor, company_id)
    agreement = Agreement(company_id=company_id, ends_on=add_months(data["signed_on"], data["term_months"]),
                          created_by_id=actor.id if actor else None, **data)
    session.add(agreement)
    uow.flush(session)
    return agreement


def list_agreements(*, session: Session, actor: Account, company_id: int) -> list[Agreement]:
    policy.require(actor, policy.Rule.BASE_HISTORY)
    company = get_company(session=session, actor=actor, company_id=company_id)
    return list(session.scalars(select(Agreement).where(Agreement.company_id == company.id)
                                .order_by(Agreement.signed_on)))


def find_companies(*, session: Session, actor: Account, filters: dict) -> list[Company]:
    """The bases `list_companies` selects, loaded (for a page that shows them all)."""
    return list(session.scalars(list_companies(session=session, actor=actor, filters=filters)).unique())


def certified_bases(*, session: Session, actor: Account) -> list[Company]:
    """The bases the actor may see that are certified today, by name: certified and not past the certification's
    end date (`certified_in_date`), not merely marked certified once."""
    return find_companies(session=session, actor=actor, filters={"status": CertificationStatus.CERTIFIED,
                                                                 "sort": "name"})
