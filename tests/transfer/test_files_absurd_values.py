"""Absurd values in an imported file are refused by the same schemas as the API (issue 16): an ID number born in
2099, a backspace or a direction override in a name."""

from __future__ import annotations

import pytest

from matcher.errors import Invalid
from matcher.identifiers import id_number_check_char
from matcher.transfer.service import import_file

HEADER = ["name", "id_number", "education", "hukou", "residence", "release_date", "offence_category"]


def row(tx, seq: int, **changes) -> list:
    values = {"name": f"张{seq}", "id_number": tx.id_number(seq), "education": "junior_secondary",
              "hukou": tx.CHOUCHENG, "residence": "稠城街道", "release_date": "2025-01-15",
              "offence_category": "theft", **changes}
    return [values[name] for name in HEADER]


def born_in(year: int, seq: int) -> str:
    first17 = f"330782{year}0101{seq:03d}"
    return first17 + id_number_check_char(first17)


def test_absurd_values_are_row_errors_of_their_column(session, people, tx):
    content = tx.csv_bytes(HEADER, [
        row(tx, 1),
        row(tx, 2, id_number=born_in(2099, 2)),
        row(tx, 3, id_number=born_in(1899, 3)),
        row(tx, 4, name="张\x08四"),
        row(tx, 5, name="\u202e五张"),
        row(tx, 6, name="张\u200b六"),
    ])
    with pytest.raises(Invalid) as caught:
        import_file(session=session, actor=people.actor("admin"), kind="candidates", data=content,
                    filename="candidates.csv")
    rows = caught.value.errors["rows"]
    assert set(rows) == {"3", "4", "5", "6", "7"}
    assert "in the future or before 1900" in str(rows["3"]["id_number"][0])
    assert "in the future or before 1900" in str(rows["4"]["id_number"][0])
    assert "control characters" in str(rows["5"]["name"][0])
    assert "direction-override" in str(rows["6"]["name"][0])
    assert "invisible characters" in str(rows["7"]["name"][0])


def test_the_api_refuses_them_as_the_import_does(client, people, tx):
    body = {"name": "张\u202e三", "id_number": born_in(2099, 8), "education": "junior_secondary",
            "hukou": {"code": tx.CHOUCHENG}, "residence": {"code": tx.CHOUCHENG}, "release_date": "2025-01-15",
            "offence_category": "theft"}
    response = client.post("/api/v1/candidates", json=body, headers=people.headers("admin"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "direction-override" in errors["name"][0]
    assert "in the future or before 1900" in errors["id_number"][0]
