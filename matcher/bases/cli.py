"""`flask --app matcher bases certify`: certification decisions from the command line (a bureau moving its
register onto Xintu certifies the bases it already works with), through the same service and rules as the
pages and the API."""

from __future__ import annotations

import datetime as dt

import click
from flask_babel import gettext

from matcher.bases.service import bases_to_decide, decide_certification
from matcher.commands import CommandGroup, acting
from matcher.extensions import db

bases_cli = CommandGroup("bases", help="Certification decisions on bases.")


@bases_cli.command("certify")
@click.option("--id", "company_id", type=int, default=None, help="The base's id.")
@click.option("--credit-code", default=None, help="The base's unified social credit code.")
@click.option("--all-applied", is_flag=True, help="Every application (applied) of your area.")
@click.option("--until", "valid_until", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Certified until this date (YYYY-MM-DD, in the future).")
@click.option("--agreement", default=None, help="The assistance agreement's reference (协议编号), kept as the "
                                                "decision's note.")
@acting
def certify(company_id: int | None, credit_code: str | None, all_applied: bool, valid_until: dt.datetime,
            agreement: str | None, actor) -> None:
    """Certify (or renew) bases until a date: one by --id or --credit-code, or --all-applied. All or none."""
    bases = bases_to_decide(session=db.session, actor=actor, company_id=company_id, credit_code=credit_code,
                            all_applied=all_applied)
    for company in bases:
        decide_certification(session=db.session, actor=actor, company_id=company.id, action="certify",
                             valid_until=valid_until.date(), reason=agreement)
    click.echo(gettext("Certified %(count)s bases until %(date)s.", count=len(bases),
                       date=valid_until.date().isoformat()))
