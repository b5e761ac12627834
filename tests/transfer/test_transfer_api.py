"""The HTTP edge: multipart uploads, 422 answers, downloads."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from matcher.candidates.models import Candidate
from matcher.extensions import db

HEADER = ["姓名", "身份证号", "文化程度", "户籍地", "居住地", "释放日期", "罪名类别", "技能"]


def rows(tx, *seqs):
    return [[f"候选{n}", tx.id_number(n), "初中", tx.CHOUCHENG, "稠城街道", "2025-02-01", "盗窃",
             "中式烹调:2"] for n in seqs]


def upload(client, people, kind, content, filename="file.csv", who="admin", **query):
    return client.post(f"/api/v1/imports/{kind}", query_string=query, headers=people.headers(who),
                       data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


def candidates_in_database(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Candidate))


def test_import_dry_run_then_for_real(app, client, people, tx):
    content = tx.csv_bytes(HEADER, rows(tx, 1, 2), encoding="gbk")
    answer = upload(client, people, "candidates", content, dry_run="true")
    assert answer.status_code == 200, answer.json
    assert answer.json == {"kind": "candidates", "dry_run": True, "rows": 2, "created": 0}
    assert candidates_in_database(app) == 0
    answer = upload(client, people, "candidates", content, who="cw")
    assert answer.status_code == 200, answer.json
    assert answer.json["created"] == 2 and candidates_in_database(app) == 2


def test_a_bad_row_is_a_422_naming_row_and_column(app, client, people, tx):
    bad = rows(tx, 1, 2, 3)
    bad[1][1] = "330782199001010000"
    bad[2][5] = "明天"
    answer = upload(client, people, "candidates", tx.xlsx_bytes(HEADER, bad), "名册.xlsx")
    assert answer.status_code == 422
    body = answer.json
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    assert "2 of 3 rows" in body["message"]
    assert set(body["errors"]["rows"]) == {"3", "4"}
    assert list(body["errors"]["rows"]["3"]) == ["id_number"]
    assert list(body["errors"]["rows"]["4"]) == ["release_date"]
    assert all(isinstance(m, str) for m in body["errors"]["rows"]["3"]["id_number"])
    assert candidates_in_database(app) == 0


def test_bad_files_are_422_not_500(client, people, tx):
    cases = [
        (b"", "empty.csv", "file"),
        (b"%PDF-1.7", "scan.pdf", "file"),
        (b"not really a workbook", "broken.xlsx", "file"),
        (tx.csv_bytes(["姓名"], [["甲"]]), "partial.csv", "columns"),
    ]
    for content, filename, key in cases:
        answer = upload(client, people, "candidates", content, filename)
        assert answer.status_code == 422, (filename, answer.json)
        assert key in answer.json["errors"] and answer.json["message"], filename
    missing = client.post("/api/v1/imports/candidates", headers=people.headers("admin"), data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 422 and "file" in missing.json["errors"]


def test_who_may_import(client, people, tx):
    content = tx.csv_bytes(HEADER, rows(tx, 1))
    assert client.post("/api/v1/imports/candidates", data={"file": (io.BytesIO(content), "c.csv")},
                       content_type="multipart/form-data").status_code == 401
    assert upload(client, people, "candidates", content, who="emp").status_code == 403
    assert upload(client, people, "referrals", content, who="cw").status_code == 403
    assert upload(client, people, "visits", content).status_code == 404


def test_caseworker_upload_outside_their_township(client, people, tx):
    outside = rows(tx, 1)
    outside[0][3] = outside[0][4] = tx.FOTANG
    answer = upload(client, people, "candidates", tx.csv_bytes(HEADER, outside), who="cw")
    assert answer.status_code == 422
    assert list(answer.json["errors"]["rows"]["2"]) == ["residence"]


def test_downloads(client, people, tx):
    upload(client, people, "candidates", tx.csv_bytes(HEADER, rows(tx, 1, 2)))
    answer = client.get("/api/v1/exports/candidates", headers=people.headers("cw"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"candidates-") and disposition.endswith('.csv"')
    assert answer.data.startswith(b"\xef\xbb\xbf") and answer.headers["X-Row-Count"] == "2"

    answer = client.get("/api/v1/exports/candidates?format=xlsx&headers=zh", headers=people.headers("admin"))
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(answer.data)).worksheets[0]
    # Pseudonymous: the public id and the bureau's own reference, no name.
    assert [cell.value for cell in sheet[1]][:3] == ["编号", "本单位编号", "性别"] and sheet.max_row == 3

    answer = client.get("/api/v1/exports/candidates?encoding=gbk", headers=people.headers("admin"))
    assert answer.headers["Content-Type"] == "text/csv; charset=gbk"
    assert "司法所" in answer.data.decode("gbk") and "候选1" not in answer.data.decode("gbk")


def test_download_errors(client, people):
    assert client.get("/api/v1/exports/candidates").status_code == 401
    assert client.get("/api/v1/exports/candidates", headers=people.headers("emp")).status_code == 403
    answer = client.get("/api/v1/exports/slots?format=pdf", headers=people.headers("emp"))
    assert answer.status_code == 422 and "format" in answer.json["errors"]
    assert client.get("/api/v1/exports/visits", headers=people.headers("admin")).status_code == 404


def test_employer_download_of_referrals_has_no_names(client, people, tx):
    answer = client.get("/api/v1/exports/referrals", headers=people.headers("emp"))
    assert answer.status_code == 200
    header = answer.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert "candidate" in header and "candidate_name" not in header


def test_openapi_documents_the_endpoints(client):
    spec = client.get("/api/openapi.json").json
    assert "/api/v1/imports/{kind}" in spec["paths"] and "/api/v1/exports/{kind}" in spec["paths"]
    kind = spec["paths"]["/api/v1/imports/{kind}"]["parameters"][0]
    assert kind["schema"]["enum"] == ["candidates", "bases", "slots", "referrals", "release_list"]
    kind = spec["paths"]["/api/v1/exports/{kind}"]["parameters"][0]
    assert kind["schema"]["enum"] == ["candidates", "bases", "slots", "referrals"]
