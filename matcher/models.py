"""Imports every ORM model so the metadata (and Alembic) sees the whole schema."""

from matcher.agenda.models import CalendarFeed  # noqa: F401, E402
from matcher.audit.models import AuditEvent, IdempotencyKey  # noqa: F401, E402
from matcher.auth.models import Account, ApiToken, Role  # noqa: F401
from matcher.bases.models import (  # noqa: F401
    Agreement,
    AnswerRules,
    CertificationEvent,
    CertificationStatus,
    Company,
    Complaint,
    SizeBand,
)
from matcher.candidates.models import (  # noqa: F401
    Candidate,
    CandidateSkill,
    Certificate,
    Consent,
    DisclosurePurpose,
    PreferredCourse,
    Reoffence,
    RiskAssessment,
    Visit,
)
from matcher.exports.models import ExportRequest, ExportRequestStatus  # noqa: F401, E402
from matcher.fairs.models import (  # noqa: F401, E402
    Fair,
    FairBooth,
    FairBoothSlot,
    FairInterview,
    FairInvitation,
    FairPlanRun,
)
from matcher.followup.models import FollowUpTask  # noqa: F401, E402
from matcher.interviews.models import ReferralInterview  # noqa: F401, E402
from matcher.jobs.models import Job, JobStatus  # noqa: F401, E402
from matcher.matching.models import AssignmentDraft, AssignmentDraftItem, OccupationalBan, ScoringModel  # noqa: F401, E402
from matcher.notify.models import Notification  # noqa: F401, E402
from matcher.offices.models import JudicialOffice  # noqa: F401
from matcher.places.models import Place  # noqa: F401
from matcher.reference.models import Course, Occupation, Skill, SkillTextMapping  # noqa: F401
from matcher.referrals.models import Referral, ReferralEvent  # noqa: F401
from matcher.slots.models import Slot, SlotSkill  # noqa: F401
