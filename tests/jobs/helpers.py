"""Small data for job tests: a candidates file of n rows for the caseworker of 稠城 (office A)."""

from __future__ import annotations

import csv
import io

from tests.conftest import CHOUCHENG, make_id_number

HEADER = ["name", "id_number", "education", "hukou", "residence", "release_date", "offence_category", "skills",
          "preferred_courses", "consents"]


def candidates_csv(n: int, *, first: int = 200, bad_row: int | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(n):
        seq = first + i
        writer.writerow([f"导入{seq}", make_id_number(seq=seq), "junior_secondary" if i != bad_row else "no-such",
                         CHOUCHENG, CHOUCHENG, "2025-01-15", "theft", "chinese_cooking:3", "cooking",
                         "data_processing;referral"])
    return buffer.getvalue().encode("utf-8-sig")
