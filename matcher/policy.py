"""Who may see and do what, decided in one place: the scope of every resource as one query, the rules of every
action as one table, and who an account is to an object (its *parties*, which the disclosure model turns into the
fields it may read).

Jurisdictions (README, Security):
* a caseworker works for one judicial office: the files it keeps (where the person lives) and, under dual
  registration (双列管), the files of people whose household registration is in its township, which it reads;
* an administrator or organiser works for a bureau: a city bureau's area is the city, a district bureau's its
  district, and that area bounds everything they list, read, change and export;
* an employer works for one base.

A service fetches an object *through* the actor's scope (`find`), so an object outside it is simply not found
(404): it is never fetched and then refused. Every such refusal of an existing object is written to the audit log
once the unit of work is over (`note_refusal`), without any personal data.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from blinker import Namespace
from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, false, or_, select
from sqlalchemy.orm import Session

from matcher.auth.models import Account, Role
from matcher.bases.models import Company, certified_in_date
from matcher.candidates.models import Candidate, Consent, ConsentKind, DisclosurePurpose
from matcher.errors import Forbidden, NotFound
from matcher.exports.models import ExportRequest
from matcher.fairs.models import Fair, FairBooth, FairInvitation
from matcher.followup.models import FollowUpTask
from matcher.interviews.models import ReferralInterview
from matcher.jobs.models import Job
from matcher.matching.models import AssignmentDraft
from matcher.notify.models import Notification
from matcher.offices.models import JudicialOffice
from matcher.parties import Party
from matcher.parties import field_value as _value
from matcher.places.models import code_prefix
from matcher.referrals.lifecycle import ENDED, STARTED_EVER, ReferralStatus
from matcher.referrals.models import Referral
from matcher.slots.models import Slot, SlotStatus

ADMIN, CASEWORKER, EMPLOYER, ORGANISER = Role.ADMINISTRATOR, Role.CASEWORKER, Role.EMPLOYER, Role.ORGANISER
BUREAU = (ADMIN, ORGANISER)
STAFF = (ADMIN, CASEWORKER, ORGANISER)
EVERYONE = (ADMIN, CASEWORKER, EMPLOYER, ORGANISER)
Model = TypeVar("Model")
log = logging.getLogger(__name__)


class ActorRef(NamedTuple):
    """An account as the audit log names it."""

    id: int
    role: Role


# ---- areas -----------------------------------------------------------------------------------------------

def area_prefix(actor: Account) -> str:
    """The code prefix of a bureau account's area: 3307 for the city bureau of 330700, 330782 for a district's."""
    if actor.is_system:
        return ""  # the command line's system account: every area
    return code_prefix(actor.bureau_code) if actor.bureau_code else "\x00"  # no bureau: no area at all


def in_area(actor: Account, place_code: str | None) -> bool:
    return place_code is not None and place_code.startswith(area_prefix(actor))


def reference_area(actor: Account) -> str:
    """The scopes (matcher.external_ids) whose references an account finds records by: an administrator's or
    organiser's bureau area, a caseworker's office's county; the system account every area; an employer none
    (the bureau's references are never shown to a base)."""
    if actor.is_system:
        return ""
    if actor.role == CASEWORKER and actor.office is not None:
        return actor.office.township_code[:6]
    if actor.role in (ADMIN, ORGANISER) and actor.bureau_code:
        return area_prefix(actor)
    return "\x00"


def _offices_in_area(actor: Account) -> Select:
    return select(JudicialOffice.id).where(JudicialOffice.township_code.startswith(area_prefix(actor)))


def _bases_in_area(actor: Account) -> Select:
    return select(Company.id).where(Company.place_code.startswith(area_prefix(actor)))


# ---- scope: one query per resource ---------------------------------------------------------------------

def candidates(actor: Account) -> Select:
    """The files an account may read: a caseworker's office keeps them or, under dual registration, the person's
    household registration is in its township; a bureau administrator's area holds the office that keeps them or
    the household registration. Nobody else reads a file."""
    stmt = select(Candidate)
    if actor.role == CASEWORKER:
        return stmt.where(or_(Candidate.office_id == actor.office_id,
                              Candidate.hukou_code == actor.office.township_code))
    if actor.role == ADMIN:
        return stmt.where(or_(Candidate.office_id.in_(_offices_in_area(actor)),
                              Candidate.hukou_code.startswith(area_prefix(actor))))
    return stmt.where(false())


def candidate_ids(actor: Account) -> Select:
    return candidates(actor).with_only_columns(Candidate.id)


def reads_file(actor: Account, candidate: Candidate) -> bool:
    """`candidates` above, decided on a loaded file."""
    if actor.role == CASEWORKER:
        return candidate.office_id == actor.office_id or candidate.hukou_code == actor.office.township_code
    if actor.role == ADMIN:
        return ((candidate.office is not None and in_area(actor, candidate.office.township_code))
                or in_area(actor, candidate.hukou_code))
    return False


def keeps_file(actor: Account, candidate: Candidate) -> bool:
    """Who changes a file: the office that keeps it (where the person lives), or an administrator of the area.
    The household-registration office under dual registration only reads it."""
    if actor.role == CASEWORKER:
        return candidate.office_id == actor.office_id
    if actor.role == ADMIN:
        return candidate.office is not None and in_area(actor, candidate.office.township_code)
    return False


def referrals(actor: Account) -> Select:
    """Referrals of files the account reads; a base's: those sent to it (a proposal is the office's draft)."""
    stmt = select(Referral)
    if actor.role in (CASEWORKER, ADMIN):
        return stmt.where(Referral.candidate_id.in_(candidate_ids(actor)))
    if actor.role == EMPLOYER:
        return stmt.join(Slot, Slot.id == Referral.slot_id).where(
            Slot.company_id == actor.company_id, Referral.status != ReferralStatus.PROPOSED)
    return stmt.where(false())


def referral_interviews(actor: Account) -> Select:
    """Interviews arranged for the referrals the account reads (joined to their referral)."""
    return (select(ReferralInterview).join(Referral, Referral.id == ReferralInterview.referral_id)
            .where(ReferralInterview.referral_id.in_(referrals(actor).with_only_columns(Referral.id))))


def companies(actor: Account) -> Select:
    """The bases register: an employer reads its own base; staff read the bases certified now, and an
    administrator also every base of the area (applications, suspended, revoked)."""
    stmt = select(Company)
    if actor.role == EMPLOYER:
        return stmt.where(Company.id == actor.company_id)
    if actor.role == ADMIN:
        return stmt.where(or_(Company.place_code.startswith(area_prefix(actor)), certified_in_date()))
    if actor.role in STAFF:
        return stmt.where(certified_in_date())
    return stmt.where(false())


def manages_base(actor: Account, company: Company) -> bool:
    """Certification, agreements, complaints and accounts of a base: the administrators of its area."""
    return actor.role == ADMIN and in_area(actor, company.place_code)


def slots(actor: Account) -> Select:
    """An employer reads its base's slots (drafts too); staff the posted slots of bases certified now, and an
    administrator also every slot of the area's bases."""
    stmt = select(Slot)
    if actor.role == EMPLOYER:
        return stmt.where(Slot.company_id == actor.company_id)
    posted = Slot.status != SlotStatus.DRAFT
    certified = Slot.company_id.in_(select(Company.id).where(certified_in_date()))
    if actor.role == ADMIN:
        return stmt.where(or_(Slot.company_id.in_(_bases_in_area(actor)), posted & certified))
    if actor.role in STAFF:
        return stmt.where(posted, certified)
    return stmt.where(false())


def accounts(actor: Account) -> Select:
    """Accounts an administrator manages: those working in its area (an office, a base or a bureau there)."""
    if actor.role != ADMIN:
        return select(Account).where(false())
    return select(Account).where(or_(
        Account.office_id.in_(_offices_in_area(actor)),
        Account.company_id.in_(_bases_in_area(actor)),
        Account.bureau_code.startswith(area_prefix(actor))))


def fairs(actor: Account) -> Select:
    """Organisers and administrators: the fairs of their bureau's area. Caseworkers: fairs that invited one of
    the files they read. Employers: fairs where their base has a booth."""
    stmt = select(Fair)
    if actor.role in BUREAU:
        return stmt.where(Fair.bureau_code.startswith(area_prefix(actor)))
    if actor.role == CASEWORKER:
        return stmt.where(Fair.id.in_(select(FairInvitation.fair_id)
                                      .where(FairInvitation.candidate_id.in_(candidate_ids(actor)))))
    if actor.role == EMPLOYER:
        return stmt.where(Fair.id.in_(select(FairBooth.fair_id).where(FairBooth.company_id == actor.company_id)))
    return stmt.where(false())


def invitations(actor: Account) -> Select:
    """A fair's invitations: its organisers' and administrators', and the caseworkers' of the files invited."""
    stmt = select(FairInvitation).join(Fair, Fair.id == FairInvitation.fair_id)
    if actor.role in BUREAU:
        return stmt.where(Fair.bureau_code.startswith(area_prefix(actor)))
    if actor.role == CASEWORKER:
        return stmt.where(FairInvitation.candidate_id.in_(candidate_ids(actor)))
    return stmt.where(false())


def follow_up_tasks(actor: Account) -> Select:
    return narrow_to_follow_up(select(FollowUpTask).join(Referral, Referral.id == FollowUpTask.referral_id)
                               .join(Candidate, Candidate.id == Referral.candidate_id), actor)


def narrow_to_follow_up(stmt: Select, actor: Account) -> Select:
    """Narrow a select over checks joined to their referral and candidate to what the actor may see: a
    caseworker, the checks of placements of files its office keeps (the residence office follows up, the
    household office does not); an administrator, those of the files of its area; an employer, the confirmation
    requests of its own base's placements."""
    if actor.role == CASEWORKER:
        return stmt.where(Candidate.office_id == actor.office_id)
    if actor.role == ADMIN:
        return stmt.where(Candidate.id.in_(candidate_ids(actor)))
    if actor.role == EMPLOYER:
        return stmt.join(Slot, Slot.id == Referral.slot_id).where(Slot.company_id == actor.company_id)
    return stmt.where(false())


def _own_or_area(actor: Account, owner_column) -> Select:
    """Rows an account made itself, and for an administrator those made by the accounts of its area."""
    if actor.role == ADMIN:
        return owner_column.in_(accounts(actor).with_only_columns(Account.id))
    return owner_column == actor.id


def jobs(actor: Account) -> Select:
    """An account's own jobs; an administrator's also those of its area's accounts."""
    return select(Job).where(_own_or_area(actor, Job.created_by_id))


def drafts(actor: Account) -> Select:
    """Batch assignment plans: their planner's, and an administrator's also those of its area's accounts."""
    return select(AssignmentDraft).where(_own_or_area(actor, AssignmentDraft.created_by_id))


def notifications(actor: Account) -> Select:
    """Everyone reads their own notifications and nobody else's."""
    return select(Notification).where(Notification.account_id == actor.id)


def export_requests(actor: Account) -> Select:
    """One's own requests; an administrator also those of its area's accounts (another must approve each)."""
    return select(ExportRequest).where(_own_or_area(actor, ExportRequest.requested_by_id))


def account_in_area(session: Session, actor: Account, account: Account) -> bool:
    """Whether an account (new or changed) works in the administrator's area."""
    if account.office_id is not None:
        office = session.get(JudicialOffice, account.office_id)
        return office is not None and in_area(actor, office.township_code)
    if account.company_id is not None:
        company = session.get(Company, account.company_id)
        return company is not None and in_area(actor, company.place_code)
    return in_area(actor, account.bureau_code)


# ---- finding through the scope ---------------------------------------------------------------------------

FOUND = "policy_found"  # session.info: what `find` found since the session last wrote or rolled back


def find(session: Session, actor: Account, scope: Select, model: type[Model], object_id: int, message: Any,
         *, object_type: str) -> Model:
    """The object `object_id` as the actor's scope has it, or NotFound. When the object exists outside the scope,
    the refusal is noted for the audit log (written after the request, whatever becomes of it).

    What was found is kept on the session until it next writes (a flush, an UPDATE or DELETE statement), commits
    or rolls back: a page asks for the same file through every part of it (a candidate's file: seven times), and
    in between the answer cannot change. A session with changes not yet written asks the database (the query
    writes them first)."""
    key = (model, object_id, getattr(actor, "id", None), getattr(actor, "role", None),
           getattr(actor, "office_id", None), getattr(actor, "company_id", None), getattr(actor, "bureau_code", None))
    clean = not (session.new or session.dirty or session.deleted)
    kept = session.info.get(FOUND)
    if clean and kept is not None and key in kept:
        return kept[key]
    found = session.scalar(scope.where(model.id == object_id))  # type: ignore[attr-defined]
    if found is None:
        if session.get(model, object_id) is not None:
            note_refusal(actor, object_type, object_id)
        raise NotFound(message)
    session.info.setdefault(FOUND, {})[key] = found
    return found


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_found(session: Session, *_args) -> None:
    session.info.pop(FOUND, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_found_on_writes(state) -> None:
    if not state.is_select:
        state.session.info.pop(FOUND, None)


# Sent with the refused actor (plain values) as sender, and object_type and object_id.
refused = Namespace().signal("refused")


def acting_as(actor: Account | None) -> ActorRef | None:
    """The actor as plain values (id and role), for a write that outlives the unit of work (`uow.keep`)."""
    return ActorRef(actor.id, actor.role) if actor is not None else None


def note_refusal(actor: Account | None, object_type: str, object_id: int | None) -> None:
    """Tell that an existing object was refused to the actor (`refused`): the audit log writes it down once the
    unit of work is over, whatever becomes of it (matcher.audit.listeners; names and ids only)."""
    refused.send(acting_as(actor), object_type=object_type, object_id=object_id)


def init_policy(app) -> None:
    """Per request: start with no cached consents."""
    @app.before_request
    def _fresh_request_state() -> None:
        g.pop("consents_in_force", None)


# ---- rules of actions: one table ----------------------------------------------------------------------------

class Rule(enum.StrEnum):
    """An action on a kind of object. The table below says which roles may ever take it; the object-level part
    (whose file, whose base, which area) is the scope above plus the checks named in the comments."""

    CANDIDATE_READ = "candidate.read"  # the files in scope (candidates())
    CANDIDATE_CREATE = "candidate.create"
    CANDIDATE_CHANGE = "candidate.change"  # also keeps_file(): visits, screenings, re-offences, bans
    REFERRAL_CREATE = "referral.create"  # also keeps_file()
    BASE_MANAGE = "base.manage"  # register, certify, agreements, complaints; also manages_base()
    BASE_PROFILE = "base.profile"  # a base's own profile (its employers), or its administrators
    BASE_HISTORY = "base.history"  # certification decisions and agreements: the base and its administrators
    SLOT_POST = "slot.post"  # the base's employers, or an administrator of its area
    FAIR_RUN = "fair.run"  # fairs of the bureau's area
    FAIR_INVITATIONS_READ = "fair.invitations.read"  # organisers, and the caseworkers of the files invited
    FAIR_INVITATION_ANSWER = "fair.invitation.answer"  # the office that keeps the invited file
    FAIR_OUTCOME = "fair.outcome"  # the fair's organisers, or the booth's base
    FOLLOW_UP_OVERDUE = "follow_up.overdue"  # the bureau's counts per office (a caseworker: its own office)
    MATCH_RECOMMEND = "match.recommend"  # slots for a file in scope, and why (not) eligible
    MATCH_SUGGEST = "match.suggest"  # candidates for a slot: pseudonymous for its base
    MATCH_PLAN = "match.plan"  # batch assignment plans of the bureau's area
    MATCH_ADMIN = "match.admin"  # the scoring models: training, evaluation, activation
    REPORT_READ = "report.read"  # the bureau's figures for its area
    REPORT_FULL = "report.full"  # the full report by district, office and month, and its workbook
    RECORDS_READ = "records.read"  # bases' records and flags
    AUDIT_READ = "audit.read"
    ACCOUNT_MANAGE = "account.manage"  # accounts of the area (accounts())
    EXPORT_APPROVE = "export.approve"  # another administrator's export of personal data
    RETENTION_RUN = "retention.run"  # archiving the area's old files
    SKILL_TEXT_SUGGEST = "skill_text.suggest"  # the free-text skills of files in scope: propose a reading
    SKILL_TEXT_DECIDE = "skill_text.decide"  # confirm how a free text is read (for everyone: the taxonomy is shared)


RULES: dict[Rule, tuple[Role, ...]] = {
    Rule.CANDIDATE_READ: (ADMIN, CASEWORKER),
    Rule.CANDIDATE_CREATE: (ADMIN, CASEWORKER),
    Rule.CANDIDATE_CHANGE: (ADMIN, CASEWORKER),
    Rule.REFERRAL_CREATE: (ADMIN, CASEWORKER),
    Rule.BASE_MANAGE: (ADMIN,),
    Rule.BASE_PROFILE: (ADMIN, EMPLOYER),
    Rule.BASE_HISTORY: (ADMIN, EMPLOYER),
    Rule.SLOT_POST: (ADMIN, EMPLOYER),
    Rule.FAIR_RUN: BUREAU,
    Rule.FAIR_INVITATIONS_READ: (ADMIN, ORGANISER, CASEWORKER),
    Rule.FAIR_INVITATION_ANSWER: (ADMIN, CASEWORKER),
    Rule.FAIR_OUTCOME: (ADMIN, ORGANISER, EMPLOYER),
    Rule.FOLLOW_UP_OVERDUE: (ADMIN, CASEWORKER),
    Rule.MATCH_RECOMMEND: (ADMIN, CASEWORKER),
    Rule.MATCH_SUGGEST: (ADMIN, CASEWORKER, EMPLOYER),
    Rule.MATCH_PLAN: BUREAU,
    Rule.MATCH_ADMIN: (ADMIN,),
    Rule.REPORT_READ: BUREAU,
    Rule.REPORT_FULL: (ADMIN,),
    Rule.RECORDS_READ: (ADMIN,),
    Rule.AUDIT_READ: (ADMIN,),
    Rule.ACCOUNT_MANAGE: (ADMIN,),
    Rule.EXPORT_APPROVE: (ADMIN,),
    Rule.RETENTION_RUN: (ADMIN,),
    Rule.SKILL_TEXT_SUGGEST: (ADMIN, CASEWORKER),
    Rule.SKILL_TEXT_DECIDE: (ADMIN,),
}


def can(actor: Account | None, rule: Rule) -> bool:
    return actor is not None and actor.role in RULES[rule]


def require(actor: Account, rule: Rule, *, object_type: str | None = None, object_id: int | None = None) -> None:
    """A role that never takes this action is answered as for anything outside its scope: not found."""
    if not can(actor, rule):
        note_refusal(actor, object_type or rule.value.split(".")[0], object_id)
        raise NotFound(_l("Not found."))


def forbid(actor: Account, message: Any, *, object_type: str, object_id: int | None, field: str | None = None):
    """Refuse a change to an object the actor may read but not change (403), noting the refusal."""
    note_refusal(actor, object_type, object_id)
    return Forbidden(message, field=field)


# ---- parties: who an account is to an object -------------------------------------------------------------

P = Party


def role_parties(actor: Account, area_code: str | None = None) -> set[Party]:
    """What an account is by its role: staff, signed in; and bureau (and administrator) for objects of its area
    (`area_code`: the object's place; None where the service has already kept the rows to the area)."""
    parties = {P.SIGNED_IN}
    if actor.role in STAFF:
        parties.add(P.STAFF)
    if area_code is None or in_area(actor, area_code):
        if actor.role in BUREAU:
            parties.add(P.BUREAU)
        if actor.role == ADMIN:
            parties.add(P.ADMIN)
    return parties


def parties_for_candidate(actor: Account, candidate: Candidate | None) -> set[Party]:
    """OFFICE when the file is in the account's jurisdiction."""
    parties = role_parties(actor)
    if candidate is not None and reads_file(actor, candidate):
        parties.add(P.OFFICE)
    return parties


def referral_purpose(referral: Referral) -> DisclosurePurpose | None:
    """What a base needs a name and contact for on a referral: an interview until the candidate starts, the
    employment from the start on; nothing once the referral has ended (the purpose is over)."""
    if referral.status in ENDED:
        return None
    started = referral.started_on is not None or referral.status in STARTED_EVER
    return DisclosurePurpose.EMPLOYMENT if started else DisclosurePurpose.INTERVIEW


DisclosureKey = tuple[int, int, DisclosurePurpose]  # (candidate_id, base_id, purpose)


def disclosures_in_force(session: Session, keys) -> set[DisclosureKey]:
    """Of the (candidate_id, base_id, purpose) keys given, those whose disclosure consent is in force: the record
    recorded last (highest id) for that candidate, base and purpose grants it, so a withdrawal takes effect the
    moment it is saved. Records without a base or a purpose (made before per-base consent existed) grant nothing.
    One query for any number of keys."""
    wanted = _normalised(keys)
    if not wanted:
        return set()
    latest: dict[DisclosureKey, bool] = {}
    rows = session.execute(
        select(Consent.candidate_id, Consent.base_id, Consent.purpose, Consent.granted)
        .where(Consent.kind == ConsentKind.DISCLOSE_IDENTITY,
               Consent.candidate_id.in_(sorted({c for c, _b, _p in wanted})),
               Consent.base_id.in_(sorted({b for _c, b, _p in wanted})), Consent.purpose.is_not(None))
        .order_by(Consent.id))
    for candidate_id, base_id, purpose, granted in rows:
        latest[(candidate_id, base_id, purpose)] = granted
    return {key for key in wanted if latest.get(key)}


def _normalised(keys) -> set[DisclosureKey]:
    """Keys as (int, int, DisclosurePurpose); a key missing a part is no key (it grants nothing)."""
    return {(int(c), int(b), DisclosurePurpose(p)) for c, b, p in keys
            if c is not None and b is not None and p is not None}


def _consent_cache() -> dict:
    return g.setdefault("consents_in_force", {}) if has_request_context() else {}


def prime_consents(session: Session, keys) -> set[DisclosureKey]:
    """Look up many keys at once (a page of referrals) and remember the answers for the request."""
    keys = _normalised(keys)
    allowed = disclosures_in_force(session, keys)
    cache = _consent_cache()
    for key in keys:
        cache[key] = key in allowed
    return allowed


def consented(session: Session, candidate_id: int, base_id: int | None, purpose: DisclosurePurpose | str | None
              ) -> bool:
    """The person's consent to show name and contact to this base for this purpose is in force."""
    if base_id is None or purpose is None:
        return False
    key = (int(candidate_id), int(base_id), DisclosurePurpose(purpose))
    cache = _consent_cache()
    if key not in cache:
        cache[key] = key in disclosures_in_force(session, [key])
    return cache[key]


def parties_for_referral(session: Session, actor: Account, referral: Referral) -> set[Party]:
    parties = parties_for_candidate(actor, referral.candidate)
    if actor.role == EMPLOYER and referral.slot is not None and referral.slot.company_id == actor.company_id:
        parties.add(P.BASE)
        if consented(session, referral.candidate_id, actor.company_id, referral_purpose(referral)):
            parties.add(P.BASE_CONSENTED)
    return parties


def parties_for_base(actor: Account, company: Company | None) -> set[Party]:
    """A base's own employers are its party; the bureau is, for the bases of its area."""
    parties = role_parties(actor, company.place_code if company is not None else None)
    if actor.role == EMPLOYER and company is not None and actor.company_id == company.id:
        parties.add(P.BASE)
    return parties


def parties_for_own(actor: Account, owner_id: int | None) -> set[Party]:
    parties = role_parties(actor)
    if owner_id is not None and owner_id == actor.id:
        parties.add(P.SELF)
    return parties


# Root resources (as the API's response schemas name them) and who the account is to one of their objects.
# Nested objects are parts of their root and inherit its parties (a referral's events, its candidate's card).
Resolver = Callable[[Session, Account, Any], set[Party]]
# Answers that go only to whoever asked, signed in or not yet (a new token goes to the one who just logged in).
ANSWERS_TO_THE_ASKER = frozenset({"Token"})
RESOLVERS: dict[str, Resolver] = {}


def resolver(*names: str) -> Callable[[Resolver], Resolver]:
    def register(function: Resolver) -> Resolver:
        for name in names:
            RESOLVERS[name] = function
        return function
    return register


def parties(session: Session, actor: Account | None, resource: str, obj: Any) -> frozenset[Party]:
    """Who `actor` is to `obj`, a root object of `resource`. No account: nobody (nothing is disclosed)."""
    if resource in ANSWERS_TO_THE_ASKER:
        return frozenset({P.SELF})
    if actor is None:
        return frozenset()
    if resource not in RESOLVERS:
        raise LookupError(f"no party resolver for {resource}: add one in matcher.policy")
    return frozenset(RESOLVERS[resource](session, actor, obj))


def _fair_parties(actor: Account, fair, *, booth_company_id: int | None = None) -> set[Party]:
    """The organisers and administrators of the fair's area run it; a base is party to its own booth."""
    parties = role_parties(actor, fair.bureau_code)
    if P.BUREAU in parties:
        parties.add(P.ORGANISER)
    if actor.role == EMPLOYER and booth_company_id is not None and booth_company_id == actor.company_id:
        parties.add(P.BASE)
    return parties


def _employer_has_booth(session: Session, actor: Account, fair_id: int) -> int | None:
    if actor.role != EMPLOYER:
        return None
    return session.scalar(select(FairBooth.company_id).where(FairBooth.fair_id == fair_id,
                                                             FairBooth.company_id == actor.company_id).limit(1))


@resolver("CandidateRead")
def _candidate_parties(session: Session, actor: Account, candidate) -> set[Party]:
    return parties_for_candidate(actor, candidate)


@resolver("VisitRead", "ConsentRead", "RiskAssessmentRead", "ReoffenceRead", "BanRead")
def _file_record_parties(session: Session, actor: Account, record) -> set[Party]:
    """A part of a file (a visit, a consent, a screening, a re-offence, a ban): the file's parties."""
    return parties_for_candidate(actor, session.get(Candidate, _value(record, "candidate_id")))


@resolver("SlotRecommendationPage", "Eligibility")
def _about_a_candidate(session: Session, actor: Account, page) -> set[Party]:
    return parties_for_candidate(actor, _value(page, "candidate"))


@resolver("CandidateRecommendationPage")
def _suggestions_parties(session: Session, actor: Account, page) -> set[Party]:
    """Candidates suggested for a slot: its base (pseudonymous cards), or the office / administrators whose scope
    the service kept the candidates to."""
    parties = parties_for_base(actor, page.slot.company if page.slot is not None else None)
    if actor.role in (CASEWORKER, ADMIN):
        parties.add(P.OFFICE)
    return parties


@resolver("ReferralRead")
def _referral_parties(session: Session, actor: Account, referral) -> set[Party]:
    return parties_for_referral(session, actor, referral)


@resolver("ReferralInterviewRead")
def _referral_interview_parties(session: Session, actor: Account, interview) -> set[Party]:
    """An interview of a referral: the referral's parties (the office, the base; its name and phone with consent)."""
    return parties_for_referral(session, actor, interview.referral)


@resolver("TaskRead")
def _task_parties(session: Session, actor: Account, task) -> set[Party]:
    return parties_for_referral(session, actor, task.referral)


@resolver("CompanyRead", "SlotRead", "AgreementRead", "CertificationEvent", "ComplaintRead")
def _base_parties(session: Session, actor: Account, obj) -> set[Party]:
    return parties_for_base(actor, obj if isinstance(obj, Company) else session.get(Company, _value(obj, "company_id")))


@resolver("FairRead")
def _fair_read_parties(session: Session, actor: Account, fair) -> set[Party]:
    parties = _fair_parties(actor, fair, booth_company_id=_employer_has_booth(session, actor, fair.id))
    if actor.role == CASEWORKER:  # a caseworker sees fairs that invited one of its candidates (the scope)
        parties.add(P.OFFICE)
    return parties


@resolver("BoothRead")
def _booth_parties(session: Session, actor: Account, booth) -> set[Party]:
    return _fair_parties(actor, booth.fair, booth_company_id=booth.company_id)


@resolver("PlanView", "PlanRunRead", "FairReport")
def _plan_parties(session: Session, actor: Account, obj) -> set[Party]:
    fair_id = _value(obj, "fair_id")
    fair = session.get(Fair, fair_id) if fair_id is not None else None
    if fair is None:
        return role_parties(actor)
    return _fair_parties(actor, fair, booth_company_id=_employer_has_booth(session, actor, fair.id))


@resolver("InterviewRead")
def _interview_parties(session: Session, actor: Account, interview) -> set[Party]:
    parties = _fair_parties(actor, interview.booth.fair, booth_company_id=interview.booth.company_id)
    if P.BASE in parties and consented(session, interview.invitation.candidate_id, actor.company_id,
                                       DisclosurePurpose.JOB_FAIR):
        parties.add(P.BASE_CONSENTED)
    return parties


@resolver("InvitationRead")
def _invitation_parties(session: Session, actor: Account, invitation) -> set[Party]:
    return _fair_parties(actor, session.get(Fair, invitation.fair_id)) | parties_for_candidate(actor,
                                                                                                invitation.candidate)


# What belongs to one account, and the field that names it: that account is SELF to it.
OWNED_BY = {"AccountRead": "id", "Job": "created_by_id", "ExportRequestRead": "requested_by_id",
            "NotificationRead": "account_id"}
for _resource, _owner in OWNED_BY.items():
    resolver(_resource)(lambda session, actor, obj, owner=_owner: parties_for_own(actor, _value(obj, owner)))


@resolver("UnreadCount", "ReadAll", "ImportReport", "InviteResult")
def _answer_to_self(session: Session, actor: Account, _answer) -> set[Party]:
    """An answer about the asker's own request (their token, their unread count, their import's or their
    invitations' counts)."""
    return role_parties(actor) | {P.SELF}


@resolver("Course", "Skill", "Occupation", "OccupationSuggestion", "SkillText", "SkillTextSuggestion",
          "SkillTextMapping", "Place", "Office", "Report", "OfficeOverdue", "BaseRecord", "Model",
          "SizeBands", "AnswerRules",
          "AssignmentDraft", "AssignmentDraftList", "AuditEventRead", "AuditVerification", "RetentionReport")
def _by_role(session: Session, actor: Account, _obj) -> set[Party]:
    """Reference data, and what a role reads as such (reports, records, models, the audit log): the role decides,
    and the service's scope has already kept the rows to the account's area."""
    return role_parties(actor)
