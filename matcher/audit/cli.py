"""`flask audit verify` and `flask audit search`: the audit log from the command line."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import AppGroup

from matcher import clock
from matcher.audit import service
from matcher.extensions import db

audit_cli = AppGroup("audit", help="Verify and search the append-only audit log.")


@audit_cli.command("verify")
def verify() -> None:
    """Walk the hash chain in id order; exit 1 and name the first event that does not fit."""
    ok, first_bad_id, checked = service.verify(db.session)
    if ok:
        click.echo(f"ok: {checked} events, the chain is intact")
        return
    click.echo(f"BROKEN at event {first_bad_id} ({checked} events checked): an event was changed or one "
               "before it was removed", err=True)
    sys.exit(1)


def _object(value: str | None) -> tuple[str | None, int | None]:
    if not value:
        return None, None
    kind, _, ident = value.partition(":")
    if ident and not ident.isdigit():
        raise click.BadParameter("TYPE or TYPE:ID, e.g. candidate:123", param_hint="--object")
    return kind, int(ident) if ident else None


@audit_cli.command("search")
@click.option("--actor", "username", help="Username of who acted.")
@click.option("--object", "obj", help="TYPE or TYPE:ID, e.g. candidate:123.")
@click.option("--action", help="read, create, update, export, login, login_failed, move ...")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="From this day (China calendar).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Up to this day (China calendar), inclusive.")
@click.option("--limit", default=100, show_default=True, help="At most this many events, newest first.")
def search(username: str | None, obj: str | None, action: str | None, since: dt.datetime | None,
           until: dt.datetime | None, limit: int) -> None:
    """List audit events, newest first (tab-separated: id, time, actor, role, action, object, fields, address)."""
    filters: dict = {"action": action}
    if username:
        filters["actor_id"] = service.actor_id_for(db.session, username)
        if filters["actor_id"] is None:
            raise click.BadParameter(f"no account is called {username}", param_hint="--actor")
    filters["object_type"], filters["object_id"] = _object(obj)
    filters["date_from"] = since.date() if since else None
    filters["date_to"] = until.date() if until else None
    names = service.usernames(db.session)
    for event in db.session.scalars(service.search_statement(filters).limit(limit)):
        target = event.object_type + (f":{event.object_id}" if event.object_id is not None else "")
        click.echo("\t".join([str(event.id), clock.in_china(event.at).isoformat(timespec="seconds"),
                              names.get(event.actor_id, "-"), event.actor_role or "-", event.action, target,
                              event.fields or "-", event.remote_addr or "-"]))
