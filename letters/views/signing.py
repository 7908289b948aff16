"""The signer's own pages: the sign POST and where it sends them, and the
emailed links (confirm, withdraw, support a new version, unsubscribe).  Thin: each reads
one token or form and calls one service."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from letters import selectors, services
from letters.forms import ConfirmForm, SignForm
from letters.forms.internal import ReadPassForm
from letters.http import client_ip, language_from_query, public_page, same_for_everyone, same_origin
from letters.links import letter_url
from letters.models import Display, Letter, Signature, SignatureStatus
from letters.tokens import Purpose, make_token, read_token
from letters.views import internal
from letters.views.public import invalid_link, letter_context, version_diff


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
            )
        except services.ServiceError as exc:
            form = SignForm(request.POST)
            form.is_valid()
            form.add_error(exc.field, exc.message)
        else:
            return _to_check_inbox(letter)
    if letter.internal:  # its reader sees the form again; anyone else, the neutral page
        if internal.reader_letter(request, slug) is None:
            return internal.gate_page(request, slug, ReadPassForm(), status=400)
        return internal.private_page(
            request, "letters/detail.html", letter_context(letter, form), status=400
        )
    return render(request, "letters/detail.html", letter_context(letter, form), status=400)


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
    def context() -> dict[str, Any]:
        # An internal letter's is the same page, naming nothing (no title).
        letter = selectors.letter_published_get(slug=slug)
        return {
            "letter": letter,
            "text": None
            if letter.internal
            else selectors.letter_text(letter, get_language() or letter.language),
        }

    return public_page(request, f"inbox:{slug}", "letters/check_inbox.html", context)


_SignerView = Callable[[HttpRequest, str, Signature], HttpResponse]


def signer_link(purpose: Purpose) -> Callable[[_SignerView], Callable[..., HttpResponse]]:
    """A view behind an emailed link: the token read for `purpose` (every
    invalid, expired or revoked token gets the same 404 page), then the view
    with the signature, in the signature's language (the language it signed
    in, and its emails'), whatever the browser asks.  GET never changes
    anything (mail scanners open links); the page's button POSTs."""

    def wrap(view: _SignerView) -> Callable[..., HttpResponse]:
        @require_http_methods(["GET", "POST"])
        @functools.wraps(view)
        def with_signature(request: HttpRequest, token: str) -> HttpResponse:
            signature = read_token(token, purpose)
            if signature is None:
                return invalid_link(request)
            with translation.override(signature.language):
                return view(request, token, signature)

        return with_signature

    return wrap


@signer_link(Purpose.CONFIRM)
def signature_confirm(request: HttpRequest, token: str, signature: Signature) -> HttpResponse:
    """GET shows the letter and every field that will be published, for the
    owner to check and choose; POST confirms with what the owner chose and
    answers with the thanks page, once (it holds the withdraw link).

    Once confirmed, the link has done its job: opened again (by whoever
    reads the mailbox later, say an employer's archive of a work address)
    it names neither the letter nor the signer and offers nothing to do."""
    if signature.status == SignatureStatus.CONFIRMED:
        return render(request, "letters/link_used.html")
    if request.method == "POST":
        form = ConfirmForm.for_post(request.POST, signature)
        if form.is_valid():
            try:
                confirmed = services.signature_confirm(
                    signature=signature,
                    details=form.details(),
                    client_ip=client_ip(request),
                    personal_email=form.cleaned_data.get("personal_email") or "",
                )
            except services.ServiceError as exc:
                form.add_error(exc.field, exc.message)
            else:
                if confirmed:  # `signature` is the confirmed row now
                    return _thanks(request, signature)
                return redirect("signature_confirm", token=token)  # another click won
    else:
        form = ConfirmForm(initial={field: getattr(signature, field) for field in _AS_SUBMITTED})
    context = {
        "signature": signature,
        "letter": signature.letter,
        "text": selectors.letter_text(signature.letter, signature.language),
        "form": form,
    }
    return render(request, "letters/confirm.html", context, status=400 if form.is_bound else 200)


# What the confirm page shows as submitted (the display is never pre-selected).
_AS_SUBMITTED = ("name", "job_title", "team", "location", "comment", "wants_updates")


def _thanks(request: HttpRequest, signature: Signature) -> HttpResponse:
    """The answer to the confirm POST, shown this once: not cached, and the
    link that led here now says only "used".  A work address gets no
    emailed withdraw link, so the page asks to keep this one."""
    letter = signature.letter
    withdraw = make_token(signature, Purpose.WITHDRAW)
    context = {
        "signature": signature,
        "letter": letter,
        "text": selectors.letter_text(letter, signature.language),
        "letter_url": letter_url(letter),
        "withdraw_url": request.build_absolute_uri(
            reverse("signature_withdraw", kwargs={"token": withdraw})
        ),
        "withdraw_days": settings.SIGNATURE_WITHDRAW_MAX_AGE // 86400,
    }
    response = render(request, "letters/thanks.html", context)
    add_never_cache_headers(response)
    return response


@signer_link(Purpose.WITHDRAW)
def signature_withdraw(request: HttpRequest, token: str, signature: Signature) -> HttpResponse:
    """Withdraw (POST), or, for a public signer, hide the name and stay
    counted (POST action=hide): the two things the link's holder may do
    after confirming."""
    letter = signature.letter
    if request.method == "POST":
        if request.POST.get("action") == "hide":
            services.signature_hide_name(signature_id=signature.pk)
            return render(request, "letters/name_hidden.html", {"letter": letter})
        services.signature_withdraw(signature_id=signature.pk)
        return render(request, "letters/withdrawn.html", {"letter": letter})
    return render(
        request,
        "letters/withdraw.html",
        {
            "letter": letter,
            "text": selectors.letter_text(letter, signature.language),
            "can_hide": signature.status == SignatureStatus.CONFIRMED
            and signature.display == Display.PUBLIC,
        },
    )


@signer_link(Purpose.NEW_VERSION)
def signature_new_version(request: HttpRequest, token: str, signature: Signature) -> HttpResponse:
    """A signer of an earlier version sees what changed and may support the
    new text (POST); withdrawing is the other link in their email."""
    letter = signature.letter
    if request.method == "POST":
        services.signature_accept_version(signature_id=signature.pk)
        return redirect("signature_new_version", token=token)
    versions = {v.version.pk: v for v in selectors.letter_versions(letter=letter)}
    signed = versions.get(signature.version_id)
    current = versions.get(letter.current_version_id or 0)
    diff = (
        version_diff(signed, current, signature.language)
        if signed and current and signed is not current
        else None
    )
    return render(
        request,
        "letters/new_version.html",
        {
            "letter": letter,
            "text": selectors.letter_text(letter, signature.language),
            "diff": diff,
            "change_note": current.version.change_note if current else "",
            "up_to_date": signature.version_id == letter.current_version_id,
            "can_accept": letter.is_open,
            "withdraw_url": reverse(
                "signature_withdraw", kwargs={"token": make_token(signature, Purpose.WITHDRAW)}
            ),
        },
    )


@signer_link(Purpose.PERSONAL)
def personal_confirm(request: HttpRequest, token: str, signature: Signature) -> HttpResponse:
    """The link in the neutral email to a personal address: GET shows a
    button (mail scanners open links), POST confirms the address.  Names
    nothing until then; once used, says only that."""
    if signature.personal_confirmed_at is not None or not signature.personal_sealed:
        return render(request, "letters/link_used.html")
    if request.method == "POST":
        services.signature_personal_confirm(signature=signature)
        return render(request, "letters/personal_confirmed.html")
    return render(request, "letters/personal_confirm.html")


@csrf_exempt  # RFC 8058 one-click unsubscribe POSTs come from mail providers
@signer_link(Purpose.UNSUBSCRIBE)
def unsubscribe(request: HttpRequest, token: str, signature: Signature) -> HttpResponse:
    """GET shows a button (mail scanners open links); POST unsubscribes."""
    done = request.method == "POST"
    if done:
        services.signature_unsubscribe(signature_id=signature.pk)
    # A work address's notices name no letter; neither does their page.
    letter = None if signature.work_address else signature.letter
    return render(request, "letters/unsubscribe.html", {"letter": letter, "done": done})
