"""Whether a file's dates make sense together: the rules the intake form, the API, imports and pre-release lists
all apply (pure: no database, the day passed in).

- A release date lies at most RELEASE_HORIZON_YEARS after today. Prisons hand a person's data over months before
  release (预释放信息对接), so two years is generous; a date further on is a typing error (2099 for 2029).
- The person was at least MIN_AGE_AT_RELEASE years old on the release day. Article 17 of the Criminal Law of the
  PRC (as amended by Amendment XI, 2021) holds a person criminally responsible from 12 in the narrowest case (12 to
  14, for intentional homicide or intentional injury causing death or grave harm, with the Supreme People's
  Procuratorate's approval); nobody younger is released from a sentence. The birth date is the ID number's, or the
  first day of the birth year when only the year is known (the lenient reading).
- Nobody is born in the future.
- A person can start work or a course only once released (earliest start on or after the release date) and while
  under assistance (on or before the assistance period's end).
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from matcher.clock import add_years

RELEASE_HORIZON_YEARS = 2
MIN_AGE_AT_RELEASE = 12
ASSISTANCE_YEARS = 5  # 安置帮教: five years after release
# A visit is its date, its kind and what it found: a note, or the employment state it saw.
VISIT_SAYS_NOTHING = _l("Write what the visit found, or choose what it found about work.")


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on a day."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def date_problems(*, today: dt.date, release_date: dt.date | None = None, earliest_start: dt.date | None = None,
                  birth_date: dt.date | None = None, birth_date_field: str = "id_number") -> dict[str, list]:
    """Every way these dates contradict each other or the calendar, by field (empty when they make sense).
    A date not known is not checked. `birth_date_field` names where the birth date came from."""
    errors: dict[str, list] = {}
    if birth_date is not None and birth_date > today:
        errors.setdefault(birth_date_field, []).append(_l("The birth date cannot be in the future."))
    if release_date is not None:
        latest = add_years(today, RELEASE_HORIZON_YEARS)
        if release_date > latest:
            errors.setdefault("release_date", []).append(_l(
                "A release date can be at most %(years)s years ahead (until %(day)s); check the year.",
                years=RELEASE_HORIZON_YEARS, day=latest.isoformat()))
        if birth_date is not None and birth_date <= today and age_on(birth_date, release_date) < MIN_AGE_AT_RELEASE:
            errors.setdefault("release_date", []).append(_l(
                "On this release date the person would be %(age)s: nobody under %(minimum)s is criminally "
                "responsible (Criminal Law, art. 17). Check the release date and the ID number.",
                age=max(age_on(birth_date, release_date), 0), minimum=MIN_AGE_AT_RELEASE))
    if earliest_start is not None and release_date is not None:
        if earliest_start < release_date:
            errors.setdefault("earliest_start", []).append(_l(
                "The person can start only after release (%(day)s).", day=release_date.isoformat()))
        elif earliest_start > add_years(release_date, ASSISTANCE_YEARS):
            errors.setdefault("earliest_start", []).append(_l(
                "The start must fall within the five years of assistance (until %(day)s).",
                day=add_years(release_date, ASSISTANCE_YEARS).isoformat()))
    return errors


def merge_errors(into: dict, more: dict) -> dict:
    """Add a field-error tree to another (messages of one field are listed together, nested fields merged)."""
    for key, value in more.items():
        if isinstance(value, dict):
            into[key] = merge_errors(into[key] if isinstance(into.get(key), dict) else {}, value)
        else:
            messages = value if isinstance(value, list | tuple) else [value]
            found = into.setdefault(key, [])
            if isinstance(found, dict):
                found.setdefault("_schema", []).extend(messages)
            else:
                found.extend(m for m in messages if m not in found)
    return into
