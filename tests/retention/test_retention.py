"""Retention: files whose assistance ended long ago are archived and their personal data removed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matcher.audit.models import AuditEvent
from matcher.candidates.models import Candidate, Consent, Reoffence, RiskAssessment, Visit, VisitKind
from matcher.clock import today
from matcher.places.models import Place
from matcher.referrals.lifecycle import ReferralStatus
from matcher.referrals.models import Referral

LONG_AGO = today() - dt.timedelta(days=365 * 8)  # released 8 years ago: assistance ended about 3 years ago


@pytest.fixture
def old_files(world, session, kit):
    """Two old files of office A (one with notes everywhere, one with a live referral), one of office B, and
    the world's current files (not due)."""
    cw_a, cw_b = world.accounts["cw_a"], world.accounts["cw_b"]
    old_a = kit.new_candidate(session, cw_a, residence=kit.CHOUCHENG, seq=31, release_date=LONG_AGO,
                              phone="13800000031", residence_address="稠州北路 31 号", ethnicity="汉族",
                              release_institution="浙江省某监狱")
    old_a.residence_lat, old_a.residence_lng = 29.3101, 120.0702  # an exact home
    busy_a = kit.new_candidate(session, cw_a, residence=kit.CHOUCHENG, seq=32, release_date=LONG_AGO)
    old_b = kit.new_candidate(session, cw_b, residence=kit.FOTANG, seq=33, release_date=LONG_AGO)
    day = LONG_AGO + dt.timedelta(days=30)
    session.add_all([
        Visit(candidate_id=old_a.id, visited_on=day, kind=VisitKind.HOME, note="家中见到母亲张某，谈及债务"),
        Reoffence(candidate_id=old_a.id, recorded_on=day, note="因盗窃再次被拘"),
        RiskAssessment(candidate_id=old_a.id, grade="yellow", assessed_on=day, reason="酗酒，与邻居冲突"),
        Consent(candidate_id=old_a.id, kind="referral", granted=True, recorded_on=day, note="本人签字，电话 138"),
    ])
    from matcher.referrals.service import create_referral

    create_referral(session=session, actor=cw_a, candidate_id=busy_a.id, slot_id=world.slot_a.id, send=True)
    session.commit()
    return {"old_a": old_a.id, "busy_a": busy_a.id, "old_b": old_b.id}


def run(session, **kwargs):
    from matcher.retention.service import run as retention_run

    return retention_run(session=session, **kwargs)


def test_a_dry_run_reports_and_writes_nothing(session, world, old_files):
    before = session.get(Candidate, old_files["old_a"]).name
    events = session.scalar(select(func.count(AuditEvent.id)))
    report = run(session, dry_run=True)
    assert report.dry_run and report.due == 3 and report.archived == 2
    assert report.skipped == {"live_referral": 1}
    by_office = {o["office_id"]: o for o in report.offices}
    assert by_office[world.office_a.id]["due"] == 2 and by_office[world.office_a.id]["archived"] == 1
    assert by_office[world.office_a.id]["skipped"] == {"live_referral": 1}
    assert by_office[world.office_b.id]["archived"] == 1
    session.expire_all()
    assert session.get(Candidate, old_files["old_a"]).name == before
    assert session.get(Candidate, old_files["old_a"]).archived_at is None
    assert session.scalar(select(func.count(AuditEvent.id))) == events


def test_a_run_removes_the_personal_data_and_keeps_the_figures(session, world, old_files):
    old = session.get(Candidate, old_files["old_a"])
    public_id, office_id, release_date = old.public_id, old.office_id, old.release_date
    hukou, residence, skills = old.hukou_code, old.residence_code, [s.skill_code for s in old.skills]
    report = run(session)
    assert report.archived == 2 and report.skipped == {"live_referral": 1}
    session.expire_all()
    old = session.get(Candidate, old_files["old_a"])
    assert old.archived_at is not None and old.status.value == "closed"
    assert old.name == f"已归档 {public_id}" and public_id in old.name
    assert old.id_number_hash.startswith("archived:") and old.id_number_masked == ""
    assert old.phone is None and old.residence_address is None and old.ethnicity is None
    assert old.release_institution is None
    township = session.get(Place, residence)
    assert (old.residence_lat, old.residence_lng) == (township.lat, township.lng)  # coarsened to the township
    # What the figures count from stays.
    assert (old.public_id, old.office_id, old.release_date, old.hukou_code, old.residence_code) == \
        (public_id, office_id, release_date, hukou, residence)
    assert [s.skill_code for s in old.skills] == skills
    # Free text is gone; the rows (dates, kinds) stay.
    for model, column in ((Visit, "note"), (Reoffence, "note"), (RiskAssessment, "reason"), (Consent, "note")):
        rows = list(session.scalars(select(model).where(model.candidate_id == old.id)))
        assert rows and all(getattr(row, column) is None for row in rows), model
    # Nothing in the row holds the old values any more.
    row = session.execute(select(*Candidate.__table__.columns).where(Candidate.id == old.id)).one()
    text = " ".join(str(v) for v in row)
    for secret in ("测试31", "13800000031", "稠州北路", "汉族", "监狱", "29.3101"):
        assert secret not in text
    # The file with a live referral stays as it is.
    busy = session.get(Candidate, old_files["busy_a"])
    assert busy.archived_at is None and busy.name == "测试32"
    # One audit event per archived file, naming fields, never values.
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "archive")))
    assert sorted(e.object_id for e in events) == sorted([old_files["old_a"], old_files["old_b"]])
    assert all(e.object_type == "candidate" and "name" in e.fields and "测试" not in e.fields for e in events)


def test_a_rerun_does_nothing_and_a_settled_referral_lets_the_file_go(session, world, old_files):
    run(session)
    events = session.scalar(select(func.count(AuditEvent.id)))
    again = run(session)
    assert again.due == 1 and again.archived == 0 and again.skipped == {"live_referral": 1}
    assert session.scalar(select(func.count(AuditEvent.id))) == events
    referral = session.scalar(select(Referral).where(Referral.candidate_id == old_files["busy_a"]))
    referral.status, referral.ended_on, referral.end_code = ReferralStatus.WITHDRAWN, today(), "other"
    session.commit()
    last = run(session)
    assert last.archived == 1 and last.skipped == {}
    assert run(session).due == 0


def test_the_period_is_configurable_and_as_of_moves_the_day(session, world, old_files, app):
    # Current files (released 100 days ago) end in about 5 years; with 0 days and as_of 6 years on they are due.
    assert run(session, dry_run=True, days=365 * 4).due == 0
    later = today() + dt.timedelta(days=365 * 6)
    report = run(session, dry_run=True, as_of=later, days=0)
    assert report.due == 6  # the three old files and the world's three
    app.config["RETENTION_DAYS"] = 365 * 10
    try:
        assert run(session, dry_run=True).due == 0
    finally:
        app.config["RETENTION_DAYS"] = 730


def test_batches_commit_one_by_one(session, world, old_files):
    report = run(session, batch_size=1)
    assert report.archived == 2
    assert session.scalar(select(func.count(Candidate.id)).where(Candidate.archived_at.is_not(None))) == 2


def test_archived_files_leave_the_working_lists_and_matching(api, session, world, old_files):
    run(session)
    session.commit()
    listed = api.get("/api/v1/candidates", query_string={"page_size": 200}, headers=world.h("cw_a")).get_json()
    ids = {c["id"] for c in listed}
    assert old_files["old_a"] not in ids and old_files["busy_a"] in ids and world.cand_a.id in ids
    everyone = api.get("/api/v1/candidates", query_string={"page_size": 200}, headers=world.h("admin")).get_json()
    assert old_files["old_b"] not in {c["id"] for c in everyone}
    # Matching looks for work for pre-release and active files only: an archived (closed) file is never ranked.
    from matcher.matching.adapters import SEEKING

    assert session.get(Candidate, old_files["old_a"]).status not in SEEKING


def test_the_command_line(app, session, world, old_files):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "due 3, would archive 2, skipped 1 (live_referral: 1)" in dry.output and "Nothing was changed." in dry.output
    session.expire_all()
    assert session.get(Candidate, old_files["old_a"]).archived_at is None
    done = runner.invoke(args=["retention", "run", "--as-of", today().isoformat()])
    assert done.exit_code == 0, done.output
    assert "archived 2" in done.output and world.office_a.name in done.output
    session.expire_all()
    assert session.get(Candidate, old_files["old_a"]).archived_at is not None
    bad = runner.invoke(args=["retention", "run", "--as-of", "tomorrow"])
    assert bad.exit_code != 0


def test_the_api_is_for_administrators(api, session, world, old_files):
    assert api.post("/api/v1/retention/runs", json={"dry_run": True}, headers=world.h("cw_a")).status_code == 404
    response = api.post("/api/v1/retention/runs", json={"dry_run": True}, headers=world.h("admin"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["dry_run"] is True and body["due"] == 3 and body["archived"] == 2
    assert body["skipped"] == {"live_referral": 1} and body["retention_days"] == 730
    invalid = api.post("/api/v1/retention/runs", json={"days": -1}, headers=world.h("admin", "zh"))
    assert invalid.status_code == 422 and "days" in invalid.get_json()["errors"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(invalid.get_json()["errors"]["days"]))
    english = api.post("/api/v1/retention/runs", json={"as_of": "0001-01-01"}, headers=world.h("admin"))
    assert english.status_code == 422 and "as_of" in english.get_json()["errors"]
    done = api.post("/api/v1/retention/runs", json={}, headers=world.h("admin")).get_json()
    assert done["archived"] == 2
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "archive").limit(1))
    assert event.actor_id == world.accounts["admin"].id
