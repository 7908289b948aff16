"""The embeddable widget: a letter's title, count and progress in a frame
that any site may show.  The one page without frame-ancestors 'none'."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP  # type: ignore[import-untyped,unused-ignore]
from django.utils.translation import get_language
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override  # type: ignore[import-untyped,unused-ignore]
from django.views.decorators.http import require_safe

from letters import selectors
from letters.http import language_from_query, public_page
from letters.links import letter_url

# The site's policy, except that any site may frame this page.  The frame is
# inert: no script, no form; its one link opens the letter in a new tab.
EMBED_CSP: dict[str, Any] = {
    **settings.SECURE_CSP,
    "frame-ancestors": ["*"],
    "script-src": [CSP.NONE],
    "form-action": [CSP.NONE],
}


@xframe_options_exempt
@csp_override(EMBED_CSP)
@require_safe
@language_from_query
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """Cached like the letter page (same bytes for every visitor of a language)."""

    def context() -> dict[str, Any]:
        letter = selectors.letter_public_get(slug=slug)
        counts = selectors.letter_counts(letter_id=letter.pk)
        total = counts.confirmed + letter.paper_count
        return {
            "letter": letter,
            "text": selectors.letter_text(letter, get_language() or letter.language),
            "counts": counts,
            "total": total,
            "goal_percent": min(100, round(100 * total / letter.goal)) if letter.goal else None,
            "letter_url": letter_url(letter),
        }

    return public_page(request, f"embed:{slug}", "letters/embed.html", context)
