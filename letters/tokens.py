"""Emailed links: signed, salted, expiring tokens naming a signature.

A token carries the signature id and its per-signature secret.  Erasing the
secret (withdrawal) revokes every link.  Tampered, expired, unknown and revoked
tokens are indistinguishable to the caller: each reads as None.
"""

from __future__ import annotations

import enum

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare

from letters.models import LIVE_STATUSES, Signature


class Purpose(enum.Enum):
    CONFIRM = "letters.signature.confirm"
    WITHDRAW = "letters.signature.withdraw"
    NEW_VERSION = "letters.signature.new-version"
    UNSUBSCRIBE = "letters.signature.unsubscribe"


def _max_age(purpose: Purpose) -> int:
    if purpose is Purpose.CONFIRM:
        return settings.SIGNATURE_CONFIRM_MAX_AGE
    if purpose in (Purpose.NEW_VERSION, Purpose.UNSUBSCRIBE):
        return settings.SIGNATURE_WITHDRAW_MAX_AGE
    return settings.SIGNATURE_WITHDRAW_MAX_AGE


def make_token(signature: Signature, purpose: Purpose) -> str:
    return signing.dumps([signature.pk, signature.secret], salt=purpose.value, compress=False)


def read_token(token: str, purpose: Purpose) -> Signature | None:
    """The live signature a token names, or None (never says why)."""
    try:
        pk, secret = signing.loads(token, salt=purpose.value, max_age=_max_age(purpose))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(pk, int) or not isinstance(secret, str) or not secret:
        return None
    signature = (
        Signature.objects.select_related("letter").filter(pk=pk, status__in=LIVE_STATUSES).first()
    )
    if signature is None or not constant_time_compare(signature.secret, secret):
        return None
    return signature
