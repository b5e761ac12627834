"""`flask --app matcher retention run [--dry-run] [--as-of YYYY-MM-DD] [--days N]`."""

from __future__ import annotations

import datetime as dt

import click

from matcher.commands import CommandGroup, acting
from matcher.extensions import db

retention_cli = CommandGroup("retention", help="Archive files whose assistance ended long ago and remove their "
                                                "personal data (XINTU_RETENTION_DAYS).")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Report what would be archived; change nothing.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as on this day (default: today, China time).")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Days after the end of assistance (default: XINTU_RETENTION_DAYS, 730).")
@acting
def run_command(dry_run: bool, as_of: dt.datetime | None, days: int | None, actor) -> None:
    """Archive every due file in the acting account's area: status closed, personal data removed, one audit
    event each."""
    from matcher.retention.service import run

    report = run(session=db.session, as_of=as_of.date() if as_of else None, dry_run=dry_run, days=days,
                 actor=actor)
    for line in report_lines(report):
        click.echo(line)


def report_lines(report) -> list[str]:
    verb = "would archive" if report.dry_run else "archived"
    lines = [f"{'Dry run: ' if report.dry_run else ''}retention as of {report.as_of.isoformat()}: files whose "
             f"assistance ended before {report.cutoff.isoformat()} ({report.retention_days} days).",
             f"due {report.due}, {verb} {report.archived}, skipped {sum(report.skipped.values())}"
             + "".join(f" ({reason}: {count})" for reason, count in report.skipped.items())]
    for office in report.offices:
        skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(office["skipped"].items()))
        lines.append(f"  {office['office']}: due {office['due']}, {verb} {office['archived']}"
                     + (f", skipped {skipped}" if skipped else ""))
    if report.dry_run:
        lines.append("Nothing was changed.")
    return lines
