from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    """Values every template may use; nothing here varies per visitor."""
    return {"SITE_URL": settings.SITE_URL, "OUTBOX_ENABLED": settings.OUTBOX_ENABLED}
