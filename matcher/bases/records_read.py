"""The base records as the bureau reads them: each base's figures (matcher.bases.records) with its answers now, its
chance of answering, pause and month (matcher.bases.answers). Apart from both, as the answers are estimated from the
records' figures."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from matcher import policy
from matcher.auth.models import Account
from matcher.bases.answers import standings
from matcher.bases.records import SORTS, BaseRecord, area_prefix_for, base_records
from matcher.errors import Invalid


def with_standing(session: Session, records: list[BaseRecord], as_of: dt.date | None = None) -> list[BaseRecord]:
    """The records with each base's answers now: its chance of answering, pause and month (matcher.bases.answers)."""
    found = standings(session, records=records, as_of=as_of)
    for record in records:
        standing = found.get(record.company_id)
        if standing is None:
            continue
        record.p_answer, record.target_share, record.demoted = (standing.p_answer, standing.target_share,
                                                                standing.demoted)
        record.unanswered_now, record.pause_after, record.paused_on = (standing.unanswered, standing.pause_after,
                                                                       standing.paused_on)
        record.employees, record.monthly_cap, record.month_count = (standing.employees, standing.monthly_cap,
                                                                    standing.month_count)
    return records


def list_base_records(*, session: Session, actor: Account, district: str | None = None,
                      flagged_only: bool = False, sort: str = "-flags",
                      as_of: dt.date | None = None) -> list[BaseRecord]:
    """The records of the bases in the administrator's area (or one district of it), sorted; `-` reverses.
    Ties keep the order by name."""
    policy.require(actor, policy.Rule.RECORDS_READ)
    records = with_standing(session, base_records(session, area_prefix=area_prefix_for(session, actor, district),
                                                  as_of=as_of), as_of)
    if flagged_only:
        records = [r for r in records if r.flags]
    key = sort.lstrip("-")
    if key not in SORTS:
        raise Invalid(_l("Sort by one of: %(names)s.", names=", ".join(SORTS)), field="sort")
    records.sort(key=SORTS[key], reverse=sort.startswith("-"))
    return records


def record_of(*, session: Session, actor: Account, company_id: int,
              as_of: dt.date | None = None) -> BaseRecord | None:
    """One base's record (None for an applicant or a revoked base, which have none)."""
    policy.require(actor, policy.Rule.RECORDS_READ)
    found = with_standing(session, base_records(session, as_of=as_of, company_ids=[company_id]), as_of)
    return found[0] if found else None
