"""`flask audit verify`, `flask audit checkpoint` and `flask audit search`: the audit log from the command line."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask_babel import force_locale

from matcher import clock
from matcher.audit import service
from matcher.audit.anchors import Anchor, anchor_path
from matcher.audit.keys import AuditKeyError
from matcher.commands import CommandGroup
from matcher.extensions import db

audit_cli = CommandGroup("audit", help="Verify and search the append-only audit log.")


@audit_cli.command("verify")
def verify() -> None:
    """Walk the hash chain in id order and check every anchor in the anchor file; exit 1 and name the first event
    or anchor that does not fit."""
    try:
        result = service.verify_log(db.session)
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    chain, anchors = result.chain, result.anchors
    click.echo(f"key: {result.key.key_id} (from {result.key.source})")
    if chain.ok:
        legacy = f", the first {result.legacy_events} from before the key (sha256)" if result.legacy_events else ""
        click.echo(f"ok: {chain.checked} events, the chain is intact{legacy}")
    else:
        click.echo(f"BROKEN at event {chain.first_bad_id} ({chain.checked} events checked): an event was changed, "
                   "one before it was removed, or it was not signed with this key", err=True)
    click.echo(f"anchors: {anchors.path} ({anchors.checked} read)")
    if anchors.latest is not None:
        click.echo(f"latest anchor: {_describe(anchors.latest)}")
    elif anchors.ok:
        click.echo("no anchor yet: a cut tail cannot be told from a shorter log until `flask --app matcher audit "
                   "checkpoint` runs (schedule it)")
    if not anchors.ok:
        where = f" at line {anchors.failing_line}" if anchors.failing_line is not None else ""
        with force_locale("en"):
            click.echo(f"ANCHOR FAILED{where}: {anchors.message}", err=True)
    if not result.ok:
        sys.exit(1)


@audit_cli.command("checkpoint")
def checkpoint() -> None:
    """Append a signed checkpoint of the chain's head to the anchor file (XINTU_AUDIT_ANCHOR_PATH) and print it;
    run it from cron. Exit 1 when the newest event does not hold with this command's key."""
    path = anchor_path()
    try:
        anchor = service.checkpoint(db.session, path=path)
    except (service.CheckpointRefused, AuditKeyError) as exc:
        click.echo(f"no checkpoint: {exc}", err=True)
        sys.exit(1)
    if anchor is None:
        click.echo("no checkpoint: the audit log is empty", err=True)
        return
    click.echo(f"anchored {_describe(anchor)} in {path}")


def _describe(anchor: Anchor) -> str:
    return (f"event {anchor.event_id} (hash {anchor.hash[:16]}…, {anchor.events} events), "
            f"at {clock.in_china(anchor.instant).isoformat(timespec='seconds')}, key {anchor.key_id}")


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
