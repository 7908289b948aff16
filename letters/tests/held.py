"""Held signatures for tests: confirmed through the real confirm service
from a client over the rate limits, and (`days_ago`) held that many days
ago, as if the confirmation happened then (held signatures are reviewed
from the day after: `selectors.held_review_start`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.utils import timezone

from letters import services
from letters.models import HeldReason, Letter, Signature
from letters.tests.factories import pending_signature

# A client address the tests hold signatures from.
BUSY_NETWORK = "198.51.100.7"


def held_signature(
    letter: Letter,
    *,
    reason: str = HeldReason.BURST,
    days_ago: int = 1,
    client_ip: str = BUSY_NETWORK,
    **fields: Any,
) -> Signature:
    """A signature confirmed over the limit named by `reason` (the other
    limit left wide open), held since `days_ago` days."""
    limits = (
        {"SIGN_RATE_BURST": "0/60", "SIGN_RATE_SUSTAINED": "100000/86400"}
        if reason == HeldReason.BURST
        else {"SIGN_RATE_BURST": "100000/60", "SIGN_RATE_SUSTAINED": "0/86400"}
    )
    signature = pending_signature(letter, **fields)
    with override_settings(**limits):
        services.signature_confirm(signature=signature, client_ip=client_ip)
    signature.refresh_from_db()
    assert signature.flagged
    assert signature.held_reason == reason
    if days_ago:
        Signature.objects.filter(pk=signature.pk).update(
            confirmed_at=timezone.now() - timedelta(days=days_ago)
        )
        signature.refresh_from_db()
    return signature
