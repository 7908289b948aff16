"""The read API: JSON, cached for everyone between count updates."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from letters import selectors
from letters.http import public_response
from letters.models import Letter
from letters.selectors import Counts


def _letter_summary(letter: Letter, counts: Counts) -> dict[str, Any]:
    return {
        "slug": letter.slug,
        "title": letter.title,
        "status": letter.status,
        "url": settings.SITE_URL + letter.get_absolute_url(),
        "confirmed_count": counts.confirmed,
        "goal": letter.goal,
    }


def _json(data: Any) -> tuple[bytes, str]:
    return json.dumps(data, ensure_ascii=False).encode(), "application/json"


@require_GET
def letters_list(request: HttpRequest) -> HttpResponse:
    def build() -> tuple[bytes, str]:
        letters = list(selectors.letters_open()[:500])
        counts = selectors.letter_counts_many([letter.pk for letter in letters])
        return _json({"letters": [_letter_summary(x, counts[x.pk]) for x in letters]})

    return public_response(request, "api:letters", build)


@require_GET
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_public_get(slug=slug)

    def build() -> tuple[bytes, str]:
        counts = selectors.letter_counts(letter_id=letter.pk)
        text = selectors.letter_text(letter, letter.language)
        data = _letter_summary(letter, counts)
        data.update(
            {
                "language": letter.language,
                "anonymous_count": counts.anonymous,
                "published_at": letter.published_at.isoformat() if letter.published_at else None,
                "addressees": [{"name": a.name, "role": a.role} for a in letter.addressees.all()],
                "demands": text.demands,
            }
        )
        return _json(data)

    return public_response(request, f"api:letter:{letter.slug}", build)
