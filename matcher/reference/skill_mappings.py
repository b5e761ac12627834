"""Free-text skills the matcher cannot read for sure, and the readings people confirm (the mapping table).

A skill or requirement typed as free text (会开三轮车, 懂一点水电) is read onto the taxonomy by the engine
(matcher.engine.skill_text): exactly, when it is a name, a synonym or a confirmed reading; otherwise by a guess
(character similarity, a contained name) or not at all. Every text not read exactly waits in a queue, with the
number of people seeking work and of live slots it affects. A caseworker may suggest what a text of their own files
means; an administrator confirms "this text means skill X" or "this text names nothing in the taxonomy". From then on:

* the matcher reads the text so (`confirmed_readings`, given to the featurizer with the shipped synonyms by
  matching.pipeline; the open slots' cached side is rebuilt because `readings_version` is part of its data version);
* the text is a synonym like the shipped ones, so texts near it or containing it are read by it too, and the
  suggestions rank a skill more people's texts were confirmed as first among equally near ones.

Every suggestion, confirmation and withdrawal is audited. The taxonomy is shared by every bureau, so a confirmed
reading holds everywhere; the queue and its counts follow the actor's scope (their files, their slots).
"""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matcher import clock, policy
from matcher.audit.service import record as audit
from matcher.auth.models import Account
from matcher.candidates.models import Candidate, CandidateSkill, CandidateStatus
from matcher.engine.skill_text import (
    AMBIGUOUS,
    CONTAINED,
    DECIDED,
    SIMILAR,
    UNKNOWN,
    SkillTextMap,
    Suggestion,
    normalise,
    with_confirmed,
)
from matcher.errors import Invalid, NotFound
from matcher.reference.models import MappingStatus, Skill, SkillTextMapping
from matcher.slots.models import Slot, SlotSkill, SlotStatus

SEEKING = (CandidateStatus.PRE_RELEASE, CandidateStatus.ACTIVE)
LIVE_SLOTS = (SlotStatus.DRAFT, SlotStatus.OPEN)
OBJECT_TYPE = "skill_text_mapping"
QUEUE_SHOWS = ("pending", "suggested", "confirmed")
# What a reading that is not exact says, in the queue: a guess to check, or a gap to fill.
HOW_ORDER = {UNKNOWN: 0, AMBIGUOUS: 1, CONTAINED: 2, SIMILAR: 3}


def confirmed_readings(session: Session) -> dict[str, str | None]:
    """Normalised text -> the confirmed skill code (None: confirmed as naming nothing in the taxonomy)."""
    return dict(session.execute(select(SkillTextMapping.text_key, SkillTextMapping.skill_code)
                                .where(SkillTextMapping.status == MappingStatus.CONFIRMED)).all())


def readings_version(session: Session) -> tuple:
    """Changes whenever a confirmed reading is added, changed or withdrawn (part of the matcher's data version)."""
    return tuple(session.execute(select(func.count(SkillTextMapping.id), func.max(SkillTextMapping.updated_at),
                                        func.max(SkillTextMapping.id))
                                 .where(SkillTextMapping.status == MappingStatus.CONFIRMED)).one())


def shipped_synonyms() -> tuple[tuple[str, str], ...]:
    from matcher.matching.adapters import skill_synonyms

    return skill_synonyms()


def matcher_synonyms(session: Session) -> list[tuple[str, str | None]]:
    """What the matcher reads free text with: the shipped synonyms, the confirmed readings in their place."""
    return with_confirmed(shipped_synonyms(), confirmed_readings(session))


def text_map(session: Session) -> SkillTextMap:
    """The engine's reader over the taxonomy's Chinese names, the synonyms and the confirmed readings."""
    names = dict(session.execute(select(Skill.code, Skill.name_zh)).all())
    return SkillTextMap(names, matcher_synonyms(session))


@dataclasses.dataclass
class QueuedText:
    """One free text (all the ways it was written that normalise alike), how it reads today, and whom it affects."""

    text_key: str
    text: str  # as most often written
    code: str | None  # what the matcher reads it as today (a guess unless decided)
    how: str  # matcher.engine.skill_text: exact, nothing, similar, contained, ambiguous, unknown
    candidates: int = 0  # people seeking work (before release or active) in scope who wrote it
    slots: int = 0  # live slots (draft or open) in scope that require it
    suggestions: list[Suggestion] = dataclasses.field(default_factory=list)
    mapping: SkillTextMapping | None = None

    @property
    def decided(self) -> bool:
        return self.how in DECIDED

    @property
    def status(self) -> str:
        if self.mapping is not None and self.mapping.status == MappingStatus.CONFIRMED:
            return "confirmed"
        if self.mapping is not None:
            return "suggested"
        return "pending"


def _texts_in_scope(session: Session, actor: Account) -> dict[str, QueuedText]:
    """Every free text of the files and slots in the actor's scope, by normalised text, with its counts."""
    found: dict[str, QueuedText] = {}
    spellings: dict[str, dict[str, int]] = {}

    def add(text: str, column: str, count: int) -> None:
        key = normalise(text)
        if not key:
            return
        item = found.setdefault(key, QueuedText(text_key=key, text=text, code=None, how=UNKNOWN))
        setattr(item, column, getattr(item, column) + count)
        spelled = spellings.setdefault(key, {})
        spelled[text] = spelled.get(text, 0) + count

    files = policy.candidate_ids(actor).where(Candidate.status.in_(SEEKING))
    for text, count in session.execute(
            select(CandidateSkill.free_text, func.count(func.distinct(CandidateSkill.candidate_id)))
            .where(CandidateSkill.free_text.is_not(None), CandidateSkill.skill_code.is_(None),
                   CandidateSkill.candidate_id.in_(files)).group_by(CandidateSkill.free_text)):
        add(text, "candidates", count)
    if actor.role != policy.CASEWORKER:  # a caseworker's queue is their own files' texts; slots are the bureau's
        slot_ids = policy.slots(actor).where(Slot.status.in_(LIVE_SLOTS)).with_only_columns(Slot.id)
        for text, count in session.execute(
                select(SlotSkill.free_text, func.count(func.distinct(SlotSkill.slot_id)))
                .where(SlotSkill.free_text.is_not(None), SlotSkill.skill_code.is_(None),
                       SlotSkill.slot_id.in_(slot_ids)).group_by(SlotSkill.free_text)):
            add(text, "slots", count)
    for key, spelled in spellings.items():
        found[key].text = max(spelled.items(), key=lambda item: (item[1], item[0]))[0]
    return found


def queue(*, session: Session, actor: Account, show: str = "pending", q: str | None = None,
          suggestions: int = 3) -> list[QueuedText]:
    """The free texts in the actor's scope: `pending` those the matcher cannot read for sure (no decision yet,
    suggested ones too), `suggested` those someone proposed a reading for, `confirmed` the decided ones (every
    confirmed reading, for an administrator, also of texts no longer in use). Most affected first."""
    policy.require(actor, policy.Rule.SKILL_TEXT_SUGGEST)
    show = show if show in QUEUE_SHOWS else "pending"
    reader = text_map(session)
    found = _texts_in_scope(session, actor)
    mappings = {m.text_key: m for m in session.scalars(select(SkillTextMapping))}
    if show == "confirmed" and actor.role == policy.ADMIN:
        for key, mapping in mappings.items():
            if mapping.status == MappingStatus.CONFIRMED and key not in found:
                found[key] = QueuedText(text_key=key, text=mapping.text, code=None, how=UNKNOWN)
    items = []
    needle = normalise(q or "")
    for key, item in found.items():
        if needle and needle not in key:
            continue
        item.mapping = mappings.get(key)
        item.code, item.how = reader.reading(item.text)
        wanted = {"pending": not item.decided and item.status != "confirmed",
                  "suggested": item.status == "suggested",
                  "confirmed": item.status == "confirmed"}[show]
        if not wanted:
            continue
        item.suggestions = reader.suggest(item.text, limit=suggestions) if suggestions and not item.decided else []
        items.append(item)
    items.sort(key=lambda i: (-(i.candidates + i.slots), HOW_ORDER.get(i.how, 9), i.text_key))
    return items


def queue_counts(*, session: Session, actor: Account) -> dict[str, int]:
    """How many texts wait, and how many people and slots they affect (the page's headline)."""
    pending = queue(session=session, actor=actor, show="pending", suggestions=0)
    return {"texts": len(pending), "candidates": sum(i.candidates for i in pending),
            "slots": sum(i.slots for i in pending),
            "suggested": sum(1 for i in pending if i.status == "suggested")}


def _skill(session: Session, code: str | None, field: str) -> str | None:
    if code is None:
        return None
    if session.get(Skill, code) is None:
        raise Invalid(_l("Some fields are not valid."), errors={field: [_l("Unknown skill %(code)s.", code=code)]})
    return code


def _text_key(text: str | None) -> tuple[str, str]:
    text = (text or "").strip()
    key = normalise(text)
    errors = []
    if not key:
        errors.append(_l("Write the text as it was typed."))
    elif len(text) > 60 or len(key) > 60:
        errors.append(_l("At most 60 characters."))
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors={"text": errors})
    return text, key


def suggest_mapping(*, session: Session, actor: Account, text: str, skill_code: str | None) -> SkillTextMapping:
    """Propose that `text` means `skill_code` (a caseworker: a text of their own files). It counts only once an
    administrator confirms it; a text already confirmed is not reopened by a suggestion."""
    policy.require(actor, policy.Rule.SKILL_TEXT_SUGGEST, object_type=OBJECT_TYPE)
    text, key = _text_key(text)
    errors = {}
    if not skill_code:
        errors["skill_code"] = [_l("Choose the skill the text means.")]
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors=errors)
    skill_code = _skill(session, skill_code, "skill_code")
    if actor.role == policy.CASEWORKER and key not in _texts_in_scope(session, actor):
        raise NotFound(_l("No such text among your files' skills."))
    mapping = session.scalar(select(SkillTextMapping).where(SkillTextMapping.text_key == key))
    if mapping is not None and mapping.status == MappingStatus.CONFIRMED:
        raise Invalid(_l("Some fields are not valid."),
                      errors={"text": [_l("An administrator has already decided how this text is read.")]})
    now = clock.now()
    if mapping is None:
        mapping = SkillTextMapping(text_key=key, text=text, status=MappingStatus.SUGGESTED)
        session.add(mapping)
    mapping.suggested_code, mapping.suggested_by_id, mapping.suggested_at = skill_code, actor.id, now
    session.flush()
    audit(session, actor=actor, action="suggest", object_type=OBJECT_TYPE, object_id=mapping.id,
          fields=["suggested_code"])
    return mapping


def confirm_mapping(*, session: Session, actor: Account, text: str, skill_code: str | None) -> SkillTextMapping:
    """Decide how `text` is read from now on: as `skill_code`, or (None) as naming nothing in the taxonomy."""
    policy.require(actor, policy.Rule.SKILL_TEXT_DECIDE, object_type=OBJECT_TYPE)
    text, key = _text_key(text)
    skill_code = _skill(session, skill_code, "skill_code")
    names = {normalise(name): code for code, name in session.execute(select(Skill.code, Skill.name_zh))}
    if key in names and names[key] != skill_code:
        raise Invalid(_l("Some fields are not valid."),
                      errors={"text": [_l("This text is the taxonomy's own name of a skill.")]})
    mapping = session.scalar(select(SkillTextMapping).where(SkillTextMapping.text_key == key))
    if mapping is None:
        mapping = SkillTextMapping(text_key=key, text=text)
        session.add(mapping)
    mapping.status, mapping.skill_code = MappingStatus.CONFIRMED, skill_code
    mapping.decided_by_id, mapping.decided_at = actor.id, clock.now()
    mapping.updated_at = clock.now()
    session.flush()
    audit(session, actor=actor, action="confirm", object_type=OBJECT_TYPE, object_id=mapping.id,
          fields=["skill_code"])
    return mapping


def withdraw_mapping(*, session: Session, actor: Account, mapping_id: int) -> None:
    """Take a confirmed reading (or a suggestion) back: the text returns to the queue and is read by the n-grams
    again."""
    policy.require(actor, policy.Rule.SKILL_TEXT_DECIDE, object_type=OBJECT_TYPE, object_id=mapping_id)
    mapping = session.get(SkillTextMapping, mapping_id)
    if mapping is None:
        raise NotFound(_l("No such reading."))
    audit(session, actor=actor, action="withdraw", object_type=OBJECT_TYPE, object_id=mapping.id,
          fields=["skill_code"])
    session.execute(delete(SkillTextMapping).where(SkillTextMapping.id == mapping_id))
    session.flush()


def skill_choices(session: Session) -> list[Skill]:
    return list(session.scalars(select(Skill).order_by(Skill.course_code.is_(None), Skill.course_code, Skill.code)))
