"""`flask --app matcher notify run|send`: the daily notification sweep, and sending pending emails alone."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app

from matcher.commands import CommandGroup
from matcher.extensions import db

notify_cli = CommandGroup("notify", help="Create the notices that come due with time, and send them out.")


@notify_cli.command("run")
@click.option("--on", "on_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Sweep as of this date (YYYY-MM-DD); default today (China time).")
def run(on_date: dt.datetime | None) -> None:
    """Create the due notices (answers due, checks due and overdue, certifications and agreements expiring, bases
    flagged for review, tomorrow's interviews), text tomorrow's interview reminders to the people (when a text-message
    provider is configured), then email what is pending. Safe to run more than once a day: nothing is created twice.
    Run it daily from cron or a systemd timer."""
    from matcher.notify.channels import outbound_channel
    from matcher.notify.scheduler import run_sweep
    from matcher.notify.sms import text_messenger

    report = run_sweep(db.session, as_of=on_date.date() if on_date else None,
                       channel=outbound_channel(current_app.config), messenger=text_messenger(current_app.config))
    click.echo(str(report))


@notify_cli.command("send")
def send() -> None:
    """Only send the pending emails (for example every few minutes, so a new referral's email need not wait for
    the daily sweep)."""
    from matcher.notify.channels import outbound_channel
    from matcher.notify.scheduler import send_pending

    channel = outbound_channel(current_app.config)
    if channel is None:
        click.echo("no outbound channel configured (in-app only)")
        return
    sent, failed = send_pending(db.session, channel)
    click.echo(f"{sent} emailed, {failed} failed")
