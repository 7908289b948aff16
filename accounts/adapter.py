"""allauth's emails name the site, not the host that served the request.

Without `django.contrib.sites`, allauth's `current_site` is the request's
host ("Hello from 127.0.0.1:8000!"); our emails say "Undersigned" and the
host of SITE_URL, whatever host the request came through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

SITE_NAME = "Undersigned"


@dataclass(frozen=True)
class SiteName:
    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        site = SiteName(name=SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        super().send_mail(template_prefix, email, {"current_site": site, **context})
