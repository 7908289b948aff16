"""The letters domain: letters, their immutable versions, signatures, counts.

Rules the database enforces (services turn IntegrityError into outcomes):
- one live (pending or confirmed) signature per letter and canonical email;
- a withdrawn signature holds no personal data;
- a version number is unique per letter.

Counts never live on the letter row: confirming or withdrawing a signature
inserts a CountDelta row; `counts_fold` folds deltas into LetterStats every
COUNT_INTERVAL seconds and `counts_recount` repairs drift.

One module per topic; import the names from here (`from letters.models
import Letter`):
- `letter`: letters and their versions (Letter, LetterVersion, Demand, ...);
- `signature`: signatures and folded counts (Signature, CountDelta, ...);
- `delivery`: timeline, delivery, response, event emails, milestones;
- `organisers`: organisers, invitations and the audit log;
- `employers`: the employers a (coalition) letter speaks for, their counts;
- `groups`: organising groups, their members and invitations;
- `paper`: signatures collected on paper, in batches (PaperBatch);
- `internal`: the one-time reading passes of internal letters (ReadPass);
- `languages`: the configured languages, read from settings when asked;
- `templates`: the letter templates organisers start a draft from.
"""

from __future__ import annotations

from letters.models.delivery import (
    PRIVATE_KINDS,
    Answer,
    Delivery,
    DeliveryMethod,
    DemandAnswer,
    EventEmail,
    EventKind,
    LeadershipLink,
    LetterEvent,
    Milestone,
    Response,
)
from letters.models.employers import Employer, EmployerStats
from letters.models.groups import Group, GroupInvitation, GroupMember, GroupRole
from letters.models.held import HeldReason, OfficeRange
from letters.models.internal import ReadPass
from letters.models.languages import default_language, language_choices
from letters.models.letter import (
    PUBLIC_STATUSES,
    Addressee,
    Demand,
    Letter,
    LetterStatus,
    LetterVersion,
    VersionTranslation,
)
from letters.models.moderation import (
    REPORT_TEXT_MAX,
    AppealDecision,
    Report,
    ReportOutcome,
    ReportReason,
    Takedown,
)
from letters.models.organisers import AuditLog, Invitation, Organiser, OrganiserRole
from letters.models.paper import PaperBatch
from letters.models.signature import (
    ERASED_FIELDS,
    LIVE_STATUSES,
    UNNAMED,
    WITHDRAWN_FIELDS,
    CountDelta,
    Display,
    EmailKind,
    LetterStats,
    Signature,
    SignatureStatus,
    VersionStats,
)
from letters.models.templates import LetterTemplate

__all__ = [
    "ERASED_FIELDS",
    "LIVE_STATUSES",
    "PRIVATE_KINDS",
    "PUBLIC_STATUSES",
    "REPORT_TEXT_MAX",
    "UNNAMED",
    "WITHDRAWN_FIELDS",
    "Addressee",
    "Answer",
    "AppealDecision",
    "AuditLog",
    "CountDelta",
    "Delivery",
    "DeliveryMethod",
    "Demand",
    "DemandAnswer",
    "Display",
    "EmailKind",
    "Employer",
    "EmployerStats",
    "EventEmail",
    "EventKind",
    "Group",
    "GroupInvitation",
    "GroupMember",
    "GroupRole",
    "HeldReason",
    "Invitation",
    "LeadershipLink",
    "Letter",
    "LetterEvent",
    "LetterStats",
    "LetterStatus",
    "LetterTemplate",
    "LetterVersion",
    "Milestone",
    "OfficeRange",
    "Organiser",
    "OrganiserRole",
    "PaperBatch",
    "ReadPass",
    "Report",
    "ReportOutcome",
    "ReportReason",
    "Response",
    "Signature",
    "SignatureStatus",
    "Takedown",
    "VersionStats",
    "VersionTranslation",
    "default_language",
    "language_choices",
]
