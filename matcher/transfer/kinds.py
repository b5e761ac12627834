"""What differs between the kinds of file: how a checked row is created, and how rows are exported.

Creation goes through the feature services (create_candidate, create_company, create_slot ...) so an
imported row meets exactly the rules an API call meets. Referral history has no service of its own:
it is written here, as history, with the seat rules of the referrals service for live referrals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matcher import clock, external_ids, policy, uow
from matcher.apiutil import IdField, Schema
from matcher.auth.models import Account, Role
from matcher.bases.models import CertificationStatus, Company
from matcher.bases.schemas import CompanyCreateSchema
from matcher.bases.service import (
    build_new_company,
    create_company,
    decide_certification,
    list_companies,
    registered_credit_codes,
    write_new_companies,
)
from matcher.bulk import insert_rows, reserve_ids
from matcher.candidates.models import Candidate, CandidateStatus, Consent, ConsentKind, Education
from matcher.candidates.schemas import CandidateCreateSchema
from matcher.candidates.service import (
    ID_NUMBER_ON_FILE,
    REGISTERED_ELSEWHERE,
    IdNumberOnFile,
    NewCandidate,
    build_new_candidate,
    create_candidate,
    find_id_numbers,
    id_lookups_exhausted,
    id_lookups_left,
    list_candidates,
    receive_hand_over,
    write_new_candidates,
)
from matcher.clock import today
from matcher.errors import Conflict, Invalid
from matcher.i18n_messages import ShownDate
from matcher.identifiers import hash_id_number, is_valid_id_number, normalise_id_number
from matcher.reference.service import suggest_occupations_many
from matcher.referrals.lifecycle import (
    END_REASONS,
    ENDED,
    MILESTONE_DAYS,
    MILESTONE_OF,
    SEAT_HOLDING,
    STAY_DAYS,
    EndReason,
    Milestone,
    ReferralStatus,
    milestone_for,
)
from matcher.referrals.models import Referral, ReferralEvent
from matcher.referrals.service import list_referrals
from matcher.slots.models import Slot, SlotKind, SlotStatus
from matcher.slots.schemas import SlotCreateSchema
from matcher.slots.service import (
    build_new_slot,
    create_slot,
    list_slots,
    set_slot_status,
    take_seat,
    take_seats,
    write_new_slots,
)
from matcher.transfer.cells import format_list, format_skills
from matcher.transfer.columns import (
    BASE_COLUMNS,
    CANDIDATE_COLUMNS,
    REFERRAL_COLUMNS,
    RELEASE_LIST_COLUMNS,
    SLOT_COLUMNS,
    Column,
)

ADMIN, CW, EMP, ORG = Role.ADMINISTRATOR, Role.CASEWORKER, Role.EMPLOYER, Role.ORGANISER
PERSONAL = frozenset(c.name for c in CANDIDATE_COLUMNS if c.personal)  # never leave the process unless identified
IMPORTED_NOTE = "imported"  # the internal note on every event an import writes
MAX_OCCUPATION_SUGGESTIONS = 500  # rows of a slots import told a suggested occupation code (the report stays small)


def remember_parts(schema: Schema) -> Schema:
    """Have the schema load each distinct value of its nested and list fields once: a file repeats the same
    places, skills, certificates and wishes in thousands of rows. The same fields load them (same rules and
    messages); a value met again gets the answer already found, a copy of what they loaded or raised."""
    for field in schema.load_fields.values():
        if isinstance(field, fields.Nested | fields.List):
            field.deserialize = _remembered(field.deserialize)
    return schema


REMEMBERED = 10_000  # distinct values a field remembers: a file of all-different values costs no more memory


def _remembered(deserialize):
    answers: dict[str, tuple] = {}

    def load(value, attr=None, data=None, **kwargs):
        key = repr(value)
        answer = answers.get(key)
        if answer is None:
            try:
                answer = (deserialize(value, attr, data, **kwargs), None)
            except ValidationError as exc:
                answer = (None, exc)
            if len(answers) < REMEMBERED:
                answers[key] = answer
        loaded, error = answer
        if error is not None:
            raise ValidationError(error.messages, field_name=error.field_name, valid_data=error.valid_data)
        return _copy(loaded)

    return load


def _copy(value):
    """A copy of loaded data (dicts and lists of plain values), for a row that may change its own."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


class Importer:
    """Checks the rows of a file, then writes them (see service.import_file): `prefetch` reads what all the rows
    need at once, `check` and `build` check each row in memory (later rows seeing earlier ones), `write` writes the
    built rows together. `create` makes one checked row at a time: the path of kinds that are not `batch`, and
    the way to find the row the database refused."""

    kind: str
    columns: tuple[Column, ...]
    roles: tuple[Role, ...]
    batch = True  # checked in memory first, then written together

    def __init__(self, session: Session, actor: Account):
        self.session, self.actor = session, actor
        # One instance for all rows (building a schema is not free), which remembers its nested parts.
        self.schema = remember_parts(self.make_schema())
        # Files outside the actor's scope that rows found by ID number: audited once the import's transaction
        # has ended, whatever its outcome (a dry run rolls back), by service.import_file.
        self.id_lookups: list[int] = []
        self.references: dict[str, int] = {}  # the bureau's references (external_id) met so far -> row

    def reference_twice(self, loaded: dict, row_number: int) -> dict:
        """The same bureau reference twice in one file is a row error (a file comes from one bureau)."""
        reference = loaded.get("external_id")
        if reference is None:
            return {}
        if reference in self.references:
            return {"external_id": [_l("The same reference is in row %(row)s.", row=self.references[reference])]}
        self.references[reference] = row_number
        return {}

    def by_reference(self, scope, model: type, reference: str, column: str, errors: dict):
        """The record of the actor's scope and area holding the bureau's `reference`, or None with the reason
        put under `column` in `errors`."""
        try:
            found = external_ids.find(self.session, scope, model, reference, policy.reference_area(self.actor))
        except Invalid as exc:
            errors[column] = [message for messages in exc.errors.values() for message in messages]
            return None
        if found is None:
            errors[column] = [_l("Nothing of your area has this reference.")]
        return found

    def make_schema(self) -> Schema:
        raise NotImplementedError

    def prepare(self, data: dict) -> None:
        """Adjust the row's data before the schema reads it (forms the schema wants)."""

    def prefetch(self, rows: list[dict]) -> None:
        """Read at once what `check` will need for these loaded rows (may be called again with more rows)."""

    def check(self, loaded: dict, row_number: int) -> dict:
        """Rules across rows (duplicates in the file) and look-ups; returns {field: [messages]}."""
        return {}

    def build(self, loaded: dict) -> Any:
        """The row checked by the feature service's rules, in memory, ready for `write`; raises DomainError."""
        return loaded

    def write(self, built: list) -> None:
        """Write the built rows (the import's write phase)."""
        for loaded in built:
            self.create(loaded)
        uow.flush(self.session)

    def create(self, loaded: dict) -> None:
        raise NotImplementedError

    def outcome(self) -> dict:
        """What the rows did beyond being created, for the report (e.g. files updated, per office)."""
        return {}


class Exporter:
    """Pseudonymous unless `identified` (an administrator approved an export request): personal columns
    (Column.personal) are written only into an identified file. The bureau's references (Column.staff_only) are
    never written for a base."""

    kind: str
    roles: tuple[Role, ...]
    # Roles that may have an identified file of this kind (none: the kind holds no personal data).
    identified_roles: tuple[Role, ...] = ()

    def __init__(self, session: Session, actor: Account, *, identified: bool = False):
        self.session, self.actor = session, actor
        self.identified = identified and actor.role in self.identified_roles

    def columns(self) -> list[Column]:
        raise NotImplementedError

    def shown(self, columns: tuple[Column, ...]) -> list[Column]:
        for_a_base = self.actor.role == EMP
        return [c for c in columns if c.exported and (self.identified or not c.personal)
                and not (for_a_base and c.staff_only)]

    def for_reader(self, row: dict, columns: tuple[Column, ...]) -> dict:
        """`row` without the bureau's references when a base reads it."""
        if self.actor.role != EMP:
            return row
        hidden = {c.name for c in columns if c.staff_only}
        return {key: value for key, value in row.items() if key not in hidden}

    def rows(self) -> Iterator[dict]:
        raise NotImplementedError


# --- Candidates ---------------------------------------------------------------------------------


class CandidateImporter(Importer):
    kind, columns, roles = "candidates", CANDIDATE_COLUMNS, (ADMIN, CW)

    def __init__(self, session: Session, actor: Account):
        super().__init__(session, actor)
        self.pepper = current_app.config["ID_NUMBER_PEPPER"]
        self.seen: dict[str, int] = {}
        self.id_lookups_left: int | None = None  # read from the audit log at the first file found elsewhere
        self.on_file: dict[str, IdNumberOnFile] = {}  # the files already kept for the file's ID numbers
        self.memo: dict = {}  # the reference look-ups of the rows (candidates.service._Resolved)

    def make_schema(self) -> Schema:
        return CandidateCreateSchema()

    def prefetch(self, rows: list[dict]) -> None:
        digests = [hash_id_number(loaded["id_number"], self.pepper) for loaded in rows]
        self.on_file.update(find_id_numbers(session=self.session, actor=self.actor, digests=digests))

    def prepare(self, data: dict) -> None:
        if "certificates" in data:
            data["certificates"] = [{"name": name} for name in data["certificates"]]

    def check(self, loaded: dict, row_number: int) -> dict:
        if twice := self.reference_twice(loaded, row_number):
            return twice
        digest = hash_id_number(loaded["id_number"], self.pepper)
        if digest in self.seen:
            return {"id_number": [_l("The same ID number is in row %(row)s.", row=self.seen[digest])]}
        self.seen[digest] = row_number
        found = self.on_file.get(digest)
        if found is None:
            return {}
        if found.in_scope:
            return {"id_number": [ID_NUMBER_ON_FILE]}
        self.id_lookups.append(found.candidate_id)
        if self.id_lookups_left is None:
            self.id_lookups_left = id_lookups_left(self.session, self.actor)
        if len(self.id_lookups) > self.id_lookups_left:
            raise id_lookups_exhausted(field="file")  # the whole file: no row's answer is given
        return {"id_number": [REGISTERED_ELSEWHERE]}

    def build(self, loaded: dict) -> NewCandidate:
        return build_new_candidate(session=self.session, actor=self.actor, data=loaded, memo=self.memo, draft=True)

    def write(self, built: list[NewCandidate]) -> None:
        write_new_candidates(session=self.session, actor=self.actor, files=built)

    def create(self, loaded: dict) -> None:
        create_candidate(session=self.session, actor=self.actor, data=loaded)


class CandidateExporter(Exporter):
    kind, roles, identified_roles = "candidates", (ADMIN, CW), (ADMIN, CW)

    def columns(self) -> list[Column]:
        return self.shown(CANDIDATE_COLUMNS)

    def rows(self) -> Iterator[dict]:
        stmt = list_candidates(session=self.session, actor=self.actor, filters={"sort": "created_at"})
        in_force = _consents_in_force(self.session, stmt.with_only_columns(Candidate.id).order_by(None))
        for c in self.session.scalars(stmt):
            row = {
                "public_id": c.public_id, "external_id": c.external_id, "name": c.name,
                "id_number_masked": c.id_number_masked,
                "sex": c.sex, "birth_year": c.birth_year, "ethnicity": c.ethnicity, "education": c.education,
                "phone": c.phone, "hukou": c.hukou_code, "residence": c.residence_code,
                "residence_lat": c.residence_lat, "residence_lng": c.residence_lng,
                "residence_address": c.residence_address, "release_institution": c.release_institution,
                "release_date": c.release_date, "assistance_ends_on": c.assistance_ends_on,
                "key_subject": c.key_subject, "risk_grade": c.risk_grade,
                "offence_category": c.offence_category,
                "skills": format_skills(c.skills),
                "certificates": format_list(cert.name for cert in c.certificates),
                "preferred_courses": format_list(p.course_code for p in c.preferred_courses),
                "max_travel_km": c.max_travel_km, "needs_housing": c.needs_housing,
                "earliest_start": c.earliest_start, "status": c.status,
                "consents": format_list(sorted(in_force.get(c.id, ()))),
                "office_id": c.office_id, "office": c.office.name, "dual_registration": c.dual_registration,
            }
            yield row if self.identified else {key: value for key, value in row.items() if key not in PERSONAL}


def _consents_in_force(session: Session, candidate_ids) -> dict[int, set[str]]:
    """The latest record of each kind decides, as in candidates.service.has_consent. Disclosure of name and
    contact is per base and purpose and not a column: left out."""
    latest: dict[tuple[int, str], bool] = {}
    stmt = (select(Consent.candidate_id, Consent.kind, Consent.granted)
            .where(Consent.candidate_id.in_(candidate_ids), Consent.kind != ConsentKind.DISCLOSE_IDENTITY)
            .order_by(Consent.recorded_on, Consent.id))
    for candidate_id, kind, granted in session.execute(stmt):
        latest[(candidate_id, kind.value)] = granted
    in_force: dict[int, set[str]] = {}
    for (candidate_id, kind), granted in latest.items():
        if granted:
            in_force.setdefault(candidate_id, set()).add(kind)
    return in_force


# --- Bases --------------------------------------------------------------------------------------


class BaseImportSchema(CompanyCreateSchema):
    """The create schema, plus the certification a migrated register already holds."""

    certification_status = fields.Enum(CertificationStatus, by_value=True)
    certified_until = fields.Date()


class BaseImporter(Importer):
    kind, columns, roles = "bases", BASE_COLUMNS, (ADMIN,)

    def __init__(self, session: Session, actor: Account):
        super().__init__(session, actor)
        self.seen: dict[str, int] = {}
        self.registered: set[str] = set()  # the file's credit codes a company already has

    def make_schema(self) -> Schema:
        return BaseImportSchema()

    def prefetch(self, rows: list[dict]) -> None:
        self.registered |= registered_credit_codes(self.session, [loaded["credit_code"] for loaded in rows])

    def check(self, loaded: dict, row_number: int) -> dict:
        if twice := self.reference_twice(loaded, row_number):
            return twice
        code = loaded["credit_code"].strip().upper()
        if code in self.seen:
            return {"credit_code": [_l("The same credit code is in row %(row)s.", row=self.seen[code])]}
        self.seen[code] = row_number
        if code in self.registered:
            return {"credit_code": [_l("A company with this credit code is already registered.")]}
        return _certification_problems(loaded.get("certification_status"), loaded.get("certified_until"))

    def build(self, loaded: dict) -> tuple:
        status, until = loaded.pop("certification_status", None), loaded.pop("certified_until", None)
        return build_new_company(session=self.session, actor=self.actor, data=loaded), status, until

    def write(self, built: list[tuple]) -> None:
        write_new_companies(session=self.session, actor=self.actor, companies=[company for company, *_ in built])
        for company, status, until in built:
            if status == CertificationStatus.CERTIFIED:  # the certify decision's own rules and history
                decide_certification(session=self.session, actor=self.actor, company_id=company.id,
                                     action="certify", valid_until=until)

    def create(self, loaded: dict) -> None:
        status, until = loaded.pop("certification_status", None), loaded.pop("certified_until", None)
        company = create_company(session=self.session, actor=self.actor, data=loaded)
        if status == CertificationStatus.CERTIFIED:  # the certify decision's own rules and history
            decide_certification(session=self.session, actor=self.actor, company_id=company.id, action="certify",
                                 valid_until=until)


def _certification_problems(status: CertificationStatus | None, until: dt.date | None) -> dict:
    """A row may carry an application or a certification in date (what `decide_certification` accepts), named
    by its own columns; other states are decisions with reasons, taken on the base's page."""
    if status not in (None, CertificationStatus.APPLIED, CertificationStatus.CERTIFIED):
        return {"certification_status": [_l("An imported base is applied or certified.")]}
    if status == CertificationStatus.CERTIFIED:
        if until is None:
            return {"certified_until": [_l("Certifying needs a valid-until date.")]}
        if until <= today():
            return {"certified_until": [_l("The valid-until date must be in the future.")]}
    elif until is not None:
        return {"certified_until": [_l("Only a certified base has a valid-until date.")]}
    return {}


class BaseExporter(Exporter):
    kind, roles = "bases", (ADMIN, CW, EMP, ORG)

    def columns(self) -> list[Column]:
        return self.shown(BASE_COLUMNS)

    def rows(self) -> Iterator[dict]:
        stmt = list_companies(session=self.session, actor=self.actor, filters={"sort": "name"})
        for b in self.session.scalars(stmt):
            yield self.for_reader({
                "id": b.id, "external_id": b.external_id, "name": b.name, "credit_code": b.credit_code,
                "industry": b.industry,
                "place": b.place_code, "lat": b.lat, "lng": b.lng, "address": b.address,
                "contact_name": b.contact_name, "contact_phone": b.contact_phone,
                "description": b.description,
                "certification_status": b.effective_status(), "certified_until": b.certified_until,
            }, BASE_COLUMNS)


# --- Slots --------------------------------------------------------------------------------------


class SlotImportSchema(SlotCreateSchema):
    """The create schema, plus what a spreadsheet may say beyond it. A file may hold slots that started long ago
    (a base's history), so a start in the past is not refused here."""

    new_slot = False

    company_credit_code = fields.Str(validate=validate.Length(max=18))
    company_external_id = fields.Str(validate=validate.Length(max=external_ids.MAX_LENGTH))
    status = fields.Enum(SlotStatus, by_value=True)


class SlotImporter(Importer):
    kind, columns, roles = "slots", SLOT_COLUMNS, (ADMIN, EMP)

    def __init__(self, session: Session, actor: Account):
        super().__init__(session, actor)
        self.companies: dict[str, int | None] = {}  # the bases the file names by credit code
        self.without_occupation: list[tuple[int, str]] = []  # (row number, title) of job rows with no code

    def make_schema(self) -> Schema:
        return SlotImportSchema()

    def outcome(self) -> dict:
        """A suggested occupation for each job row that names none (the code is never filled in for the person:
        they confirm it, in the file or on the slot's form)."""
        rows = self.without_occupation[:MAX_OCCUPATION_SUGGESTIONS]
        found = suggest_occupations_many(session=self.session, titles=[title for _number, title in rows])
        return {"occupation_suggestions": [
            {"row": number, "title": title, "code": best[0].code, "name_zh": best[0].name, "score": best[0].score}
            for (number, title), best in zip(rows, found, strict=True) if best] or None}

    def prefetch(self, rows: list[dict]) -> None:
        codes = {code.strip().upper() for loaded in rows if (code := loaded.get("company_credit_code"))}
        codes -= self.companies.keys()
        self.companies.update(dict.fromkeys(codes))
        codes = sorted(codes)
        for start in range(0, len(codes), 500):
            chunk = codes[start:start + 500]
            self.companies.update((code, company_id) for code, company_id in self.session.execute(
                select(Company.credit_code, Company.id).where(Company.credit_code.in_(chunk))))

    def prepare(self, data: dict) -> None:
        if data.get("intakes") and not data.get("starts_on"):
            data["starts_on"] = min(data["intakes"])  # ISO dates: their order is the calendar's

    def check(self, loaded: dict, row_number: int) -> dict:
        if twice := self.reference_twice(loaded, row_number):
            return twice
        if not loaded.get("occupation_code") and loaded.get("kind") == SlotKind.JOB and loaded.get("title"):
            self.without_occupation.append((row_number, loaded["title"]))
        reference = loaded.pop("company_external_id", None)
        if reference:
            errors: dict[str, list] = {}
            company = self.by_reference(policy.companies(self.actor), Company, reference, "company_external_id",
                                        errors)
            if company is None:
                return errors
            if loaded.get("company_id") not in (None, company.id):
                return {"company_external_id": [_l("The reference and company_id name different bases.")]}
            loaded["company_id"] = company.id
        code = loaded.pop("company_credit_code", None)
        if code:
            company_id = self.companies.get(code.strip().upper())
            if company_id is None:
                return {"company_credit_code": [_l("No base has this credit code.")]}
            if loaded.get("company_id") not in (None, company_id):
                return {"company_credit_code": [_l("The credit code and company_id (or the base's reference) name "
                                                   "different bases.")]}
            loaded["company_id"] = company_id
        if self.actor.role == EMP and loaded.get("company_id") not in (None, self.actor.company_id):
            return {"company_id": [_l("You can import slots for your own base only.")]}
        return {}

    def build(self, loaded: dict) -> Slot:
        status = loaded.pop("status", None)
        return build_new_slot(session=self.session, actor=self.actor, data=loaded, status=status)

    def write(self, built: list[Slot]) -> None:
        write_new_slots(session=self.session, slots=built)

    def create(self, loaded: dict) -> None:
        status = loaded.pop("status", None)
        slot = create_slot(session=self.session, actor=self.actor, data=loaded)
        if status is not None and status != SlotStatus.DRAFT:
            set_slot_status(session=self.session, actor=self.actor, slot_id=slot.id, status=status.value)


class SlotExporter(Exporter):
    kind, roles = "slots", (ADMIN, CW, EMP, ORG)

    def columns(self) -> list[Column]:
        return self.shown(SLOT_COLUMNS)

    def rows(self) -> Iterator[dict]:
        stmt = list_slots(session=self.session, actor=self.actor, filters={"sort": "created_at"})
        for s in self.session.scalars(stmt):
            yield self.for_reader({
                "id": s.id, "external_id": s.external_id, "company_id": s.company_id,
                "company_credit_code": s.company.credit_code, "company_external_id": s.company.external_id,
                "company_name": s.company.name, "kind": s.kind, "title": s.title,
                "description": s.description,
                "occupation_code": s.occupation_code, "course_code": s.course_code,
                "required_skills": format_skills(s.required_skills), "seats": s.seats,
                "seats_taken": s.seats_taken, "place": s.place_code, "lat": s.lat, "lng": s.lng,
                "address": s.address, "pay_min": s.pay_min, "pay_max": s.pay_max,
                "hours_per_week": s.hours_per_week, "housing_provided": s.housing_provided,
                "starts_on": s.starts_on, "ends_on": s.ends_on,
                "intakes": format_list(start.isoformat() for start, _end in s.runs()) if s.intakes else None,
                "certificate_awarded": s.certificate_awarded,
                "min_age": s.min_age, "status": s.status,
            }, SLOT_COLUMNS)


# --- Referral history ---------------------------------------------------------------------------

S = ReferralStatus
NO_SEAT = _l("No seat is free on this slot: write a placement that has ended as left, with its end date (ended_on), "
             "and give a recurring slot its intakes.")
STARTED_STATUSES = {S.STARTED, S.STAYED_30, S.STAYED_90, S.STAYED_180, S.LEFT}


class ReferralHistorySchema(Schema):
    """One past referral: where it got to, and when."""

    # Each named by Xintu's id or the bureau's reference (or both, which must agree): one of the two is required.
    candidate = fields.Str(validate=validate.Length(min=1, max=40))
    candidate_external_id = fields.Str(validate=validate.Length(min=1, max=external_ids.MAX_LENGTH))
    slot_id = IdField()
    slot_external_id = fields.Str(validate=validate.Length(min=1, max=external_ids.MAX_LENGTH))
    status = fields.Enum(ReferralStatus, by_value=True, required=True)
    created_on = fields.Date(required=True)
    started_on = fields.Date()
    ended_on = fields.Date()
    end_code = fields.Enum(EndReason, by_value=True)
    end_note = fields.Str(validate=validate.Length(min=1, max=500))
    milestone = fields.Enum(Milestone, by_value=True)

    @validates_schema
    def _coherent(self, data, **_kwargs):
        status = data.get("status")
        created, started, ended = data.get("created_on"), data.get("started_on"), data.get("ended_on")
        errors: dict[str, list] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        if not data.get("candidate") and not data.get("candidate_external_id"):
            add("candidate", _l("Name the candidate: public id, ID number or the bureau's reference "
                                "(candidate_external_id)."))
        if not data.get("slot_id") and not data.get("slot_external_id"):
            add("slot_id", _l("Name the slot: its id or the bureau's reference (slot_external_id)."))
        for name in ("created_on", "started_on", "ended_on"):
            if data.get(name) and data[name] > today():
                add(name, _l("The date cannot be in the future."))
        if status in ENDED:
            if ended is None:
                add("ended_on", _l("An ended referral (declined, withdrawn, left) needs its end date."))
            if data.get("end_code") is not None and data["end_code"] not in END_REASONS[status]:
                add("end_code", _l("This reason does not fit this ending."))
        elif status is not None:
            if ended is not None:
                add("ended_on", _l("Only declined, withdrawn or left referrals have an end date."))
            for name in ("end_code", "end_note"):
                if data.get(name):
                    add(name, _l("Only declined, withdrawn or left referrals have an end reason."))
        if status in STARTED_STATUSES and started is None:
            add("started_on", _l("A referral that started needs its start date."))
        elif status is not None and status not in STARTED_STATUSES and started is not None:
            add("started_on", _l("Only started referrals (started, stayed, left) have a start date."))
        if created and started and started < created:
            add("started_on", _l("The start is before the referral."))
        if ended and (started or created) and ended < (started or created):
            add("ended_on", _l("The end is before the start."))
        if status in STAY_DAYS and started is not None:
            confirmable = started + dt.timedelta(days=STAY_DAYS[status])
            if confirmable > today():
                add("status", _l("Staying %(days)s days can be confirmed from %(day)s on.",
                                 days=STAY_DAYS[status], day=ShownDate(confirmable)))
        self._milestone(data, add)
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _milestone(data: dict, add) -> None:
        """The furthest the placement got: given, or read from the status (a placement in place) or the dates (one
        that ended). A given one must fit: a placement in place is at its status; one that ended had the days."""
        status, started, ended = data.get("status"), data.get("started_on"), data.get("ended_on")
        given = data.get("milestone")
        if status in MILESTONE_OF:
            if given is not None and given != MILESTONE_OF[status]:
                add("milestone", _l("A placement still in place has reached its status (%(status)s).",
                                    status=status.value))
            data["milestone"] = MILESTONE_OF[status]
        elif status == S.LEFT and started is not None and ended is not None and ended >= started:
            if given is not None and (ended - started).days < MILESTONE_DAYS[given]:
                add("milestone", _l("Between the start and the end there are %(days)s days: too few for this "
                                    "milestone.", days=(ended - started).days))
            data["milestone"] = given or milestone_for(started, ended, today())
        elif status is not None and status != S.LEFT and given is not None:
            add("milestone", _l("Only started referrals (started, stayed, left) have a milestone."))


class ReferralImporter(Importer):
    kind, columns, roles = "referrals", REFERRAL_COLUMNS, (ADMIN,)

    def __init__(self, session: Session, actor: Account):
        super().__init__(session, actor)
        self.pepper = current_app.config["ID_NUMBER_PEPPER"]
        self.live_pairs: dict[tuple[int, int], int] = {}
        # What the file names, read at once: candidates by the public id or ID number given, slots by id, the
        # live referrals already stored between them (for the candidates in `live_read`), and each slot's free
        # seats as the rows so far leave them.
        self.candidates: dict[str, Candidate | None] = {}
        self.slots: dict[int, Slot | None] = {}
        self.stored_live: set[tuple[int, int]] = set()
        self.live_read: set[int] = set()
        self.free_seats: dict[int, int] = {}
        # The bureau's references that name one record of the actor's scope and area (the others are asked row by
        # row, whose answer says why: none, or several).
        self.candidate_references: dict[str, Candidate] = {}
        self.slot_references: dict[str, Slot] = {}

    def make_schema(self) -> Schema:
        return ReferralHistorySchema()

    def prefetch(self, rows: list[dict]) -> None:
        references = {loaded["candidate"] for loaded in rows if loaded.get("candidate")} - self.candidates.keys()
        self.candidates.update(dict.fromkeys(references))
        by_hash: dict[str, list[str]] = {}
        by_public_id: dict[str, list[str]] = {}
        for reference in references:
            text = normalise_id_number(reference)  # a public id reads the same way: XT-…, also typed full-width
            if is_valid_id_number(text):
                by_hash.setdefault(hash_id_number(text, self.pepper), []).append(reference)
            else:
                by_public_id.setdefault(text, []).append(reference)
        for column, wanted in ((Candidate.id_number_hash, by_hash), (Candidate.public_id, by_public_id)):
            keys = sorted(wanted)
            for start in range(0, len(keys), 500):
                for candidate in self.session.scalars(select(Candidate).where(column.in_(keys[start:start + 500]))):
                    for reference in wanted[getattr(candidate, column.key)]:
                        self.candidates[reference] = candidate
        slot_ids = sorted({loaded["slot_id"] for loaded in rows if loaded.get("slot_id")} - self.slots.keys())
        self.slots.update(dict.fromkeys(slot_ids))
        for start in range(0, len(slot_ids), 500):
            for slot in self.session.scalars(select(Slot).where(Slot.id.in_(slot_ids[start:start + 500]))):
                self.slots[slot.id] = slot
        area = policy.reference_area(self.actor)
        for key, scope, model, known in (
                ("candidate_external_id", policy.candidates(self.actor), Candidate, self.candidate_references),
                ("slot_external_id", policy.slots(self.actor), Slot, self.slot_references)):
            wanted = {loaded[key].strip() for loaded in rows if loaded.get(key)} - known.keys()
            if wanted:
                known.update(external_ids.find_many(self.session, scope, model, wanted, area))
        found = [c for reference in references if (c := self.candidates[reference]) is not None]
        found += [c for loaded in rows if (reference := loaded.get("candidate_external_id"))
                  and (c := self.candidate_references.get(reference.strip())) is not None]
        candidate_ids = sorted({c.id for c in found} - self.live_read)
        self.live_read.update(candidate_ids)
        for start in range(0, len(candidate_ids), 500):
            self.stored_live.update((candidate_id, slot_id) for candidate_id, slot_id in self.session.execute(
                select(Referral.candidate_id, Referral.slot_id).where(
                    Referral.candidate_id.in_(candidate_ids[start:start + 500]), Referral.status.not_in(ENDED))))

    def check(self, loaded: dict, row_number: int) -> dict:
        errors: dict[str, list] = {}
        candidate = slot = None
        if loaded.get("candidate"):
            candidate = self.candidates.get(loaded["candidate"])
            if candidate is None:
                errors["candidate"] = [_l("No candidate has this public id or ID number.")]
        if loaded.get("candidate_external_id"):
            by_reference = self.candidate_references.get(loaded["candidate_external_id"].strip()) or \
                self.by_reference(policy.candidates(self.actor), Candidate, loaded["candidate_external_id"],
                                  "candidate_external_id", errors)
            if by_reference is not None and candidate not in (None, by_reference):
                errors["candidate_external_id"] = [_l("The reference and the candidate name different files.")]
            candidate = candidate or by_reference
        if loaded.get("slot_id"):
            slot = self.slots.get(loaded["slot_id"])
            if slot is None:
                errors["slot_id"] = [_l("No such slot.")]
        if loaded.get("slot_external_id"):
            by_reference = self.slot_references.get(loaded["slot_external_id"].strip()) or \
                self.by_reference(policy.slots(self.actor), Slot, loaded["slot_external_id"], "slot_external_id",
                                  errors)
            if by_reference is not None and slot not in (None, by_reference):
                errors["slot_external_id"] = [_l("The reference and slot_id name different slots.")]
            slot = slot or by_reference
        if errors or candidate is None or slot is None:
            return errors
        loaded["candidate_obj"], loaded["slot_obj"] = candidate, slot
        if loaded["status"] not in ENDED:
            pair = (candidate.id, slot.id)
            if pair in self.live_pairs:
                return {"slot_id": [_l("The same candidate has a live referral to this slot in row %(row)s.",
                                       row=self.live_pairs[pair])]}
            self.live_pairs[pair] = row_number
            if candidate.id in self.live_read:
                live = pair in self.stored_live
            else:  # named by the bureau's reference only: not read at once
                live = self.session.scalar(select(Referral.id).where(
                    Referral.candidate_id == candidate.id, Referral.slot_id == slot.id,
                    Referral.status.not_in(ENDED)).limit(1)) is not None
            if live:
                return {"slot_id": [_l("This candidate already has a live referral to this slot.")]}
        return {}

    @staticmethod
    def _set_holds_seat(loaded: dict) -> bool:
        """Whether the row's referral holds a seat today (`holds_seat_now`), kept on the row for the write."""
        loaded["holds_seat"] = holds_seat_now(loaded["slot_obj"], loaded["status"], created_on=loaded["created_on"],
                                              started_on=loaded.get("started_on"))
        return loaded["holds_seat"]

    def build(self, loaded: dict) -> dict:
        """A referral that holds a seat today (see `holds_seat_now`) obeys the slot's seats, exactly as a move to
        accepted does (take_seat): counted here over the file's rows, taken in the write."""
        slot: Slot = loaded["slot_obj"]
        if self._set_holds_seat(loaded):
            free = self.free_seats.setdefault(slot.id, slot.seats - slot.seats_taken)
            if free < 1:
                raise Conflict(NO_SEAT, field="status")
            self.free_seats[slot.id] = free - 1
        return loaded

    def write(self, built: list[dict]) -> None:
        histories = [self._history(loaded) for loaded in built]
        ids = reserve_ids(self.session, Referral.__table__, len(histories))
        insert_rows(self.session, Referral.__table__, [
            {**referral, "id": referral_id} for referral_id, (referral, _e) in zip(ids, histories, strict=True)])
        insert_rows(self.session, ReferralEvent.__table__, [
            {**event, "referral_id": referral_id}
            for referral_id, (_r, parts) in zip(ids, histories, strict=True) for event in parts])
        seats: dict[int, int] = {}
        for loaded in built:
            if loaded["holds_seat"]:
                seats[loaded["slot_obj"].id] = seats.get(loaded["slot_obj"].id, 0) + 1
        for slot_id, count in seats.items():
            if not take_seats(self.session, slot_id, count):  # taken meanwhile: the rows tell which, one by one
                raise Conflict(NO_SEAT, field="status")
        self._placed([loaded["candidate_obj"].id for loaded in built if self._places(loaded)])
        uow.flush(self.session)

    def _history(self, loaded: dict) -> tuple[dict, list[dict]]:
        """The referral, as history, and the events it went through, dated as the file says (column values). It
        holds a seat only while it is current (`loaded["holds_seat"]`, from `holds_seat_now`)."""
        status: ReferralStatus = loaded["status"]
        created_on, started_on = loaded["created_on"], loaded.get("started_on")
        ended_on, milestone = loaded.get("ended_on"), loaded.get("milestone")
        end_code = (loaded.get("end_code") or EndReason.OTHER) if status in ENDED else None
        referral = {"candidate_id": loaded["candidate_obj"].id, "slot_id": loaded["slot_obj"].id, "status": status,
                    "holds_seat": loaded["holds_seat"], "started_on": started_on, "ended_on": ended_on,
                    "milestone": milestone, "created_by_id": self.actor.id, "end_code": end_code,
                    # The referral's day, as China's calendar has it.
                    "created_at": clock.china_midnight(created_on)}
        events = [(None, S.PROPOSED, created_on, IMPORTED_NOTE)]
        if started_on is not None:
            # Every stay up to the milestone, on the day it was reached (N days after the start).
            for reached in (S.STARTED, *STAY_DAYS):
                if milestone is None or MILESTONE_DAYS[MILESTONE_OF[reached]] > MILESTONE_DAYS[milestone]:
                    break
                day = started_on + dt.timedelta(days=STAY_DAYS.get(reached, 0))
                events.append((events[-1][1], reached, day, IMPORTED_NOTE))
        if status != events[-1][1]:
            day = ended_on or started_on or created_on
            events.append((events[-1][1], status, day, loaded.get("end_note") or IMPORTED_NOTE))
        return referral, [{"from_status": frm, "to_status": to, "on_date": day, "internal_note": note,
                           "reason_code": end_code if to == status and to in ENDED else None,
                           "actor_id": self.actor.id} for frm, to, day, note in events]

    @staticmethod
    def _places(loaded: dict) -> bool:
        """A current placement makes an active (or pre-release) candidate placed."""
        return loaded["holds_seat"] and loaded["status"] in STARTED_STATUSES

    def _placed(self, candidate_ids: list[int]) -> None:
        ids = sorted(set(candidate_ids))
        for start in range(0, len(ids), 500):
            self.session.execute(
                update(Candidate).where(Candidate.id.in_(ids[start:start + 500]),
                                        Candidate.status.in_((CandidateStatus.ACTIVE, CandidateStatus.PRE_RELEASE)))
                .values(status=CandidateStatus.PLACED, updated_at=clock.now())
                .execution_options(synchronize_session=False))

    def create(self, loaded: dict) -> None:
        """Write the referral as history, one row (see `write`)."""
        slot: Slot = loaded["slot_obj"]
        if self._set_holds_seat(loaded) and not take_seat(self.session, slot.id):
            # Current referrals holding a seat obey the slot's seats, exactly as a move to accepted does.
            raise Conflict(NO_SEAT, field="status")
        referral, events = self._history(loaded)
        self.session.add(Referral(**referral, events=[ReferralEvent(**event) for event in events]))
        if self._places(loaded):
            self._placed([loaded["candidate_obj"].id])
        self.session.flush()


def holds_seat_now(slot: Slot, status: ReferralStatus, *, created_on: dt.date, started_on: dt.date | None) -> bool:
    """Whether a referral of the history holds one of the slot's seats today. Only a current one does: accepted or
    in place (not ended), in an intake that has not finished (its end, when it has one, is today or later). The
    intake is the one the referral belongs to (Slot.run_of): a placement's, the last started by its start."""
    if status not in SEAT_HOLDING:
        return False
    _start, end = slot.run_of(created_on=created_on, started_on=started_on)
    return end is None or end >= today()


class ReferralExporter(Exporter):
    # Pseudonymous (the public id, never the name) unless identified; an employer's export never is.
    kind, roles, identified_roles = "referrals", (ADMIN, CW, EMP, ORG), (ADMIN, CW)

    def columns(self) -> list[Column]:
        return self.shown(REFERRAL_COLUMNS)

    def rows(self) -> Iterator[dict]:
        identified = self.identified
        stmt = list_referrals(session=self.session, actor=self.actor, filters={"sort": "created_at"})
        for r in self.session.scalars(stmt).unique():
            created_on = r.events[0].on_date if r.events else clock.china_date(r.created_at)
            row: dict[str, Any] = {
                "id": r.id, "candidate": r.candidate.public_id, "slot_id": r.slot_id,
                "candidate_external_id": r.candidate.external_id, "slot_external_id": r.slot.external_id,
                "slot_title": r.slot.title, "company_name": r.slot.company.name, "status": r.status,
                "created_on": created_on, "started_on": r.started_on, "ended_on": r.ended_on,
                "milestone": r.milestone, "end_code": r.end_code,
            }
            if identified:
                row["candidate_name"] = r.candidate.name
                ending = r.events[-1] if r.events and r.events[-1].to_status in ENDED else None
                row["end_note"] = ending.internal_note if ending is not None else None
            yield self.for_reader(row, REFERRAL_COLUMNS)


# --- Pre-release lists -----------------------------------------------------------------------------


class ReleaseListSchema(CandidateCreateSchema):
    """A row of a prison's pre-release list: the candidate fields it carries (education only for a new file)."""

    education = fields.Enum(Education, by_value=True)
    release_institution = fields.Str(required=True, validate=validate.Length(min=1, max=60))
    sentence_note = fields.Str(validate=validate.Length(max=300))


class ReleaseListImporter(Importer):
    """Opens or updates candidate files (candidates.service.receive_hand_over) and counts both per office."""

    kind, columns, roles = "release_list", RELEASE_LIST_COLUMNS, (ADMIN,)
    batch = False  # a row may update a file an earlier row opened: one row at a time

    def __init__(self, session: Session, actor: Account):
        super().__init__(session, actor)
        self.pepper = current_app.config["ID_NUMBER_PEPPER"]
        self.seen: dict[str, int] = {}
        self.offices: dict[int, dict[str, Any]] = {}

    def make_schema(self) -> Schema:
        return ReleaseListSchema()

    def check(self, loaded: dict, row_number: int) -> dict:
        digest = hash_id_number(loaded["id_number"], self.pepper)
        if digest in self.seen:
            return {"id_number": [_l("The same ID number is in row %(row)s.", row=self.seen[digest])]}
        self.seen[digest] = row_number
        return {}

    def create(self, loaded: dict) -> None:
        candidate, created = receive_hand_over(session=self.session, actor=self.actor, data=loaded)
        if candidate.status == CandidateStatus.PRE_RELEASE:
            self._tell_the_office(candidate)
        office = self.offices.setdefault(candidate.office_id, {
            "office_id": candidate.office_id, "office": candidate.office.name, "created": 0, "updated": 0,
            "dual_registration": 0, "key_subjects": 0, "pre_release": 0})
        office["created" if created else "updated"] += 1
        office["dual_registration"] += candidate.dual_registration
        office["key_subjects"] += candidate.key_subject
        office["pre_release"] += candidate.status == CandidateStatus.PRE_RELEASE

    def _tell_the_office(self, candidate: Candidate) -> None:
        """The caseworkers of the office keeping the file hear of the hand-over once per office and release
        date (a list imported again tells nobody twice; a new date or a move to another office tells again)."""
        from matcher.notify.models import NotificationKind
        from matcher.notify.service import caseworkers_of, notify

        notify(self.session, account_ids=caseworkers_of(self.session, [candidate.office_id])[candidate.office_id],
               kind=NotificationKind.PRE_RELEASE,
               key=f"candidate:{candidate.id}:{candidate.office_id}:{candidate.release_date.isoformat()}",
               subject_type="candidate", subject_id=candidate.id,
               params={"public_id": candidate.public_id, "release_date": candidate.release_date})
        uow.flush(self.session)

    def outcome(self) -> dict:
        offices = sorted(self.offices.values(), key=lambda o: o["office"])
        return {"created": sum(o["created"] for o in offices), "updated": sum(o["updated"] for o in offices),
                "offices": offices}


IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls for cls in (CandidateImporter, BaseImporter, SlotImporter, ReferralImporter, ReleaseListImporter)
}
EXPORTERS: dict[str, type[Exporter]] = {
    cls.kind: cls for cls in (CandidateExporter, BaseExporter, SlotExporter, ReferralExporter)
}

