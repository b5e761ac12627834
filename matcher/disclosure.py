"""Who reads which field: every field of every resource that leaves the server, classified once.

Each resource is named as the API's OpenAPI document names it (`ReferralRead`, `CandidateCard` ...), and each of its
fields has an audience: the parties (matcher.policy.Party) that may read it. An account reads a field of an object
when it is one of those parties *for that object* (policy.parties: the office of the file's jurisdiction, the base
a referral was sent to, that base with the person's consent for the purpose in force ...).

The same table builds every party's view:
* the API: every response is filtered by it as it is serialised (apiutil.Schema), so a field an audience may not
  read never leaves the server, whatever an endpoint hands over;
* the pages and printouts: `view()` gives a template the same fields;
* the exports and notices keep to it (tests/security/test_disclosure.py reads everything every role can reach,
  through every channel, with a canary in every field);
* the README's table of who sees what is made from it (`flask disclosure table`).

Free text has its audience too: what an office writes for a base (`shared_note`) is a separate field from its
internal notes, and a form says who will read what is typed into it. A base learns why a referral ended as a
code (`end_code`), never a note.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from matcher.parties import Party, field_value

P = Party
OF, B, BC, ORG, BU, A, ST, SELF, ALL = (P.OFFICE, P.BASE, P.BASE_CONSENTED, P.ORGANISER, P.BUREAU, P.ADMIN,
                                         P.STAFF, P.SELF, P.SIGNED_IN)


def _fields(spec: Iterable[tuple[Iterable[Party], str]]) -> dict[str, frozenset[Party]]:
    """`[({OF, B}, "id status"), ({OF}, "internal_note")]` -> each field with its audience."""
    table: dict[str, frozenset[Party]] = {}
    for audience, names in spec:
        for name in names.split():
            if name in table:
                raise ValueError(f"{name} is classified twice")
            table[name] = frozenset(audience)
    return table


# A candidate as a base, an organiser or a caseworker sees them beside a referral, a check or an interview.
_CARD = [({OF}, "id"), ({OF, B, ORG}, "public_id education skills certificates preferred_courses residence_district "
                                    "needs_housing earliest_start"), ({OF, BC}, "name phone")]
_PLACE_OUT = "code name full_name"
_SKILL_OUT = "skill_code free_text level"

FIELDS: dict[str, dict[str, frozenset[Party]]] = {name: _fields(spec) for name, spec in {
    # ---- candidates: the file is the office's alone -------------------------------------------------------
    "CandidateRead": [({OF}, "id public_id external_id name id_number_masked sex birth_year ethnicity education "
                            "phone hukou_code residence_code residence_address residence_lat residence_lng "
                            "dual_registration release_institution release_date assistance_ends_on key_subject "
                            "risk_grade offence_category skills certificates preferred_courses max_travel_km "
                            "needs_housing earliest_start status office created_at updated_at")],
    "CandidateSkillOut": [({OF, B, ORG}, _SKILL_OUT)],
    "Certificate": [({OF}, "name skill_code issued_on")],
    "CandidateCard": _CARD,
    # At a fair the organisers check people in by name; a base learns it only with consent for the fair.
    "FairCandidateCard": [({OF}, "id"), ({OF, ORG, BC}, "name"), ({OF, BC}, "phone"), ({OF, ORG}, "office"),
                          ({OF, B, ORG}, "public_id education skills certificates preferred_courses "
                                         "residence_district needs_housing earliest_start")],
    "VisitRead": [({OF}, "id candidate_id visited_on kind note referral_id employment_state end_code "
                        "recorded_by_id created_at")],
    "ConsentRead": [({OF}, "id kind granted base_id purpose recorded_on note base recorded_by_id")],
    "RiskAssessmentRead": [({OF}, "id grade assessed_on reason assessed_by_id")],
    "ReoffenceRead": [({OF}, "id candidate_id recorded_on note recorded_by_id created_at")],
    "BanRead": [({OF}, "id kind courses occupations until note")],
    "OfficeRef": [({OF, B, ORG, ST}, "id name")],
    # ---- referrals: shared with the base they were sent to, except the office's own notes ---------------
    "ReferralRead": [({OF, B}, "id status candidate slot holds_seat started_on ended_on milestone end_code shared_note "
                              "next_moves events created_at updated_at"),
                     ({OF}, "internal_note score model_version")],
    "ReferralEvent": [({OF, B}, "from_status to_status on_date reason_code shared_note at"),
                      ({OF}, "internal_note actor_id")],
    "SlotRef": [({OF, B, ORG, ST}, "id title kind company_id company_name")],
    # The appointment is shared by the office and the base; the texts sent to the person are the office's record.
    "ReferralInterviewRead": [({OF, B}, "id referral_id status starts_at place contact_name contact_phone bring note "
                                        "next_actions created_at updated_at"),
                              ({OF}, "appointment_texted_at reminder_texted_at text_error")],
    "TaskRead": [({OF, B}, "id days due_on status overdue done_on referral candidate"),
                 ({OF}, "done_by_id note office")],
    "TaskReferral": [({OF, B}, "id status started_on slot")],
    "OfficeOverdue": [({BU, ST}, "office overdue open oldest_due_on")],  # each office its own row
    # ---- bases and slots: a base's own, and what bureau staff read of certified bases --------------------
    "CompanyRead": [({B, ST}, "id name credit_code industry address place lat lng contact_name contact_phone "
                              "description certification_status certified_until employees referrals_paused_on "
                              "created_at"),
                    ({ST}, "external_id")],  # the bureau's own reference: never the base's to read
    "CompanyRef": [({OF, B, ORG, ST}, "id name")],
    "PlaceOut": [({ALL}, _PLACE_OUT)],
    "CertificationEvent": [({B, A}, "id from_status to_status valid_until reason decided_at"),
                           ({A}, "decided_by_id")],
    "AgreementRead": [({B, A}, "id company_id reference_no signed_on term_months ends_on note created_at")],
    "ComplaintRead": [({A}, "id company_id received_on summary resolved_on recorded_by_id created_at")],
    "BaseRecord": [({BU}, "company_id company_name place_code district_code status certified_until "
                          "agreement_ends_on sent answered answered_within answer_due waiting share_answered "
                          "median_days_to_answer starts starts_old_enough stayed unconfirmed stay_rate "
                          "complaints_open complaints_total flags p_answer target_share demoted unanswered_now "
                          "pause_after paused_on employees monthly_cap month_count")],
    "SizeBands": [({BU}, "bands shipped")],
    "SizeBand": [({BU}, "min_employees max_employees monthly_referrals")],
    "AnswerRules": [({BU}, "pause_after target_share answer_days shipped")],
    "SlotRead": [({B, ST}, "id company_id company_name kind title description occupation_code course_code "
                           "required_skills seats seats_taken seats_free place address lat lng pay_min pay_max "
                           "hours_per_week housing_provided starts_on ends_on intakes certificate_awarded "
                           "subsidy_eligible min_age status created_at"),
                 ({ST}, "external_id")],  # the bureau's own reference: never the base's to read
    "SlotSkillOut": [({B, ST, OF}, _SKILL_OUT)],
    # ---- matching ------------------------------------------------------------------------------------------
    "SlotRecommendationPage": [({OF}, "model_version model_kind total items")],
    "SlotRecommendation": [({OF}, "slot score value base_answer demoted month_full reasons sentence_zh sentence_en "
                                  "utility utility_parts path")],
    "UtilityParts": [({OF}, "wish pay near")],
    "Path": [({OF}, "course_end p_course value opened jobs")],
    "FollowOnJob": [({OF}, "slot score")],
    "CandidateRecommendationPage": [({B, OF}, "model_version model_kind total items")],
    "CandidateRecommendation": [({B, OF}, "candidate score reasons sentence_zh sentence_en")],
    "Reason": [({OF, B}, "code value effect text_zh text_en")],
    "Eligibility": [({OF}, "eligible reasons")],
    "EligibilityReason": [({OF}, "code text_zh text_en")],
    "Model": [({A}, "version kind horizon_days active created_at activated_at card outcomes_learned_from")],
    "AssignmentDraft": [({A}, "id status model_version params summary objective greedy_objective created_at "
                              "confirmed_at items"), ({BU}, "holding")],
    "AssignmentDraftList": [({A}, "id status model_version params summary objective greedy_objective created_at "
                                  "confirmed_at"), ({BU}, "holding")],
    # Seats held for people released soon: the planners of the area see whom by pseudonym and release date only.
    "Holding": [({BU}, "hold_seats holding horizon_days present arriving expected_stays_with_holding "
                       "expected_stays_without_holding expected_gain seats_held planned_later refer_within_days "
                       "arrival_certainty min_gain held")],
    "HeldSeat": [({BU}, "candidate_public_id release_date slot_id slot_title company_name starts_on score")],
    "AssignmentItem": [({A}, "candidate_id candidate_public_id candidate_external_id slot_id slot_external_id "
                             "score value referral_id")],
    # ---- job fairs ------------------------------------------------------------------------------------------
    "FairRead": [({ORG, B, OF}, "id name held_on venue starts_at ends_at block_minutes n_blocks max_interviews "
                               "status blocks"),
                 ({ORG}, "key_subject_weight waiting_weight_per_year preferred_courses_only bureau_code created_at "
                         "updated_at")],
    "Block": [({ORG, B, OF}, "index starts_at ends_at label")],
    "BoothRead": [({ORG, B}, "id fair_id company label interviews_per_block slots withdrawn_from_block "
                             "withdrawn_reason")],
    "BoothSlot": [({ORG, B}, "id title course_code")],
    "BoothRef": [({ORG, B, OF}, "id label")],
    "InvitationRead": [({ORG, OF}, "id fair_id fair_name held_on status source arrives_block invited_at "
                                  "answered_at checked_in_at candidate answer_note")],
    "InviteResult": [({SELF}, "invited already_invited dry_run")],
    "InterviewRead": [({ORG, B}, "id fair_id invitation_id block block_label booth company slot status outcome "
                                 "outcome_note referral_id candidate"),
                      ({ORG}, "score")],
    "InterviewSlot": [({ORG, B}, "id title")],
    "PlanView": [({ORG, B}, "run interviews")],
    "PlanRunRead": [({ORG}, "id fair_id from_block model_version objective bound gap solver_status seconds "
                            "summary created_at")],
    "PlanSummary": [({ORG}, "candidates booths eligible_pairs interviews kept new unchanged moved_or_dropped "
                            "keep_planned expected_stays unplaced covered coverable interviews_per_person "
                            "unplaced_reasons")],
    "Unplaced": [({ORG}, "invitation_id reason text_zh text_en")],
    "FairReport": [({ORG}, "fair_id invited confirmed declined cancelled waiting_for_answer checked_in "
                           "checked_in_invited walk_ins attendance_rate interviews_planned interviews_held no_shows "
                           "offers second_interviews rejections referrals accepted started staying_90 "
                           "expected_stays booths interviews_not_recorded interview_attendance_rate no_show_rate")],
    "BoothReport": [({ORG}, "booth_id label company_id company_name withdrawn planned held no_show offers "
                            "second_interviews rejections started attendance_rate")],
    # ---- reports, records, audit, accounts ----------------------------------------------------------------
    "Report": [({BU}, "area date_from date_to on figures by_district by_office by_month definitions")],
    "Area": [({BU}, "level code name district office_id")],
    "ReportFigures": [({BU}, "registered key_subjects dual_registration under_assistance new_in_period "
                             "placed_in_period helped_into_work placed_in_training placement_rate reached_90_days "
                             "stayed_90 stay_rate_90 training_certificates training_subsidies visits_in_period "
                             "reoffended reoffence_rate interviews_scheduled interviews_attended interviews_no_show "
                             "interview_attendance_rate certified_bases agreements_signed agreements_in_force")],
    "ReportMonth": [({BU}, "month figures")],
    "ReportMonthFigures": [({BU}, "under_assistance new_in_period placed_in_period helped_into_work "
                                  "placed_in_training placement_rate reached_90_days stayed_90 stay_rate_90 "
                                  "training_certificates training_subsidies visits_in_period reoffended "
                                  "reoffence_rate interviews_scheduled interviews_attended interviews_no_show "
                                  "interview_attendance_rate agreements_signed")],
    "ReportRow": [({BU}, "code name office_id district district_name figures")],
    "Definition": [({ALL}, "key label definition when")],
    "AuditEventRead": [({A}, "id at actor_id actor_role action object_type object_id fields remote_addr "
                             "prev_hash hash key_id")],
    "AuditVerification": [({A}, "ok first_bad_id checked legacy_events key_id anchors")],
    "AuditAnchorCheck": [({A}, "ok checked latest failing_line problem")],
    "AuditAnchor": [({A}, "event_id hash events at key_id")],
    "AccountRead": [({A, SELF}, "id username display_name role office_id company_id bureau_code email is_active "
                                "last_login_at locked_until")],
    "Token": [({SELF}, "token expires_at")],
    "NotificationRead": [({SELF}, "id kind subject body subject_type subject_id params created_at read_at "
                                  "task_key done_at open emailed_at")],
    "UnreadCount": [({SELF}, "unread")],
    "ReadAll": [({SELF}, "marked")],
    "Job": [({SELF, A}, "id kind status done total percent message params result error errors links "
                        "created_by_id created_at started_at finished_at")],
    "ExportRequestRead": [({SELF, A}, "id kind params reason status sensitive_columns requested_by_id "
                                      "requested_at decided_by_id decided_at decision_note expires_at used_at")],
    "ImportReport": [({SELF}, "kind dry_run rows created updated offices occupation_suggestions")],
    "RetentionReport": [({A}, "as_of retention_days cutoff dry_run due archived skipped offices")],
    "RetentionOffice": [({A}, "office_id office due archived skipped")],
    # ---- reference data: anyone signed in -------------------------------------------------------------------
    "Place": [({ALL}, "code name full_name level parent_code lat lng")],
    "Course": [({ALL}, "code name_zh name_en min_age duration_days certificate")],
    "Skill": [({ALL}, "code name_zh name_en course_code standard_occupation standard_grade")],
    "Occupation": [({ALL}, "code name_zh name_en level marks aliases")],
    "OccupationSuggestion": [({ALL}, "code name_zh name_en score matched")],
    # Free texts of skills (no person's name or file: a text and how many files and slots in scope hold it).
    "SkillText": [({ST}, "text_key text status code how candidates slots suggestions mapping")],
    "SkillTextSuggestion": [({ST}, "code score")],
    "SkillTextMapping": [({ST}, "id text_key text status skill_code suggested_code suggested_at decided_at")],
    "Office": [({ALL}, "id name township_code township_name phone")],
}.items()}

# What each part of the audience means, in the README's words (and the Chinese the pages use).
AUDIENCE_TEXT: Mapping[Party, tuple[str, str]] = {
    P.OFFICE: ("caseworkers of the file's jurisdiction (the office that keeps it, and the household-registration "
               "office under dual registration) and the administrators of its area", "本辖区司法所及本级司法局管理员"),
    P.BUREAU: ("administrators and organisers of the area's bureau", "本级司法局管理员和招聘会组织方"),
    P.ADMIN: ("administrators of the area's bureau", "本级司法局管理员"),
    P.ORGANISER: ("the organisers and administrators of the fair's bureau", "招聘会组织方"),
    P.STAFF: ("any caseworker, organiser or administrator", "司法所及司法局工作人员"),
    P.BASE: ("the base it concerns (its employer accounts)", "相关安置基地"),
    P.BASE_CONSENTED: ("that base, only with the person's consent for that base and purpose, while the purpose "
                       "lasts", "经本人同意、在同意目的内的相关安置基地"),
    P.SELF: ("the account it belongs to", "本人账号"),
    P.SIGNED_IN: ("anyone signed in", "所有登录用户"),
}


def audience(resource: str, field: str) -> frozenset[Party]:
    """The classification of one field; an unclassified field has no audience (and a test names it)."""
    return FIELDS.get(resource, {}).get(field, frozenset())


def keep(resource: str, data: dict, parties: frozenset[Party]) -> dict:
    """`data` with only the fields `parties` may read (a resource not in the table passes: it is not a response)."""
    table = FIELDS.get(resource)
    if table is None:
        return data
    return {name: value for name, value in data.items() if table.get(name, frozenset()) & parties}


# The parties of the root object being serialised; its nested parts inherit them.
current_parties: ContextVar[frozenset[Party] | None] = ContextVar("current_parties", default=None)


def resource_of(schema: Any) -> str:
    """A schema's name as the OpenAPI document has it (flask-smorest drops the `Schema` suffix)."""
    name = type(schema).__name__
    return name[:-len("Schema")] if name.endswith("Schema") else name


def has_own_parties(resource: str) -> bool:
    """Objects of this resource say who the reader is to them, wherever they appear (policy.RESOLVERS)."""
    from matcher import policy

    return resource in policy.RESOLVERS


def parties_of(resource: str, obj: Any) -> frozenset[Party]:
    """Who the requesting account is to a root object (none outside a request: nothing is disclosed)."""
    from matcher import policy
    from matcher.auth.current import signed_in_account
    from matcher.extensions import db

    return policy.parties(db.session, signed_in_account(), resource, obj)


class View:
    """An object as one party set may see it, for pages and printouts: the classified fields they may read, with
    their values as they are (dates stay dates); any other attribute reads as None. Nested parts are views too."""

    def __init__(self, resource: str, obj: Any, parties: frozenset[Party], nested: Mapping[str, str] | None = None):
        self._resource, self._obj, self._parties, self._nested = resource, obj, parties, dict(nested or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not (audience(self._resource, name) & self._parties):
            return None
        value = field_value(self._obj, name)
        inner = self._nested.get(name)
        if inner is None or value is None:
            return value
        if isinstance(value, list | tuple):
            return [View(inner, item, self._parties) for item in value]
        return View(inner, value, self._parties)


def view(resource: str, obj: Any, *, nested: Mapping[str, str] | None = None) -> View:
    """The page's view of a root object for the requesting account."""
    return View(resource, obj, parties_of(resource, obj), nested)


# ---- the README's table of who sees what ---------------------------------------------------------------

def _ranks(parties: Iterable[Party]) -> list[int]:
    """Parties by their place in `Party` (the README lists audiences in that order)."""
    order = list(Party)
    return sorted(order.index(party) for party in parties)


def table() -> str:
    """Who sees what, as the README's Security section shows it: one row per resource and audience, made from
    FIELDS (tests/security/test_disclosure.py checks the README carries exactly this)."""
    lines = ["| Party | Who that is |", "|---|---|"]
    lines += [f"| `{party.value}` | {AUDIENCE_TEXT[party][0]} ({AUDIENCE_TEXT[party][1]}) |" for party in Party]
    lines += ["", "| Resource (OpenAPI schema) | Fields | Read by |", "|---|---|---|"]
    for resource in sorted(FIELDS):
        by_audience: dict[frozenset[Party], list[str]] = {}
        for field, parties in FIELDS[resource].items():
            by_audience.setdefault(parties, []).append(field)
        for parties, fields in sorted(by_audience.items(), key=lambda item: _ranks(item[0])):
            readers = ", ".join(f"`{list(Party)[rank].value}`" for rank in _ranks(parties))
            lines.append(f"| {resource} | {', '.join(f'`{f}`' for f in fields)} | {readers} |")
    return "\n".join(lines) + "\n"
