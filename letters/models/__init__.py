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
- `languages`: the configured languages, read from settings when asked.
"""

from __future__ import annotations

from letters.models.delivery import (
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
from letters.models.organisers import AuditLog, Invitation, Organiser, OrganiserRole
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

__all__ = [
    "ERASED_FIELDS",
    "LIVE_STATUSES",
    "PUBLIC_STATUSES",
    "UNNAMED",
    "WITHDRAWN_FIELDS",
    "Addressee",
    "Answer",
    "AuditLog",
    "CountDelta",
    "Delivery",
    "DeliveryMethod",
    "Demand",
    "DemandAnswer",
    "Display",
    "EmailKind",
    "EventEmail",
    "EventKind",
    "Invitation",
    "LeadershipLink",
    "Letter",
    "LetterEvent",
    "LetterStats",
    "LetterStatus",
    "LetterVersion",
    "Milestone",
    "Organiser",
    "OrganiserRole",
    "Response",
    "Signature",
    "SignatureStatus",
    "VersionStats",
    "VersionTranslation",
    "default_language",
    "language_choices",
]
