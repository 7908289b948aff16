"""The embeddable widget: a letter's title, count and progress in a frame
that any site may show.  The one page without frame-ancestors 'none'.

Its address takes two options (templates/organise/_widget_snippet.html
explains them to organisers):

- `lang`: the widget's language (else the visitor's, as on every page).
  Its links to the letter carry it, so the letter opens in the language the
  widget spoke.  It is not remembered: the frame sits on someone else's
  site, and its answer stays one shared copy.
- `theme`: `light` (the default), `dark`, or `auto` (the visitor's
  light or dark preference).  Anything else is `light`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP  # type: ignore[import-untyped,unused-ignore]
from django.utils.translation import get_language
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override  # type: ignore[import-untyped,unused-ignore]
from django.views.decorators.http import require_safe

from letters import selectors
from letters.http import public_page, query_language
from letters.links import letter_url
from letters.views.public import employer_chart_for

# The site's policy, except that any site may frame this page.  The frame is
# inert: no script, no form; its one link opens the letter in a new tab.
EMBED_CSP: dict[str, Any] = {
    **settings.SECURE_CSP,
    "frame-ancestors": ["*"],
    "script-src": [CSP.NONE],
    "form-action": [CSP.NONE],
}

THEMES = ("light", "dark", "auto")

# A coalition letter's widget names its largest employers with their
# totals (verified and on paper) and the number of the others; the other
# supporters are in the count, never in an employer's figure.  In English
# and German this fits the documented 320 by 340 pixels beside every other
# line at its longest (tests/test_browser_widget.py).
WIDGET_EMPLOYERS = 2


@xframe_options_exempt
@csp_override(EMBED_CSP)
@require_safe
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """Cached like the letter page (same bytes for every visitor of a
    language), one copy per theme."""
    query_language(request)
    theme = request.GET.get("theme", "") if request.META.get("QUERY_STRING") else ""
    if theme not in THEMES:
        theme = THEMES[0]

    def context() -> dict[str, Any]:
        letter = selectors.letter_public_get(slug=slug)
        counts = selectors.letter_counts(letter_id=letter.pk)
        total = counts.confirmed + letter.paper_count
        language = get_language() or letter.language
        chart = employer_chart_for(letter, counts)
        largest, others = chart.largest(WIDGET_EMPLOYERS) if chart else ([], 0)
        return {
            "letter": letter,
            "text": selectors.letter_text(letter, language),
            "counts": counts,
            "total": total,
            "goal_percent": min(100, round(100 * total / letter.goal)) if letter.goal else None,
            "letter_url": f"{letter_url(letter)}?{urlencode({'lang': language})}",
            "theme": theme,
            "employer_chart": chart,
            "largest_employers": largest,
            "other_employers": others,
        }

    return public_page(
        request, f"embed:{slug}:{theme}", "letters/embed.html", context, from_replica=True
    )
