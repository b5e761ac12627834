"""Map pages drawn offline as server-side SVG from the shipped places: a caseworker's people counted by township
with the bases and open slots around them; an organiser's bases and one fair's invited people, counted by township.
No tile server, no script; the table under the map says the same in words."""

from __future__ import annotations

import dataclasses

from flask import render_template, request

from matcher.auth.models import Role
from matcher.extensions import db
from matcher.maps import service as maps
from matcher.maps.drawing import Point, Projection, outline, radius
from matcher.web.base import actor, bp, page
from matcher.web.forms import int_in

LABELLED_TOWNS = 40  # a district's townships are named on the map; a whole city's would crowd it


@dataclasses.dataclass(frozen=True)
class Mark:
    x: float
    y: float
    r: float
    label: str
    title: str
    name: str = ""


@dataclasses.dataclass(frozen=True)
class Row:
    district: str
    township: str
    people: int
    slots: int
    seats: int
    bases: int


def drawing(data: maps.MapData) -> dict:
    """The map's shapes in SVG coordinates, and its table by township."""
    towns = [t for d in data.districts for t in d.townships]
    project = Projection.fit([(t.lat, t.lng) for t in towns] + [(b.lat, b.lng) for b in data.bases], margin=70)
    counted = {c.code for c in data.people}
    districts = []
    for d in data.districts:
        points = [project(t.lat, t.lng) for t in d.townships] or [project(d.lat, d.lng)]
        cx = sum(p.x for p in points) / len(points)
        top = min(p.y for p in points)
        districts.append({"name": d.name, "outline": outline(points), "label": Point(round(cx, 1), max(top - 16, 14)),
                          "towns": [(project(t.lat, t.lng), t.name, t.code in counted) for t in d.townships]})
    largest = max([c.count for c in data.people] + [1])
    people = [Mark(*_xy(project, c), radius(c.count, largest), str(c.count), f"{c.district}{c.name}", c.name)
              for c in data.people]
    slots = [Mark(*_xy(project, c), 6.0, str(c.count), f"{c.district}{c.name}") for c in data.slots]
    bases = [Mark(*_xy(project, b), 5.0, "", f"{b.name} · {b.place}") for b in data.bases]
    names = {t.code: (d.name, t.name) for d in data.districts for t in d.townships}
    people_by = {c.code: c.count for c in data.people}
    slots_by = {c.code: (c.count, c.seats) for c in data.slots}
    bases_by: dict[str, int] = {}
    for b in data.bases:
        bases_by[b.place_code] = bases_by.get(b.place_code, 0) + 1
    rows = {}
    for code in set(people_by) | set(slots_by) | set(bases_by):
        district, township = names.get(code, ("", code))
        count, seats = slots_by.get(code, (0, 0))
        rows[code] = Row(district, township, people_by.get(code, 0), count, seats, bases_by.get(code, 0))
    table = sorted(rows.values(), key=lambda r: (-r.people, -r.slots, r.district, r.township))
    return {"width": project.width, "height": project.height, "districts": districts,
            "label_towns": len(towns) <= LABELLED_TOWNS, "people": people,
            "slots": slots, "bases": bases, "table": table}


def _xy(project: Projection, item) -> tuple[float, float]:
    point = project(item.lat, item.lng)
    return point.x, point.y


@bp.route("/caseworker/map")
@page(Role.CASEWORKER)
def caseworker_map():
    data = maps.caseworker_map(session=db.session, actor=actor())
    return render_template("web/maps/map.html", data=data, map=drawing(data), role="caseworker")


@bp.route("/organiser/map")
@page(Role.ORGANISER, Role.ADMINISTRATOR)
def organiser_map():
    data = maps.organiser_map(session=db.session, actor=actor(), fair_id=int_in(request.args.get("fair")))
    return render_template("web/maps/map.html", data=data, map=drawing(data), role="organiser")
