"""The district → township picker every form with a place uses (a candidate's residence and household registration,
a slot's place): two server-rendered selects that work without JavaScript, narrowed by htmx when it runs.

The township select posts the township's code, which the services already resolve to the township's shipped
coordinates (seed/places), so a place picked is a place geocoded. Validation stays in the services."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import abort, g, render_template, request

from matcher.extensions import db
from matcher.places.service import District, districts_with_townships, township_code_for
from matcher.web.base import bp, page

FIELD_NAME = re.compile(r"^[a-z_]{1,30}$")


@dataclass(frozen=True)
class PickerState:
    districts: list[District]
    district: str  # the district chosen (or the picked township's), "" for all
    township: str  # the township code picked, "" for none

    def shown(self) -> list[District]:
        """The districts whose townships the township select lists: the chosen one, or every one."""
        return [d for d in self.districts if d.code == self.district] or self.districts


def _districts() -> list[District]:
    if "place_districts" not in g:  # two pickers on one form read the reference data once
        g.place_districts = districts_with_townships(session=db.session)
    return g.place_districts


@bp.app_template_global("place_picker_state")
def place_picker_state(value: str | None, district: str | None = None) -> PickerState:
    """What a picker shows for a form value (a township's code, or its name as older forms posted it): the form's
    township select lists every district's townships (grouped), so it works without JavaScript whatever district
    is shown; the htmx request narrows it to the chosen district."""
    districts = _districts()
    township = township_code_for(session=db.session, value=value or "") or ""
    chosen = district or ""
    if township:
        chosen = next((d.code for d in districts if any(t.code == township for t in d.townships)), chosen)
    if chosen not in {d.code for d in districts}:
        chosen = ""
    return PickerState(districts=districts, district=chosen, township=township)


@bp.route("/places/townships")
@page()
def place_townships():
    """The township options of one district (htmx swaps them into the picker's township select)."""
    field = request.args.get("field", "")
    if not FIELD_NAME.match(field):
        abort(404)
    district = request.args.get(f"{field}_district", "")
    state = place_picker_state("", district)
    return render_template("web/_place_options.html", state=state, narrow=True)
