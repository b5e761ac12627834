"""Build seed/places/places.csv from the hand-authored seed/places/township_coordinates.csv."""
import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "seed" / "places"


def level_and_parent(code):
    if len(code) == 9:
        return "township", code[:6]
    if code.endswith("0000"):
        return "province", ""
    if code.endswith("00"):
        return "city", code[:2] + "0000"
    return "district", code[:4] + "00"


def main():
    with open(HERE / "township_coordinates.csv", encoding="utf-8", newline="") as f:
        src = list(csv.DictReader(f))
    rows = []
    for r in src:
        level, parent = level_and_parent(r["code"])
        rows.append([r["code"], r["name"], level, parent,
                     f"{float(r['lat']):.4f}", f"{float(r['lng']):.4f}"])
    codes = {r[0] for r in rows}
    assert len(codes) == len(rows), "duplicate codes"
    assert all(not r[3] or r[3] in codes for r in rows), "missing parent"
    with open(HERE / "places.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "level", "parent_code", "lat", "lng"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {HERE / 'places.csv'}")


if __name__ == "__main__":
    main()
