"""What a bearer token in a link names: an organiser invitation, a
leadership link.  Unknown, revoked, expired and tampered tokens all give
None (and the same page)."""

from __future__ import annotations

from django.utils import timezone

from letters.models import Invitation, LeadershipLink, LetterStatus
from letters.tokens import hash_token


def invitation_get(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("letter")
        .filter(token_hash=hash_token(token), accepted_at__isnull=True)
        .first()
    )


def leadership_link_get(*, token: str) -> LeadershipLink | None:
    """The live link a token names, or None (revoked, expired, unknown and
    tampered tokens, and links of an archived letter, which is withdrawn from
    view, are indistinguishable)."""
    if not token:
        return None
    link = (
        LeadershipLink.objects.select_related("delivery__letter", "delivery__version")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .exclude(delivery__letter__status=LetterStatus.ARCHIVED)
        .exclude(delivery__letter__status=LetterStatus.TAKEN_DOWN)  # its text is shown nowhere
        .first()
    )
    if link is None or (link.expires_at is not None and link.expires_at <= timezone.now()):
        return None
    return link
