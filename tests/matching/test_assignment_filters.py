"""Batch assignment limited to named candidates and slots (Xintu's ids or the bureau's references) and to a release
period, through the API and `flask assign`; plans name each pair by the bureau's references too."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from matcher import clock
from matcher.candidates.models import Candidate
from matcher.slots.models import Slot


@pytest.fixture
def referenced(world, session):
    """The world with the bureau's references on its candidates and open slots (those of 稠城's county)."""
    for model, record_id, reference in ((Candidate, world.cand_a.id, "YW-A"), (Candidate, world.cand_b.id, "YW-B"),
                                        (Slot, world.slot_a.id, "GW-A"), (Slot, world.slot_b.id, "GW-B")):
        record = session.get(model, record_id)
        record.external_id, record.external_scope = reference, "330782"
    session.commit()
    return world


def plan(api, world, **params):
    return api.post("/api/v1/assignments", headers=world.h("admin"), json=params)


def test_the_plan_is_limited_to_named_candidates_and_slots(api, referenced, session):
    world = referenced
    everyone = plan(api, world)
    assert everyone.status_code == 201, everyone.json
    assert everyone.json["summary"]["candidates"] == 3 and "candidates_named" not in everyone.json["summary"]

    by_id = plan(api, world, candidate_ids=[world.cand_a.id], slot_ids=[world.slot_a.id])
    assert by_id.status_code == 201, by_id.json
    summary = by_id.json["summary"]
    assert (summary["candidates"], summary["slots"], summary["candidates_named"], summary["slots_named"]) == (
        1, 1, 1, 1)
    assert [(i["candidate_id"], i["slot_id"]) for i in by_id.json["items"]] == [(world.cand_a.id, world.slot_a.id)]

    # The bureau's references, Xintu's ids and public ids mix; the plan names each pair the bureau's way too.
    by_reference = plan(api, world, candidate_references=["YW-A", world.cand_b.public_id],
                        slot_references=[" GW-A ", str(world.slot_b.id)])
    assert by_reference.status_code == 201, by_reference.json
    assert by_reference.json["summary"]["candidates"] == 2 and by_reference.json["summary"]["slots"] == 2
    item = next(i for i in by_reference.json["items"] if i["candidate_id"] == world.cand_a.id)
    assert (item["candidate_external_id"], item["candidate_public_id"]) == ("YW-A", world.cand_a.public_id)
    assert item["slot_external_id"] == {world.slot_a.id: "GW-A", world.slot_b.id: "GW-B"}[item["slot_id"]]


def test_names_that_find_nothing_are_refused_together(api, referenced):
    world = referenced
    answer = plan(api, world, candidate_references=["YW-A", "YW-NOBODY", "999999"],
                  slot_references=["GW-NOWHERE"])
    assert answer.status_code == 422, answer.json
    assert "YW-NOBODY, 999999" in answer.json["errors"]["candidate_references"][0]
    # Slots are checked only once the candidates are found: the answer names the first list found wanting.
    answer = plan(api, world, slot_references=["GW-NOWHERE"])
    assert answer.status_code == 422 and "GW-NOWHERE" in answer.json["errors"]["slot_references"][0]
    # A draft slot is not open: naming it finds nothing to plan with.
    answer = plan(api, world, slot_ids=[world.draft_a.id])
    assert answer.status_code == 201 and answer.json["summary"]["slots"] == 0


def test_the_release_period(api, referenced):
    world = referenced  # everyone of the world was released 100 days ago
    released = clock.today() - dt.timedelta(days=100)
    inside = plan(api, world, released_from=(released - dt.timedelta(days=1)).isoformat(),
                  released_to=released.isoformat())
    assert inside.status_code == 201 and inside.json["summary"]["candidates"] == 3
    later = plan(api, world, released_from=(released + dt.timedelta(days=1)).isoformat())
    assert later.status_code == 201 and later.json["summary"]["candidates"] == 0
    backwards = plan(api, world, released_from=released.isoformat(),
                     released_to=(released - dt.timedelta(days=1)).isoformat())
    assert backwards.status_code == 422 and "released_to" in backwards.json["errors"]


def test_assign_on_the_command_line_by_ids_files_and_period(app, referenced, tmp_path):
    world = referenced
    runner = app.test_cli_runner()
    names = tmp_path / "people.txt"
    names.write_text("# the bureau's list\nYW-A\n\n" + world.cand_b.public_id + "\n", encoding="utf-8")
    export = tmp_path / "slots.csv"  # an export: the reference where there is one, else the row's own id
    export.write_text(f"id,external_id,title\n{world.slot_a.id},GW-A,厨师A\n{world.slot_b.id},,汽修B\n",
                      encoding="utf-8-sig")
    output = tmp_path / "plan.csv"
    result = runner.invoke(args=["assign", "--candidates-file", str(names), "--slots-file", str(export),
                                 "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "candidates_named: 2" in result.output and "slots_named: 2" in result.output
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert rows and {row["candidate_external_id"] for row in rows} <= {"YW-A", "YW-B"}
    assert all(row["slot_external_id"] == {str(world.slot_a.id): "GW-A", str(world.slot_b.id): "GW-B"}[row["slot_id"]]
               for row in rows)

    result = runner.invoke(args=["assign", "--candidates", f"{world.cand_a.id}", "--slots", f"{world.slot_a.id}",
                                 "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert [(r["candidate_id"], r["slot_id"]) for r in csv.DictReader(output.open(encoding="utf-8"))] == [
        (str(world.cand_a.id), str(world.slot_a.id))]

    released = clock.today() - dt.timedelta(days=100)
    result = runner.invoke(args=["assign", "--released-from", (released + dt.timedelta(days=1)).isoformat(),
                                 "-o", str(output)])
    assert result.exit_code == 0 and "candidates: 0" in result.output

    refused = runner.invoke(args=["assign", "--candidates", "1,YW-A", "-o", str(output)])
    assert refused.exit_code == 2 and "--candidates-file" in refused.output
    names.write_text("YW-A\nYW-NOBODY\n", encoding="utf-8")
    refused = runner.invoke(args=["assign", "--candidates-file", str(names), "-o", str(output)])
    assert refused.exit_code != 0 and "YW-NOBODY" in refused.output


def test_ids_and_references_together_name_at_most_a_files_rows(api, referenced, monkeypatch):
    from matcher.matching.service import assignment

    world = referenced
    monkeypatch.setattr(assignment, "MAX_NAMED", 1)  # each list is within the schema's bound; together beyond
    answer = plan(api, world, candidate_ids=[world.cand_a.id], candidate_references=["YW-B"])
    assert answer.status_code == 422 and "candidate_ids" in answer.json["errors"]
