"""`flask --app matcher import ...` and `export ...`."""

from __future__ import annotations

from pathlib import Path

import click
from flask_babel import gettext

from matcher.commands import CommandGroup, acting
from matcher.extensions import db
from matcher.transfer import service
from matcher.transfer.columns import EXPORT_KINDS, KIND_TITLES, KINDS

import_cli = CommandGroup("import", help="Import candidates, bases, slots, referral history or a prison's pre-release "
                                     "list from CSV or Excel.")
export_cli = CommandGroup("export", help="Export candidates, bases, slots or referral history to CSV or Excel "
                                     "(pseudonymous; `export approved` writes an identified file an administrator "
                                     "approved).")

def _title(kind: str) -> str:
    title = KIND_TITLES[kind]
    return title[0].lower() + title[1:]


def _import_command(kind: str) -> click.Command:
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
    @acting
    def command(file: Path, dry_run: bool, actor) -> None:
        report = service.import_file(session=db.session, actor=actor, kind=kind, data=file.read_bytes(),
                                     filename=file.name, dry_run=dry_run)
        if report.dry_run:
            click.echo(gettext("Dry run: all %(rows)s rows of %(kind)s are valid; nothing was changed.",
                               rows=report.rows, kind=kind))
        elif report.updated is None:
            click.echo(gettext("Imported %(count)s %(kind)s.", count=report.created, kind=kind))
        else:
            click.echo(gettext("Imported %(rows)s rows of %(kind)s: %(created)s files opened, %(updated)s updated.",
                               rows=report.rows, kind=kind, created=report.created, updated=report.updated))
        for suggestion in report.occupation_suggestions or ():
            click.echo(gettext("Row %(row)s (%(title)s) has no occupation code; suggested: %(code)s %(name)s.",
                               row=suggestion["row"], title=suggestion["title"], code=suggestion["code"],
                               name=suggestion["name_zh"]))
        opened, updated = ("would open", "would update") if report.dry_run else ("opened", "updated")
        for office in report.offices or ():
            click.echo(f"  {office['office']}: {opened} {office['created']}, {updated} {office['updated']} "
                       f"(dual registration {office['dual_registration']}, key subjects {office['key_subjects']}, "
                       f"pre-release {office['pre_release']})")

    command.__doc__ = (f"Import {_title(kind)} from a CSV or .xlsx FILE.\n\nCSV may be UTF-8 or GBK. Every "
                       "row is checked, then all rows are created or none. Columns: docs/formats.md.")
    return import_cli.command(kind)(command)


def _export_command(kind: str) -> click.Command:
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
                  help="The file to write.")
    @click.option("--format", "file_format", type=click.Choice(service.FORMATS),
                  help="csv or xlsx (default: from the output file's extension, else csv).")
    @click.option("--headers", type=click.Choice(service.HEADER_LANGUAGES), default="en", show_default=True,
                  help="Column headers in English (the contract) or Chinese.")
    @click.option("--encoding", type=click.Choice(service.ENCODINGS), default="utf-8", show_default=True,
                  help="CSV only: UTF-8 with BOM, or GBK.")
    @acting
    def command(output: Path, file_format: str | None, headers: str, encoding: str, actor) -> None:
        file_format = file_format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
        export = service.export_file(session=db.session, actor=actor, kind=kind, format=file_format,
                                     headers=headers, encoding=encoding)
        output.write_bytes(export.content)
        click.echo(f"Wrote {export.count} {kind} to {output}.")

    command.__doc__ = f"Export the {_title(kind)} you may see to CSV or Excel (.xlsx)."
    return export_cli.command(kind)(command)


@export_cli.command("approved")
@click.argument("request_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write.")
@acting
def export_approved(request_id: int, output: Path, actor) -> None:
    """Write the identified file of an approved export request (once, by the account that asked for it, named
    with --as)."""
    from matcher.exports.service import download

    export = download(session=db.session, actor=actor, request_id=request_id)
    output.write_bytes(export.content)
    click.echo(f"Wrote the identified export of request #{request_id} to {output}.")


for _kind in KINDS:
    _import_command(_kind)
for _kind in EXPORT_KINDS:
    _export_command(_kind)
