"""The words shown for stored codes (statuses, grades, kinds): one vocabulary for the pages (matcher.web.labels) and
the files for people (matcher.transfer.labels). English message ids, translated when shown or written."""

from __future__ import annotations

N_ = str  # marks a msgid for extraction (keyword N_); translated when shown

LABELS: dict[str, dict[str, str]] = {
    "candidate_status": {"pre_release": N_("Pre-release hand-over"), "active": N_("Seeking work"),
                         "placed": N_("Placed"), "closed": N_("Closed")},
    "risk_grade": {"red": N_("Red"), "orange": N_("Orange"), "yellow": N_("Yellow"), "green": N_("Green")},
    "referral_status": {"proposed": N_("Proposed"), "sent": N_("Sent to base"), "interview": N_("Interview"),
                        "offered": N_("Offered"), "accepted": N_("Accepted"), "started": N_("Started"),
                        "stayed_30": N_("Stayed 30 days"), "stayed_90": N_("Stayed 90 days"),
                        "stayed_180": N_("Stayed 180 days"), "declined": N_("Declined"),
                        "withdrawn": N_("Withdrawn"), "left": N_("Left")},
    # The furthest a placement got (kept after it ends): the placed statuses' own words.
    "milestone": {"started": N_("Started"), "stayed_30": N_("Stayed 30 days"), "stayed_90": N_("Stayed 90 days"),
                  "stayed_180": N_("Stayed 180 days")},
    # A referral's move as the button that makes it: a verb (the status it leads to is shown beside it).
    "referral_move": {"sent": N_("Send to the base"), "interview": N_("Arrange an interview"),
                      "offered": N_("Make an offer"), "accepted": N_("Record the acceptance"),
                      "started": N_("Confirm the start"), "stayed_30": N_("Confirm 30 days' stay"),
                      "stayed_90": N_("Confirm 90 days' stay"), "stayed_180": N_("Confirm 180 days' stay"),
                      "declined": N_("Not suitable"), "withdrawn": N_("Withdraw"), "left": N_("Record leaving")},
    "slot_kind": {"job": N_("Job"), "training": N_("Training")},
    "slot_status": {"draft": N_("Draft"), "open": N_("Open"), "closed": N_("Closed")},
    "certification_status": {"applied": N_("Applied"), "certified": N_("Certified"), "suspended": N_("Suspended"),
                             "expired": N_("Expired"), "revoked": N_("Revoked"),
                             "refused": N_("Not certified")},
    "education": {"none": N_("No schooling"), "primary": N_("Primary school"),
                  "junior_secondary": N_("Junior secondary"), "senior_secondary": N_("Senior secondary"),
                  "vocational": N_("Vocational school"), "college": N_("College"),
                  "bachelor_or_above": N_("Bachelor or above")},
    "offence_category": {"theft": N_("Theft"), "fraud": N_("Fraud"), "robbery": N_("Robbery"),
                         "assault": N_("Assault"), "drugs": N_("Drug offence"),
                         "dangerous_driving": N_("Dangerous driving"), "gambling": N_("Gambling"),
                         "food_safety": N_("Food-safety crime"), "duty_crime": N_("Duty crime"),
                         "public_order": N_("Public order"), "other": N_("Other")},
    "sex": {"male": N_("Male"), "female": N_("Female")},
    "visit_kind": {"home": N_("Home visit"), "phone": N_("Phone call"), "workplace": N_("Workplace visit"),
                   "office": N_("Office talk"), "online": N_("Online")},
    "consent_kind": {"data_processing": N_("Keep and match the file"), "referral": N_("Refer to bases"),
                     "disclose_identity": N_("Give name and phone to a base")},
    # Why a base may learn a candidate's name and phone: each base and purpose needs its own consent.
    "disclosure_purpose": {"interview": N_("Interview on a referral"), "job_fair": N_("Booth list at a job fair"),
                           "employment": N_("Contract and payroll once started")},
    "role": {"administrator": N_("Administrator"), "caseworker": N_("Caseworker"), "employer": N_("Employer"),
             "organiser": N_("Organiser")},
    "fair_status": {"preparing": N_("Preparing"), "closed": N_("Over"), "cancelled": N_("Called off")},
    "invitation_status": {"invited": N_("Waiting for an answer"), "confirmed": N_("Coming"),
                          "declined": N_("Not coming"), "cancelled": N_("Invitation cancelled")},
    "invitation_source": {"office": N_("By office"), "course": N_("By course"), "readiness": N_("Ready to start"),
                          "single": N_("By number"), "walk_in": N_("Walk-in")},
    "solver_status": {"optimal": N_("Optimal"), "feasible": N_("Good plan, not proven optimal")},
    # An interview's outcome; "no_show" is the interview's status when the candidate did not come.
    "interview_outcome": {"offer": N_("Offer"), "second_interview": N_("Second interview"), "no": N_("Not suitable"),
                          "no_show": N_("No-show")},
    # An interview arranged for a referral (matcher.interviews), the steps on it, and where a person's interview
    # comes from on the file page (a referral's, or a job fair's, whose statuses are fair_interview_status).
    "referral_interview_status": {"proposed": N_("Waiting for the office to confirm"),
                                  "confirmed": N_("Confirmed, to take place"),
                                  "other_time": N_("Another time asked for"), "cancelled": N_("Cancelled"),
                                  "attended": N_("Attended"), "no_show": N_("Did not come")},
    "interview_action": {"confirm": N_("Confirm the interview"), "other_time": N_("Ask for another time"),
                         "cancel": N_("Cancel the interview"), "attended": N_("The person came"),
                         "no_show": N_("The person did not come")},
    "fair_interview_status": {"planned": N_("Planned"), "held": N_("Held"), "no_show": N_("Did not come"),
                              "cancelled": N_("Cancelled")},
    "interview_source": {"referral": N_("Referral"), "fair": N_("Job fair")},
    # Follow-up (matcher.followup): a check's status, what it found, and what a visit found.
    "task_status": {"open": N_("To do"), "done": N_("Done"), "cancelled": N_("No longer needed")},
    "follow_up_result": {"staying": N_("Still working"), "left": N_("Has left"), "unreachable": N_("Could not reach")},
    "employment_state": {"working": N_("Still working"), "left": N_("Has left")},
    # Why a referral ended (matcher.referrals.lifecycle.EndReason): the reason a base learns.
    "end_reason": {"not_suitable": N_("Not suitable"), "position_filled": N_("Position filled"),
                   "no_show": N_("Did not come"), "candidate_declined": N_("The candidate declined"),
                   "other_job": N_("Took another job or course"), "health": N_("Health"),
                   "moved_away": N_("Moved away"), "family": N_("Family reasons"), "dismissed": N_("Dismissed"),
                   "contract_ended": N_("The job or course ended"), "personal": N_("Personal reasons"),
                   "other": N_("Other")},
}
