"""Public pages: thin views calling one selector or service each."""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import re
import struct
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from letters import selectors, services
from letters.charts import chart_table_rows, signatures_chart_svg
from letters.diff import version_diff_html
from letters.forms import ConfirmForm, SignForm
from letters.http import (
    client_ip,
    language_from_query,
    public_response,
    same_for_everyone,
    same_origin,
)
from letters.links import letter_url
from letters.models import Letter, SignatureStatus
from letters.refs import mask_id, unmask_id
from letters.suppression import merge_small_days
from letters.tokens import Purpose, make_token, read_token

SIGNATORIES_ON_LETTER_PAGE = 20


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


def _diff(older: selectors.VersionRow, newer: selectors.VersionRow) -> str:
    return version_diff_html(older.version.body, older.demands, newer.version.body, newer.demands)


def _letter_context(letter: Letter, form: SignForm | None) -> dict[str, Any]:
    """Everything the public letter page shows; nothing per visitor."""
    counts = selectors.letter_counts(letter_id=letter.pk)
    signatories = selectors.letter_public_signatories(
        letter=letter, limit=SIGNATORIES_ON_LETTER_PAGE + 1
    )
    total = counts.confirmed + letter.paper_count
    versions = selectors.letter_versions(letter=letter) if letter.published_at else []
    diffs = [(newer, _diff(older, newer)) for newer, older in itertools.pairwise(versions)]
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
        "letter_url": letter_url(letter),
        "versions": versions,
        # Named signers only: anonymous ones are in the total, in no version.
        "current_count": versions[0].named if versions else counts.public,
        "earlier_count": sum(v.named for v in versions[1:]),
        "diffs": diffs,
        "events": selectors.letter_events(letter=letter),
        "responses": selectors.letter_responses(letter=letter),
        **chart_context(letter, counts),
        "fingerprint": selectors.version_fingerprint(letter.current_version)
        if letter.current_version
        else "",
        "now": timezone.now(),
    }


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def letter_index(request: HttpRequest) -> HttpResponse:
    def build() -> tuple[bytes, str]:
        letters = list(selectors.letters_open()[:100])
        counts = selectors.letter_counts_many([letter.pk for letter in letters])
        rows = [(letter, counts[letter.pk]) for letter in letters]
        html = render_to_string("letters/index.html", {"rows": rows})
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, "index", build)


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A cached copy costs no query; the letter is read only to rebuild it."""

    def build() -> tuple[bytes, str]:
        letter = selectors.letter_public_get(slug=slug)
        html = render_to_string("letters/detail.html", _letter_context(letter, SignForm()))
        return html.encode(), "text/html; charset=utf-8"

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

    def build() -> tuple[bytes, str]:
        letter = selectors.letter_public_get(slug=slug)
        rows = selectors.letter_public_signatories(
            letter=letter, limit=SIGNATORIES_PER_PAGE + 1, before=before
        )
        page, more = rows[:SIGNATORIES_PER_PAGE], len(rows) > SIGNATORIES_PER_PAGE
        html = render_to_string(
            "letters/signatories.html",
            {
                "letter": letter,
                "text": selectors.letter_text(letter, get_language() or letter.language),
                "signatories": page,
                "counts": selectors.letter_counts(letter_id=letter.pk),
                "next_cursor": _cursor(page[-1]) if more else None,
                "first_page": before is None,
            },
        )
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, f"signatories:{slug}:{raw}", build)


@same_for_everyone("POST")
@csrf_exempt  # the letter page is cached for everyone; see letters.http.same_origin
@require_POST
@language_from_query
def letter_sign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_for_signing(slug=slug)
    if not same_origin(request):
        return HttpResponseForbidden("Cross-site request refused.")
    form = None
    data = SignForm.clean_quickly(request.POST)
    if data is None:
        form = SignForm(request.POST)
        form.is_valid()  # invalid: its errors go next to the fields
    else:
        if data["website"]:  # a bot filled the honeypot: store nothing, answer the same
            return _to_check_inbox(letter)
        try:
            services.signature_create(
                letter=letter,
                email=data["email"],
                name=data["name"],
                job_title=data["job_title"],
                team=data["team"],
                location=data["location"],
                comment=data["comment"],
                display=data["display"],
                wants_updates=data["wants_updates"],
                language=get_language() or letter.language,
                client_ip=client_ip(request),
            )
        except services.ServiceError as exc:
            form = SignForm(request.POST)
            form.is_valid()
            form.add_error(exc.field, exc.message)
        else:
            return _to_check_inbox(letter)
    return render(request, "letters/detail.html", _letter_context(letter, form), status=400)


def _to_check_inbox(letter: Letter) -> HttpResponse:
    lang = get_language() or letter.language
    return HttpResponseRedirect(_check_inbox_url(letter.slug, lang, get_script_prefix()))


@functools.lru_cache(maxsize=1024)
def _check_inbox_url(slug: str, lang: str, _script_prefix: str) -> str:
    """Where every sign POST is sent (the same for all: see signature_create),
    worked out once per letter and language, not per sign."""
    url = reverse("letters:check_inbox", kwargs={"slug": slug})
    return f"{url}?{urlencode({'lang': lang})}"


@same_for_everyone("GET", "HEAD")
@require_safe
@language_from_query
def check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    def build() -> tuple[bytes, str]:
        letter = selectors.letter_public_get(slug=slug)
        html = render_to_string(
            "letters/check_inbox.html",
            {"letter": letter, "text": selectors.letter_text(letter, get_language() or "en")},
        )
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, f"inbox:{slug}", build)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "letters/invalid_link.html", status=404)


@require_http_methods(["GET", "POST"])
def signature_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the letter and every field that will be published, for the
    owner to check and choose (mail scanners open links; nothing changes);
    POST confirms with what the owner chose."""
    signature = read_token(token, Purpose.CONFIRM)
    if signature is None:
        return _invalid_link(request)
    letter = signature.letter
    if signature.status == SignatureStatus.CONFIRMED:
        if request.method == "POST":  # a second click
            return redirect("signature_confirm", token=token)
        return render(
            request,
            "letters/thanks.html",
            {
                "signature": signature,
                "letter": letter,
                "text": selectors.letter_text(letter, signature.language),
                "letter_url": letter_url(letter),
                "withdraw_url": reverse(
                    "signature_withdraw",
                    kwargs={"token": make_token(signature, Purpose.WITHDRAW)},
                ),
            },
        )
    if request.method == "POST":
        form = ConfirmForm.for_post(request.POST, signature)
        if form.is_valid():
            services.signature_confirm(
                signature=signature, details=form.details(), client_ip=client_ip(request)
            )
            return redirect("signature_confirm", token=token)
        status = 400
    else:
        form = ConfirmForm(
            initial={
                "name": signature.name,
                "job_title": signature.job_title,
                "team": signature.team,
                "location": signature.location,
                "comment": signature.comment,
                "wants_updates": signature.wants_updates,
            }
        )
        status = 200
    context = {
        "signature": signature,
        "letter": letter,
        "text": selectors.letter_text(letter, signature.language),
        "form": form,
    }
    return render(request, "letters/confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
def signature_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    signature = read_token(token, Purpose.WITHDRAW)
    if signature is None:
        return _invalid_link(request)
    letter = signature.letter
    if request.method == "POST":
        services.signature_withdraw(signature_id=signature.pk)
        return render(request, "letters/withdrawn.html", {"letter": letter})
    return render(
        request,
        "letters/withdraw.html",
        {"letter": letter, "text": selectors.letter_text(letter, signature.language)},
    )


@require_safe
def letter_preview(request: HttpRequest, token: str) -> HttpResponse:
    """A draft shared for review by its secret link: read-only, not indexed,
    not cached, revocable."""
    letter = selectors.letter_by_preview_token(token=token)
    if letter is None:
        return _invalid_link(request)
    context = _letter_context(letter, None)
    context["preview"] = True
    response = render(request, "letters/detail.html", context)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def signature_new_version(request: HttpRequest, token: str) -> HttpResponse:
    """A signer of an earlier version sees what changed and may support the
    new text (POST); withdrawing is the other link in their email."""
    signature = read_token(token, Purpose.NEW_VERSION)
    if signature is None:
        return _invalid_link(request)
    letter = signature.letter
    if request.method == "POST":
        services.signature_accept_version(signature_id=signature.pk)
        return redirect("signature_new_version", token=token)
    versions = {v.version.pk: v for v in selectors.letter_versions(letter=letter)}
    signed = versions.get(signature.version_id)
    current = versions.get(letter.current_version_id or 0)
    diff = _diff(signed, current) if signed and current and signed is not current else None
    return render(
        request,
        "letters/new_version.html",
        {
            "letter": letter,
            "text": selectors.letter_text(letter, signature.language),
            "diff": diff,
            "up_to_date": signature.version_id == letter.current_version_id,
            "can_accept": letter.is_open,
            "withdraw_url": reverse(
                "signature_withdraw", kwargs={"token": make_token(signature, Purpose.WITHDRAW)}
            ),
        },
    )


@require_safe
@language_from_query
def signing_safely(request: HttpRequest) -> HttpResponse:
    """What is stored, who sees what, how to withdraw, how long data is kept."""

    def build() -> tuple[bytes, str]:
        html = render_to_string(
            "letters/signing_safely.html", {"retention_days": settings.RETENTION_DAYS}
        )
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, "signing-safely", build)
