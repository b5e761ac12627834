"""A bureau's folder as it would arrive from outside: bases, slots, candidates and referral history as the
documented CSV files (docs/formats.md), for `flask --app matcher onboard`.

It writes files, never the database, so what it makes goes in through the import path a real bureau takes.
seed/onboarding-example/ is `python -m matcher.demo.folder seed/onboarding-example` (a few rows);
bench/bench_onboard.py makes a whole city with it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from matcher import clock
from matcher.identifiers import credit_code_check_char, id_number_check_char

SEED = Path(__file__).resolve().parents[2] / "seed"
# Jinhua's counties (the ID numbers' region codes and where the townships lie).
COUNTIES = ("330702", "330703", "330723", "330726", "330727", "330781", "330782", "330783", "330784")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌宇浩凯健俊辉鹏"
INSTITUTIONS = ("浙江省金华监狱", "浙江省第四监狱", "浙江省乔司监狱", "金华市看守所", "义乌市看守所")
OFFENCES = ("theft", "fraud", "robbery", "assault", "drugs", "dangerous_driving", "gambling", "public_order",
            "other")
EDUCATION = ("primary", "junior_secondary", "junior_secondary", "senior_secondary", "vocational", "college")
INDUSTRIES = ("餐饮", "物流", "制造", "汽修", "家政", "电商", "建筑", "农业")
# A job slot: title, occupation code, the skills it asks for (code, level).
JOBS = (
    ("中式烹调师", "4-03-02-01", (("chinese_cooking", 2),)), ("面点师", "4-03-02-02", (("pastry", 2),)),
    ("汽车维修工", "4-12-01-01", (("engine_repair", 2),)), ("仓储管理员", "4-02-06-01", (("warehousing", 1),)),
    ("快递员", "4-02-07-08", (("delivery", 1),)), ("叉车司机", "6-30-05-01", (("forklift_operation", 2),)),
    ("装配工", "6-25-04-99", (("assembly", 1),)), ("保洁员", "4-09-08-01", ()), ("餐厅服务员", "4-03-02-05", ()),
    ("缝纫工", "6-05-01-03", (("sewing", 2),)), ("电工", "6-31-01-03", (("wiring", 2),)),
)
COURSES = ("cooking", "auto_repair", "ecommerce", "housekeeping", "electrician", "welding", "logistics",
           "hairdressing", "forklift")
SKILLS = ("chinese_cooking", "pastry", "kitchen_helper", "engine_repair", "warehousing", "sorting", "delivery",
          "forklift_operation", "assembly", "sewing", "wiring", "cleaning", "masonry", "computer_basics")

BASE_HEADER = ["external_id", "name", "credit_code", "industry", "place", "address", "contact_phone",
               "certification_status", "certified_until"]
SLOT_HEADER = ["external_id", "company_external_id", "company_credit_code", "kind", "title", "occupation_code",
               "course_code", "required_skills", "seats", "place", "pay_min", "pay_max", "hours_per_week",
               "housing_provided", "starts_on", "ends_on", "status"]
CANDIDATE_HEADER = ["external_id", "name", "id_number", "education", "hukou", "residence", "release_institution",
                    "release_date", "offence_category", "key_subject", "skills", "preferred_courses",
                    "needs_housing", "consents"]
REFERRAL_HEADER = ["candidate_external_id", "candidate", "slot_external_id", "slot_id", "status", "created_on",
                   "started_on", "ended_on", "end_code"]
# The bureau's own ids (external_id, company_external_id, candidate_external_id, slot_external_id): written only
# when `external_ids` is on; otherwise slots name their base by credit code and referrals their candidate by ID
# number and their slot by Xintu's id (the slots' order in a fresh database).
EXTERNAL_COLUMNS = {"external_id", "company_external_id", "candidate_external_id", "slot_external_id"}
# What links the files without them; left out when the bureau's own ids link them.
INTERNAL_LINKS = {"company_credit_code", "candidate", "slot_id"}


@dataclass(frozen=True)
class FolderSpec:
    today: dt.date
    seed: int = 7
    bases: int = 4
    slots: int = 10
    candidates: int = 30
    referrals: int = 40
    external_ids: bool = True
    # The slots' Xintu ids start here (a fresh database: 1); only used without external ids.
    first_slot_id: int = 1


def _townships() -> dict[str, list[str]]:
    """County code -> its township codes, from the reference places."""
    towns: dict[str, list[str]] = {county: [] for county in COUNTIES}
    with (SEED / "places" / "places.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["level"] == "township" and row["parent_code"] in towns:
                towns[row["parent_code"]].append(row["code"])
    return {county: codes for county, codes in towns.items() if codes}


def _write(path: Path, header: list[str], rows: list[dict], external_ids: bool) -> None:
    left_out = INTERNAL_LINKS if external_ids else EXTERNAL_COLUMNS
    header = [name for name in header if name not in left_out]
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row.get(name) is None else row[name] for name in header])


def _credit_code(number: int) -> str:
    first17 = f"91330700{number:09d}"
    return first17 + credit_code_check_char(first17)


def _day(value: dt.date) -> str:
    return value.isoformat()


def write_folder(folder: Path, spec: FolderSpec) -> dict[str, int]:
    """Write bases.csv, slots.csv, candidates.csv and referrals.csv into `folder`; rows per file."""
    rng = random.Random(spec.seed)
    folder.mkdir(parents=True, exist_ok=True)
    towns = _townships()
    counties = sorted(towns)
    today = spec.today

    bases = []
    for n in range(spec.bases):
        county = counties[n % len(counties)]
        industry = INDUSTRIES[n % len(INDUSTRIES)]
        bases.append({"external_id": f"JH-B-{n + 1:03d}", "credit_code": _credit_code(n + 1),
                      "name": f"金华{SURNAMES[n % len(SURNAMES)]}氏{industry}有限公司{n + 1}号基地",
                      "industry": industry, "place": rng.choice(towns[county]), "address": f"工业路{n + 1}号",
                      "contact_phone": f"0579-{8000000 + n}", "certification_status": "certified",
                      "certified_until": _day(today.replace(year=today.year + 3))})

    slots = []
    for n in range(spec.slots):
        base = bases[n % len(bases)]
        training = n % 5 == 4
        starts = today - dt.timedelta(days=rng.randint(0, 900))
        slot = {"external_id": f"JH-S-{n + 1:04d}", "company_external_id": base["external_id"],
                "company_credit_code": base["credit_code"], "seats": rng.randint(4, 10), "place": base["place"],
                "starts_on": _day(starts), "status": "open", "hours_per_week": rng.choice((40, 44, 48))}
        if training:
            course = rng.choice(COURSES)
            slot.update(kind="training", title=f"{course}培训班", course_code=course,
                        ends_on=_day(max(starts, today) + dt.timedelta(days=90)))
        else:
            title, occupation, skills = rng.choice(JOBS)
            pay = rng.randrange(3500, 7000, 100)
            slot.update(kind="job", title=title, occupation_code=occupation, pay_min=pay, pay_max=pay + 1500,
                        housing_provided=rng.choice(("true", "false")),
                        required_skills=";".join(f"{code}:{level}" for code, level in skills) or None)
        slot["id"] = spec.first_slot_id + n
        slots.append(slot)

    candidates = []
    numbers: set[str] = set()
    for n in range(spec.candidates):
        county = rng.choice(counties)
        while True:
            born = dt.date(rng.randint(1970, 2000), rng.randint(1, 12), rng.randint(1, 28))
            first17 = f"{county}{born:%Y%m%d}{rng.randint(0, 999):03d}"
            number = first17 + id_number_check_char(first17)
            if number not in numbers:
                numbers.add(number)
                break
        home = rng.choice(towns[county])
        residence = home if rng.random() < 0.85 else rng.choice(towns[rng.choice(counties)])
        skills = rng.sample(SKILLS, rng.randint(0, 3))
        candidates.append({
            "external_id": f"JH-C-{n + 1:05d}", "id_number": number,
            "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
            "education": rng.choice(EDUCATION), "hukou": home, "residence": residence,
            "release_institution": rng.choice(INSTITUTIONS),
            "release_date": _day(today - dt.timedelta(days=rng.randint(30, 1400))),
            "offence_category": rng.choice(OFFENCES), "key_subject": "true" if rng.random() < 0.1 else "false",
            "skills": ";".join(f"{code}:{rng.randint(1, 3)}" for code in skills) or None,
            "preferred_courses": ";".join(rng.sample(COURSES, rng.randint(0, 2))) or None,
            "needs_housing": "true" if rng.random() < 0.3 else "false", "consents": "data_processing;referral"})

    referrals = []
    free = {slot["external_id"]: slot["seats"] for slot in slots}
    referred = list(range(len(candidates)))
    rng.shuffle(referred)
    stayed: set[int] = set()  # a placed candidate is not referred again
    for n in range(spec.referrals * 2):  # a placed candidate's turn is passed over; at most this many turns
        if len(referrals) == spec.referrals:
            break
        index = referred[n % len(referred)]
        if index in stayed:
            continue
        candidate, slot = candidates[index], rng.choice(slots)
        release = dt.date.fromisoformat(candidate["release_date"])
        latest = today - dt.timedelta(days=5)
        created = release + dt.timedelta(days=rng.randint(5, max(6, (latest - release).days)))
        created = min(created, latest)
        row = {"candidate_external_id": candidate["external_id"], "candidate": candidate["id_number"],
               "slot_external_id": slot["external_id"], "slot_id": slot["id"], "created_on": _day(created)}
        started = created + dt.timedelta(days=rng.randint(3, 20))
        days_left = (today - started).days
        roll = rng.random()
        answered = _day(min(today, created + dt.timedelta(days=rng.randint(1, 10))))
        if roll < 0.3 or started > today:
            row.update(status="declined", ended_on=answered,
                       end_code=rng.choice(("not_suitable", "position_filled", "no_show")))
        elif roll < 0.45:
            row.update(status="withdrawn", ended_on=answered,
                       end_code=rng.choice(("other_job", "family", "personal")))
        elif roll < 0.8 or days_left < 200 or free[slot["external_id"]] <= 1:
            ended = started + dt.timedelta(days=rng.randint(10, 240))
            if ended > today:
                ended = today
            row.update(status="left", started_on=_day(started), ended_on=_day(ended),
                       end_code=rng.choice(("other_job", "dismissed", "personal", "contract_ended")))
        else:  # still there: holds a seat today
            free[slot["external_id"]] -= 1
            stayed.add(index)
            row.update(status="stayed_180", started_on=_day(started))
        referrals.append(row)

    _write(folder / "bases.csv", BASE_HEADER, bases, spec.external_ids)
    _write(folder / "slots.csv", SLOT_HEADER, slots, spec.external_ids)
    _write(folder / "candidates.csv", CANDIDATE_HEADER, candidates, spec.external_ids)
    _write(folder / "referrals.csv", REFERRAL_HEADER, referrals, spec.external_ids)
    return {"bases": len(bases), "slots": len(slots), "candidates": len(candidates), "referrals": len(referrals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                        help="The day the files are dated from (YYYY-MM-DD; default: today in China): history "
                             "before it, certifications after it.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bases", type=int, default=4)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--referrals", type=int, default=40)
    parser.add_argument("--no-external-ids", dest="external_ids", action="store_false")
    args = parser.parse_args()
    counts = write_folder(args.folder, FolderSpec(today=args.today or clock.today(), seed=args.seed, bases=args.bases,
                                                  slots=args.slots, candidates=args.candidates,
                                                  referrals=args.referrals, external_ids=args.external_ids))
    print(", ".join(f"{count} {kind}" for kind, count in counts.items()))


if __name__ == "__main__":
    main()
