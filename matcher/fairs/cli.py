"""`flask --app matcher fair plan|export`: plan a job fair's interviews and export the plan from the command line.

The command line is the operator's: it acts with an administrator's reach over the whole database, as the other
commands do (`assign`, `model`), unless `--as` names an account whose scope to use."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from matcher.extensions import db

fair_cli = AppGroup("fair", help="Plan a job fair's interviews and export the plan.")


def _actor(username: str | None):
    from sqlalchemy import select

    from matcher import policy
    from matcher.auth.models import Account

    if username is None:
        return policy.operator()
    account = db.session.scalar(select(Account).where(Account.username == username))
    if account is None or not account.is_active:
        raise click.ClickException(f"no active account {username!r}")
    return account


def _fail(exc) -> click.ClickException:
    return click.ClickException(str(exc.message))


@fair_cli.command("plan")
@click.argument("fair_id", type=click.IntRange(min=1))
@click.option("--from-block", type=click.IntRange(min=0, max=48), default=None,
              help="Re-plan from this block (earlier blocks and held interviews stay). Default: the first block "
                   "not yet begun.")
@click.option("--afresh", is_flag=True,
              help="Optimise the rest of the day afresh (default: keep every planned interview, fill free places).")
@click.option("--time-limit", type=click.FloatRange(min=0.1, max=600), default=None,
              help="Seconds the solver may take (default 6 for the whole day, 1 when filling in around kept "
                   "interviews).")
@click.option("--as", "username", default=None, help="Plan as this organiser or administrator.")
def plan(fair_id: int, from_block: int | None, afresh: bool, time_limit: float | None, username: str | None) -> None:
    """Plan FAIR_ID's interviews in one go (or re-plan the rest of the day) and print the figures."""
    from matcher.errors import DomainError
    from matcher.fairs import service
    from matcher.fairs.schemas import run_summary

    actor = _actor(username)
    try:
        run = service.make_plan(session=db.session, actor=actor, fair_id=fair_id, from_block=from_block,
                                keep_planned=not afresh, time_limit_s=time_limit)
    except DomainError as exc:
        raise _fail(exc) from None
    summary = run_summary(run)
    click.echo(f"plan run #{run.id} of fair #{fair_id} from block {run.from_block} (model {run.model_version})")
    click.echo(f"  objective {run.objective:.4f}  bound {run.bound:.4f}  gap {run.gap:.2%}  "
               f"{run.solver_status} in {run.seconds:.2f}s")
    for key in ("candidates", "booths", "eligible_pairs", "interviews", "kept", "new", "unchanged",
                "moved_or_dropped", "expected_stays"):
        if key in summary:
            click.echo(f"  {key}: {summary[key]}")
    click.echo(f"  unplaced: {len(summary['unplaced'])}")
    for item in summary["unplaced"]:
        click.echo(f"    invitation #{item['invitation_id']}: {item['reason']} — {item['text_en']}")


@fair_cli.command("export")
@click.argument("fair_id", type=click.IntRange(min=1))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the workbook (default: fair-<id>-plan.xlsx).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Sheet names and headers.")
@click.option("--as", "username", default=None, help="Export as this organiser or administrator.")
def export(fair_id: int, output: Path | None, lang: str, username: str | None) -> None:
    """Write FAIR_ID's interview plan as an Excel workbook (summary, schedule, by booth, unplaced)."""
    from matcher.errors import DomainError
    from matcher.fairs.export import plan_workbook

    try:
        content = plan_workbook(session=db.session, actor=_actor(username), fair_id=fair_id, lang=lang)
    except DomainError as exc:
        raise _fail(exc) from None
    output = output or Path(f"fair-{fair_id}-plan.xlsx")
    output.write_bytes(content)
    click.echo(f"written to {output} ({len(content)} bytes)")
