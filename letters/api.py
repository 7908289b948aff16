"""The read API: JSON, cached for everyone between count updates, open to
every origin.

Every answer is the same bytes for every visitor (`public_response`), so it
carries no credentials and CORS is a constant `Access-Control-Allow-Origin: *`.
Signers appear only as counts: nothing here reads a signature row except
`letter_day_counts_cached`, which counts them (and small days are suppressed).
The OpenAPI document (`letters.openapi`) describes exactly these answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from letters import openapi, selectors
from letters.http import public_response, same_for_everyone
from letters.links import letter_url
from letters.models import Letter
from letters.replica import reads_from_replica
from letters.selectors import Counts
from letters.selectors.employers import employer_counts
from letters.suppression import suppress

ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
READ_METHODS = frozenset({"GET", "HEAD"})
PREFLIGHT_MAX_AGE = 86400


def _json(data: Any) -> tuple[bytes, str]:
    return json.dumps(data, ensure_ascii=False).encode(), "application/json"


def _error(status: int, detail: str) -> HttpResponse:
    body, content_type = _json({"detail": detail})
    return HttpResponse(body, content_type=content_type, status=status)


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET (and HEAD, its headers alone) only, readable from any origin.

    OPTIONS answers the CORS preflight (GET only, no credentials; HEAD needs
    no preflight); any other method is 405 with `Allow`.  A missing letter is a JSON 404.  CSRF does
    not apply: nothing here changes state, and exempting it lets a stray
    POST get its honest 405 rather than a CSRF 403.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET"
            response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        elif request.method not in READ_METHODS:
            response = _error(405, "Method not allowed.")
        else:
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                response = _error(404, "Not found.")
        if request.method not in READ_METHODS:
            response["Allow"] = ", ".join(ALLOWED_METHODS)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag"
        return response

    return csrf_exempt(wrapped)


def _letter_summary(letter: Letter, counts: Counts) -> dict[str, Any]:
    return {
        "slug": letter.slug,
        "title": letter.title,
        "status": letter.status,
        "url": letter_url(letter),
        "confirmed_count": counts.confirmed,
        "goal": letter.goal,
    }


def _totals(letter: Letter, counts: Counts) -> dict[str, int]:
    return {
        "confirmed_count": counts.confirmed,
        "anonymous_count": counts.anonymous,
        "paper_count": letter.paper_count,
        "total": counts.confirmed + letter.paper_count,
    }


def _employers(letter: Letter, counts: Counts) -> dict[str, Any]:
    """A coalition letter's counts per employer, in the letter's order, and
    its other supporters apart (null unless the letter accepts them): each
    a total (DESIGN §2 rule 9), never anything inside an employer."""
    rows = employer_counts(letter=letter, confirmed_total=counts.confirmed)
    return {
        "employers": [
            {"name": e.name, "confirmed": e.confirmed, "paper": e.paper, "total": e.total}
            for e in rows.employers
        ],
        "other_supporters": {
            "confirmed": rows.supporters,
            "paper": rows.supporters_paper,
            "total": rows.supporters + rows.supporters_paper,
        }
        if letter.accept_supporters and rows.employers
        else None,
    }


def _demands(letter: Letter) -> list[dict[str, Any]]:
    """The current text's demands, each with the latest response's answer to
    the demand at the same position of the delivered text (None if none)."""
    text = selectors.letter_text(letter, letter.language)
    responses = selectors.letter_responses(letter=letter)
    answers = [d.answer for d in responses[0].demands] if responses else []
    return [
        {"text": demand, "answer": answers[i] if i < len(answers) else None}
        for i, demand in enumerate(text.demands)
    ]


def letter_detail_data(letter: Letter) -> dict[str, Any]:
    """Everything the API says about one letter: counts, never names."""
    counts = selectors.letter_counts(letter_id=letter.pk)
    return {
        **_letter_summary(letter, counts),
        **_totals(letter, counts),
        **_employers(letter, counts),
        "language": letter.language,
        "published_at": letter.published_at.isoformat() if letter.published_at else None,
        "addressees": [{"name": a.name, "role": a.role} for a in letter.addressees.all()],
        "demands": _demands(letter),
        "timeline": [
            {"kind": e.kind, "text": e.text, "created_at": e.created_at.isoformat()}
            for e in selectors.letter_events(letter=letter)
        ],
        "versions": [
            {
                "number": row.version.number,
                "created_at": row.version.created_at.isoformat(),
                "change_note": row.version.change_note,
                "public_count": row.named,
                "fingerprint": row.fingerprint,
                "languages": [letter.language, *row.languages],
            }
            for row in selectors.letter_versions(letter=letter)
        ],
        "responses": [
            {
                "statement": r.response.statement,
                "created_at": r.response.created_at.isoformat(),
                "source": r.response.source,
            }
            for r in selectors.letter_responses(letter=letter)
        ],
    }


def letter_counts_data(letter: Letter) -> dict[str, Any]:
    """The net change of the confirmed count per day (may be negative; see
    `selectors.letter_day_counts`), oldest first, small changes suppressed
    (with complementary suppression, so no hidden day follows from the total).
    The days add up to the exact total (`letter_day_counts_cached`)."""
    threshold = settings.EXPORT_MIN_GROUP
    counts = selectors.letter_counts(letter_id=letter.pk)
    days = selectors.letter_day_counts_cached(letter=letter, confirmed=counts.confirmed)
    cells = suppress(days, threshold)
    return {
        "slug": letter.slug,
        **_totals(letter, counts),
        "min_group": threshold,
        "days": [
            {"date": c.label, "count": c.count, "suppressed": c.count is None}
            for c in sorted(cells, key=lambda c: c.label)
        ],
    }


@same_for_everyone("GET", "HEAD")
@api_view
def letters_list(request: HttpRequest) -> HttpResponse:
    @reads_from_replica
    def build() -> tuple[bytes, str]:
        letters = list(selectors.letters_open()[:500])
        counts = selectors.letter_counts_many([letter.pk for letter in letters])
        return _json({"letters": [_letter_summary(x, counts[x.pk]) for x in letters]})

    return public_response(request, "api:letters", build)


@same_for_everyone("GET", "HEAD")
@api_view
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _about_letter(request, slug, "letter", letter_detail_data)


@same_for_everyone("GET", "HEAD")
@api_view
def letter_counts(request: HttpRequest, slug: str) -> HttpResponse:
    return _about_letter(request, slug, "counts", letter_counts_data)


def _about_letter(
    request: HttpRequest, slug: str, what: str, data: Callable[[Letter], dict[str, Any]]
) -> HttpResponse:
    """A cached JSON answer about one public letter (from the replica
    where one is fresh)."""

    @reads_from_replica
    def build() -> tuple[bytes, str]:
        return _json(data(selectors.letter_public_get(slug=slug)))

    return public_response(request, f"api:{what}:{slug}", build)


@api_view
def openapi_document(request: HttpRequest) -> HttpResponse:
    return public_response(request, "api:openapi", lambda: _json(openapi.document()))


@api_view
def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404
