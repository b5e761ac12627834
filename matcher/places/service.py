"""Reading places and resolving a place given by code, name or coordinates."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matcher.errors import Invalid, NotFound
from matcher.places.models import Place, PlaceLevel, code_prefix

SEED_PLACES = Path(__file__).resolve().parent.parent.parent / "seed" / "places" / "places.csv"
EARTH_RADIUS_KM = 6371.0088
# Coordinates further than this from every known township are outside the reference data.
MAX_SNAP_KM = 30.0


@dataclass(frozen=True)
class ResolvedPlace:
    code: str
    lat: float
    lng: float
    exact: bool  # coordinates given by the user rather than the place's centre


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def load_reference_places(session: Session, path: Path = SEED_PLACES) -> int:
    """Load (or refresh) the place table from the shipped reference data; returns the number of rows."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_code = {row["code"]: row for row in rows}

    def full_name(row: dict) -> str:
        parts = []
        while row is not None:
            if row["code"] != "500100":  # 重庆市 is both province and its own city level
                parts.append(row["name"])
            row = by_code.get(row["parent_code"])
        return "".join(reversed(parts))

    records = [
        {
            "code": row["code"],
            "name": row["name"],
            "level": PlaceLevel(row["level"]),
            "parent_code": row["parent_code"] or None,
            "lat": float(row["lat"]),
            "lng": float(row["lng"]),
            "full_name": full_name(row),
        }
        for row in rows
    ]
    # Parents first, so the self-referencing foreign key holds row by row. Merge rather than replace:
    # offices, bases and candidates already point at these rows.
    order = {PlaceLevel.PROVINCE: 0, PlaceLevel.CITY: 1, PlaceLevel.DISTRICT: 2, PlaceLevel.TOWNSHIP: 3}
    records.sort(key=lambda r: order[r["level"]])
    for record in records:
        session.merge(Place(**record))
    session.flush()
    return len(records)


def list_places(
    *, session: Session, level: str | None = None, parent: str | None = None, q: str | None = None
):
    stmt = select(Place)
    if level:
        stmt = stmt.where(Place.level == PlaceLevel(level))
    if parent:
        stmt = stmt.where(Place.code.startswith(code_prefix(parent)), Place.code != parent)
    if q:
        stmt = stmt.where(or_(Place.name.contains(q, autoescape=True), Place.full_name.contains(q, autoescape=True)))
    return stmt.order_by(Place.code)


def get_place(*, session: Session, code: str) -> Place:
    # A NUL character (a URL's %00) names no place; PostgreSQL would refuse to compare it (a 500).
    place = session.get(Place, code) if "\x00" not in code else None
    if place is None:
        raise NotFound(_l("No such place."))
    return place


def resolve_place(
    *,
    session: Session,
    field: str,
    code: str | None = None,
    name: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    require_township: bool = True,
) -> ResolvedPlace:
    """Turn what a user typed into a known place: a code, a (full) name, or coordinates.

    Coordinates are kept exactly and snapped to the nearest township for the place code.
    """
    if code:
        place = session.get(Place, code.strip())
        if place is None:
            raise Invalid(_l("Unknown place code %(code)s.", code=code), field=field)
    elif name:
        place = _place_by_name(session, name.strip(), field)
    elif lat is not None and lng is not None:
        place = _nearest_township(session, lat, lng, field)
        return ResolvedPlace(code=place.code, lat=lat, lng=lng, exact=True)
    else:
        raise Invalid(_l("Give a place code, a place name, or coordinates."), field=field)
    if require_township and place.level != PlaceLevel.TOWNSHIP:
        raise Invalid(_l("%(name)s is not a township or street; name the township.", name=place.name),
                      field=field)
    if lat is not None and lng is not None:
        return ResolvedPlace(code=place.code, lat=lat, lng=lng, exact=True)
    return ResolvedPlace(code=place.code, lat=place.lat, lng=place.lng, exact=False)


def _place_by_name(session: Session, name: str, field: str) -> Place:
    exact = session.scalars(
        select(Place).where(or_(Place.full_name == name, Place.name == name))
    ).all()
    if len(exact) == 1:
        return exact[0]
    matches = exact or session.scalars(
        select(Place).where(Place.full_name.endswith(name)).limit(6)
    ).all()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise Invalid(_l("No place is called %(name)s.", name=name), field=field)
    options = "、".join(m.full_name for m in matches[:5])
    raise Invalid(_l("%(name)s is ambiguous: %(options)s.", name=name, options=options), field=field)


def _nearest_township(session: Session, lat: float, lng: float, field: str) -> Place:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Invalid(_l("Coordinates are out of range."), field=field)
    # A 0.5-degree box keeps this to a handful of rows; exact distances decide.
    box = 0.5
    candidates = session.scalars(
        select(Place).where(
            Place.level == PlaceLevel.TOWNSHIP,
            Place.lat.between(lat - box, lat + box),
            Place.lng.between(lng - box, lng + box),
        )
    ).all()
    best = min(candidates, key=lambda p: haversine_km(lat, lng, p.lat, p.lng), default=None)
    if best is None or haversine_km(lat, lng, best.lat, best.lng) > MAX_SNAP_KM:
        raise Invalid(_l("These coordinates are outside the areas Xintu knows."), field=field)
    return best


@dataclass(frozen=True)
class District:
    """A district or county with its townships and streets, for the place picker and the map."""

    code: str
    name: str
    full_name: str
    lat: float
    lng: float
    townships: tuple[Place, ...]


def districts_with_townships(*, session: Session) -> list[District]:
    """Every district or county in the reference data with its townships, both in code order."""
    rows = session.scalars(
        select(Place).where(Place.level.in_((PlaceLevel.DISTRICT, PlaceLevel.TOWNSHIP))).order_by(Place.code)
    ).all()
    townships: dict[str, list[Place]] = {}
    for row in rows:
        if row.level == PlaceLevel.TOWNSHIP and row.parent_code:
            townships.setdefault(row.parent_code, []).append(row)
    return [District(code=row.code, name=row.name, full_name=row.full_name, lat=row.lat, lng=row.lng,
                     townships=tuple(townships.get(row.code, ())))
            for row in rows if row.level == PlaceLevel.DISTRICT]


def township_code_for(*, session: Session, value: str) -> str | None:
    """The township a form value names (its code, or its full or short name when that is unambiguous)."""
    value = (value or "").strip()
    if not value or "\x00" in value:
        return None
    place = session.get(Place, value) if value.isdigit() else None
    if place is None and not value.isdigit():
        township = select(Place).where(Place.level == PlaceLevel.TOWNSHIP)
        matches = session.scalars(township.where(or_(Place.full_name == value, Place.name == value)).limit(2)).all()
        if not matches:  # "义乌市稠城街道": the end of a full name
            matches = session.scalars(township.where(Place.full_name.endswith(value, autoescape=True)).limit(2)).all()
        place = matches[0] if len(matches) == 1 else None
    return place.code if place is not None and place.level == PlaceLevel.TOWNSHIP else None
