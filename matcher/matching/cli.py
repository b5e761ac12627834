"""`flask --app matcher model train|retrain|evaluate|list|activate` and `flask --app matcher assign`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from matcher import uow
from matcher.commands import CommandGroup, acting, in_unit_of_work
from matcher.extensions import db

model_cli = CommandGroup("model", help="Train, retrain, evaluate, list and activate scoring models.")


@model_cli.command("train")
@click.option("--horizon", "horizon_days", type=click.Choice(["30", "90", "180"]), default="90", show_default=True,
              help="Days a placement must last to count as staying.")
@click.option("--activate", is_flag=True, help="Make the new model the active scorer.")
@click.option("--if-none", is_flag=True, help="Do nothing if a model is already active.")
@click.option("--seed", "random_state", default=0, show_default=True)
@acting
def train(horizon_days: str, activate: bool, if_none: bool, random_state: int, actor) -> None:
    """Train on the referral history; save the model and its card in models/."""
    from matcher.matching import service

    if if_none:
        if service.active_model(db.session) is None:
            # A model shipped in models/ serves at once (the newest that loads here).
            service.sync_registry(db.session)
            for version in sorted((r.version for r in service.list_registered(db.session)), reverse=True):
                try:
                    uow.attempt(service.activate_model, session=db.session, actor=actor, version=version)
                    break
                except Exception:  # noqa: BLE001,S112 - an incompatible artefact: try the next, else train
                    continue
        if service.active_model(db.session) is not None:
            click.echo(f"active model: {service.active_model(db.session).version}; nothing to do")
            return
    record = service.train_model_on_outcomes(session=db.session, actor=actor, horizon_days=int(horizon_days),
                                             activate=activate, random_state=random_state)
    _echo_trained(record)


def _echo_trained(record) -> None:
    card = json.loads(record.card_json)
    click.echo(f"trained {record.version} ({record.kind}){' — active' if record.active else ''}")
    period = card.get("outcomes_period") or {}
    click.echo(f"  learned from {card.get('outcomes_learned_from')} outcomes"
               + (f" (referrals of {period['from']} to {period['to']})" if period.get("from") else ""))
    for key, value in (card.get("metrics") or {}).items():
        if not isinstance(value, dict):
            click.echo(f"  {key}: {value}")


@model_cli.command("retrain")
@click.option("--min-new-outcomes", default=50, show_default=True, type=click.IntRange(min=0),
              help="Train only if at least this many outcomes (and at least one) were recorded since the active "
                   "model's training.")
@click.option("--activate-if-better", is_flag=True,
              help="Activate the new model if its held-out ROC AUC is at least the active model's on the same rows.")
@click.option("--seed", "random_state", default=0, show_default=True)
@acting
def retrain(min_new_outcomes: int, activate_if_better: bool, random_state: int, actor) -> None:
    """Retrain on every recorded outcome when enough are new (for cron; exits 0 when there is nothing to do).

    The new model learns from every referral whose outcome at the active model's horizon is known. With
    --activate-if-better it replaces the active model only if it does at least as well on the held-out
    ROC AUC (the latest fifth of outcomes by referral date; Brier score when those rows hold one outcome).
    """
    from matcher.matching import service

    result = service.retrain(session=db.session, actor=actor, min_new_outcomes=min_new_outcomes,
                             activate_if_better=activate_if_better, random_state=random_state)
    click.echo(f"{result.new_outcomes} outcomes recorded since "
               f"{result.previous_version or 'any model (none is active)'}")
    if not result.trained:
        click.echo(f"nothing to do: {result.reason}")
        return
    _echo_trained(result.record)
    if result.metric is not None:
        previous = "-" if result.previous_score is None else f"{result.previous_score:.4f}"
        click.echo(f"held-out {result.metric}: new {result.new_score:.4f}, active {previous}")
    click.echo(("activated: " if result.activated else "not activated: ") + result.reason)


@model_cli.command("list")
def list_models() -> None:
    """List trained models; * marks the active one."""
    from matcher.matching import service

    service.sync_registry(db.session)
    for record in service.list_registered(db.session):
        card = json.loads(record.card_json)
        auc = card.get("metrics", {}).get("roc_auc")
        learned = service.outcomes_learned_from(record)
        click.echo(f"{'*' if record.active else ' '} {record.version:<40} {record.kind:<8} "
                   f"horizon {record.horizon_days}d  AUC {auc if auc is not None else '-'}  "
                   f"learned from {learned if learned is not None else '-'} outcomes")


@model_cli.command("activate")
@click.argument("version")
@acting
def activate(version: str, actor) -> None:
    """Make VERSION the active scorer."""
    from matcher.matching import service

    service.activate_model(session=db.session, actor=actor, version=version)
    click.echo(f"active: {version}")


@model_cli.command("evaluate")
@click.option("--horizon", "horizon_days", type=click.Choice(["30", "90", "180"]), default="90", show_default=True)
@click.option("--split", "split_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Train before this date, test from it (default: the last quarter of history).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("models/evaluation.json"), show_default=True)
@acting
def evaluate(horizon_days: str, split_on: dt.datetime | None, output: Path, actor) -> None:
    """Replay history offline and compare the model and its plans with the baselines."""
    from matcher.engine.evaluation import format_table
    from matcher.matching import service

    report = service.evaluate(session=db.session, actor=actor, horizon_days=int(horizon_days),
                              split_on=split_on.date() if split_on else None)
    click.echo(format_table(report))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    click.echo(f"written to {output}")


@click.command("assign")
@click.option("--district", help="Place code: only candidates living there and slots located there.")
@click.option("--course", help="Only slots of this course.")
@click.option("--starts-before", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only slots starting by then.")
@click.option("--key-subject-weight", default=0.0, show_default=True, help="Extra weight for key subjects.")
@click.option("--waiting-weight", default=0.0, show_default=True, help="Extra weight per year since release.")
@click.option("--base-cap", type=int, help="At most this many candidates per base.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("assignment.csv"),
              show_default=True)
@with_appcontext
@in_unit_of_work
@acting
def assign(district, course, starts_before, key_subject_weight, waiting_weight, base_cap, output: Path,
           actor) -> None:
    """Plan an optimal batch assignment of active unplaced candidates to open slots (kept as a draft)."""
    from matcher.candidates.models import Candidate
    from matcher.matching import service

    params = {k: v for k, v in {
        "district": district, "course": course,
        "starts_before": starts_before.date() if starts_before else None,
        "key_subject_weight": key_subject_weight, "waiting_weight_per_year": waiting_weight, "base_cap": base_cap,
    }.items() if v is not None}
    draft = service.plan_assignment(session=db.session, actor=actor, params=params)
    from matcher.auth.models import Role
    from matcher.slots.models import Slot

    candidate_ids = [item.candidate_id for item in draft.items]
    public = {row.id: row for row in db.session.execute(db.select(
        Candidate.id, Candidate.public_id, Candidate.external_id).where(Candidate.id.in_(candidate_ids)))}
    slot_refs = dict(db.session.execute(db.select(Slot.id, Slot.external_id).where(
        Slot.id.in_([item.slot_id for item in draft.items]))).all()) if draft.items else {}
    # The bureau's own ids, so the plan joins back to its records: a file's reference is the office's to read
    # (matcher.disclosure), and the bureau's administrators keep the files of their area.
    references = actor.role == Role.ADMINISTRATOR
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["candidate_id", "candidate_public_id", "slot_id", "score"]
                        + (["candidate_external_id", "slot_external_id"] if references else []))
        for item in draft.items:
            row = [item.candidate_id, public[item.candidate_id].public_id, item.slot_id, f"{item.score:.4f}"]
            if references:
                row += [public[item.candidate_id].external_id or "", slot_refs.get(item.slot_id) or ""]
            writer.writerow(row)
    summary = json.loads(draft.summary_json)
    click.echo(f"plan #{draft.id} (draft, model {draft.model_version}) written to {output}")
    for key, value in summary.items():
        click.echo(f"  {key}: {value}")
