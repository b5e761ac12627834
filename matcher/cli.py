"""Command-line interface: `flask --app matcher ...` (thin wrappers over the services)."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import text

from matcher.commands import CommandGroup
from matcher.extensions import db

seed_cli = CommandGroup("seed", help="Load reference data and build the demo city.")


@seed_cli.command("reference")
def seed_reference() -> None:
    """Load places, courses, skills and occupations from seed/ (replaces what is there), and make the system
    account the command line acts as."""
    from matcher.auth.service import system_account
    from matcher.demo.reference import load_all_reference

    counts = load_all_reference(db.session)
    system_account(db.session)  # who the command line acts as (matcher.commands)
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))


@seed_cli.command("demo")
@click.option("--seed", "random_seed", default=2026, show_default=True, help="Random seed (deterministic).")
@click.option("--candidates", default=7500, show_default=True, help="How many candidates.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already holds candidates.")
def seed_demo(random_seed: int, candidates: int, if_empty: bool) -> None:
    """Build a realistic demo city (Jinhua): offices, bases, slots, candidates, referral history."""
    from matcher.demo.generator import DemoSpec, build_demo, database_has_candidates

    if if_empty and database_has_candidates(db.session):
        click.echo("demo data already present; nothing to do")
        return
    report = build_demo(db.session, DemoSpec(seed=random_seed, candidates=candidates), echo=click.echo)
    if db.engine.dialect.name == "postgresql":
        # Planner statistics for the tables just filled, as autovacuum would gather within minutes: without
        # them PostgreSQL guesses a handful of rows and picks slow plans for the first pages served.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    click.echo(report)


disclosure_cli = CommandGroup("disclosure", help="The disclosure model: who reads which field.")


@disclosure_cli.command("table")
def disclosure_table() -> None:
    """Print who sees what (the README's Security table), made from matcher.disclosure.FIELDS."""
    from matcher.disclosure import table

    click.echo(table(), nl=False)


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_cli)
    app.cli.add_command(disclosure_cli)
    from matcher.auth.cli import accounts_cli

    app.cli.add_command(accounts_cli)
    from matcher.bases.cli import bases_cli

    app.cli.add_command(bases_cli)
    from matcher.transfer.cli import export_cli, import_cli

    app.cli.add_command(import_cli)
    app.cli.add_command(export_cli)
    from matcher.transfer.onboard_cli import onboard

    app.cli.add_command(onboard)
    from matcher.matching.cli import assign, model_cli

    app.cli.add_command(model_cli)
    app.cli.add_command(assign)
    from matcher.fairs.cli import fair_cli

    app.cli.add_command(fair_cli)
    from matcher.notify.cli import notify_cli

    app.cli.add_command(notify_cli)
    from matcher.audit.cli import audit_cli

    app.cli.add_command(audit_cli)
    from matcher.jobs.cli import jobs_cli

    app.cli.add_command(jobs_cli)
    from matcher.retention.cli import retention_cli

    app.cli.add_command(retention_cli)
