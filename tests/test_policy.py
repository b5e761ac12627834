"""policy.find keeps what it found on the session until the session writes: a page asks for the same file through
each of its parts once, and a write in between (a flush, an UPDATE, a commit, a rollback) is seen at once."""

from __future__ import annotations

import pytest
from sqlalchemy import event, update

from matcher import policy
from matcher.candidates.models import Candidate
from matcher.candidates.service import get_candidate
from matcher.errors import NotFound


@pytest.fixture
def statements(session):
    seen = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM candidates" in statement:
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_the_same_file_is_asked_for_once_between_writes(world, session, statements):
    cw_a = world.accounts["cw_a"]
    first = get_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id)
    asked = len(statements)
    assert get_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id) is first
    assert len(statements) == asked  # found again without a query
    # Another account, even of the same office, is asked about on its own.
    get_candidate(session=session, actor=world.accounts["admin"], candidate_id=world.cand_a.id)
    assert len(statements) > asked


@pytest.mark.parametrize("write", ["flush", "update", "commit"])
def test_a_file_moved_out_of_scope_is_not_found_after_the_write(world, session, write):
    cw_a = world.accounts["cw_a"]
    candidate = get_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id)
    other_office = world.cand_b.office_id
    if write == "update":  # a bulk UPDATE: no flush event, the statement itself forgets
        session.execute(update(Candidate).where(Candidate.id == candidate.id).values(office_id=other_office,
                                                                                     hukou_code="330783001"))
    else:
        candidate.office_id, candidate.hukou_code = other_office, "330783001"
        session.flush() if write == "flush" else session.commit()
    with pytest.raises(NotFound):
        get_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id)


def test_changes_not_yet_written_are_written_before_the_file_is_found_again(world, session):
    cw_a = world.accounts["cw_a"]
    candidate = get_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id)
    candidate.office_id, candidate.hukou_code = world.cand_b.office_id, "330783001"  # pending: not flushed
    with pytest.raises(NotFound):
        get_candidate(session=session, actor=cw_a, candidate_id=world.cand_a.id)
    assert policy.FOUND not in session.info or not session.info[policy.FOUND]
