"""Whether an account has a second factor: an authenticator app (TOTP) or a
passkey / security key (WebAuthn).  Recovery codes alone are none: they only
stand in for one of those."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings

FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTORS).exists()


def second_factor_required() -> bool:
    """The operator's setting (config/auth.py: REQUIRE_ORGANISER_2FA)."""
    return bool(getattr(settings, "REQUIRE_ORGANISER_2FA", False))
