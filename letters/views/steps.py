"""The organiser's status changes (publish, close, archive), each behind a
confirmation step: GET shows what the change will do, to how many people,
with the one button that POSTs it; only the POST changes anything (and
calls one service).  Without JavaScript it is the same page.

The figures obey DESIGN §2 rules 8 and 9: counts of confirmed signatures,
and of the signers who asked for updates only those who show their name
(`selectors.letter_named_subscribers`); whether anyone is emailed comes
from the one table that decides it (`services.events.SIGNER_NEWS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from letters import selectors, services, zones
from letters.access import Capability, OrganiserAccess, organiser_view
from letters.links import letter_url
from letters.models import PUBLIC_STATUSES, EventKind, Letter, LetterStatus
from letters.selectors.employers import letter_employers
from letters.services.events import ORGANISER_NEWS, SIGNER_NEWS
from letters.views.acting import act

GET_POST = ("GET", "POST")


@dataclass(frozen=True)
class Step:
    service: Callable[..., Letter]
    allowed_from: frozenset[str]  # the statuses the service accepts
    event: EventKind  # what it writes on the timeline (and so who is told)
    done: Promise  # the message once done


STEPS: dict[str, Step] = {
    "publish": Step(
        services.letter_publish,
        frozenset({LetterStatus.DRAFT}),
        EventKind.PUBLISHED,
        gettext_lazy("Published: the letter is open for signatures."),
    ),
    "close": Step(
        services.letter_close,
        frozenset({LetterStatus.OPEN}),
        EventKind.CLOSED,
        gettext_lazy("Closed: signing has stopped."),
    ),
    "archive": Step(
        services.letter_archive,
        frozenset(LetterStatus.values) - {LetterStatus.ARCHIVED},
        EventKind.ARCHIVED,
        gettext_lazy("Archived: the letter is out of view."),
    ),
    # An internal letter (services.internal): its status stays; the check
    # that it is internal is `letter_make_public`'s own.
    "make_public": Step(
        services.letter_make_public,
        frozenset(PUBLIC_STATUSES),
        EventKind.WENT_PUBLIC,
        gettext_lazy("Public: anyone can read the letter now."),
    ),
}


def signer_email_context(letter: Letter, kind: EventKind) -> dict[str, Any]:
    """Whether an event of `kind` emails signers (and the figure that may be
    shown of how many) and the organisers (templates/letters/_who_is_emailed.html)."""
    emails = kind in SIGNER_NEWS
    return {
        "emails_organisers": kind in ORGANISER_NEWS,
        "emails_signers": emails,
        "named_subscribers": selectors.letter_named_subscribers(letter_id=letter.pk)
        if emails
        else 0,
    }


def _step(request: HttpRequest, access: OrganiserAccess, name: str) -> HttpResponse:
    step, letter = STEPS[name], access.letter
    if request.method == "POST":
        act(request, lambda: step.service(letter=letter, by=access.user), str(step.done))
        return redirect("organise:letter", slug=letter.slug)
    if letter.status not in step.allowed_from:
        messages.error(
            request,
            _("Not possible now: the letter's status is “%(status)s”.")
            % {"status": letter.get_status_display()},
        )
        return redirect("organise:letter", slug=letter.slug)
    context = {
        "letter": letter,
        "action": name,
        "letter_url": letter_url(letter),
        "counts": selectors.letter_counts(letter_id=letter.pk),
        "employers": letter_employers(letter=letter),
        "zone_name": zones.current(request),
        **signer_email_context(letter, step.event),
    }
    return render(request, "organise/confirm.html", context)


@organiser_view(Capability.EDIT, methods=GET_POST)
def letter_publish(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    return _step(request, access, "publish")


@organiser_view(Capability.EDIT, methods=GET_POST)
def letter_close(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    return _step(request, access, "close")


@organiser_view(Capability.OWN, methods=GET_POST)
def letter_archive(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    return _step(request, access, "archive")


@organiser_view(Capability.EDIT, methods=GET_POST)
def letter_make_public(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """An internal letter goes public (its staff-only readers, listing,
    API, feed...): the same confirmation step as publishing."""
    if request.method == "GET" and not access.letter.internal:
        messages.error(request, _("This letter is public already."))
        return redirect("organise:letter", slug=access.letter.slug)
    return _step(request, access, "make_public")
