"""Reports and takedown: a visitor's report form (its own page, never part
of the letter's cached copy), the notice a taken-down letter's page shows,
and the organisers' appeal.  The admins' queue is in letters/admin_reports.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from letters import selectors, services
from letters.access import Capability, OrganiserAccess, organiser_view
from letters.forms.reports import AppealForm, ReportForm
from letters.http import Built, client_ip
from letters.selectors.reports import taken_down_letter
from letters.views.acting import act


def _private(response: HttpResponse) -> HttpResponse:
    """The form carries a CSRF token: never a shared copy."""
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def report_letter(request: HttpRequest, slug: str) -> HttpResponse:
    """Report a public letter.  Whether the report was kept or the client
    was over its rate limit, the answer is the same "thank you" page."""
    letter = selectors.letter_public_get(slug=slug)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.report_create(
                letter=letter,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
                client_ip=client_ip(request),
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            return redirect("letters:report_sent", slug=letter.slug)
    text = selectors.letter_text(letter, request.LANGUAGE_CODE or letter.language)
    response = render(
        request, "letters/report.html", {"letter": letter, "text": text, "form": form}
    )
    return _private(response)


@require_safe
def report_sent(request: HttpRequest, slug: str) -> HttpResponse:
    """The same page after every report (kept or not); reads nothing."""
    response = render(request, "letters/report_sent.html", {"slug": slug})
    return _private(response)


def taken_down_context(slug: str) -> dict[str, Any]:
    """What the notice page shows: the title, the public reason and date;
    never the text, the counts or anyone's name.  404 unless taken down."""
    found = taken_down_letter(slug=slug)
    if found is None:
        raise Http404
    letter, takedown = found
    return {"letter": letter, "takedown": takedown, "content_changed_at": takedown.created_at}


def taken_down_build(request: HttpRequest, slug: str) -> Built:
    """The body of a taken-down letter's page (the letter page's cached copy)."""
    values = {"page_path": request.path, **taken_down_context(slug)}
    body = render_to_string("letters/taken_down.html", values).encode()
    return body, "text/html; charset=utf-8", values["content_changed_at"]


@organiser_view(Capability.EDIT, methods=("POST",))
def letter_appeal(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """The organisers' one appeal against their letter's takedown."""
    form = AppealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the letter should be reinstated."))
    else:
        act(
            request,
            lambda: services.takedown_appeal(
                letter=access.letter, by=access.user, message=form.cleaned_data["message"]
            ),
            success=_("Your appeal was sent to the site's moderators."),
        )
    return redirect("organise:letter", slug=access.letter.slug)
