"""Absolute links: the one place that joins SITE_URL and `reverse()`.

Every link the site puts in an email, a feed, the API or a page shown
outside the request that made it comes from here, so a renamed or moved
route raises `NoReverseMatch` where the link is made instead of silently
sending broken links (`letters/tests/test_links.py` also refuses paths
written by hand after SITE_URL anywhere in the code).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from letters.models import Letter, Signature
from letters.tokens import Purpose, make_token

# The route that opens each kind of signer link.
SIGNER_ROUTES = {
    Purpose.CONFIRM: "signature_confirm",
    Purpose.WITHDRAW: "signature_withdraw",
    Purpose.NEW_VERSION: "signature_new_version",
    Purpose.UNSUBSCRIBE: "unsubscribe",
    Purpose.PERSONAL: "personal_confirm",
}


def absolute_url(viewname: str, **kwargs: Any) -> str:
    """SITE_URL joined with the route's path."""
    return settings.SITE_URL.rstrip("/") + reverse(viewname, kwargs=kwargs or None)


def letter_url(letter: Letter) -> str:
    return absolute_url("letters:detail", slug=letter.slug)


def signer_url(signature: Signature, purpose: Purpose) -> str:
    """A fresh emailed link of `purpose` for `signature`."""
    return absolute_url(SIGNER_ROUTES[purpose], token=make_token(signature, purpose))


def organiser_url(letter: Letter) -> str:
    return absolute_url("organise:letter", slug=letter.slug)
