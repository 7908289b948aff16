"""Comments apart from signatures (issue 19).

An organiser with the moderate capability hides one public signer's
comment, with a reason: the comment is kept (withdrawal and retention erase
it with the rest) and shown nowhere (`selectors.shown_comment`: letter
page, signatories, exports, packet); the signature, its name and its count
are untouched.  The signer, if they asked for updates, is emailed once
(`comment_hidden_email_send`; a work address without a confirmed personal
one gets only the neutral notice, DESIGN §2 rule 12).  Each hiding is in
the audit log; nothing goes on the public timeline.

A letter's public comments can be turned off (`letter_set_public_comments`):
the sign and confirm forms then ask for none, new signatures store none,
and existing ones are kept but shown nowhere until they are turned on.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from letters import notifications
from letters.models import Letter, Signature, SignatureStatus
from letters.queue import enqueue
from letters.selectors.comments import commented
from letters.services.audit import audit
from letters.services.emailing import _opened, deliver
from letters.services.errors import ServiceError

REASON_MAX = 300  # characters, as the hidden reason is stored

__all__ = ["comment_hidden_email_send", "letter_set_public_comments", "signature_comment_hide"]


@transaction.atomic
def signature_comment_hide(
    *, letter: Letter, by: User | None, signature_id: int, reason: str
) -> None:
    """Hide the comment of one of the letter's confirmed public signers (the
    ones `selectors.letter_comments` lists).  Locks that signature's row
    only; changes no count.  Raises ServiceError without a reason, or if
    there is no such comment still shown."""
    reason = " ".join(reason.split())
    if not reason:
        raise ServiceError(_("Give a reason."), field="reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(
            _("Keep the reason under %(n)d characters.") % {"n": REASON_MAX}, field="reason"
        )
    signature = (
        commented(letter)
        .select_for_update()
        .filter(pk=signature_id, comment_hidden_at__isnull=True)
        .only("pk", "wants_updates")
        .first()
    )
    if signature is None:
        raise ServiceError(_("This comment cannot be hidden."))
    Signature.objects.filter(pk=signature.pk).update(
        comment_hidden_at=timezone.now(), comment_hidden_reason=reason
    )
    audit(
        actor=by,
        action="comment.hide",
        letter=letter,
        target=f"signature {signature.pk}",
        reason=reason,
    )
    if signature.wants_updates:
        enqueue("send_comment_hidden_email", signature.pk)


@transaction.atomic
def letter_set_public_comments(*, letter: Letter, by: User | None, enabled: bool) -> bool:
    """Turn the letter's public comments on or off; returns whether it
    changed.  Existing comments are kept either way."""
    changed = (
        Letter.objects.filter(pk=letter.pk)
        .exclude(public_comments=enabled)
        .update(public_comments=enabled)
    )
    letter.public_comments = enabled
    if changed:
        audit(
            actor=by,
            action="letter.public_comments",
            letter=letter,
            target=f"letter {letter.pk}",
            enabled=enabled,
        )
    return bool(changed)


def comment_hidden_email_send(*, signature_id: int) -> str:
    """Tell the signer, once, that an organiser hid their comment and why
    (that their signature still counts).  Re-checks that they still want
    updates and the comment is still hidden; records the send."""
    signature = (
        Signature.objects.select_related("letter")
        .filter(
            pk=signature_id,
            status=SignatureStatus.CONFIRMED,
            wants_updates=True,
            comment_hidden_at__isnull=False,
            comment_hidden_told_at__isnull=True,
        )
        .first()
    )
    if signature is None:
        return "skipped"
    deliver(_opened(lambda: notifications.comment_hidden_email(signature)))
    # Conditional: a retried or duplicate task records (and sends) once.
    Signature.objects.filter(pk=signature_id, comment_hidden_told_at__isnull=True).update(
        comment_hidden_told_at=timezone.now()
    )
    return "sent"
