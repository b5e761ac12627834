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
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the report (default: evaluation.json in the models directory, XINTU_MODELS_DIR).")
@acting
def evaluate(horizon_days: str, split_on: dt.datetime | None, output: Path | None, actor) -> None:
    """Replay history offline and compare the model and its plans with the baselines.

    Plans are never valued by the model under test: a pair really referred counts its outcome, the rest a
    doubly robust estimate on an outcome model cross-fitted over the test period's people; every value and
    difference has a 95 % interval (README: "How `model evaluate` values plans").
    """
    from matcher.engine.evaluation import format_table
    from matcher.matching import service

    # The report belongs with the models it judges, never in the checkout (a deployment's models dir is its own).
    output = output or service.models_dir() / "evaluation.json"

    report = service.evaluate(session=db.session, actor=actor, horizon_days=int(horizon_days),
                              split_on=split_on.date() if split_on else None)
    click.echo(format_table(report))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    click.echo(f"written to {output}")


def _id_list(_ctx, param, value: str | None) -> list[int] | None:
    """`1,2,3` -> [1, 2, 3]; anything else in the list is refused naming the option."""
    if value is None:
        return None
    parts = [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]
    bad = [part for part in parts if not part.isdigit()]
    if bad or not parts:
        raise click.BadParameter(f"a comma-separated list of Xintu ids, not {', '.join(bad) or 'nothing'}"
                                 " (the bureau's own references go in a file: --candidates-file / --slots-file)",
                                 param=param)
    return [int(part) for part in parts]


REFERENCE_HEADERS = ("external_id", "本单位编号")
FALLBACK_HEADERS = ("public_id", "编号", "id", "岗位编号")  # an export's row without a reference: its own id


def read_names(path: Path) -> list[str]:
    """The names in a file: one reference (or Xintu id, or public id) a line, or a CSV (such as an export) with
    an `external_id` (本单位编号) column, whose empty cells fall back to the row's public_id or id. A `#` line is a
    comment."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")  # saved by Excel on Chinese Windows
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    header = [cell.strip().lower() for cell in next(csv.reader([lines[0]]))]
    column = next((header.index(name) for name in REFERENCE_HEADERS if name in header), None)
    if column is None:
        return [line.strip() for line in lines]
    fallback = next((header.index(name) for name in FALLBACK_HEADERS if name in header), None)
    names = []
    for row in csv.reader(lines[1:]):
        value = row[column].strip() if column < len(row) else ""
        if not value and fallback is not None and fallback < len(row):
            value = row[fallback].strip()
        if value:
            names.append(value)
    return names


@click.command("assign")
@click.option("--district", help="Place code: only candidates living there and slots located there.")
@click.option("--course", help="Only slots of this course.")
@click.option("--starts-before", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only slots starting by then.")
@click.option("--released-from", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only candidates released on or after this day.")
@click.option("--released-to", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only candidates released on or before this day.")
@click.option("--candidates", "candidate_ids", callback=_id_list, metavar="ID,ID,...",
              help="Only these candidates (Xintu's ids, comma-separated).")
@click.option("--slots", "slot_ids", callback=_id_list, metavar="ID,ID,...",
              help="Only these slots (Xintu's ids, comma-separated).")
@click.option("--candidates-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Only the candidates named in this file: one bureau reference (本单位编号), Xintu id or public id "
                   "a line, or a CSV (an export) with an external_id column. Every name must be found.")
@click.option("--slots-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Only the slots named in this file: one bureau reference or Xintu id a line, or a CSV with an "
                   "external_id column.")
@click.option("--key-subject-weight", default=0.0, show_default=True, help="Extra weight for key subjects.")
@click.option("--waiting-weight", default=0.0, show_default=True, help="Extra weight per year since release.")
@click.option("--base-cap", type=int, help="At most this many candidates per base.")
@click.option("--hold-seats", is_flag=True, default=None,
              help="Plan on a rolling horizon: people released within --horizon-days (the pre-release lists) compete "
                   "for slots starting after their release, and a seat the plan gives them is held (not referred "
                   "now) when the expected gain is worth it. The seats held are written to the plan file too.")
@click.option("--horizon-days", type=click.IntRange(7, 180),
              help="Days ahead to look at people to be released (default 90 with --hold-seats; alone: look ahead "
                   "without holding, and report what holding would gain).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("assignment.csv"),
              show_default=True)
@with_appcontext
@in_unit_of_work
@acting
def assign(district, course, starts_before, released_from, released_to, candidate_ids, slot_ids, candidates_file,
           slots_file, key_subject_weight, waiting_weight, base_cap, hold_seats, horizon_days, output: Path,
           actor) -> None:
    """Plan an optimal batch assignment of active unplaced candidates to open slots (kept as a draft).

    The filters narrow who and what is planned; given together, a candidate (slot) must pass all of them.
    --candidates and --candidates-file together name one list (either names a candidate). The plan file
    names each pair by Xintu's ids, the file's public id and the bureau's own references (external ids), so
    it joins back to the bureau's records."""
    from matcher.matching import service

    params = {k: v for k, v in {
        "district": district, "course": course,
        "starts_before": starts_before.date() if starts_before else None,
        "released_from": released_from.date() if released_from else None,
        "released_to": released_to.date() if released_to else None,
        "candidate_ids": candidate_ids, "slot_ids": slot_ids,
        "candidate_references": read_names(candidates_file) if candidates_file else None,
        "slot_references": read_names(slots_file) if slots_file else None,
        "key_subject_weight": key_subject_weight, "waiting_weight_per_year": waiting_weight, "base_cap": base_cap,
        "hold_seats": hold_seats, "horizon_days": horizon_days,
    }.items() if v is not None}
    for option, key in (("--candidates-file", "candidate_references"), ("--slots-file", "slot_references")):
        if key in params and not params[key]:
            raise click.BadParameter("the file names nothing", param_hint=option)
    draft = service.plan_assignment(session=db.session, actor=actor, params=params)
    holding = draft.holding
    # A plan that looks ahead says for each row whether it is a referral to make now or a seat held, and for whom
    # (pseudonym and release date only); a plain plan keeps its columns.
    extra = () if holding is None else ("refer", "")
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PLAN_COLUMNS + (() if holding is None else HOLD_COLUMNS))
        for item in draft.items:
            writer.writerow([item.candidate_id, item.candidate_public_id, item.candidate_external_id or "",
                             item.slot_id, item.slot_external_id or "", f"{item.score:.4f}", *extra])
        for seat in (holding or {}).get("held", ()):
            writer.writerow(["", seat["candidate_public_id"], "", seat["slot_id"], "", f"{seat['score']:.4f}", "hold",
                             seat["release_date"]])
    summary = {key: value for key, value in json.loads(draft.summary_json).items() if key != "holding"}
    click.echo(f"plan #{draft.id} (draft, model {draft.model_version}) written to {output}")
    for key, value in summary.items():
        click.echo(f"  {key}: {value}")
    if holding is not None:
        h = holding
        click.echo(f"  holding seats: {'on' if h['holding'] else 'off'} (asked: {'yes' if h['hold_seats'] else 'no'}, "
                   f"horizon {h['horizon_days']} days; {h['present']} available now, {h['arriving']} to be released)")
        click.echo(f"  expected stays with holding {h['expected_stays_with_holding']}, without "
                   f"{h['expected_stays_without_holding']}: gain {h['expected_gain']}; seats held {h['seats_held']}")


PLAN_COLUMNS = ("candidate_id", "candidate_public_id", "candidate_external_id", "slot_id", "slot_external_id",
                "score")
HOLD_COLUMNS = ("action", "release_date")  # refer (now) or hold (the seat, for a person released on that day)
