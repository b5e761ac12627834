"""The demo city: Jinhua at the scale its bureau reports (about 7,500 candidates, 45 certified bases).

Deterministic for a given seed. Rows are written in bulk (explicit ids, executemany) so the whole
city builds in seconds. The referral history's outcomes come from a hidden "ground truth" (skills,
wishes, travel, housing, pay, the base's quality) that a scoring model can later learn and be
judged against; protected traits play no part in it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from matcher import clock
from matcher.auth.models import Account, Role
from matcher.bases.models import Agreement, CertificationEvent, CertificationStatus, Company, certified_in_date
from matcher.bases.service import add_months
from matcher.candidates.models import (
    Candidate,
    CandidateSkill,
    CandidateStatus,
    Certificate,
    Consent,
    ConsentKind,
    DisclosurePurpose,
    Education,
    OffenceCategory,
    PreferredCourse,
    Reoffence,
    RiskAssessment,
    RiskGrade,
    Sex,
    Visit,
    VisitKind,
)
from matcher.clock import add_years, today
from matcher.demo.reference import load_all_reference
from matcher.extensions import db
from matcher.followup.models import FollowUpTask, TaskStatus
from matcher.identifiers import (
    PUBLIC_ID_ALPHABET,
    credit_code_check_char,
    hash_id_number,
    id_number_check_char,
    mask_id_number,
)
from matcher.matching.models import OccupationalBan
from matcher.offices.models import JudicialOffice
from matcher.places.models import Place, PlaceLevel
from matcher.places.service import haversine_km
from matcher.reference.models import Course, Skill
from matcher.referrals.lifecycle import MILESTONE_OF, PATH, STAY_DAYS, EndReason, ReferralStatus
from matcher.referrals.models import Referral, ReferralEvent
from matcher.slots.models import Slot, SlotKind, SlotSkill, SlotStatus

DEMO_PASSWORD = "xintu-demo-2026"
CITY_CODE = "330700"
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭"
            "曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾")
GIVEN = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣建文志国海东峰亮成晨阳雷兵洋晓红丽芳敏静燕霞"
BASE_STEMS = ["婺香", "金泰", "八婺", "双龙", "金兰", "鼎盛", "恒达", "宏远", "新途", "兴华", "瑞丰", "永安", "同心",
              "诚信", "鸿运", "天宇", "众合", "佳利", "华康", "博远", "安顺", "和美", "金义", "德信", "汇丰"]
COURSE_INDUSTRY = {
    "cooking": ("餐饮管理有限公司", "餐饮"), "auto_repair": ("汽车服务有限公司", "汽车维修"),
    "ecommerce": ("电子商务有限公司", "电子商务"), "housekeeping": ("家政服务有限公司", "家政服务"),
    "electrician": ("机电工程有限公司", "机电安装"), "welding": ("机械制造有限公司", "机械制造"),
    "logistics": ("物流有限公司", "物流"), "hairdressing": ("美容美发有限公司", "生活服务"),
    "greening": ("园林绿化工程有限公司", "园林绿化"), "planting": ("农业开发有限公司", "现代农业"),
    "forklift": ("仓储有限公司", "仓储"), "construction": ("建筑工程有限公司", "建筑"),
}
# Demand for courses among candidates (cooking, auto repair and e-commerce lead, as the bureaus report).
COURSE_WEIGHTS = {"cooking": 16, "auto_repair": 13, "ecommerce": 12, "logistics": 11, "construction": 8,
                  "housekeeping": 7, "electrician": 7, "welding": 6, "forklift": 6, "greening": 5,
                  "planting": 5, "hairdressing": 4}
PAY_BY_COURSE = {"cooking": 4500, "auto_repair": 5000, "ecommerce": 4800, "housekeeping": 4200,
                 "electrician": 5500, "welding": 6000, "logistics": 5200, "hairdressing": 4000,
                 "greening": 3800, "planting": 3600, "forklift": 5300, "construction": 6200}
OFFENCES = [(OffenceCategory.THEFT, 28), (OffenceCategory.FRAUD, 15), (OffenceCategory.DRUGS, 12),
            (OffenceCategory.DANGEROUS_DRIVING, 14), (OffenceCategory.ASSAULT, 9), (OffenceCategory.GAMBLING, 5),
            (OffenceCategory.ROBBERY, 4), (OffenceCategory.PUBLIC_ORDER, 6), (OffenceCategory.FOOD_SAFETY, 2),
            (OffenceCategory.DUTY_CRIME, 2), (OffenceCategory.OTHER, 3)]
EDUCATION = [(Education.PRIMARY, 18), (Education.JUNIOR_SECONDARY, 45), (Education.SENIOR_SECONDARY, 18),
             (Education.VOCATIONAL, 10), (Education.COLLEGE, 5), (Education.NONE, 3),
             (Education.BACHELOR_OR_ABOVE, 1)]
PRISONS = ["浙江省金华监狱", "浙江省十里丰监狱", "浙江省第四监狱", "浙江省乔司监狱", "金华市看守所", "义乌市看守所"]
FREE_TEXT_SKILLS = ["会开三轮车", "懂一点水电", "做过保安", "流水线普工", "会用剪映剪视频", "搬运装卸", "外卖配送"]
# Why referrals end: the code a base learns, and the office's internal note beside it.
DECLINE_REASONS = [(EndReason.NOT_SUITABLE, "技能不符"), (EndReason.POSITION_FILLED, "岗位已满"),
                   (EndReason.CANDIDATE_DECLINED, "本人放弃"), (EndReason.CANDIDATE_DECLINED, "通勤太远"),
                   (EndReason.CANDIDATE_DECLINED, "薪资未谈拢")]
LEAVE_REASONS = [(EndReason.PERSONAL, "工作强度大"), (EndReason.FAMILY, "家庭原因"),
                 (EndReason.OTHER_JOB, "另找到工作"), (EndReason.PERSONAL, "与同事不和"),
                 (EndReason.HEALTH, "健康原因"), (EndReason.PERSONAL, "通勤太远")]


@dataclasses.dataclass(frozen=True)
class DemoSpec:
    seed: int = 2026
    candidates: int = 7500
    key_subject_share: float = 0.09
    certified_bases: int = 45
    open_slots: int = 300
    history_years: int = 3
    history_referrals_per_candidate: float = 0.9


def database_has_candidates(session: Session) -> bool:
    return session.scalar(select(func.count(Candidate.id))) > 0


class _Ids:
    """Explicit primary keys for bulk inserts, continuing after what the table already holds."""

    def __init__(self, session: Session):
        self.session = session
        self.next: dict[type, int] = {}

    def take(self, model: type) -> int:
        if model not in self.next:
            self.next[model] = (self.session.scalar(select(func.max(model.id))) or 0) + 1
        value = self.next[model]
        self.next[model] += 1
        return value


def build_demo(session: Session, spec: DemoSpec, echo: Callable[[str], Any] = print) -> str:
    started = time.perf_counter()
    if database_has_candidates(session):
        raise RuntimeError("the database already holds candidates; build the demo on an empty database")
    rng = random.Random(spec.seed)
    load_all_reference(session)
    session.flush()
    city = _City(session, rng, spec)
    city.accounts()
    city.bases()
    city.slots()
    echo(f"  {len(city.companies)} bases, {len(city.slot_rows)} slots")
    city.candidates()
    echo(f"  {len(city.candidate_rows)} candidates")
    city.history()
    city.aftercare()
    city.disclosures()
    city.flush()
    _reset_sequences(session)
    session.commit()
    from matcher.demo.fair import build_demo_fair

    echo(build_demo_fair(session, spec.seed))
    echo(_fair_disclosures(session, spec.seed))
    seconds = time.perf_counter() - started
    lines = [f"demo city built in {seconds:.1f} s (seed {spec.seed})"]
    lines += [f"  {name}: {count}" for name, count in city.counts().items()]
    lines.append(f"demo accounts (password: {DEMO_PASSWORD}):")
    lines += [f"  {role:<13} {username}  ({what})" for role, username, what in city.demo_logins]
    return "\n".join(lines)


def _fair_disclosures(session: Session, seed: int) -> str:
    """Some people coming to the demo fair agree to give their name and phone to one or two of its booths' bases
    (purpose job_fair), so the booth lists show names for some and numbers for the rest. Own random stream."""
    from matcher.fairs.models import Fair, FairInvitation, InvitationStatus

    rng = random.Random(seed + 4)
    recorded = 0
    for fair in session.scalars(select(Fair).order_by(Fair.id)):
        bases = sorted(booth.company_id for booth in fair.booths)
        if not bases:
            continue
        coming = session.scalars(select(FairInvitation).where(
            FairInvitation.fair_id == fair.id, FairInvitation.status == InvitationStatus.CONFIRMED)
            .order_by(FairInvitation.id)).all()
        for invitation in coming:
            if rng.random() >= 0.5:
                continue
            caseworker = session.scalar(select(Account.id).where(
                Account.role == Role.CASEWORKER, Account.office_id == invitation.candidate.office_id)
                .order_by(Account.id).limit(1))
            for base_id in rng.sample(bases, k=min(len(bases), rng.choice((1, 2)))):
                session.add(Consent(candidate_id=invitation.candidate_id, kind=ConsentKind.DISCLOSE_IDENTITY,
                                    granted=True, base_id=base_id, purpose=DisclosurePurpose.JOB_FAIR,
                                    recorded_on=today(), recorded_by_id=caseworker))
                recorded += 1
    session.commit()
    return f"  {recorded} consents to give name and phone to a fair booth's base"


class _City:
    def __init__(self, session: Session, rng: random.Random, spec: DemoSpec):
        self.session, self.rng, self.spec = session, rng, spec
        self.ids = _Ids(session)
        self.today = today()
        self.now = clock.now()
        self.pepper = current_app.config["ID_NUMBER_PEPPER"]
        self.townships = list(session.scalars(select(Place).where(
            Place.level == PlaceLevel.TOWNSHIP, Place.code.startswith(CITY_CODE[:4])).order_by(Place.code)))
        self.places = {p.code: p for p in session.scalars(select(Place))}
        self.offices = {o.township_code: o for o in session.scalars(select(JudicialOffice))}
        self.courses = {c.code: c for c in session.scalars(select(Course))}
        self.skills_by_course: dict[str | None, list[str]] = {}
        self.skill_names: dict[str, str] = {}
        for skill in session.scalars(select(Skill)):
            self.skills_by_course.setdefault(skill.course_code, []).append(skill.code)
            self.skill_names[skill.code] = skill.name_zh
        self.rows: dict[type, list[dict]] = {}
        self.companies: list[dict] = []
        self.slot_rows: list[dict] = []
        self.slot_skills: dict[int, set[str]] = {}
        self.candidate_rows: list[dict] = []
        self.candidate_facts: dict[int, dict] = {}
        self.demo_logins: list[tuple[str, str, str]] = []
        self.admin_id = 0
        self.caseworker_by_office: dict[int, int] = {}
        # Streets (街道) in the county seats are where most people live.
        self.township_weights = [6.0 if t.name.endswith("街道") else (2.0 if t.name.endswith("镇") else 0.7)
                                  for t in self.townships]

    # ---- helpers -------------------------------------------------------------------------
    def add(self, model: type, row: dict) -> dict:
        self.rows.setdefault(model, []).append(row)
        return row

    def flush(self) -> None:
        order = [Company, Account, CertificationEvent, Agreement, Slot, SlotSkill, Candidate, CandidateSkill,
                 Certificate, PreferredCourse, RiskAssessment, Consent, Visit, Reoffence, OccupationalBan, Referral,
                 ReferralEvent, FollowUpTask]
        for model in order:
            rows = self.rows.pop(model, [])
            for start in range(0, len(rows), 5000):
                self.session.execute(insert(model), rows[start:start + 5000])

    def counts(self) -> dict[str, int]:
        s = self.session
        key = s.scalar(select(func.count()).where(Candidate.key_subject.is_(True)))
        return {
            "judicial offices": s.scalar(select(func.count(JudicialOffice.id))),
            "candidates": s.scalar(select(func.count(Candidate.id))),
            "key subjects": key,
            "certified bases (in date)": s.scalar(select(func.count()).where(certified_in_date(self.today))),
            "agreements": s.scalar(select(func.count(Agreement.id))),
            "open slots": s.scalar(select(func.count()).where(Slot.status == SlotStatus.OPEN)),
            "referrals": s.scalar(select(func.count(Referral.id))),
            "visits": s.scalar(select(func.count(Visit.id))),
        }

    def weighted(self, pairs):
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights=weights, k=1)[0]

    def jitter(self, place: Place, km: float) -> tuple[float, float]:
        dlat = self.rng.gauss(0, km) / 111.0
        dlng = self.rng.gauss(0, km) / (111.0 * math.cos(math.radians(place.lat)))
        return round(place.lat + dlat, 5), round(place.lng + dlng, 5)

    def person_name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def public_id(self, used: set[str]) -> str:
        while True:
            value = "XT-" + "".join(self.rng.choice(PUBLIC_ID_ALPHABET) for _ in range(8))
            if value not in used:
                used.add(value)
                return value

    # ---- accounts ------------------------------------------------------------------------
    def accounts(self) -> None:
        # One hash for every demo account: hashing is deliberately slow, and they share a password.
        password_hash = generate_password_hash(DEMO_PASSWORD)
        self.password_hash = password_hash
        self.admin_id = self.ids.take(Account)
        self.add(Account, dict(id=self.admin_id, username="admin", display_name="金华市司法局 管理员",
                               password_hash=password_hash, role=Role.ADMINISTRATOR, bureau_code=CITY_CODE,
                               is_active_account=True, created_at=self.now))
        self.add(Account, dict(id=self.ids.take(Account), username="organiser", display_name="金华市司法局 招聘会组织",
                               password_hash=password_hash, role=Role.ORGANISER, bureau_code=CITY_CODE,
                               is_active_account=True, created_at=self.now))
        self.demo_logins += [("administrator", "admin", "金华市司法局"), ("organiser", "organiser", "金华市司法局")]
        # A second administrator: an identified export asked for by one is approved by the other.
        self.add(Account, dict(id=self.ids.take(Account), username="admin2", display_name="金华市司法局 审批管理员",
                               password_hash=password_hash, role=Role.ADMINISTRATOR, bureau_code=CITY_CODE,
                               is_active_account=True, created_at=self.now))
        self.demo_logins.append(("administrator", "admin2", "金华市司法局"))
        for township in self.townships:
            office = self.offices[township.code]
            account_id = self.ids.take(Account)
            self.caseworker_by_office[office.id] = account_id
            self.add(Account, dict(id=account_id, username=f"cw{township.code}", display_name=f"{office.name} 社工",
                                   password_hash=password_hash, role=Role.CASEWORKER, office_id=office.id,
                                   is_active_account=True, created_at=self.now))
        busy = next(t for t in self.townships if t.name == "稠城街道")
        self.demo_logins.append(("caseworker", f"cw{busy.code}", self.offices[busy.code].name))

    # ---- bases ---------------------------------------------------------------------------
    @staticmethod
    def base_size(company_id: int) -> int | None:
        """How many people a base employs (its size band caps its referrals a month), from a generator of its own so
        that the rest of the city is drawn as before; one base in eight has no size recorded yet."""
        sizes = random.Random(f"base-size-{company_id}")
        if sizes.random() < 0.125:
            return None
        return max(1, int(round(sizes.lognormvariate(3.8, 0.9))))

    def bases(self) -> None:
        spec, rng = self.spec, self.rng
        plan = ([CertificationStatus.CERTIFIED] * spec.certified_bases + [CertificationStatus.APPLIED] * 4
                + [CertificationStatus.SUSPENDED] * 2 + [CertificationStatus.EXPIRED] * 1
                + [CertificationStatus.REVOKED] * 1)
        courses = list(COURSE_WEIGHTS)
        used_names: set[str] = set()
        for index, status in enumerate(plan):
            main_course = courses[index % len(courses)]
            township = rng.choices(self.townships, weights=self.township_weights)[0]
            district = self.places[township.parent_code]
            suffix, industry = COURSE_INDUSTRY[main_course]
            stem = rng.choice(BASE_STEMS)
            name = f"{district.name[:2]}{stem}{suffix}"
            while name in used_names:
                stem = rng.choice(BASE_STEMS) + rng.choice("一二三四五六七八")
                name = f"{district.name[:2]}{stem}{suffix}"
            used_names.add(name)
            organisation = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
            first17 = ("91" + district.code + organisation)[:17]
            credit_code = first17 + credit_code_check_char(first17)
            lat, lng = self.jitter(township, 1.5)
            company_id = self.ids.take(Company)
            since = self.today - dt.timedelta(days=rng.randint(400, 1500))
            until = {CertificationStatus.CERTIFIED: self.today + dt.timedelta(days=rng.randint(60, 900)),
                     CertificationStatus.EXPIRED: self.today - dt.timedelta(days=rng.randint(10, 90)),
                     CertificationStatus.SUSPENDED: self.today + dt.timedelta(days=200),
                     CertificationStatus.REVOKED: self.today - dt.timedelta(days=30)}.get(status)
            # Expired bases are stored as certified with a past date: expiry is derived, not a job.
            stored = CertificationStatus.CERTIFIED if status == CertificationStatus.EXPIRED else status
            row = self.add(Company, dict(
                id=company_id, name=name, credit_code=credit_code, industry=industry,
                address=f"{district.name}{township.name}{rng.randint(1, 999)}号", place_code=township.code,
                lat=lat, lng=lng, contact_name=self.person_name(),
                contact_phone=f"0579-8{rng.randint(1000000, 9999999)}",
                description=f"{industry}企业，提供{self.courses[main_course].name_zh}岗位与培训。",
                certification_status=stored, certified_until=until, created_at=self.now, updated_at=self.now,
                employees=self.base_size(company_id)))
            # Each base has a latent quality: how well its placements last (the ground truth's base effect).
            extra_courses = rng.sample(courses, k=rng.choice((0, 1)))
            row_meta = {"row": row, "status": status, "courses": [main_course] + extra_courses,
                        "quality": rng.gauss(0, 0.6), "since": since}
            self.companies.append(row_meta)
            self.add(CertificationEvent, dict(id=self.ids.take(CertificationEvent), company_id=company_id,
                                              from_status=None, to_status=CertificationStatus.APPLIED,
                                              decided_at=self.now - dt.timedelta(days=(self.today - since).days + 30)))
            if status != CertificationStatus.APPLIED:
                self.add(CertificationEvent, dict(
                    id=self.ids.take(CertificationEvent), company_id=company_id,
                    from_status=CertificationStatus.APPLIED, to_status=CertificationStatus.CERTIFIED,
                    valid_until=until if status != CertificationStatus.REVOKED else since + dt.timedelta(days=730),
                    reason="现场核查通过，签订安置帮教协议", decided_by_id=self.admin_id,
                    decided_at=self.now - dt.timedelta(days=(self.today - since).days)))
                self.add(Agreement, dict(id=self.ids.take(Agreement), company_id=company_id,
                                         reference_no=f"JHSF-AZ-{since.year}-{index + 1:03d}", signed_on=since,
                                         term_months=36, ends_on=add_months(since, 36), created_by_id=self.admin_id,
                                         created_at=self.now))
            if status in (CertificationStatus.SUSPENDED, CertificationStatus.REVOKED):
                self.add(CertificationEvent, dict(
                    id=self.ids.take(CertificationEvent), company_id=company_id,
                    from_status=CertificationStatus.CERTIFIED, to_status=status,
                    reason="经营异常，暂停接收" if status == CertificationStatus.SUSPENDED else "未履行安置协议",
                    decided_by_id=self.admin_id, decided_at=self.now - dt.timedelta(days=20)))
            if index == 0:
                account_id = self.ids.take(Account)
                self.add(Account, dict(id=account_id, username="employer", display_name=f"{name} 人事",
                                       password_hash=self.password_hash, role=Role.EMPLOYER, company_id=company_id,
                                       is_active_account=True, created_at=self.now))
                self.demo_logins.append(("employer", "employer", name))
            else:
                self.add(Account, dict(id=self.ids.take(Account), username=f"base{company_id}",
                                       display_name=f"{name} 人事", password_hash=self.password_hash,
                                       role=Role.EMPLOYER, company_id=company_id, is_active_account=True,
                                       created_at=self.now))

    # ---- slots ---------------------------------------------------------------------------
    def _slot(self, company: dict, course: str, status: SlotStatus, starts_on: dt.date) -> dict:
        rng = self.rng
        base = company["row"]
        kind = SlotKind.TRAINING if rng.random() < 0.35 else SlotKind.JOB
        course_info = self.courses[course]
        pay = PAY_BY_COURSE[course]
        slot_id = self.ids.take(Slot)
        place = self.places[base["place_code"]]
        lat, lng = self.jitter(place, 0.8)
        skills = rng.sample(self.skills_by_course[course], k=min(len(self.skills_by_course[course]), rng.randint(1, 3)))
        self.slot_skills[slot_id] = set(skills)
        for code in skills:
            self.add(SlotSkill, dict(id=self.ids.take(SlotSkill), slot_id=slot_id, skill_code=code,
                                     level=rng.randint(1, 3)))
        low = int(round(pay * rng.uniform(0.85, 1.0), -2))
        row = self.add(Slot, dict(
            id=slot_id, company_id=base["id"], kind=kind,
            title=(f"{course_info.name_zh}培训班（{course_info.duration_days}天）" if kind == SlotKind.TRAINING
                   else f"{course_info.certificate or course_info.name_zh}"),
            description=("包食宿，" if rng.random() < 0.4 else "") + f"{course_info.name_zh}方向，欢迎有意向者。",
            occupation_code=None, course_code=course, seats=rng.randint(2, 8), seats_taken=0,
            place_code=base["place_code"], address=base["address"], lat=lat, lng=lng,
            pay_min=None if kind == SlotKind.TRAINING else low,
            pay_max=None if kind == SlotKind.TRAINING else int(round(pay * rng.uniform(1.05, 1.4), -2)),
            hours_per_week=None if kind == SlotKind.TRAINING else rng.choice((40, 44, 48, 54)),
            housing_provided=rng.random() < 0.4, starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=course_info.duration_days) if kind == SlotKind.TRAINING else None,
            certificate_awarded=kind == SlotKind.TRAINING and rng.random() < 0.8,
            min_age=course_info.min_age, status=status, created_at=self.now, updated_at=self.now))
        row["_pay"] = (row["pay_min"] + row["pay_max"]) / 2 if row["pay_max"] else 0.0
        self.slot_rows.append(row)
        return row

    def slots(self) -> None:
        rng = self.rng
        certified = [c for c in self.companies if c["status"] == CertificationStatus.CERTIFIED]
        for index in range(self.spec.open_slots):
            company = certified[index % len(certified)]
            course = rng.choice(company["courses"])
            self._slot(company, course, SlotStatus.OPEN, self.today + dt.timedelta(days=rng.randint(-30, 60)))
        for company in self.companies:
            if company["status"] == CertificationStatus.APPLIED:
                self._slot(company, company["courses"][0], SlotStatus.DRAFT, self.today + dt.timedelta(days=30))
        # Past slots that carried the referral history.
        self.past_slots = []
        history_companies = [c for c in self.companies if c["status"] != CertificationStatus.APPLIED]
        for _ in range(self.spec.open_slots * 2):
            company = rng.choice(history_companies)
            start = self.today - dt.timedelta(days=rng.randint(60, 365 * self.spec.history_years))
            row = self._slot(company, rng.choice(company["courses"]), SlotStatus.CLOSED, start)
            row["seats"] = rng.randint(6, 20)
            self.past_slots.append(row)
        self.company_by_id = {c["row"]["id"]: c for c in self.companies}

    # ---- candidates ----------------------------------------------------------------------
    def candidates(self) -> None:
        rng, spec = self.rng, self.spec
        used_ids: set[str] = set()
        used_numbers: set[str] = set()
        course_codes, course_w = zip(*COURSE_WEIGHTS.items(), strict=True)
        for _ in range(spec.candidates):
            candidate_id = self.ids.take(Candidate)
            residence = rng.choices(self.townships, weights=self.township_weights)[0]
            hukou = residence
            if rng.random() < 0.02:  # dual registration: registered elsewhere in the city
                hukou = rng.choice(self.townships)
            sex = Sex.MALE if rng.random() < 0.88 else Sex.FEMALE
            birth = dt.date(rng.randint(1963, 2004), rng.randint(1, 12), rng.randint(1, 28))
            while True:
                seq = rng.randint(0, 99) * 10 + (rng.choice((1, 3, 5, 7, 9)) if sex == Sex.MALE
                                                  else rng.choice((0, 2, 4, 6, 8)))
                first17 = f"{hukou.parent_code}{birth:%Y%m%d}{seq:03d}"
                number = first17 + id_number_check_char(first17)
                if number not in used_numbers:
                    used_numbers.add(number)
                    break
            key = rng.random() < spec.key_subject_share
            grade = (self.weighted([(RiskGrade.RED, 10), (RiskGrade.ORANGE, 30), (RiskGrade.YELLOW, 40),
                                    (RiskGrade.GREEN, 20)]) if key else
                     self.weighted([(RiskGrade.YELLOW, 8), (RiskGrade.GREEN, 92)]))
            pre_release = rng.random() < 0.02
            release = (self.today + dt.timedelta(days=rng.randint(1, 90)) if pre_release
                       else self.today - dt.timedelta(days=int(rng.triangular(1, 5 * 365 - 1, 200))))
            wishes = []
            for _ in range(rng.choices((1, 2, 3), weights=(45, 40, 15))[0]):
                course = rng.choices(course_codes, weights=course_w)[0]
                if course not in wishes:
                    wishes.append(course)
            lat, lng = self.jitter(residence, 1.2)
            office = self.offices[residence.code]
            row = self.add(Candidate, dict(
                id=candidate_id, public_id=self.public_id(used_ids), name=self.person_name(),
                id_number_hash=hash_id_number(number, self.pepper), id_number_masked=mask_id_number(number),
                sex=sex, birth_year=birth.year, ethnicity="汉族" if rng.random() < 0.97 else "畲族",
                education=self.weighted(EDUCATION), phone=f"13{rng.randint(100000000, 999999999)}",
                hukou_code=hukou.code, residence_code=residence.code,
                residence_address=f"{residence.name}{rng.choice('东西南北中')}路{rng.randint(1, 300)}号",
                residence_lat=lat, residence_lng=lng, release_institution=rng.choice(PRISONS),
                release_date=release, assistance_ends_on=add_years(release, 5), key_subject=key, risk_grade=grade,
                offence_category=self.weighted(OFFENCES), max_travel_km=rng.choice((5, 10, 15, 20, 30, 50)),
                needs_housing=rng.random() < 0.2,
                earliest_start=release + dt.timedelta(days=rng.randint(0, 30)) if rng.random() < 0.5 else None,
                status=CandidateStatus.PRE_RELEASE if pre_release else CandidateStatus.ACTIVE,
                office_id=office.id, created_at=self.now, updated_at=self.now))
            self.candidate_rows.append(row)
            skills: dict[str, int] = {}
            for course in wishes[:2]:
                if rng.random() < 0.55:
                    code = rng.choice(self.skills_by_course[course])
                    skills[code] = rng.choices((1, 2, 3, 4), weights=(35, 35, 22, 8))[0]
            if rng.random() < 0.4:
                code = rng.choice(self.skills_by_course[rng.choices(course_codes, weights=course_w)[0]]
                                  + self.skills_by_course[None])
                skills.setdefault(code, rng.randint(1, 3))
            for code, level in skills.items():
                self.add(CandidateSkill, dict(id=self.ids.take(CandidateSkill), candidate_id=candidate_id,
                                              skill_code=code, level=level))
            if rng.random() < 0.15:
                self.add(CandidateSkill, dict(id=self.ids.take(CandidateSkill), candidate_id=candidate_id,
                                              free_text=rng.choice(FREE_TEXT_SKILLS), level=2))
            if skills and rng.random() < 0.2:
                code = next(iter(skills))
                self.add(Certificate, dict(id=self.ids.take(Certificate), candidate_id=candidate_id,
                                           name=f"{self.skill_names[code]}职业技能等级证书", skill_code=code,
                                           issued_on=release - dt.timedelta(days=rng.randint(30, 900))))
            for rank, course in enumerate(wishes, start=1):
                self.add(PreferredCourse, dict(id=self.ids.take(PreferredCourse), candidate_id=candidate_id,
                                               course_code=course, rank=rank))
            caseworker = self.caseworker_by_office[office.id]
            if rng.random() < 0.01:  # a court-ordered occupational ban (从业禁止) for some years after release
                banned = rng.choice(list(COURSE_WEIGHTS))
                self.add(OccupationalBan, dict(id=self.ids.take(OccupationalBan), candidate_id=candidate_id,
                                               kind="court_order", courses=banned, occupations="",
                                               until=add_years(release, rng.choice((3, 5))),
                                               note="判决书载明的从业禁止", created_at=self.now))
            intake = min(release, self.today) - dt.timedelta(days=30)
            for kind, p in ((ConsentKind.DATA_PROCESSING, 1.0), (ConsentKind.REFERRAL, 0.85)):
                if rng.random() < p:
                    self.add(Consent, dict(id=self.ids.take(Consent), candidate_id=candidate_id, kind=kind,
                                           granted=True, recorded_on=intake, recorded_by_id=caseworker,
                                           created_at=self.now))
            # Willing to give name and phone to the bases they deal with: recorded per base and purpose later
            # (disclosures). Drawn here, as the blanket consent once was, so the rest of the city stays the same.
            discloses = rng.random() < 0.4
            grades = [RiskGrade.GREEN] * rng.randint(0, 2) + [grade]
            for step, g in enumerate(grades):
                day = min(self.today, intake + dt.timedelta(days=30 * step + 1))
                self.add(RiskAssessment, dict(id=self.ids.take(RiskAssessment), candidate_id=candidate_id,
                                              grade=g, assessed_on=day, reason="月度风险研判",
                                              assessed_by_id=caseworker, created_at=self.now))
            if not pre_release:
                for _ in range(rng.choices((0, 1, 2, 3), weights=(15, 45, 30, 10))[0]):
                    day = self.today - dt.timedelta(days=rng.randint(0, min(365, (self.today - release).days)))
                    self.add(Visit, dict(id=self.ids.take(Visit), candidate_id=candidate_id, visited_on=day,
                                         kind=rng.choice(list(VisitKind)), note="走访了解就业意向与生活情况",
                                         recorded_by_id=caseworker, created_at=self.now))
            self.candidate_facts[candidate_id] = {"row": row, "skills": skills, "wishes": wishes,
                                                  "caseworker": caseworker, "discloses": discloses}

    # ---- referral history ---------------------------------------------------------------
    def stay_probability(self, facts: dict, slot: dict) -> float:
        """The hidden truth of the demo world: what makes a placement last 90 days."""
        row = facts["row"]
        required = self.slot_skills[slot["id"]]
        match = len(required & set(facts["skills"])) / max(1, len(required))
        rank = facts["wishes"].index(slot["course_code"]) + 1 if slot["course_code"] in facts["wishes"] else 0
        distance = haversine_km(row["residence_lat"], row["residence_lng"], slot["lat"], slot["lng"])
        over = max(0.0, distance - row["max_travel_km"]) / 10
        housing_gap = 1.0 if row["needs_housing"] and not slot["housing_provided"] else 0.0
        pay = (slot["_pay"] - 4800) / 1000 if slot["_pay"] else 0.0
        quality = self.company_by_id[slot["company_id"]]["quality"]
        logit = (-1.1 + 1.6 * match + {0: -0.6, 1: 0.7, 2: 0.35, 3: 0.1}[rank] - 0.9 * over - 1.0 * housing_gap
                 + 0.25 * pay + quality + (0.3 if slot["certificate_awarded"] else 0.0))
        return 1 / (1 + math.exp(-logit))

    def history(self) -> None:
        rng = self.rng
        released = [f for f in self.candidate_facts.values() if f["row"]["status"] == CandidateStatus.ACTIVE]
        n = int(len(released) * self.spec.history_referrals_per_candidate)
        by_course: dict[str, list[dict]] = {}
        for slot in self.past_slots:
            by_course.setdefault(slot["course_code"], []).append(slot)
        used_seats: dict[int, int] = {}
        placed: set[int] = set()
        self.pairs: set[tuple[int, int]] = set()
        for _ in range(n):
            facts = rng.choice(released)
            row = facts["row"]
            # The logging policy: caseworkers mostly referred people to a wished-for course, nearby.
            course = rng.choice(facts["wishes"]) if rng.random() < 0.8 else rng.choice(list(by_course))
            options = [s for s in by_course.get(course, []) if s["starts_on"] > row["release_date"]]
            if not options:
                continue
            options.sort(key=lambda s: haversine_km(row["residence_lat"], row["residence_lng"], s["lat"], s["lng"]))
            slot = options[min(len(options) - 1, int(rng.expovariate(0.5)))]
            if (row["id"], slot["id"]) in self.pairs:
                continue
            self._history_referral(facts, slot, used_seats, placed)
        # A few live referrals on open slots, so every role has something to act on.
        open_slots = [s for s in self.slot_rows if s["status"] == SlotStatus.OPEN]
        candidates = rng.sample(released, k=min(400, len(released)))
        live = [ReferralStatus.PROPOSED, ReferralStatus.SENT, ReferralStatus.SENT, ReferralStatus.INTERVIEW,
                ReferralStatus.OFFERED, ReferralStatus.ACCEPTED, ReferralStatus.STARTED]
        for facts in candidates:
            slot = rng.choice(open_slots)
            if facts["row"]["id"] in placed or (facts["row"]["id"], slot["id"]) in self.pairs:
                continue
            target = rng.choice(live)
            if target == ReferralStatus.STARTED and slot["starts_on"] > self.today:
                target = ReferralStatus.ACCEPTED  # nobody starts in a slot that has not begun
            if target in (ReferralStatus.ACCEPTED, ReferralStatus.STARTED):
                if slot["seats_taken"] >= slot["seats"]:
                    continue
                slot["seats_taken"] += 1
            self._referral(facts, slot, [s for s in _PATH if _PATH.index(s) <= _PATH.index(target)],
                           start_day=self.today - dt.timedelta(days=rng.randint(0, 20)), end=None,
                           holds=target in (ReferralStatus.ACCEPTED, ReferralStatus.STARTED))
            if target == ReferralStatus.STARTED:
                facts["row"]["status"] = CandidateStatus.PLACED
                placed.add(facts["row"]["id"])

    def disclosures(self) -> None:
        """Consents to give name and phone to a base, one per base and purpose: an interview consent for the base
        of most referrals that got past proposal of the people willing to give them, an employment consent once
        they started there, and a few withdrawn after the person left. Its own random stream, as aftercare."""
        rng = random.Random(self.spec.seed + 3)
        slots = {s["id"]: s for s in self.rows.get(Slot, [])}
        given: set[tuple[int, int, DisclosurePurpose]] = set()

        def consent(facts: dict, base_id: int, purpose: DisclosurePurpose, day: dt.date, granted: bool = True):
            self.add(Consent, dict(id=self.ids.take(Consent), candidate_id=facts["row"]["id"],
                                   kind=ConsentKind.DISCLOSE_IDENTITY, granted=granted, base_id=base_id,
                                   purpose=purpose, recorded_on=min(day, self.today),
                                   recorded_by_id=facts["caseworker"], created_at=self.now))

        for referral in self.rows.get(Referral, []):
            facts = self.candidate_facts.get(referral["candidate_id"])
            if facts is None or not facts["discloses"] or referral["status"] == ReferralStatus.PROPOSED:
                continue
            base_id = slots[referral["slot_id"]]["company_id"]
            asked = clock.china_date(referral["created_at"])
            if (facts["row"]["id"], base_id, DisclosurePurpose.INTERVIEW) not in given and rng.random() < 0.8:
                given.add((facts["row"]["id"], base_id, DisclosurePurpose.INTERVIEW))
                consent(facts, base_id, DisclosurePurpose.INTERVIEW, asked)
            started = referral["started_on"]
            if started is not None and (facts["row"]["id"], base_id, DisclosurePurpose.EMPLOYMENT) not in given \
                    and rng.random() < 0.9:
                given.add((facts["row"]["id"], base_id, DisclosurePurpose.EMPLOYMENT))
                consent(facts, base_id, DisclosurePurpose.EMPLOYMENT, started)
                if referral["status"] == ReferralStatus.LEFT and referral["ended_on"] and rng.random() < 0.3:
                    consent(facts, base_id, DisclosurePurpose.EMPLOYMENT, referral["ended_on"], granted=False)

    def aftercare(self) -> None:
        """What follows the placements: the checks at 30, 90 and 180 days (done when the stay was confirmed or the
        person left, open otherwise, and some of the due ones not yet done: overdue), certificates of the
        certificate-awarding courses completed, and a few re-offences. Its own random stream, so the city's
        people, slots and referrals stay what they were for a given seed."""
        rng = random.Random(self.spec.seed + 1)
        slots = {s["id"]: s for s in self.rows.get(Slot, [])}
        last_event: dict[int, dict] = {}
        for event in self.rows.get(ReferralEvent, []):
            last_event[event["referral_id"]] = event
        # Some stays that fell due lately are not confirmed yet: the offices' overdue checks.
        unconfirm = set()
        for referral in self.rows.get(Referral, []):
            event = last_event.get(referral["id"])
            if referral["ended_on"] is None and event is not None and event["to_status"] in STAY_DAYS \
                    and event["on_date"] >= self.today - dt.timedelta(days=40) and rng.random() < 0.3:
                unconfirm.add(event["id"])
                referral["status"] = event["from_status"]
        if unconfirm:
            self.rows[ReferralEvent] = [e for e in self.rows[ReferralEvent] if e["id"] not in unconfirm]
        reached: dict[int, dict[ReferralStatus, dt.date]] = {}
        for event in self.rows.get(ReferralEvent, []):
            reached.setdefault(event["referral_id"], {})[event["to_status"]] = event["on_date"]
        for referral in self.rows.get(Referral, []):
            started = referral["started_on"]
            if started is None:
                continue
            steps = reached.get(referral["id"], {})
            ended_on = referral["ended_on"]
            for days, stay in ((30, ReferralStatus.STAYED_30), (90, ReferralStatus.STAYED_90),
                               (180, ReferralStatus.STAYED_180)):
                due = started + dt.timedelta(days=days)
                task = dict(id=self.ids.take(FollowUpTask), referral_id=referral["id"], days=days, due_on=due,
                            status=TaskStatus.OPEN, done_on=None, done_by_id=None, note=None, created_at=self.now)
                if stay in steps:
                    task.update(status=TaskStatus.DONE, done_on=steps[stay], done_by_id=referral["created_by_id"])
                elif ended_on is not None:
                    task.update(status=TaskStatus.DONE if due <= ended_on else TaskStatus.CANCELLED, done_on=ended_on)
                self.add(FollowUpTask, task)
            slot = slots.get(referral["slot_id"])
            course_over = slot is not None and slot["ends_on"] is not None and slot["ends_on"] <= self.today
            if slot is not None and slot["certificate_awarded"] and course_over and \
                    (ended_on is None or ended_on >= slot["ends_on"]):
                self.add(Certificate, dict(id=self.ids.take(Certificate), candidate_id=referral["candidate_id"],
                                           name=f"{self.courses[slot['course_code']].certificate or slot['title']}",
                                           skill_code=None, issued_on=slot["ends_on"]))
        for facts in self.candidate_facts.values():
            row = facts["row"]
            if row["release_date"] < self.today - dt.timedelta(days=60) and rng.random() < 0.015:
                span = (self.today - row["release_date"]).days
                self.add(Reoffence, dict(id=self.ids.take(Reoffence), candidate_id=row["id"],
                                         recorded_on=row["release_date"] + dt.timedelta(days=rng.randint(30, span)),
                                         note=None, recorded_by_id=facts["caseworker"], created_at=self.now))

    def _history_referral(self, facts: dict, slot: dict, used_seats: dict[int, int], placed: set[int]) -> None:
        rng = self.rng
        p_stay = self.stay_probability(facts, slot)
        day = slot["starts_on"] - dt.timedelta(days=rng.randint(5, 40))
        if rng.random() < 0.15:
            self._referral(facts, slot, _PATH[:2], start_day=day, end=(ReferralStatus.DECLINED,
                           *rng.choice(DECLINE_REASONS)), holds=False)
            return
        starts = rng.random() < min(0.95, 0.35 + p_stay) and used_seats.get(slot["id"], 0) < slot["seats"] \
            and facts["row"]["id"] not in placed
        if not starts:
            self._referral(facts, slot, _PATH[:rng.choice((2, 3, 4))], start_day=day,
                           end=(ReferralStatus.DECLINED, *rng.choice(DECLINE_REASONS)), holds=False)
            return
        used_seats[slot["id"]] = used_seats.get(slot["id"], 0) + 1
        days_since_start = (self.today - slot["starts_on"]).days
        path = _PATH[:6]  # ... started
        ended = None
        for status, days, p in ((ReferralStatus.STAYED_30, 30, min(0.98, 0.55 + p_stay * 0.6)),
                                (ReferralStatus.STAYED_90, 90, p_stay / min(0.98, 0.55 + p_stay * 0.6)),
                                (ReferralStatus.STAYED_180, 180, 0.85)):
            if days_since_start < days:
                break
            if rng.random() < min(1.0, p):
                path = path + [status]
            else:
                ended = (ReferralStatus.LEFT, *rng.choice(LEAVE_REASONS))
                break
        # A history slot is closed, so its seat is not held today, whatever the outcome.
        self._referral(facts, slot, path, start_day=day, end=ended, holds=False)
        if ended is None:  # still in that job today
            facts["row"]["status"] = CandidateStatus.PLACED
            placed.add(facts["row"]["id"])

    def _referral(self, facts: dict, slot: dict, path: list[ReferralStatus], *, start_day: dt.date,
                  end: tuple[ReferralStatus, EndReason, str] | None, holds: bool) -> None:
        referral_id = self.ids.take(Referral)
        self.pairs.add((facts["row"]["id"], slot["id"]))
        caseworker = facts["caseworker"]
        employer_day = start_day
        events = []
        previous = None
        day = start_day
        started_on = None
        for status in path:
            if status == ReferralStatus.STARTED:
                day = max(day, slot["starts_on"])
            elif status in STAY_DAYS:
                day = started_on + dt.timedelta(days=STAY_DAYS[status])
            elif previous is not None:
                day = day + dt.timedelta(days=self.rng.randint(1, 6))
            day = min(day, self.today)
            if status == ReferralStatus.STARTED:
                started_on = day
            events.append(dict(id=self.ids.take(ReferralEvent), referral_id=referral_id, from_status=previous,
                               to_status=status, on_date=day, actor_id=caseworker, at=self.now))
            previous = status
        final = path[-1]
        ended_on = end_code = None
        if end is not None:
            final, end_code, end_note = end
            day = min(self.today, day + dt.timedelta(days=self.rng.randint(3, 40)))
            ended_on = day
            events.append(dict(id=self.ids.take(ReferralEvent), referral_id=referral_id, from_status=previous,
                               to_status=final, on_date=day, reason_code=end_code, internal_note=end_note,
                               actor_id=caseworker, at=self.now))
        reached = [MILESTONE_OF[status] for status in path if status in MILESTONE_OF]
        self.add(Referral, dict(id=referral_id, candidate_id=facts["row"]["id"], slot_id=slot["id"], status=final,
                                holds_seat=holds, started_on=started_on, ended_on=ended_on, end_code=end_code,
                                milestone=reached[-1] if reached else None,
                                created_by_id=caseworker, created_at=_at(employer_day), updated_at=_at(day)))
        self.rows.setdefault(ReferralEvent, []).extend(events)


_PATH = list(PATH[:PATH.index(ReferralStatus.STARTED) + 1])  # proposed ... started


def _at(day: dt.date) -> dt.datetime:
    return clock.at_china_time(day, dt.time(9, 0))


def _reset_sequences(session: Session) -> None:
    """Explicit ids bypass PostgreSQL's sequences; move them past the rows just written."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("accounts", "companies", "certification_events", "agreements", "slots", "slot_skills",
                  "candidates", "candidate_skills", "certificates", "preferred_courses", "risk_assessments",
                  "consents", "visits", "referrals", "referral_events", "judicial_offices", "occupational_bans",
                  "reoffences", "follow_up_tasks"):
        rows = db.metadata.tables[table]
        session.execute(select(func.setval(func.pg_get_serial_sequence(table, "id"),
                                           func.coalesce(select(func.max(rows.c.id)).scalar_subquery(), 1))))
