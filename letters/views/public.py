"""Public pages: thin views calling one selector or service each."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import struct
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import format_html
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from letters import selectors
from letters.charts import (
    EmployerChart,
    chart_table_rows,
    employer_chart,
    signatures_chart_svg,
)
from letters.diff import version_diff_html
from letters.forms import SignForm
from letters.http import (
    Built,
    language_from_query,
    page_build,
    public_page,
    public_response,
    same_for_everyone,
)
from letters.links import letter_url
from letters.models import Letter, LetterStatus
from letters.refs import mask_id, unmask_id
from letters.replica import reads_from_replica
from letters.selectors.changes import index_changed_at, letter_changed_at
from letters.selectors.employers import employer_counts
from letters.suppression import merge_small_days
from letters.views import internal
from letters.views.reports import taken_down_build

SIGNATORIES_ON_LETTER_PAGE = 20
# A letter in these has been delivered: the page shows each employer's answer.
DELIVERED_STATUSES = (LetterStatus.DELIVERED, LetterStatus.ACKNOWLEDGED, LetterStatus.RESPONDED)


def chart_context(letter: Letter, counts: selectors.Counts | None = None) -> dict[str, Any]:
    """Signatures over time for anyone to see: days are merged so that no
    shown group is smaller than EXPORT_MIN_GROUP.  The day counts come
    from a cache, made to add up to the exact count (see
    `selectors.letter_day_counts_cached`)."""
    if counts is None:
        counts = selectors.letter_counts(letter_id=letter.pk)
    days = selectors.letter_day_counts_cached(letter=letter, confirmed=counts.confirmed)
    days = merge_small_days(days, settings.EXPORT_MIN_GROUP)
    if not days:
        return {"chart_svg": None, "chart_rows": []}
    return {
        "chart_svg": signatures_chart_svg(
            days,
            title=_("Signatures over time"),
            description=_("Verified signatures per day (small days merged) and in total."),
        ),
        "chart_rows": [row for row in chart_table_rows(days) if row[1]],
    }


def employer_chart_for(letter: Letter, counts: selectors.Counts) -> EmployerChart | None:
    """A coalition letter's signatures by employer (`letters.charts.employer_chart`),
    read with the page (four queries, whatever the number of employers), so
    they share its cached copy and its count interval."""
    total = counts.confirmed + letter.paper_count
    return employer_chart(
        employer_counts(letter=letter, confirmed_total=counts.confirmed),
        total=total,
        accept_supporters=letter.accept_supporters,
    )


def version_diff(
    older: selectors.VersionRow, newer: selectors.VersionRow, language: str | None = None
) -> str:
    """What changed between two versions, in `language` (the page's) where
    both versions were translated into it, else in the original."""
    language = language or get_language() or ""
    shown = language if language in older.languages and language in newer.languages else ""
    old_body, old_demands = older.text_html(shown)
    new_body, new_demands = newer.text_html(shown)
    newly_translated = language in newer.languages and language not in older.languages
    if newly_translated and (old_body, old_demands) == (new_body, new_demands):
        name = get_language_info(language)["name_local"]
        note = _("The text did not change: it was translated into %(language)s.")
        return format_html('<div class="diff"><p>{}</p></div>', note % {"language": name})
    return version_diff_html(old_body, old_demands, new_body, new_demands)


def letter_context(letter: Letter, form: SignForm | None) -> dict[str, Any]:
    """Everything the public letter page shows; nothing per visitor."""
    now = timezone.now()
    counts = selectors.letter_counts(letter_id=letter.pk)
    signatories = selectors.letter_public_signatories(
        letter=letter, limit=SIGNATORIES_ON_LETTER_PAGE + 1
    )
    total = counts.confirmed + letter.paper_count
    versions = selectors.letter_versions(letter=letter) if letter.published_at else []
    events = selectors.letter_events(letter=letter)
    responses = selectors.letter_responses(letter=letter)
    diffs = [(newer, version_diff(older, newer)) for newer, older in itertools.pairwise(versions)]
    return {
        "letter": letter,
        "text": selectors.letter_text(letter, get_language() or letter.language),
        "addressees": list(letter.addressees.all()),
        "counts": counts,
        "total": total,
        "signatories": signatories[:SIGNATORIES_ON_LETTER_PAGE],
        "more_signatories": len(signatories) > SIGNATORIES_ON_LETTER_PAGE,
        "names_hidden_until": letter.show_names_after
        if letter.list_public_signatories and not selectors.names_visible(letter, counts)
        else None,
        "form": form,
        "goal_percent": min(100, round(100 * total / letter.goal)) if letter.goal else None,
        "employer_chart": employer_chart_for(letter, counts),
        "letter_url": letter_url(letter),
        "versions": versions,
        # Named signers only: anonymous ones are in the total, in no version.
        "current_count": versions[0].named if versions else counts.public,
        "earlier_count": sum(v.named for v in versions[1:]),
        "diffs": diffs,
        "events": events,
        "responses": responses,
        # A coalition letter's employers side by side, once it was delivered.
        "employer_statuses": selectors.employer_statuses(letter=letter, now=now)
        if letter.status in DELIVERED_STATUSES
        else [],
        "content_changed_at": letter_changed_at(
            letter=letter, counts=counts, events=events, versions=versions, responses=responses
        ),
        **chart_context(letter, counts),
        # The current version is versions[0] once published (already read,
        # with its demands and translations); a draft's preview reads it.
        "fingerprint": versions[0].fingerprint
        if versions
        else selectors.version_fingerprint(letter.current_version)
        if letter.current_version
        else "",
        "now": now,
    }


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def letter_index(request: HttpRequest) -> HttpResponse:
    """Open letters, then past ones with what became of them (closed,
    delivered, acknowledged, responded); drafts and archived letters never."""

    def context() -> dict[str, Any]:
        index = selectors.letters_index()
        return {
            "rows": index.open,
            "past": index.past,
            "content_changed_at": index_changed_at(index),
        }

    return public_page(request, "index", "letters/index.html", context, from_replica=True)


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A cached copy costs no query; the letter is read only to rebuild it.
    A letter taken down by the moderators: the notice instead (one more
    query, only where the letter is not public).  An internal letter: its
    shared copy is the neutral form asking for a reading link
    (letters/views/internal.py); a browser with its reading grant gets the
    letter, private and never cached."""
    reader = internal.reader_letter(request, slug)  # no query without its cookie
    if reader is not None:
        return internal.private_page(
            request, "letters/detail.html", letter_context(reader, SignForm())
        )

    def context() -> dict[str, Any]:
        return letter_context(selectors.letter_public_get(slug=slug), SignForm())

    # The letter from the replica where one is fresh; an internal letter's
    # gate and the taken-down notice from the primary.
    detail = reads_from_replica(page_build(request, "letters/detail.html", context))

    def build() -> Built:
        try:
            return detail()
        except Http404:
            gate = internal.gate_build(request, slug)
            return gate if gate is not None else taken_down_build(request, slug)

    return public_response(request, f"letter:{slug}", build)


SIGNATORIES_PER_PAGE = 50


# A signatories cursor is opaque and issued by the site only: 8 bytes of
# confirmation time (microseconds), 8 bytes of the signature id through the
# keyed permutation of `letters.refs` (ids are a site-wide counter of sign
# attempts: two cursors must not tell how many people tried to sign in
# between), and a 10-byte HMAC over both, so that anything the site did not
# issue is refused and cannot fill the page cache with variants.
_CURSOR_BYTES = 26
_CURSOR_RE = re.compile(r"[A-Za-z0-9_-]{35}")


def _cursor_tag(payload: bytes) -> bytes:
    return salted_hmac("letters.signatories.cursor", payload, algorithm="sha256").digest()[:10]


def _cursor(signatory: selectors.PublicSignatory) -> str:
    assert signatory.confirmed_at is not None
    micro = int(signatory.confirmed_at.timestamp() * 1_000_000)
    payload = struct.pack(">qQ", micro, mask_id(signatory.id))
    return base64.urlsafe_b64encode(payload + _cursor_tag(payload)).decode().rstrip("=")


def _parse_cursor(raw: str) -> tuple[datetime, int] | None:
    """The (confirmed_at, id) a cursor of ours stands for, or None for
    anything else."""
    if not _CURSOR_RE.fullmatch(raw):
        return None
    try:
        data = base64.urlsafe_b64decode(raw + "=")
    except (ValueError, binascii.Error):
        return None
    if len(data) != _CURSOR_BYTES:
        return None
    payload, tag = data[:16], data[16:]
    if not constant_time_compare(tag, _cursor_tag(payload)):
        return None
    micro, masked = struct.unpack(">qQ", payload)
    try:
        at = datetime.fromtimestamp(micro / 1_000_000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return at, unmask_id(masked)


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def letter_signatories(request: HttpRequest, slug: str) -> HttpResponse:
    """Public signatories, newest first, keyset-paginated (no OFFSET, no COUNT)."""
    raw = request.GET.get("before", "")
    before = _parse_cursor(raw) if raw else None
    if raw and before is None:
        return HttpResponseBadRequest("Bad cursor.")

    def context_of(letter: Letter) -> dict[str, Any]:
        rows = selectors.letter_public_signatories(
            letter=letter, limit=SIGNATORIES_PER_PAGE + 1, before=before
        )
        page, more = rows[:SIGNATORIES_PER_PAGE], len(rows) > SIGNATORIES_PER_PAGE
        counts = selectors.letter_counts(letter_id=letter.pk)
        return {
            "letter": letter,
            "text": selectors.letter_text(letter, get_language() or letter.language),
            "signatories": page,
            "counts": counts,
            "content_changed_at": letter_changed_at(letter=letter, counts=counts),
            "next_cursor": _cursor(page[-1]) if more else None,
            "first_page": before is None,
        }

    reader = internal.reader_letter(request, slug)  # an internal letter's reader
    if reader is not None:
        return internal.private_page(request, "letters/signatories.html", context_of(reader))

    def context() -> dict[str, Any]:
        return context_of(selectors.letter_public_get(slug=slug))

    return public_page(
        request,
        f"signatories:{slug}:{raw}",
        "letters/signatories.html",
        context,
        from_replica=True,
    )


def invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "letters/invalid_link.html", status=404)


@require_safe
def letter_preview(request: HttpRequest, token: str) -> HttpResponse:
    """A draft shared for review by its secret link: read-only, not indexed,
    not cached, revocable."""
    letter = selectors.letter_by_preview_token(token=token)
    if letter is None:
        return invalid_link(request)
    context = letter_context(letter, None)
    context["preview"] = True
    response = render(request, "letters/detail.html", context)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
@language_from_query
def signing_safely(request: HttpRequest) -> HttpResponse:
    """What is stored, who sees what, how to withdraw, how long data is kept."""

    return public_page(
        request,
        "signing-safely",
        "letters/signing_safely.html",
        lambda: {"retention_days": settings.RETENTION_DAYS},
    )
