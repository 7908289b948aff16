"""Every email, made into MIME by `speed.email_headers.Email` (which remembers
its header classes), is byte for byte what Django's own email makes."""

from __future__ import annotations

import email.policy
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from letters.notifications import build_email
from speed.email_headers import Email

NAMES = sorted(
    {p.name.rsplit("-", 1)[0] for p in (Path(settings.BASE_DIR) / "templates/emails").iterdir()}
)

CONTEXT = {
    "confirm_url": "https://example.org/s/AbC-123:xyz/",
    "max_age_days": 7,
    "pending_days": 30,
    "letter_title": "Beschäftigte von Northwind: Unsere Software darf ICE nicht antreiben, "
    "und wir bitten die Geschäftsführung, das öffentlich zu sagen",
    "letter_url": "https://example.org/letters/northwind-ice/",
    "group_name": "Lagerbeschäftigte von Northwind",
    "withdraw_url": "https://example.org/w/AbC-123:xyz/",
    "review_url": "https://example.org/v/AbC-123:xyz/",
    "unsubscribe_url": "https://example.org/u/AbC-123:xyz/",
    "change_note": "Zweiter Absatz präzisiert.",
    "kind": "Antwort",
    "text": "Die Geschäftsführung hat geantwortet: «Wir prüfen das.»",
    "role": "Mitorganisator·in",
    "inviter": "Zoë Ångström",
    "accept_url": "https://example.org/organise/invitations/AbC/",
    "news": "1000 Menschen haben unterschrieben",
    "url": "https://example.org/organise/northwind-ice/",
    "name": "Jürgen Groß",
    "expires_at": "2026-12-31",
    "hours": 24,
}


def _bytes(message: EmailMultiAlternatives) -> bytes:
    raw = message.message(policy=email.policy.SMTP).as_bytes()
    return re.sub(rb"={15}\d+==", b"BOUNDARY", raw)  # random per message


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("name", NAMES)
def test_every_email_is_the_same_bytes_as_djangos_own(name, language):
    ours = build_email(name=name, to="jürgen@bücher.example", context=CONTEXT, language=language)
    ours.extra_headers |= {"Date": "Sat, 28 Nov 2026 15:00:00 +0000", "Message-ID": "<1@x>"}
    plain = EmailMultiAlternatives(
        subject=ours.subject,
        body=ours.body,
        from_email=ours.from_email,
        to=ours.to,
        headers=ours.extra_headers,
        alternatives=ours.alternatives,
    )
    assert isinstance(ours, Email)
    assert _bytes(ours) == _bytes(plain)
    assert b"=?utf-8?" in _bytes(ours) or language == "en"  # German subjects are encoded
