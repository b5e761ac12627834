"""The columns of each spreadsheet kind: one table drives parsing, export and docs/formats.md.

Run `python -m matcher.transfer.columns > docs/formats.md` to regenerate the documentation.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from matcher.bases.models import CertificationStatus
from matcher.candidates.models import (
    CandidateStatus,
    ConsentKind,
    Education,
    OffenceCategory,
    RiskGrade,
    Sex,
)
from matcher.referrals.lifecycle import EndReason, Milestone, ReferralStatus
from matcher.slots.models import SlotKind, SlotStatus

MAX_ROWS = 20_000

# Cell types: how a cell is read on import and written on export.
TEXT, INT, FLOAT, DATE, BOOL, ENUM, PLACE, SKILLS, LIST, DATES = (
    "text", "int", "float", "date", "bool", "enum", "place", "skills", "list", "dates")

BOTH, IMPORT_ONLY, EXPORT_ONLY = "both", "import", "export"
COURSE = "course"

# Column headers that are recognised and skipped on import (a roster's running number).
IGNORED_HEADERS = ("序号", "no.", "#")


@dataclass(frozen=True)
class Column:
    name: str  # the English snake_case header: the public contract
    zh: str  # the Chinese header, accepted on import and written with `headers=zh`
    description: str
    required: bool = False
    type: str = TEXT
    mode: str = BOTH
    # Where the value goes in the create schema's input, when not `name` ("residence.lat").
    target: str | None = None
    # ENUM / LIST of enum values: value -> Chinese labels also accepted on import (first one documented).
    choices: Mapping[str, tuple[str, ...]] | None = None
    # Another set of columns that may stand in for a required one.
    alternative: tuple[str, ...] = field(default=())
    # Values are codes of a reference table that may also be written by name (COURSE).
    lookup: str | None = None
    # Personal or sensitive data: written only into an identified export (one an administrator approved).
    personal: bool = False
    # The bureau's own references: written for bureau staff only, never into a base's (an employer's) export.
    staff_only: bool = False

    @property
    def field(self) -> str:
        return self.target or self.name

    @property
    def imported(self) -> bool:
        return self.mode in (BOTH, IMPORT_ONLY)

    @property
    def exported(self) -> bool:
        return self.mode in (BOTH, EXPORT_ONLY)

    def header(self, language: str) -> str:
        return self.zh if language == "zh" else self.name


def _labels(enum_cls: type[enum.Enum],
            labels: dict[enum.Enum, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    missing = set(enum_cls) - set(labels)
    if missing:  # an enum grew a member: the table must say how Chinese files name it
        raise AssertionError(f"no Chinese label for {sorted(m.value for m in missing)}")
    return {member.value: labels[member] for member in enum_cls}


SEX = _labels(Sex, {Sex.MALE: ("男",), Sex.FEMALE: ("女",)})
EDUCATION = _labels(Education, {
    Education.NONE: ("未上学", "文盲", "无"),
    Education.PRIMARY: ("小学",),
    Education.JUNIOR_SECONDARY: ("初中",),
    Education.SENIOR_SECONDARY: ("高中",),
    Education.VOCATIONAL: ("中专", "职高", "中专/职高", "技校"),
    Education.COLLEGE: ("大专",),
    Education.BACHELOR_OR_ABOVE: ("本科及以上", "本科", "研究生"),
})
RISK_GRADE = _labels(RiskGrade, {
    RiskGrade.RED: ("红", "红色"), RiskGrade.ORANGE: ("橙", "橙色"),
    RiskGrade.YELLOW: ("黄", "黄色"), RiskGrade.GREEN: ("绿", "绿色"),
})
OFFENCE = _labels(OffenceCategory, {
    OffenceCategory.THEFT: ("盗窃",),
    OffenceCategory.FRAUD: ("诈骗",),
    OffenceCategory.ROBBERY: ("抢劫",),
    OffenceCategory.ASSAULT: ("故意伤害", "伤害"),
    OffenceCategory.DRUGS: ("毒品犯罪", "毒品"),
    OffenceCategory.DANGEROUS_DRIVING: ("危险驾驶",),
    OffenceCategory.GAMBLING: ("赌博", "开设赌场"),
    OffenceCategory.FOOD_SAFETY: ("食品安全",),
    OffenceCategory.DUTY_CRIME: ("职务犯罪",),
    OffenceCategory.PUBLIC_ORDER: ("妨害社会管理秩序", "寻衅滋事"),
    OffenceCategory.OTHER: ("其他",),
})
CANDIDATE_STATUS = _labels(CandidateStatus, {
    CandidateStatus.PRE_RELEASE: ("预释放",), CandidateStatus.ACTIVE: ("帮教中",),
    CandidateStatus.PLACED: ("已安置",), CandidateStatus.CLOSED: ("已解除",),
})
CONSENT = _labels(ConsentKind, {
    ConsentKind.DATA_PROCESSING: ("信息处理",), ConsentKind.REFERRAL: ("推荐",),
    ConsentKind.DISCLOSE_IDENTITY: ("披露身份",),
})
CERTIFICATION = _labels(CertificationStatus, {
    CertificationStatus.APPLIED: ("申请中",), CertificationStatus.CERTIFIED: ("已认定",),
    CertificationStatus.SUSPENDED: ("暂停",), CertificationStatus.EXPIRED: ("已过期",),
    CertificationStatus.REVOKED: ("已撤销",), CertificationStatus.REFUSED: ("不予认定",),
})
SLOT_KIND = _labels(SlotKind, {SlotKind.JOB: ("岗位", "就业"), SlotKind.TRAINING: ("培训",)})
SLOT_STATUS = _labels(SlotStatus, {
    SlotStatus.DRAFT: ("草稿",), SlotStatus.OPEN: ("开放", "招聘中"), SlotStatus.CLOSED: ("关闭", "已结束"),
})
REFERRAL_STATUS = _labels(ReferralStatus, {
    ReferralStatus.PROPOSED: ("拟推荐",), ReferralStatus.SENT: ("已推荐",),
    ReferralStatus.INTERVIEW: ("面试",), ReferralStatus.OFFERED: ("录用",),
    ReferralStatus.ACCEPTED: ("接受录用",), ReferralStatus.STARTED: ("已上岗",),
    ReferralStatus.STAYED_30: ("稳岗30天",), ReferralStatus.STAYED_90: ("稳岗90天",),
    ReferralStatus.STAYED_180: ("稳岗180天",), ReferralStatus.DECLINED: ("未录用", "拒绝"),
    ReferralStatus.WITHDRAWN: ("撤回",), ReferralStatus.LEFT: ("离职",),
})
# The furthest a placement got: the statuses of the same names, labelled as they are.
MILESTONE = {milestone.value: REFERRAL_STATUS[milestone.value] for milestone in Milestone}

END_REASON = _labels(EndReason, {
    EndReason.NOT_SUITABLE: ("不合适",), EndReason.POSITION_FILLED: ("岗位已满",), EndReason.NO_SHOW: ("未到场",),
    EndReason.CANDIDATE_DECLINED: ("本人放弃",), EndReason.OTHER_JOB: ("另有工作", "另谋职业"),
    EndReason.HEALTH: ("健康原因",), EndReason.MOVED_AWAY: ("迁居外地",), EndReason.FAMILY: ("家庭原因",),
    EndReason.DISMISSED: ("被辞退",), EndReason.CONTRACT_ENDED: ("合同期满", "培训结束"),
    EndReason.PERSONAL: ("个人原因",), EndReason.OTHER: ("其他",),
})

EXTERNAL_ID_HELP = ("Optional text up to 64 characters (spaces around it are dropped), unique in the county or "
                    "district (区县) of the record's place (see *The bureau's own references* above): the same "
                    "reference twice in the file, or one already held by another record of that county, is a row "
                    "error. Never in a base's export.")

PLACE_HELP = "a place code (digits) or a place name as in the reference data (稠城街道, 义乌市稠城街道)"

CANDIDATE_COLUMNS: tuple[Column, ...] = (
    Column("public_id", "编号", "Pseudonymous file id (XT-…). Written on export; ignored on import "
           "(a new file gets a new id).", mode=EXPORT_ONLY),
    Column("external_id", "本单位编号", "The bureau's own file reference. " + EXTERNAL_ID_HELP.replace(
           "the record's place", "the office keeping the file"), staff_only=True),
    Column("name", "姓名", "Full name.", required=True, personal=True),
    Column("id_number", "身份证号", "18-character citizen ID number (GB 11643: check character, birth date and "
           "region code verified). "
           "Import only: Xintu keeps a keyed hash and the masked form, never the number. Full-width or other "
           "digits, spaces and invisible characters are read as the same number. A number twice in the file is "
           "a row error, and so is one already on file: a file you can see is named as existing; one kept "
           "outside your scope only as registered elsewhere (the bureau transfers it). Each such lookup is "
           "written to the audit log, and an account may make `XINTU_ID_LOOKUPS_PER_DAY` (100) a day: beyond "
           "that the file is refused as a whole.", required=True, mode=IMPORT_ONLY),
    Column("id_number_masked", "身份证号（脱敏）", "Masked ID number (`3307**********12`). Export only.",
           mode=EXPORT_ONLY, personal=True),
    Column("sex", "性别", "Read from the ID number when empty; must match it when given.",
           type=ENUM, choices=SEX),
    Column("birth_year", "出生年份", "Read from the ID number when empty; must match it when given.",
           type=INT),
    Column("ethnicity", "民族", "Ethnicity (民族), as written.", personal=True),
    Column("education", "文化程度", "Highest education.", required=True, type=ENUM, choices=EDUCATION),
    Column("phone", "联系电话", "Phone number: digits, spaces, + and -.", personal=True),
    Column("hukou", "户籍地", f"Household registration township: {PLACE_HELP}.", required=True, type=PLACE,
           personal=True),
    Column("residence", "居住地", f"Township where the person actually lives: {PLACE_HELP}. May be left out "
           "when residence_lat and residence_lng are given.", required=True, type=PLACE,
           alternative=("residence_lat", "residence_lng")),
    Column("residence_lat", "居住地纬度", "Latitude of the residence (optional, with residence_lng): kept "
           "exactly for travel distances.", type=FLOAT, target="residence.lat", personal=True),
    Column("residence_lng", "居住地经度", "Longitude of the residence (optional, with residence_lat).",
           type=FLOAT, target="residence.lng", personal=True),
    Column("residence_address", "居住地址", "Street address.", personal=True),
    Column("release_institution", "释放单位", "Prison or detention centre of release.", personal=True),
    Column("release_date", "释放日期", "Release date; a future date makes a pre-release file (预释放).",
           required=True, type=DATE),
    Column("assistance_ends_on", "帮教期满日期", "End of the five-year assistance period. Export only.",
           type=DATE, mode=EXPORT_ONLY),
    Column("key_subject", "重点帮教对象", "Key subject (重点帮教对象).", type=BOOL),
    Column("risk_grade", "风险等级", "Four-colour risk grade at intake (green when empty).", type=ENUM,
           choices=RISK_GRADE, personal=True),
    Column("offence_category", "罪名类别", "Offence category.", required=True, type=ENUM, choices=OFFENCE,
           personal=True),
    Column("skills", "技能", "Skills as `code_or_text:level;…` with levels 1 (basic) to 4 (expert), level 2 "
           "when left out, e.g. `chinese_cooking:3;叉车:2`. A taxonomy code, or words (a taxonomy name "
           "becomes its code; anything else is kept as free text, which matching reads as a skill when it is a "
           "usual way to write one, e.g. 开叉车, see `seed/reference/skill_synonyms.csv`).", type=SKILLS),
    Column("certificates", "证书", "Certificate names separated by `;`.", type=LIST),
    Column("preferred_courses", "培训意向", "Wished-for courses, first wish first, separated by `;`: "
           "course codes or names (`cooking;ecommerce` or `烹饪;电商运营`). At most 5.",
           type=LIST, lookup=COURSE),
    Column("max_travel_km", "最远通勤距离（公里）", "Furthest daily travel in km (20 when empty).", type=INT),
    Column("needs_housing", "需要住宿", "Needs housing provided by the employer.", type=BOOL),
    Column("earliest_start", "最早到岗日期", "Earliest date the person can start.", type=DATE),
    Column("status", "状态", "File status (pre_release or active from the release date when empty).",
           type=ENUM, choices=CANDIDATE_STATUS),
    Column("consents", "同意事项", "Consents given, separated by `;`. On export: the consents in force. "
           "`disclose_identity` (披露身份) is refused on import: that consent names one base and one purpose and "
           "is recorded on the candidate's file.", type=LIST, choices=CONSENT),
    Column("office_id", "司法所编号", "Judicial office keeping the file. Used for administrators' imports "
           "only; otherwise the residence's (or registration's) office.", type=INT),
    Column("office", "司法所", "Name of the judicial office keeping the file. Export only.",
           mode=EXPORT_ONLY),
    Column("dual_registration", "双列管", "Registered in one township, living in another. Export only.",
           type=BOOL, mode=EXPORT_ONLY),
)

BASE_COLUMNS: tuple[Column, ...] = (
    Column("id", "基地编号", "Xintu's id of the base. Export only.", type=INT, mode=EXPORT_ONLY),
    Column("external_id", "本单位编号", "The bureau's own reference of the base. " + EXTERNAL_ID_HELP,
           staff_only=True),
    Column("name", "名称", "Name of the company or organisation.", required=True),
    Column("credit_code", "统一社会信用代码", "Unified social credit code (GB 32100, check character "
           "verified). A code already registered, or twice in the file, is a row error.", required=True),
    Column("industry", "行业", "Industry.", required=True),
    Column("place", "所在地", f"Where the base is: {PLACE_HELP}; any level.", required=True, type=PLACE),
    Column("lat", "纬度", "Latitude of the site (optional, with lng); otherwise the place's centre.",
           type=FLOAT, target="place.lat"),
    Column("lng", "经度", "Longitude of the site (optional, with lat).", type=FLOAT, target="place.lng"),
    Column("address", "地址", "Street address."),
    Column("contact_name", "联系人", "Contact person."),
    Column("contact_phone", "联系电话", "Contact phone: digits, spaces, + and -."),
    Column("description", "简介", "Description."),
    Column("certification_status", "认定状态", "Certification status. On import `applied` (when empty) or "
           "`certified`: a certified row is certified as `flask --app matcher bases certify` does (an "
           "administrator's decision in the base's certification history), so its open slots can be imported "
           "next.", type=ENUM, choices=CERTIFICATION),
    Column("certified_until", "认定有效期至", "Certification valid until: required with `certified`, in the "
           "future; empty otherwise.", type=DATE),
)

SLOT_COLUMNS: tuple[Column, ...] = (
    Column("id", "岗位编号", "Xintu's id of the slot. Export only.", type=INT, mode=EXPORT_ONLY),
    Column("external_id", "本单位编号", "The bureau's own reference of the slot (its county: the base's). "
           + EXTERNAL_ID_HELP, staff_only=True),
    Column("company_id", "基地编号", "The base posting the slot (administrators: this or "
           "company_credit_code; employers: empty or their own base).", type=INT),
    Column("company_credit_code", "基地信用代码",
           "The base's unified social credit code, instead of company_id."),
    Column("company_external_id", "基地本单位编号", "The base's `external_id` (the bureau's reference), instead "
           "of company_id; found among the bases of the importing account's area. When several of these three "
           "are given they must name the same base.", staff_only=True),
    Column("company_name", "基地名称", "Name of the base. Export only.", mode=EXPORT_ONLY),
    Column("kind", "类型", "Job or training.", required=True, type=ENUM, choices=SLOT_KIND),
    Column("title", "名称", "Title of the job or course.", required=True),
    Column("description", "描述", "Description."),
    Column("occupation_code", "职业编码", "Occupation code of the national classification (4-03-02-01)."),
    Column("course_code", "培训课程", "Course taught (training slots: required): a course code or name.",
           lookup=COURSE),
    Column("required_skills", "技能要求", "Required skills, written like candidates' skills "
           "(`forklift_operation:2;仓库管理:1`).", type=SKILLS),
    Column("seats", "名额", "Number of seats.", required=True, type=INT),
    Column("seats_taken", "已占名额", "Seats taken by accepted or started referrals. Export only.", type=INT,
           mode=EXPORT_ONLY),
    Column("place", "地点", f"Where the work or course is: {PLACE_HELP}; any level.", required=True,
           type=PLACE),
    Column("lat", "纬度", "Latitude of the site (optional, with lng); otherwise the place's centre.",
           type=FLOAT, target="place.lat"),
    Column("lng", "经度", "Longitude of the site (optional, with lat).", type=FLOAT, target="place.lng"),
    Column("address", "地址", "Street address."),
    Column("pay_min", "月薪下限", "Lowest monthly pay in CNY.", type=INT),
    Column("pay_max", "月薪上限", "Highest monthly pay in CNY.", type=INT),
    Column("hours_per_week", "每周工时", "Working hours a week.", type=INT),
    Column("housing_provided", "提供住宿", "Housing provided.", type=BOOL),
    Column("starts_on", "开始日期", "First day of work or of the course (with intakes: the first intake; may be "
           "left out when intakes are given).", required=True, type=DATE, alternative=("intakes",)),
    Column("ends_on", "结束日期", "Last day (courses, fixed-term jobs); with intakes, the first intake's last day: "
           "each intake runs as long.", type=DATE),
    Column("intakes", "开班日期", "A recurring course's (or job's) start dates, separated by `;` "
           "(`2024-03-01;2024-09-01`), dates written as in any date cell. starts_on is the first (the earliest "
           "when starts_on is left out). A referral of the history belongs to the intake it started in, and "
           "holds a seat only while that intake has not finished. Matching reads the intake that fits a "
           "person: the next on or after their earliest start.", type=DATES),
    Column("certificate_awarded", "结业发证", "A recognised certificate is awarded at the end (makes "
           "trainees eligible for the training subsidy).", type=BOOL),
    Column("min_age", "最低年龄", "Minimum age (18 when empty).", type=INT),
    Column("status", "状态", "draft when empty; open needs a certified base whose certification is in date.",
           type=ENUM, choices=SLOT_STATUS),
)

REFERRAL_COLUMNS: tuple[Column, ...] = (
    Column("id", "推荐编号", "Xintu's id of the referral. Export only.", type=INT, mode=EXPORT_ONLY),
    Column("candidate", "帮教对象", "The candidate: public id (XT-…) or ID number. Export writes the "
           "public id.", required=True, alternative=("candidate_external_id",)),
    Column("candidate_external_id", "帮教对象本单位编号", "The candidate's `external_id` (the bureau's file "
           "reference), instead of candidate; found among the files of the importing account's area. With both, "
           "they must name the same file.", staff_only=True),
    Column("candidate_name", "姓名", "Candidate's name. Export only, and never in an employer's export.",
           mode=EXPORT_ONLY, personal=True),
    Column("slot_id", "岗位编号", "Xintu's id of the slot.", required=True, type=INT,
           alternative=("slot_external_id",)),
    Column("slot_external_id", "岗位本单位编号", "The slot's `external_id` (the bureau's reference), instead of "
           "slot_id; found among the slots of the importing account's area. With both, they must name the same "
           "slot.", staff_only=True),
    Column("slot_title", "岗位名称", "Title of the slot. Export only.", mode=EXPORT_ONLY),
    Column("company_name", "基地名称", "Name of the base. Export only.", mode=EXPORT_ONLY),
    Column("status", "状态", "Status the referral reached.", required=True, type=ENUM,
           choices=REFERRAL_STATUS),
    Column("created_on", "推荐日期", "Date of the referral (proposal).", required=True, type=DATE),
    Column("started_on", "上岗日期", "Start date: required for started, stayed_30/90/180 and left; empty "
           "otherwise.", type=DATE),
    Column("ended_on", "结束日期", "End date: required for declined, withdrawn and left; empty otherwise.",
           type=DATE),
    Column("milestone", "里程碑", "The furthest the placement got: started, stayed_30, stayed_90 or stayed_180, "
           "also after it ended (\"stayed 90 days, left in month 5\": status left, milestone stayed_90). Only for "
           "started referrals. When empty: the status itself for a placement still in place, and for left the "
           "longest stay the days between started_on and ended_on prove. A given one must fit them.",
           type=ENUM, choices=MILESTONE),
    Column("end_code", "结束原因", "Why it ended, as a code (the only reason a base learns): with ended_on; "
           "`other` when empty. Declined: not_suitable, position_filled, no_show, candidate_declined, other. "
           "Withdrawn: other_job, candidate_declined, health, moved_away, family, personal, other. Left: other_job, "
           "health, moved_away, family, dismissed, contract_ended, personal, other.", type=ENUM, choices=END_REASON),
    Column("end_note", "结束说明", "The office's internal note on the ending (free text): kept on the referral's "
           "history, read only by the office; never in a base's view or a pseudonymous export.", personal=True),
)

RELEASE_LIST_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Full name.", required=True),
    Column("id_number", "身份证号", "18-character citizen ID number (GB 11643: check character, birth date and "
           "region code verified). It "
           "decides whether the row opens a new file or updates the one kept for this number (Xintu keeps a "
           "keyed hash and the masked form, never the number; full-width or other digits and spaces are read as the "
           "same number). Twice in the file is a row error.",
           required=True, mode=IMPORT_ONLY),
    Column("sex", "性别", "Read from the ID number when empty; must match it when given.",
           type=ENUM, choices=SEX),
    Column("birth_year", "出生年份", "Read from the ID number when empty; must match it when given.",
           type=INT),
    Column("education", "文化程度", "Highest education. Required when the row opens a new file; when empty, "
           "an existing file keeps its own.", type=ENUM, choices=EDUCATION),
    Column("release_date", "释放日期", "Release date (刑满释放日期). In the future: the file is in pre-release "
           "hand-over (pre_release); today or past: active.", required=True, type=DATE),
    Column("release_institution", "释放单位", "The prison or detention centre releasing the person.",
           required=True),
    Column("offence_category", "罪名类别", "Offence category.", required=True, type=ENUM, choices=OFFENCE),
    Column("sentence_note", "原判刑期", "The sentence as the institution writes it (有期徒刑三年六个月). Kept as "
           "the note of the file's intake assessment."),
    Column("hukou", "户籍地", f"Household registration township: {PLACE_HELP}. When it differs from the "
           "residence the file is under dual registration (双列管): that township's office reads it.",
           required=True, type=PLACE),
    Column("residence", "居住地", f"Township where the person will live: {PLACE_HELP}. Its judicial office "
           "keeps the file (the household registration's when no office covers it).", required=True,
           type=PLACE),
    Column("residence_address", "居住地址", "Street address."),
    Column("key_subject", "重点帮教对象", "Key subject (重点帮教对象: collected at the gate).", type=BOOL),
    Column("phone", "联系电话", "Phone number: digits, spaces, + and -."),
    Column("preferred_courses", "培训意向", "Wished-for courses, first wish first, separated by `;`: course "
           "codes or names (`cooking;ecommerce` or `烹饪;电商运营`). At most 5.", type=LIST, lookup=COURSE),
    Column("skills", "技能", "Skills learnt before or in custody, as `code_or_text:level;…` (levels 1 to 4, 2 "
           "when left out), e.g. `chinese_cooking:3;缝纫:2`.", type=SKILLS),
    Column("needs_housing", "需要住宿", "Needs housing provided by the employer.", type=BOOL),
)
RELEASE_LIST_COLUMNS = tuple(replace(column, mode=IMPORT_ONLY) for column in RELEASE_LIST_COLUMNS)

KIND_COLUMNS: dict[str, tuple[Column, ...]] = {
    "candidates": CANDIDATE_COLUMNS,
    "bases": BASE_COLUMNS,
    "slots": SLOT_COLUMNS,
    "referrals": REFERRAL_COLUMNS,
    "release_list": RELEASE_LIST_COLUMNS,
}
KINDS = tuple(KIND_COLUMNS)
# Kinds that are only ever imported (a prison's list is not something Xintu writes back).
IMPORT_ONLY_KINDS = ("release_list",)
EXPORT_KINDS = tuple(kind for kind in KINDS if kind not in IMPORT_ONLY_KINDS)

KIND_TITLES = {
    "candidates": "Candidates (帮教对象)",
    "bases": "Bases (安置基地)",
    "slots": "Slots (岗位与培训名额)",
    "referrals": "Referral history (推荐记录)",
    "release_list": "Pre-release lists (预释放人员名单)",
}
KIND_NOTES = {
    "candidates": "Imported by administrators and caseworkers. A caseworker imports people who live or are "
                  "registered in the office's township, and exports the files the office can see (its own "
                  "and, under dual registration, those registered in its township). The export is the "
                  "caseworker's view of the file and never holds the full ID number, which Xintu does not "
                  "store. The export is pseudonymous by default: the columns marked *identified only* (name, "
                  "masked ID number, ethnicity, phone, household registration, exact residence and address, "
                  "release institution, risk grade, offence) are left out and the file is known by its "
                  "`public_id`. An identified export holds them all; it needs an administrator's approval "
                  "(`POST /api/v1/export-requests`, see the README) and may be downloaded once. To load an "
                  "export elsewhere, use an identified export and fill in the `id_number` column again (a "
                  "pseudonymous export cannot be imported: it lacks the required `name`, `hukou` and "
                  "`offence_category`).",
    "bases": "Imported by administrators (new bases start as applications unless the row certifies them). "
             "Exported by everyone within their scope: administrators the register, employers their own base, "
             "others the certified bases.",
    "slots": "Imported by administrators and employers (for their own base only). Exported by everyone "
             "within their scope: employers their own slots, caseworkers and organisers every posted slot.",
    "referrals": "For migrating a bureau's past records: imported by administrators only. History holds no "
                 "seat today: only a current referral takes one of the slot's seats, one accepted or in place "
                 "(started, `stayed_*`) in an intake that has not finished. The intake a referral belongs to "
                 "is the slot's last that started by the referral's start (one not started: the first starting "
                 "on or after created_on); it has finished when its end (the slot's `ends_on`, or the intake's) "
                 "is before today. A slot with no end runs on, so a placement there without an end date is "
                 "current: write the ones that ended as left with their `ended_on` (and `milestone`). Ended "
                 "referrals (declined, withdrawn, left) take no seat; a current one is refused when the slot "
                 "is full. A slot may therefore carry any number of past placements. A "
                 "candidate may have one live referral per slot. Exported by administrators, caseworkers "
                 "(their candidates) and employers (referrals sent to their base). Every export is "
                 "pseudonymous by default (public id only, never the name, ID number, offence, risk grade, "
                 "household registration or address); administrators and caseworkers get `candidate_name` "
                 "in an identified export approved by an administrator. The pseudonymous export imports "
                 "as it is (the `candidate` column holds the public id). Each imported referral gets its "
                 "steps as events marked `imported`: proposed on created_on, started on started_on, each "
                 "stay up to the milestone N days after the start (stayed_N), and an ending on ended_on "
                 "(other statuses: on created_on).",
    "release_list": "The list a prison or detention centre sends of people due for release (预释放信息对接). "
                    "Import only, by administrators. Each row opens a candidate file, or updates the file "
                    "already kept for the same ID number (name, release facts, places, wishes and skills as "
                    "given; empty cells leave the file as it is). The file goes to the judicial office of the "
                    "residence, under dual registration when the household registration differs, and is "
                    "`pre_release` until the release date (`active` once it has passed), so matching starts "
                    "before release. The data-processing consent is recorded as a legal duty. A dry run "
                    "reports, per office, how many files would be opened and how many updated.",
}


def columns_for(kind: str) -> tuple[Column, ...]:
    return KIND_COLUMNS[kind]


def header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    """Normalised English and Chinese header -> column."""
    lookup: dict[str, Column] = {}
    for column in columns:
        lookup[normalise_header(column.name)] = column
        lookup[normalise_header(column.zh)] = column
    return lookup


def normalise_header(text: str) -> str:
    """Case, surrounding space, a BOM and required-markers (*) do not matter; full-width brackets are
    read as ASCII ones."""
    text = str(text).replace("\ufeff", "").strip().strip("*＊").strip()
    return text.replace("（", "(").replace("）", ")").lower()


GENERAL_RULES = """\
# Spreadsheet formats for import and export

Xintu reads and writes candidates, bases, slots and referral history as CSV or Excel (.xlsx), and reads
the pre-release lists that prisons and detention centres send.

- **Command line**: `flask --app matcher import KIND FILE [--dry-run] [--as USERNAME]` and
  `flask --app matcher export KIND --format csv|xlsx -o FILE [--headers en|zh] [--encoding utf-8|gbk]
  [--as USERNAME]`, where KIND is `candidates`, `bases`, `slots` or `referrals` (and, for import only,
  `release_list`). The command acts as the account named by `--as` (default: the `system` account that
  `flask seed reference` makes).
- **API**: `POST /api/v1/imports/KIND?dry_run=true|false` with the file as multipart field `file`;
  `GET /api/v1/exports/KIND?format=csv|xlsx&headers=en|zh&encoding=utf-8|gbk`.
- Both act within the account's scope, exactly as the rest of the API does.
- Exports are **pseudonymous by default**: columns marked *identified only* below (personal and sensitive
  data) are left out, and a candidate is known by the public id (`XT-…`). An export holding them (an
  *identified* export) is requested with a reason (`POST /api/v1/export-requests`, or the web page
  数据导出 / Exports), approved by an administrator other than the requester, and downloaded once by the
  requester before the approval expires (`XINTU_EXPORT_APPROVAL_DAYS`, 7 days by default): with
  `GET /api/v1/export-requests/ID/file`, the page, or `flask --app matcher export approved ID -o FILE --as USERNAME`.

## Files
- **CSV** is read as UTF-8 (with or without BOM) and, when that fails, as GB18030 (a superset of GBK),
  so files saved by Excel on Chinese Windows load as they are; UTF-16 text (Excel's "Unicode text") is read
  too, with or without a BOM. Separated by commas, tabs, semicolons or `|`, whichever splits the header row
  into known columns. A file that cannot be read is refused with the line to look at (a NUL character, a
  quote that is never closed) and how to save it so that it loads. Exports are UTF-8 with a BOM, so Excel
  opens them correctly; `encoding=gbk` writes GBK instead (characters outside GBK are written in GB18030).
- **Excel**: .xlsx, the worksheet shown when the workbook opens (the active sheet), or the first visible
  worksheet when that one is hidden; hidden sheets are never read. Old binary .xls files are refused: save
  them as .xlsx or CSV.
- **Headers**: the first row holding the column names (a title row above it is allowed). Use the English
  names below (the public contract) or the Chinese ones; mixing is allowed, case and a trailing `*` do
  not matter. Unknown columns are refused so a misspelt header is never dropped silently; export-only
  columns and a `序号` column are accepted and ignored. Exports use the English names, or the Chinese
  ones with `headers=zh`.
- **Rows**: at most 20,000 (a longer file is refused as soon as its 20,001st row is read). Empty rows are
  skipped wherever they are and never counted: a file padded with a million blank rows loads as one without
  them. Row numbers in error reports are the spreadsheet's own (the header is row 1).
- **Cells**: empty means "not given". Dates as `2025-03-01` (also `2025/3/1`, `2025.3.1`, `2025年3月1日`
  or an Excel date). Yes/no as `true`/`false` (also `yes`/`no`, `1`/`0`, `是`/`否`). Values from a fixed
  list as the code shown (also the Chinese labels listed, and the labels the pages show, in Chinese or
  English). Lists are separated by `;` (also `；`).
- **Values on export**: a file with Chinese headers holds the pages' Chinese labels (男, 黄色, 盗窃), 是/否,
  place names (浙江省金华市义乌市稠城街道) and course and skill names, never codes; a file with English
  headers holds the codes (the contract), or English labels with `values=labels` (as the web pages' files
  do). `values=codes` gives codes under Chinese headers. Ids, numbers and occupation codes (职业编码) stay as
  they are. Every such file imports again.
  Every text cell of an export (lists included) that starts with `=`, `+`, `-`, `@`, a tab or a carriage
  return (or full-width `＝＋－＠`) is written, to CSV and to Excel, with a leading `'` so spreadsheet
  programs do not run it as a formula, even after saving the file again; the `'` is removed again on
  import. Numbers stay numbers.

## The bureau's own references
Candidates, bases and slots may carry the bureau's own reference (`external_id`, 本单位编号) beside Xintu's
ids, so a file, an export or an assignment plan can be joined back to the bureau's records. A reference
belongs to the county or district (区县) of the record's place (for a candidate the township of the judicial
office keeping the file, for a slot its base's place; a base or slot placed at city level belongs to the
city), whoever imports it, and is unique there for each kind. Files refer to one another by it
(`company_external_id` in slots, `candidate_external_id` and `slot_external_id` in referral history); a
reference is looked up among the records the importing account may see, of its own area (an administrator's
bureau area, a caseworker's county, the command line's `system` account everywhere), so another bureau's
identical reference is never found. It is written into the exports of bureau staff, never into a base's.

## All or nothing
An import checks every row with the same rules as the API (the create schemas and the services) and then
either loads all rows or none. Errors come back per row and column, for example
`{"rows": {"3": {"id_number": ["Not a valid ID number ..."]}}}` (an API answer is a 422 with this under
`errors`). A dry run (`--dry-run`, `dry_run=true`) checks everything the same way and changes nothing.
A file that cannot be used at all (empty, wrong type, unreadable workbook, missing required columns,
unknown columns, too many rows) is refused as a whole with a message naming the problem.
"""


def markdown() -> str:
    """The whole of docs/formats.md."""
    parts = [GENERAL_RULES]
    for kind, columns in KIND_COLUMNS.items():
        parts.append(f"\n## {KIND_TITLES[kind]}: `{kind}`\n\n{KIND_NOTES[kind]}\n\n")
        parts.append("| Column | 中文表头 | Required | Import / export | Description |\n")
        parts.append("|---|---|---|---|---|\n")
        for column in columns:
            required = "yes" if column.required else ""
            if column.alternative:
                required = f"yes (or {', '.join(column.alternative)})"
            mode = {BOTH: "both", IMPORT_ONLY: "import only", EXPORT_ONLY: "export only"}[column.mode]
            if column.personal and column.exported:
                mode += " (*identified only*)"
            if column.staff_only and column.exported:
                mode += " (*bureau staff only*)"
            description = column.description.replace("|", "\\|")
            parts.append(f"| `{column.name}` | {column.zh} | {required} | {mode} | {description} |\n")
        listed = [c for c in columns if c.choices]
        if listed:
            parts.append("\nValues:\n\n")
            for column in listed:
                values = ", ".join(f"`{value}` ({' / '.join(labels)})"
                                   for value, labels in column.choices.items())
                parts.append(f"- `{column.name}`: {values}\n")
    return "".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
