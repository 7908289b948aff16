"""Writes. Every state change of the letters domain goes through one of these
(named `<entity>_<verb>`, keyword-only).  The submodules document their
locking rules."""

from __future__ import annotations

from letters.services.audit import audit
from letters.services.counts import (
    counts_fold,
    counts_fold_all,
    counts_recount,
    counts_recount_all,
)
from letters.services.drafting import (
    LetterInput,
    TranslationInput,
    hash_token,
    letter_archive,
    letter_close,
    letter_create,
    letter_duplicate,
    letter_edit,
    letter_preview_link_create,
    letter_preview_link_revoke,
    letter_publish,
    letter_set_paper_count,
    letters_close_due,
    translation_save,
)
from letters.services.errors import ServiceError
from letters.services.moderation import (
    SignatureFilter,
    signature_invalidate,
    signatures_invalidate_matching,
    signatures_matching_count,
)
from letters.services.organisers import (
    invitation_accept,
    invitation_get,
    organiser_invite,
    organiser_remove,
    organiser_set_role,
)
from letters.services.signatures import (
    SignOutcome,
    count_change,
    sign_rate_exceeded,
    signature_accept_version,
    signature_confirm,
    signature_create,
    signature_mark_email_failed,
    signature_record_email_sent,
    signature_record_notified,
    signature_withdraw,
    signatures_delete_stale,
    signatures_resend_unsent,
    signatures_to_notify,
)

__all__ = [
    "LetterInput",
    "ServiceError",
    "SignOutcome",
    "SignatureFilter",
    "TranslationInput",
    "audit",
    "count_change",
    "counts_fold",
    "counts_fold_all",
    "counts_recount",
    "counts_recount_all",
    "hash_token",
    "invitation_accept",
    "invitation_get",
    "letter_archive",
    "letter_close",
    "letter_create",
    "letter_duplicate",
    "letter_edit",
    "letter_preview_link_create",
    "letter_preview_link_revoke",
    "letter_publish",
    "letter_set_paper_count",
    "letters_close_due",
    "organiser_invite",
    "organiser_remove",
    "organiser_set_role",
    "sign_rate_exceeded",
    "signature_accept_version",
    "signature_confirm",
    "signature_create",
    "signature_invalidate",
    "signature_mark_email_failed",
    "signature_record_email_sent",
    "signature_record_notified",
    "signature_withdraw",
    "signatures_delete_stale",
    "signatures_invalidate_matching",
    "signatures_matching_count",
    "signatures_resend_unsent",
    "signatures_to_notify",
    "translation_save",
]
