"""`flask --app matcher onboard DIR`: a bureau's folder of files, loaded in order, all or nothing, one report."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext

from matcher.commands import acting, error_lines, in_unit_of_work
from matcher.errors import translate, translate_errors
from matcher.extensions import db
from matcher.transfer.onboard import OnboardingRefused, OnboardingReport, plan_folder
from matcher.transfer.onboard import onboard as onboard_files


def _echo_report(report: OnboardingReport, *, refused: bool = False) -> None:
    width = max(len(file.filename) for file in report.files)
    for file in report.files:
        if file.message is not None:
            outcome = gettext("refused")
        elif report.dry_run or refused:
            outcome = gettext("%(rows)s rows, all valid", rows=file.rows)
        else:
            outcome = gettext("%(rows)s rows, %(created)s created", rows=file.rows, created=file.created)
        click.echo(f"  {file.filename.ljust(width)}  {file.kind:<10}  {outcome:<26}  {file.seconds:6.1f} s",
                   err=refused)


@click.command("onboard")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every file as if loading it (later files see earlier ones); "
                                              "change nothing.")
@with_appcontext
@in_unit_of_work
@acting
def onboard(folder: Path, dry_run: bool, actor) -> None:
    """Load a bureau's FOLDER: bases, slots, candidates and referrals (bases.csv or .xlsx, slots.*, candidates.*,
    referrals.*; or 基地, 岗位, 帮教对象, 推荐记录), in that order, every file or none.

    Files left out are fine; any other file in the folder refuses it (hidden files are passed over). Columns:
    docs/formats.md. Prints one report: rows and created per file, and seconds."""
    planned = plan_folder([path.name for path in folder.iterdir() if path.is_file()])
    files = [(kind, name, (folder / name).read_bytes()) for kind, name in planned]
    try:
        report = onboard_files(session=db.session, actor=actor, files=files, dry_run=dry_run)
    except OnboardingRefused as exc:
        click.echo(gettext("Error: %(message)s", message=translate(exc.message)), err=True)
        _echo_report(exc.report, refused=True)
        refused_before = False
        for file in exc.report.files:
            if file.message is None:
                continue
            after = gettext(" (checked without the refused files above: some errors may follow from theirs)") \
                if refused_before else ""
            click.echo(f"{file.filename}: {translate(file.message)}{after}", err=True)
            refused_before = True
            for line in error_lines(translate_errors(file.errors)):
                click.echo(f"  {line}", err=True)
        raise SystemExit(1) from None
    total_rows = sum(file.rows for file in report.files)
    total_created = sum(file.created for file in report.files)
    if report.dry_run:
        click.echo(gettext("Dry run of %(folder)s: all %(rows)s rows of %(files)s files are valid; nothing was "
                           "changed (%(seconds)s s).", folder=folder, rows=total_rows, files=len(report.files),
                           seconds=f"{report.seconds:.1f}"))
    else:
        click.echo(gettext("Onboarded %(folder)s: %(rows)s rows of %(files)s files, %(created)s created "
                           "(%(seconds)s s).", folder=folder, rows=total_rows, files=len(report.files),
                           created=total_created, seconds=f"{report.seconds:.1f}"))
    _echo_report(report)
