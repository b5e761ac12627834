"""Slots: posting, editing, opening and closing, and the atomic taking and freeing of seats."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from matcher import policy, uow
from matcher.apiutil import apply_sort
from matcher.auth.models import Account, Role
from matcher.bases.models import Company
from matcher.errors import Conflict, Invalid
from matcher.external_ids import BUREAU_SETS_REFERENCE, set_reference
from matcher.places.models import code_prefix
from matcher.places.service import resolve_place
from matcher.reference.service import require_course, require_occupation, resolve_skill_entries
from matcher.slots.models import Slot, SlotIntake, SlotKind, SlotSkill, SlotStatus


def list_slots(*, session: Session, actor: Account, filters: dict) -> Select:
    stmt = policy.slots(actor)
    for key, column in (("company_id", Slot.company_id), ("kind", Slot.kind), ("course", Slot.course_code),
                        ("status", Slot.status)):
        if filters.get(key) is not None:
            stmt = stmt.where(column == filters[key])
    if filters.get("live") is True:  # drafts and open slots: what a base still works on
        stmt = stmt.where(Slot.status != SlotStatus.CLOSED)
    if filters.get("place"):
        stmt = stmt.where(Slot.place_code.startswith(code_prefix(filters["place"])))
    if filters.get("has_free_seats") is True:
        stmt = stmt.where(Slot.seats_taken < Slot.seats)
    elif filters.get("has_free_seats") is False:
        stmt = stmt.where(Slot.seats_taken >= Slot.seats)
    if filters.get("q"):
        stmt = stmt.where(or_(Slot.title.contains(filters["q"], autoescape=True),
                              Slot.description.contains(filters["q"], autoescape=True)))
    columns = {"starts_on": Slot.starts_on, "created_at": Slot.created_at, "title": Slot.title,
               "pay_max": Slot.pay_max}
    return apply_sort(stmt, filters.get("sort", "-created_at"), columns, Slot.id)


def get_slot(*, session: Session, actor: Account, slot_id: int) -> Slot:
    return policy.find(session, actor, policy.slots(actor), Slot, slot_id, _l("No such slot."), object_type="slot")


def _apply(session: Session, slot: Slot, data: dict) -> None:
    data = dict(data)
    data.pop("company_id", None)
    if "place" in data:
        place = resolve_place(session=session, field="place", require_township=False, **data.pop("place"))
        slot.place_code, slot.lat, slot.lng = place.code, place.lat, place.lng
    if "required_skills" in data:
        entries = resolve_skill_entries(session=session, entries=data.pop("required_skills"),
                                        field="required_skills")
        slot.required_skills = [SlotSkill(**entry) for entry in entries]
    require_course(session, data.get("course_code"), "course_code")
    require_occupation(session, data.get("occupation_code"), "occupation_code")
    intakes = data.pop("intakes", None)
    dates_changed = "starts_on" in data or "ends_on" in data
    for key, value in data.items():
        setattr(slot, key, value)
    if intakes is not None or (dates_changed and slot.intakes):
        _set_intakes(slot, [intake.starts_on for intake in slot.intakes] if intakes is None else intakes)
    if slot.kind == SlotKind.TRAINING and not slot.course_code:
        raise Invalid(_l("A training slot names its course."), field="course_code")
    if slot.pay_min is not None and slot.pay_max is not None and slot.pay_min > slot.pay_max:
        raise Invalid(_l("The lowest pay is above the highest."), field="pay_min")
    if slot.ends_on is not None and slot.ends_on < slot.starts_on:
        raise Invalid(_l("The slot ends before it starts."), field="ends_on")
    if slot.seats < slot.seats_taken:
        raise Conflict(_l("%(taken)s seats are already taken; seats cannot go below that.",
                          taken=slot.seats_taken), field="seats")
    if "external_id" in data:  # a slot's reference belongs to its base's county
        set_reference(session, slot, slot.company.place_code, _l("Another slot of this county has this reference."))


def _set_intakes(slot: Slot, starts: list) -> None:
    """The slot's intakes: starts_on and the dates given, each running as long as the first run (ends_on -
    starts_on; open-ended when the slot has no end). One date only: no intakes (the slot starts once)."""
    if any(start < slot.starts_on for start in starts):
        raise Invalid(_l("An intake starts before the slot's start: starts_on is the first intake."), field="intakes")
    dates = sorted({slot.starts_on, *starts})
    length = slot.ends_on - slot.starts_on if slot.ends_on is not None else None
    kept = {intake.starts_on: intake for intake in slot.intakes}
    slot.intakes = [] if len(dates) == 1 else [
        _intake(kept.get(start), start, None if length is None else start + length) for start in dates]


def _intake(intake: SlotIntake | None, starts_on, ends_on) -> SlotIntake:
    intake = intake or SlotIntake(starts_on=starts_on)
    intake.ends_on = ends_on
    return intake


def reference_errors(session: Session, data: dict) -> dict[str, list]:
    """What in a slot's (loaded) data names no known course, occupation, skill or place, by field: every one
    found, not the first (the schema answers them with its own field errors, in one 422)."""
    errors: dict[str, list] = {}
    checks = [
        ("course_code", lambda: require_course(session, data.get("course_code"), "course_code")),
        ("occupation_code", lambda: require_occupation(session, data.get("occupation_code"), "occupation_code")),
        ("required_skills", lambda: resolve_skill_entries(session=session, entries=data["required_skills"],
                                                          field="required_skills")),
        ("place", lambda: resolve_place(session=session, field="place", require_township=False, **data["place"])),
    ]
    for field, check in checks:
        if field not in data:
            continue
        try:
            check()
        except Invalid as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key, messages)
    return errors


def _no_reference_from_a_base(actor: Account, data: dict) -> None:
    """A base never reads the bureau's reference (matcher.disclosure), so it never writes one either."""
    if actor.role == Role.EMPLOYER and "external_id" in data:
        raise Invalid(BUREAU_SETS_REFERENCE, field="external_id")


def _company_for_new_slot(session: Session, actor: Account, data: dict) -> Company:
    policy.require(actor, policy.Rule.SLOT_POST)
    _no_reference_from_a_base(actor, data)
    if actor.role == Role.EMPLOYER:
        return session.get(Company, actor.company_id)
    if not data.get("company_id"):
        raise Invalid(_l("Name the base the slot belongs to."), field="company_id")
    company = session.get(Company, data["company_id"])
    if company is None or not policy.manages_base(actor, company):  # another area's base is its bureau's
        raise Invalid(_l("No such base."), field="company_id")
    return company


def build_new_slot(*, session: Session, actor: Account, data: dict, status: SlotStatus | None = None) -> Slot:
    """Every rule of create_slot (then of set_slot_status, for a `status` other than draft), writing nothing: the
    slot, not in the session."""
    company = _company_for_new_slot(session, actor, data)
    slot = Slot(company_id=company.id, status=SlotStatus.DRAFT, seats_taken=0)
    slot.company = company
    _apply(session, slot, data)
    if status is not None and status != SlotStatus.DRAFT:
        _check_status(company, status)
        slot.status = status
    return slot


def create_slot(*, session: Session, actor: Account, data: dict) -> Slot:
    """A new slot starts as a draft; only a certified, in-date base can open it."""
    slot = build_new_slot(session=session, actor=actor, data=data)
    session.add(slot)
    uow.flush(session)
    return slot


def write_new_slots(*, session: Session, slots: list[Slot]) -> None:
    """Post slots built by `build_new_slot`, in one flush."""
    session.add_all(slots)
    uow.flush(session)


def _check_status(company: Company, target: SlotStatus) -> None:
    if target == SlotStatus.OPEN and not company.can_post_and_fill():
        raise Conflict(_l("Only a certified base whose certification is in date can open slots."),
                       field="status")


def update_slot(*, session: Session, actor: Account, slot_id: int, data: dict) -> Slot:
    policy.require(actor, policy.Rule.SLOT_POST)
    slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    _no_reference_from_a_base(actor, data)
    data = dict(data)
    seats = data.pop("seats", None)
    _apply(session, slot, data)
    if seats is not None and seats != slot.seats:
        _set_seats(session, slot, seats)
    uow.flush(session)
    return slot


def _set_seats(session: Session, slot: Slot, seats: int) -> None:
    """A single conditional UPDATE, as take_seat's: seats taken since the slot was read (accepts racing this
    edit) are counted, so a cut below them is refused (409), never an over-filled slot nor the CHECK's error."""
    result = session.execute(
        update(Slot).where(Slot.id == slot.id, Slot.seats_taken <= seats).values(seats=seats)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        taken = session.scalar(select(Slot.seats_taken).where(Slot.id == slot.id))
        raise Conflict(_l("%(taken)s seats are already taken; seats cannot go below that.", taken=taken),
                       field="seats")


def set_slot_status(*, session: Session, actor: Account, slot_id: int, status: str) -> Slot:
    policy.require(actor, policy.Rule.SLOT_POST)
    slot = get_slot(session=session, actor=actor, slot_id=slot_id)
    target = SlotStatus(status)
    _check_status(slot.company, target)
    slot.status = target
    uow.flush(session)
    return slot


def take_seat(session: Session, slot_id: int) -> bool:
    """Take one seat if one is free. A single conditional UPDATE, so two people can never both get
    the last seat: PostgreSQL re-checks the condition after the row lock, SQLite serialises writers,
    and the table's CHECK constraint refuses an over-filled slot in any case."""
    return take_seats(session, slot_id, 1)


def take_seats(session: Session, slot_id: int, count: int) -> bool:
    """Take `count` seats at once if that many are free (take_seat's single conditional UPDATE, for a batch)."""
    result = session.execute(
        update(Slot).where(Slot.id == slot_id, Slot.seats_taken + count <= Slot.seats)
        .values(seats_taken=Slot.seats_taken + count)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def free_seat(session: Session, slot_id: int) -> None:
    session.execute(
        update(Slot).where(Slot.id == slot_id, Slot.seats_taken > 0)
        .values(seats_taken=Slot.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def find_slots(*, session: Session, actor: Account, filters: dict) -> list[Slot]:
    """The slots `list_slots` selects, loaded (for a page that shows them all)."""
    return list(session.scalars(list_slots(session=session, actor=actor, filters=filters)).unique())


def open_slot_options(*, session: Session, actor: Account, limit: int = 500) -> list[tuple[int, str, str]]:
    """The open slots the actor may see as (id, title, base name), by title: a picker's options, with no ORM
    objects to load."""
    scoped = list_slots(session=session, actor=actor, filters={"status": "open"}).with_only_columns(Slot.id)
    rows = session.execute(select(Slot.id, Slot.title, Company.name).join(Company, Company.id == Slot.company_id)
                           .where(Slot.id.in_(scoped.subquery().select())).order_by(Slot.title, Slot.id)
                           .limit(limit))
    return [(slot_id, title, name) for slot_id, title, name in rows]
