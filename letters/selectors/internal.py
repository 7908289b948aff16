"""Reads for internal letters' reading passes (letters/services/internal.py)."""

from __future__ import annotations

from django.utils import timezone

from letters.models import ReadPass
from letters.tokens import hash_token


def read_pass_find(*, token: str) -> ReadPass | None:
    """The unexpired pass `token` stands for, used or not; None for an
    unknown or expired one."""
    if not token or len(token) > 100:
        return None
    return ReadPass.objects.filter(
        token_hash=hash_token(token), expires_at__gt=timezone.now()
    ).first()
