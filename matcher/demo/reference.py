"""Loads every shipped reference table and the judicial offices (one per township)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, PlaceLevel
from matcher.places.service import load_reference_places
from matcher.reference.service import load_reference_vocabularies


def office_name(township: Place) -> str:
    """稠城街道 -> 稠城司法所; 佛堂镇 -> 佛堂司法所 (the usual naming of township judicial offices)."""
    stem = township.name
    for suffix in ("街道", "镇", "乡"):
        if stem.endswith(suffix) and len(stem) > len(suffix) + 1:
            stem = stem[: -len(suffix)]
            break
    return f"{stem}司法所"


def load_all_reference(session: Session) -> dict[str, int]:
    """Places, vocabularies and one judicial office per township, in dependency order."""
    counts = {"places": load_reference_places(session)}
    counts.update(load_reference_vocabularies(session))
    existing = set(session.scalars(select(JudicialOffice.township_code)))
    townships = session.scalars(select(Place).where(Place.level == PlaceLevel.TOWNSHIP)).all()
    names_seen: set[str] = set(session.scalars(select(JudicialOffice.name)))
    rows = []
    for township in townships:
        if township.code in existing:
            continue
        name = office_name(township)
        if name in names_seen:  # two townships with one stem in different counties
            district = session.get(Place, township.parent_code)
            name = f"{district.name}{name}"
        names_seen.add(name)
        rows.append({"name": name, "township_code": township.code})
    if rows:
        session.execute(insert(JudicialOffice), rows)
    counts["offices"] = len(existing) + len(rows)
    return counts


