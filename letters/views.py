"""Public pages: thin views calling one selector or service each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from letters import selectors, services
from letters.forms import ConfirmForm, SignForm
from letters.http import client_ip, public_response, same_origin
from letters.models import Letter, SignatureStatus
from letters.tokens import Purpose, make_token, read_token

SIGNATORIES_ON_LETTER_PAGE = 20


def _letter_context(letter: Letter, form: SignForm) -> dict[str, Any]:
    counts = selectors.letter_counts(letter_id=letter.pk)
    signatories = selectors.letter_public_signatories(
        letter=letter, limit=SIGNATORIES_ON_LETTER_PAGE + 1
    )
    return {
        "letter": letter,
        "text": selectors.letter_text(letter, get_language() or letter.language),
        "addressees": list(letter.addressees.all()),
        "counts": counts,
        "signatories": signatories[:SIGNATORIES_ON_LETTER_PAGE],
        "more_signatories": len(signatories) > SIGNATORIES_ON_LETTER_PAGE,
        "form": form,
        "goal_percent": min(100, round(100 * counts.confirmed / letter.goal))
        if letter.goal
        else None,
    }


@require_GET
def letter_index(request: HttpRequest) -> HttpResponse:
    def build() -> tuple[bytes, str]:
        letters = list(selectors.letters_open()[:100])
        counts = selectors.letter_counts_many([letter.pk for letter in letters])
        rows = [(letter, counts[letter.pk]) for letter in letters]
        html = render_to_string("letters/index.html", {"rows": rows})
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, "index", build)


@require_GET
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_public_get(slug=slug)

    def build() -> tuple[bytes, str]:
        html = render_to_string("letters/detail.html", _letter_context(letter, SignForm()))
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, f"letter:{letter.slug}", build)


SIGNATORIES_PER_PAGE = 50


def _parse_cursor(raw: str) -> tuple[datetime, int] | None:
    """`<unix microseconds>.<id>` of the last signatory shown, or None."""
    micro, _sep, pk = raw.partition(".")
    try:
        at = datetime.fromtimestamp(int(micro) / 1_000_000, tz=UTC)
        return at, int(pk)
    except (ValueError, OverflowError, OSError):
        return None


def _cursor(signatory: selectors.PublicSignatory) -> str:
    assert signatory.confirmed_at is not None
    micro = int(signatory.confirmed_at.timestamp() * 1_000_000)
    return f"{micro}.{signatory.id}"


@require_GET
def letter_signatories(request: HttpRequest, slug: str) -> HttpResponse:
    """Public signatories, newest first, keyset-paginated (no OFFSET, no COUNT)."""
    letter = selectors.letter_public_get(slug=slug)
    raw = request.GET.get("before", "")
    before = _parse_cursor(raw) if raw else None
    if raw and before is None:
        return HttpResponseBadRequest("Bad cursor.")

    def build() -> tuple[bytes, str]:
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

    return public_response(request, f"signatories:{letter.slug}:{raw}", build)


@csrf_exempt  # the letter page is cached for everyone; see letters.http.same_origin
@require_POST
def letter_sign(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_public_get(slug=slug)
    if not same_origin(request):
        return HttpResponseForbidden("Cross-site request refused.")
    form = SignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data["website"]:  # a bot filled the honeypot: store nothing, answer the same
            return redirect("letters:check_inbox", slug=letter.slug)
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
            form.add_error(exc.field, exc.message)
        else:
            return redirect("letters:check_inbox", slug=letter.slug)
    return render(request, "letters/detail.html", _letter_context(letter, form), status=400)


@require_GET
def check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    letter = selectors.letter_public_get(slug=slug)

    def build() -> tuple[bytes, str]:
        html = render_to_string(
            "letters/check_inbox.html",
            {"letter": letter, "text": selectors.letter_text(letter, get_language() or "en")},
        )
        return html.encode(), "text/html; charset=utf-8"

    return public_response(request, f"inbox:{letter.slug}", build)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "letters/invalid_link.html", status=404)


@require_http_methods(["GET", "POST"])
def signature_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the letter and a button (mail scanners open links; nothing
    changes); POST confirms."""
    signature = read_token(token, Purpose.CONFIRM)
    if signature is None:
        return _invalid_link(request)
    if request.method == "POST":
        form = ConfirmForm(request.POST)
        display = form.cleaned_data["display"] if form.is_valid() else None
        services.signature_confirm(signature=signature, display=display)
        return redirect("signature_confirm", token=token)
    letter = signature.letter
    context = {
        "signature": signature,
        "letter": letter,
        "text": selectors.letter_text(letter, signature.language),
        "form": ConfirmForm(initial={"display": signature.display}),
    }
    if signature.status == SignatureStatus.CONFIRMED:
        letter_url = settings.SITE_URL + letter.get_absolute_url()
        context["letter_url"] = letter_url
        context["withdraw_url"] = reverse(
            "signature_withdraw", kwargs={"token": make_token(signature, Purpose.WITHDRAW)}
        )
        return render(request, "letters/thanks.html", context)
    return render(request, "letters/confirm.html", context)


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
