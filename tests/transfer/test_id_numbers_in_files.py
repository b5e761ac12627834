"""ID numbers in imported files: one person however the number is written (full-width, Arabic-Indic, spaces,
zero-width characters), and bulk existence checks that tell a caseworker no more about files outside the
office's scope than "registered elsewhere", each such lookup audited (dry runs too) and bounded per day."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from matcher.audit.models import AuditEvent
from matcher.candidates.models import Candidate
from matcher.candidates.service import IdLookupsExhausted
from matcher.clock import today
from matcher.errors import Invalid
from matcher.identifiers import mask_id_number
from matcher.referrals.models import Referral
from matcher.transfer.service import import_file
from matcher.uow import unit_of_work

HEADER = ["name", "id_number", "education", "hukou", "residence", "release_date", "offence_category"]
ELSEWHERE = "This person is registered elsewhere: the file must be transferred to your office through the bureau."
ON_FILE = "A file for this ID number already exists."


def full_width(number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in number.lower())


def arabic_indic(number: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in number)


def spread_out(number: str) -> str:
    return f"{number[:6]} \u200b{number[6:14]}\u00a0\u2060{number[14:]}\ufeff"


def person(tx, seq: int, *, number: str | None = None, place: str | None = None) -> list:
    place = place or tx.CHOUCHENG
    return [f"周{seq}", number or tx.id_number(seq), "primary", place, place, "2025-01-01", "theft"]


def run(session, people, content, who="cw", dry_run=False, kind="candidates", filename="people.csv"):
    """The import as its edge runs it: one unit of work (a refused file rolls back; its ID lookups stay)."""
    with unit_of_work(session):
        return import_file(session=session, actor=people.actor(who), kind=kind, data=content, filename=filename,
                           dry_run=dry_run)


def files(session) -> int:
    return session.scalar(select(func.count()).select_from(Candidate))


def lookups(session, account_id: int) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "id_lookup",
                                                         AuditEvent.actor_id == account_id)
                                .order_by(AuditEvent.id)))


def kept_rows(tx) -> list[list]:
    """Files 1-3 kept by office 稠城 (`cw`'s), files 11-14 by office 佛堂 (`cw_other`'s)."""
    return [person(tx, seq) for seq in (1, 2, 3)] + [person(tx, seq, place=tx.FOTANG) for seq in (11, 12, 13, 14)]


@pytest.fixture
def kept(session, people, tx):
    """The files of `kept_rows`: ids by sequence."""
    run(session, people, tx.csv_bytes(HEADER, kept_rows(tx)), who="admin")
    return {int(name[1:]): cid for name, cid in session.execute(select(Candidate.name, Candidate.id))}


@pytest.mark.parametrize("way", [full_width, arabic_indic, spread_out])
def test_a_number_written_another_way_is_the_same_person(session, people, tx, kept, way):
    rows = [person(tx, 1, number=way(tx.id_number(1))),  # row 2: on file, in the office's scope
            person(tx, 20),
            person(tx, 21, number=way(tx.id_number(20)))]  # row 4: row 3's person again
    with pytest.raises(Invalid) as caught:
        run(session, people, tx.csv_bytes(HEADER, rows))
    assert caught.value.errors["rows"] == {"2": {"id_number": [ON_FILE]},
                                           "4": {"id_number": ["The same ID number is in row 3."]}}
    assert files(session) == 7


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_opened_from_another_way_of_writing_keeps_the_masked_number_in_ascii(session, people, tx, fmt):
    rows = [person(tx, 30, number=full_width(tx.id_number(30))),
            person(tx, 31, number=arabic_indic(tx.id_number(31)))]
    content = tx.xlsx_bytes(HEADER, rows) if fmt == "xlsx" else tx.csv_bytes(HEADER, rows)
    assert run(session, people, content, filename=f"people.{fmt}").created == 2
    masked = dict(session.execute(select(Candidate.name, Candidate.id_number_masked)).all())
    assert masked == {"周30": mask_id_number(tx.id_number(30)), "周31": mask_id_number(tx.id_number(31))}
    assert all(value.isascii() and value.startswith("3307") for value in masked.values())


def test_a_dry_run_says_only_registered_elsewhere_and_leaves_a_trace(session, people, tx, kept):
    rows = [person(tx, 11, number=full_width(tx.id_number(11))),  # row 2: kept by 佛堂
            person(tx, 2),  # row 3: kept by the caseworker's own office
            person(tx, 40),  # row 4: new
            person(tx, 12)]  # row 5: kept by 佛堂
    with pytest.raises(Invalid) as caught:
        run(session, people, tx.csv_bytes(HEADER, rows), dry_run=True)
    errors = caught.value.errors["rows"]
    assert errors == {"2": {"id_number": [ELSEWHERE]}, "3": {"id_number": [ON_FILE]}, "5": {"id_number": [ELSEWHERE]}}
    assert "佛堂" not in str(caught.value.errors) and "XT-" not in str(caught.value.errors)
    assert files(session) == 7
    # The transaction of the dry run was rolled back; the lookups outside the scope are on record all the same,
    # by id only (no name, number or field).
    events = lookups(session, people.ids["cw"])
    assert [(e.object_type, e.object_id, e.fields) for e in events] == [("candidate", kept[11], None),
                                                                        ("candidate", kept[12], None)]
    # The administrator sees every file: named as existing, no lookup elsewhere.
    with pytest.raises(Invalid) as caught:
        run(session, people, tx.csv_bytes(HEADER, [person(tx, 11)]), who="admin", dry_run=True)
    assert caught.value.errors["rows"] == {"2": {"id_number": [ON_FILE]}}
    assert lookups(session, people.ids["admin"]) == []


def test_beyond_the_days_lookups_the_whole_file_is_refused(session, people, tx, kept, app, monkeypatch):
    monkeypatch.setitem(app.config, "ID_LOOKUPS_PER_DAY", 3)
    assert pytest.raises(Invalid, run, session, people, tx.csv_bytes(HEADER, [person(tx, 11), person(tx, 12)]),
                         dry_run=True).value.errors["rows"].keys() == {"2", "3"}
    sweep = [person(tx, 50), person(tx, 13), person(tx, 51), person(tx, 14)]
    with pytest.raises(IdLookupsExhausted) as caught:
        run(session, people, tx.csv_bytes(HEADER, sweep))
    assert caught.value.status == 429
    assert str(caught.value.message).startswith("Refused, and nothing was changed: your account has reached "
                                                "today's limit of 3 ID numbers found registered elsewhere.")
    assert "rows" not in caught.value.errors  # no row's answer is given
    assert files(session) == 7  # row 2, checked before the refusal, is not kept
    assert [e.object_id for e in lookups(session, people.ids["cw"])] == [kept[11], kept[12], kept[13], kept[14]]
    # A file without numbers kept elsewhere still imports; another caseworker has a count of their own.
    assert run(session, people, tx.csv_bytes(HEADER, [person(tx, 50)])).created == 1
    with pytest.raises(Invalid) as caught:
        run(session, people, tx.csv_bytes(HEADER, [person(tx, 1, place=tx.FOTANG)]), who="cw_other")
    assert caught.value.errors["rows"] == {"2": {"id_number": [ELSEWHERE]}}


def test_the_api_refuses_the_whole_file_in_english_and_chinese(app, client, people, tx, monkeypatch):
    monkeypatch.setitem(app.config, "ID_LOOKUPS_PER_DAY", 1)
    assert client.post("/api/v1/imports/candidates", headers=people.headers("admin"),
                       data={"file": (io.BytesIO(tx.csv_bytes(HEADER, kept_rows(tx))), "kept.csv")},
                       content_type="multipart/form-data").status_code == 200
    content = tx.csv_bytes(HEADER, [person(tx, 11), person(tx, 12)])
    answers = {}
    for lang in ("en", "zh"):
        response = client.post("/api/v1/imports/candidates?dry_run=true", headers=people.headers("cw", lang),
                               data={"file": (io.BytesIO(content), "people.csv")}, content_type="multipart/form-data")
        assert response.status_code == 429, response.json
        answers[lang] = response.json["errors"]["file"][0]
    assert answers["en"].startswith("Refused, and nothing was changed") and "上限" in answers["zh"]


def test_a_release_list_in_other_digits_updates_the_file_kept_for_the_number(session, people, tx, kept):
    header = ["name", "id_number", "release_date", "release_institution", "offence_category", "hukou", "residence"]
    release = (today() + dt.timedelta(days=20)).isoformat()
    rows = [["周1", arabic_indic(tx.id_number(1)), release, "浙江省第一监狱", "theft", tx.CHOUCHENG, tx.CHOUCHENG],
            ["周2", spread_out(full_width(tx.id_number(2))), release, "浙江省第一监狱", "theft", tx.CHOUCHENG,
             tx.CHOUCHENG]]
    report = run(session, people, tx.csv_bytes(header, rows), who="admin", kind="release_list")
    assert (report.created, report.updated) == (0, 2)
    assert files(session) == 7
    assert session.get(Candidate, kept[1]).release_date.isoformat() == release


def test_referral_history_finds_the_candidate_by_a_number_in_other_digits(session, people, tx, kept):
    run(session, people, tx.csv_bytes(["company_id", "kind", "title", "seats", "place", "starts_on", "status"],
                                      [[people.company, "job", "厨师", "2", tx.CHOUCHENG, "2025-01-01", "open"]]),
        who="admin", kind="slots")
    from matcher.slots.models import Slot

    slot_id = session.scalar(select(Slot.id))
    rows = [[full_width(tx.id_number(1)), slot_id, "proposed", "2025-02-01"],
            [spread_out(arabic_indic(tx.id_number(2))), slot_id, "proposed", "2025-02-01"]]
    assert run(session, people, tx.csv_bytes(["candidate", "slot_id", "status", "created_on"], rows), who="admin",
               kind="referrals").created == 2
    assert sorted(session.scalars(select(Referral.candidate_id))) == sorted([kept[1], kept[2]])
