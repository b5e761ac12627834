"""`flask --app matcher fair plan|export`: plan a job fair's interviews and export the plan from the command line.

As every command that acts (matcher.commands), these act as the system account unless `--as` names another."""

from __future__ import annotations

from pathlib import Path

import click

from matcher.commands import CommandGroup, acting, current_language
from matcher.extensions import db

fair_cli = CommandGroup("fair", help="Plan a job fair's interviews and export the plan.")


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
@acting
def plan(fair_id: int, from_block: int | None, afresh: bool, time_limit: float | None, actor) -> None:
    """Plan FAIR_ID's interviews in one go (or re-plan the rest of the day) and print the figures."""
    from matcher.fairs import service
    from matcher.fairs.schemas import run_summary

    run = service.make_plan(session=db.session, actor=actor, fair_id=fair_id, from_block=from_block,
                            keep_planned=not afresh, time_limit_s=time_limit)
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
@acting
def export(fair_id: int, output: Path | None, actor) -> None:
    """Write FAIR_ID's interview plan as an Excel workbook (summary, schedule, by booth, unplaced), its sheet
    names and headers in the command's language (--lang)."""
    from matcher.fairs.export import plan_workbook

    content = plan_workbook(session=db.session, actor=actor, fair_id=fair_id, lang=current_language())
    output = output or Path(f"fair-{fair_id}-plan.xlsx")
    output.write_bytes(content)
    click.echo(f"written to {output} ({len(content)} bytes)")
