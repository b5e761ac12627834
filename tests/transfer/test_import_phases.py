"""Imports in two phases: every row checked before any is written, then all written in a few statements; a row
the database refuses at the write is still told for its row."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from matcher.audit.models import AuditEvent
from matcher.audit.service import verify
from matcher.candidates.models import Candidate, Certificate, Consent, PreferredCourse, RiskAssessment
from matcher.errors import Invalid
from matcher.extensions import db
from matcher.transfer import service as transfer
from matcher.transfer.service import import_file

HEADER = ["name", "id_number", "education", "hukou", "residence", "release_date", "offence_category", "skills",
          "preferred_courses", "certificates", "consents"]


def rows(tx, seqs):
    return [[f"张{seq}", tx.id_number(seq), "junior_secondary", tx.CHOUCHENG, "稠城街道", "2025-01-15", "theft",
             "chinese_cooking:3;叉车:2", "cooking;电商运营", "中式烹调师;叉车证", "data_processing;referral"]
            for seq in seqs]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_check_writes_nothing_and_the_write_comes_after_it(session, people, tx, monkeypatch):
    monkeypatch.setattr(transfer, "PROGRESS_EVERY", 5, raising=False)
    seen = []
    events_before = count(session, AuditEvent)

    def progress(done, total, message):
        # What a job's progress report could end (matcher.jobs): the reads of the unit of work, nothing written.
        seen.append((done, total, count(session, Candidate), count(session, AuditEvent)))

    import_file(session=session, actor=people.actor("admin"), kind="candidates",
                data=tx.csv_bytes(HEADER, rows(tx, range(1, 31))), filename="c.csv", progress=progress)
    assert len(seen) > 5 and all(total == 30 for _done, total, _c, _a in seen)
    assert [done for done, *_ in seen] == sorted(done for done, *_ in seen)  # never going back
    assert {(candidates, events) for _d, _t, candidates, events in seen} == {(0, events_before)}
    assert count(session, Candidate) == 30


def test_statements_do_not_grow_with_the_rows(session, people, tx):
    statements = []

    def counted(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def load(seqs) -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", counted)
        try:
            import_file(session=session, actor=people.actor("admin"), kind="candidates",
                        data=tx.csv_bytes(HEADER, rows(tx, seqs)), filename="c.csv")
            session.commit()  # the creation events are chained and written here
        finally:
            event.remove(db.engine, "before_cursor_execute", counted)
        return len(statements)

    few, many = load(range(1, 6)), load(range(6, 66))
    assert many <= few + 2, "\n".join(s[:90] for s in statements)
    assert count(session, Candidate) == 65
    # Every part of every file, as one created through the service has them, and one event per file, chained.
    assert count(session, RiskAssessment) == 65 and count(session, Consent) == 130
    assert count(session, Certificate) == 130 and count(session, PreferredCourse) == 130
    created = session.scalars(select(AuditEvent).where(AuditEvent.action == "create",
                                                       AuditEvent.object_type == "candidate")
                              .order_by(AuditEvent.id)).all()
    assert [e.object_id for e in created] == sorted(session.scalars(select(Candidate.id)))
    assert "id_number" in created[0].fields and "residence" in created[0].fields
    assert verify(session).ok


def test_a_row_the_database_refuses_at_the_write_is_told_for_its_row(session, people, tx, monkeypatch):
    import_file(session=session, actor=people.actor("admin"), kind="candidates",
                data=tx.csv_bytes(HEADER, rows(tx, [1])), filename="c.csv")
    session.commit()
    # As if another user had opened a file for row 3's number after the check read the files on record.
    monkeypatch.setattr("matcher.transfer.kinds.find_id_numbers", lambda **_kwargs: {})
    with pytest.raises(Invalid) as caught:
        import_file(session=session, actor=people.actor("admin"), kind="candidates",
                    data=tx.csv_bytes(HEADER, rows(tx, [2, 1, 3])), filename="c.csv")
    assert {row: set(errors) for row, errors in caught.value.errors["rows"].items()} == {"3": {"id_number"}}
    assert count(session, Candidate) == 1


def test_a_dry_run_writes_nothing(session, people, tx):
    report = import_file(session=session, actor=people.actor("admin"), kind="candidates",
                         data=tx.csv_bytes(HEADER, rows(tx, range(1, 4))), filename="c.csv", dry_run=True)
    assert report.created == 0 and report.rows == 3
    assert count(session, Candidate) == 0 and transfer.WRITE_SECONDS not in session.info
