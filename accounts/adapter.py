"""allauth's emails name the site, not the host that served the request.

Without `django.contrib.sites`, allauth's `current_site` is the request's
host ("Hello from 127.0.0.1:8000!") and its links start with that host; our
emails say "Undersigned", the host of SITE_URL, and link to SITE_URL (as
letters/links.py does for the site's own emails), whatever host the request
came through (a worker's address behind the proxy, say)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

SITE_NAME = "Undersigned"


@dataclass(frozen=True)
class SiteName:
    name: str
    domain: str


def on_site(url: str) -> str:
    """`url` (absolute, on whatever host allauth saw) on SITE_URL instead."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return settings.SITE_URL.rstrip("/") + path


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        site = SiteName(name=SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        super().send_mail(template_prefix, email, {"current_site": site, **context})

    def get_email_confirmation_url(
        self, request: HttpRequest, emailconfirmation: EmailConfirmation
    ) -> str:
        return on_site(super().get_email_confirmation_url(request, emailconfirmation))

    def get_reset_password_from_key_url(self, key: str) -> str:
        return on_site(super().get_reset_password_from_key_url(key))


class MfaAdapter(DefaultMFAAdapter):
    """Passkeys, security keys and authenticator apps name the site
    ("Undersigned"), not the host the request came through.  A passkey
    belongs to the host it was made on (the WebAuthn relying party is the
    request's host, allauth's default), so organisers make and use theirs
    on the site's address."""

    def _get_site_name(self) -> str:
        return SITE_NAME
