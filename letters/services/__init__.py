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
from letters.services.delivery import (
    IssuedLink,
    Recipient,
    leadership_link_email,
    leadership_link_revoke,
    letter_acknowledge,
    letter_deliver,
    letter_post_update,
    letter_respond,
    letters_mark_overdue,
    signature_unsubscribe,
)
from letters.services.drafting import (
    LetterInput,
    TranslationInput,
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
    translations_out_of_step,
)
from letters.services.emailing import (
    SenderRun,
    TryLater,
    Undeliverable,
    event_email_send,
    event_fan_out,
    invitation_email_send,
    leadership_link_send,
    new_version_fan_out,
    organisers_tell_event,
    organisers_tell_milestone,
    signature_emails_send,
    version_email_send,
)
from letters.services.errors import ServiceError
from letters.services.events import letter_news_fan_out, news_send_overdue
from letters.services.moderation import (
    SignatureFilter,
    signature_invalidate,
    signatures_invalidate_matching,
    signatures_matching_count,
)
from letters.services.organisers import (
    invitation_accept,
    organiser_invite,
    organiser_remove,
    organiser_set_role,
)
from letters.services.retention import letter_erase_identities, signatures_erase_retained
from letters.services.signatures import (
    signature_accept_version,
    signature_hide_name,
    signature_withdraw,
    signatures_delete_stale,
    signatures_resend_unsent,
)
from letters.services.signing import (
    SignerDetails,
    signature_confirm,
    signature_create,
    signature_personal_confirm,
)

__all__ = [
    "IssuedLink",
    "LetterInput",
    "Recipient",
    "SenderRun",
    "ServiceError",
    "SignatureFilter",
    "SignerDetails",
    "TranslationInput",
    "TryLater",
    "Undeliverable",
    "audit",
    "counts_fold",
    "counts_fold_all",
    "counts_recount",
    "counts_recount_all",
    "event_email_send",
    "event_fan_out",
    "invitation_accept",
    "invitation_email_send",
    "leadership_link_email",
    "leadership_link_revoke",
    "leadership_link_send",
    "letter_acknowledge",
    "letter_archive",
    "letter_close",
    "letter_create",
    "letter_deliver",
    "letter_duplicate",
    "letter_edit",
    "letter_erase_identities",
    "letter_news_fan_out",
    "news_send_overdue",
    "letter_post_update",
    "letter_preview_link_create",
    "letter_preview_link_revoke",
    "letter_publish",
    "letter_respond",
    "letter_set_paper_count",
    "letters_close_due",
    "letters_mark_overdue",
    "new_version_fan_out",
    "organiser_invite",
    "organiser_remove",
    "organiser_set_role",
    "organisers_tell_event",
    "organisers_tell_milestone",
    "signature_accept_version",
    "signature_confirm",
    "signature_create",
    "signature_emails_send",
    "signature_hide_name",
    "signature_invalidate",
    "signature_personal_confirm",
    "signature_unsubscribe",
    "signature_withdraw",
    "signatures_delete_stale",
    "signatures_erase_retained",
    "signatures_invalidate_matching",
    "signatures_matching_count",
    "signatures_resend_unsent",
    "translation_save",
    "translations_out_of_step",
    "version_email_send",
]
