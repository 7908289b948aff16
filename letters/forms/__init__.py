"""Forms validate shape only; domain rules live in services.

Grouped by who fills them in: `signing` (signers), `organise` (organisers
drafting and moderating), `delivery` (delivery, leadership's response,
updates).  Every form is importable from here."""

from __future__ import annotations

from letters.forms.delivery import (
    DeliveryForm,
    LinkEmailForm,
    ResponseForm,
    UpdateForm,
)
from letters.forms.organise import (
    DOMAIN_RE,
    InvalidateFilterForm,
    InviteForm,
    LetterForm,
    ReasonForm,
    RoleForm,
    TranslationForm,
)
from letters.forms.signing import ConfirmForm, SignForm

__all__ = [
    "DOMAIN_RE",
    "ConfirmForm",
    "DeliveryForm",
    "InvalidateFilterForm",
    "InviteForm",
    "LetterForm",
    "LinkEmailForm",
    "ReasonForm",
    "ResponseForm",
    "RoleForm",
    "SignForm",
    "TranslationForm",
    "UpdateForm",
]
