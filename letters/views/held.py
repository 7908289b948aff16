"""Held signatures: organisers review the confirmed signatures the rate
limits held back (how many and why, never who), and release or invalidate
them in bulk after a dry run; owners add office address ranges.  The
services (`services.moderation`) decide what may be counted or done."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from letters import selectors, services
from letters.access import Capability, OrganiserAccess, organiser_view
from letters.forms.held import HeldFilterForm, OfficeRangeForm
from letters.views.acting import act

MODERATE, OWN = Capability.MODERATE, Capability.OWN
GET_POST = ("GET", "POST")
POST = ("POST",)
RELEASE, INVALIDATE = "release", "invalidate"  # any other action counts (the dry run)


def _context(access: OrganiserAccess, **extra: Any) -> dict[str, Any]:
    letter = access.letter
    return {
        "letter": letter,
        "may": access.may,
        "held": selectors.letter_held_counts(letter=letter),
        "review_start": selectors.held_review_start(),
        **extra,
    }


@organiser_view(MODERATE, methods=GET_POST)
def held_signatures(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """Two steps, as invalidation: POST action=count shows the dry run;
    action=release or action=invalidate (with a reason) acts."""
    letter = access.letter
    form = HeldFilterForm(request.POST or None)
    dry_run: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        flt = services.SignatureFilter(
            domain=data["domain"] or "", since=data["since"], until=data["until"]
        )
        action = request.POST.get("action")
        refused: services.ServiceError | None = None
        if action in (RELEASE, INVALIDATE):
            call = (
                services.held_release_matching
                if action == RELEASE
                else services.held_invalidate_matching
            )
            try:
                changed = call(letter=letter, by=access.user, flt=flt, reason=data["reason"])
            except services.ServiceError as exc:
                refused = exc
                form.add_error(exc.field, exc.message)
            else:
                done = (
                    _("%(n)d held signatures were released: they are counted now.")
                    if action == RELEASE
                    else _("%(n)d held signatures were invalidated.")
                )
                messages.success(request, done % {"n": changed})
                return redirect("organise:held", slug=letter.slug)
        if refused is None or refused.field == "reason":
            try:
                count = services.held_matching_count(letter=letter, flt=flt)
                dry_run = {"count": count}
            except services.ServiceError as exc:
                form.add_error(exc.field, exc.message)
    return render(request, "organise/held.html", _context(access, form=form, dry_run=dry_run))


@organiser_view(OWN, methods=GET_POST)
def office_ranges(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """The letter's office ranges; POST adds one."""
    letter = access.letter
    form = OfficeRangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.office_range_add(
                letter=letter,
                by=access.user,
                network=form.cleaned_data["network"],
                label=form.cleaned_data["label"],
            )
        except services.ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The office range was added."))
            return redirect("organise:office_ranges", slug=letter.slug)
    context = {
        "letter": letter,
        "form": form,
        "ranges": selectors.letter_office_ranges(letter=letter),
    }
    return render(request, "organise/held_ranges.html", context)


@organiser_view(OWN, methods=POST)
def office_range_remove(
    request: HttpRequest, access: OrganiserAccess, range_id: int
) -> HttpResponse:
    act(
        request,
        lambda: services.office_range_remove(
            letter=access.letter, by=access.user, range_id=range_id
        ),
        _("The office range was removed."),
    )
    return redirect("organise:office_ranges", slug=access.letter.slug)
