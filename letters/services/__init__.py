"""Writes. Every state change of the letters domain goes through one of these
(named `<entity>_<verb>`, keyword-only).  The submodules document their
locking rules."""

from __future__ import annotations

from letters.services.counts import (
    counts_fold,
    counts_fold_all,
    counts_recount,
    counts_recount_all,
)
from letters.services.drafting import TranslationInput, letter_create, letter_publish
from letters.services.errors import ServiceError
from letters.services.signatures import (
    SignOutcome,
    sign_rate_exceeded,
    signature_confirm,
    signature_create,
    signature_mark_email_failed,
    signature_record_email_sent,
    signature_withdraw,
    signatures_delete_stale,
    signatures_resend_unsent,
)

__all__ = [
    "ServiceError",
    "SignOutcome",
    "TranslationInput",
    "counts_fold",
    "counts_fold_all",
    "counts_recount",
    "counts_recount_all",
    "letter_create",
    "letter_publish",
    "sign_rate_exceeded",
    "signature_confirm",
    "signature_create",
    "signature_mark_email_failed",
    "signature_record_email_sent",
    "signature_withdraw",
    "signatures_delete_stale",
    "signatures_resend_unsent",
]
