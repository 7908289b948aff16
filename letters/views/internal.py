"""Internal letters' pages (letters/services/internal.py): the neutral page
anyone without a reading grant sees at the letter's address (part of its
shared copy), the request for a reading link, the page the link opens, and
the letter as a grant's holder reads it (never a shared copy)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from letters import selectors, services
from letters.forms.internal import ReadPassForm
from letters.http import Built, client_ip, language_from_query, same_for_everyone, same_origin
from letters.models import PUBLIC_STATUSES, Letter, LetterStatus
from letters.reading import granted_letter_id, reading_grant

GATE = "letters/internal_gate.html"


def reader_letter(request: HttpRequest, slug: str) -> Letter | None:
    """The internal letter at `slug` if this browser holds its reading
    grant (`letters.reading`); without the cookie, no query."""
    letter_id = granted_letter_id(request)
    if letter_id is None:
        return None
    letter = selectors.letter_internal_get(slug=slug)
    if letter is None or letter.pk != letter_id or letter.status not in PUBLIC_STATUSES:
        return None
    return letter


def private_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A page of an internal letter for one reader: never stored by anyone
    (DESIGN §2 rule 11), never indexed."""
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    patch_vary_headers(response, ("Cookie",))
    return response


def _gate_context(slug: str, form: ReadPassForm) -> dict[str, Any]:
    return {"slug": slug, "form": form}


def gate_build(request: HttpRequest, slug: str) -> Built | None:
    """The letter page's shared copy for an internal letter: the neutral
    form, the same for everyone (no title, text or count); None if the
    letter at `slug` is not internal.  An internal letter taken down: 404,
    its notice would name it."""
    letter = selectors.letter_internal_get(slug=slug)
    if letter is None:
        return None
    if letter.status == LetterStatus.TAKEN_DOWN:
        raise Http404
    # No `page_path`: no canonical address or language alternates (noindex).
    body = render_to_string(GATE, _gate_context(slug, ReadPassForm()))
    return body.encode(), "text/html; charset=utf-8"


def gate_page(request: HttpRequest, slug: str, form: ReadPassForm, status: int) -> HttpResponse:
    """The neutral form again, answering a POST (with its errors)."""
    return private_page(request, GATE, _gate_context(slug, form), status=status)


@same_for_everyone("POST")
@csrf_exempt  # the form is on the letter page's shared copy: see letters.http.same_origin
@require_POST
@language_from_query
def read_request(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a reading link: the same "check your inbox" answer for every
    address at the employers' domains (sent or not: rate limits), the
    field's error for any other."""
    letter = selectors.letter_internal_get(slug=slug)
    if letter is None or letter.status not in PUBLIC_STATUSES:
        if selectors.letters_listed().filter(slug=slug).exists():  # public by now
            return redirect("letters:detail", slug=slug)
        raise Http404
    if not same_origin(request):
        return HttpResponseForbidden("Cross-site request refused.")
    form = ReadPassForm(request.POST)
    if form.is_valid():
        language = get_language() or letter.language
        try:
            services.read_pass_request(
                letter=letter,
                email=form.cleaned_data["email"],
                client_ip=client_ip(request),
                language=language,
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            url = reverse("letters:read_sent", kwargs={"slug": slug})
            return HttpResponseRedirect(f"{url}?{urlencode({'lang': language})}")
    return gate_page(request, slug, form, status=400)


@require_safe
@language_from_query
def read_sent(request: HttpRequest, slug: str) -> HttpResponse:
    """The same page after every request (sent or not); reads nothing."""
    return render(request, "letters/read_sent.html", {"slug": slug})


@require_http_methods(["GET", "POST"])
def read_pass(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed reading link.  GET shows a button and changes nothing
    (mail scanners open links); POST uses the pass, once, gives this
    browser the reading grant and goes to the letter.  A used link names
    nothing and does nothing; an unknown or expired one is the invalid
    link page."""
    found = selectors.read_pass_find(token=token)
    if found is None:
        return render(request, "letters/invalid_link.html", status=404)
    if found.used_at is not None:
        return render(request, "letters/link_used.html")
    if request.method == "POST":
        letter = services.read_pass_use(token=token)
        if letter is None:  # another click won, or it expired just now
            return render(request, "letters/link_used.html")
        response = redirect(letter.get_absolute_url())
        reading_grant(response, letter)
        return response
    return render(request, "letters/read_pass.html")
