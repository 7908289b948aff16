"""The organisers' comments page: public signers' comments, each with a
"Hide comment" button that asks for a reason on a page of its own (works
without JavaScript), and the letter's "public comments" setting.  Hiding
touches neither the signature nor its count (services.comments)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from letters import selectors, services
from letters.access import Capability, OrganiserAccess, organiser_view
from letters.forms.organise import ReasonForm
from letters.refs import signature_pk
from letters.selectors.comments import COMMENTS_LISTED

ON = "on"  # the setting form's value to turn comments on (anything else: off)


def _to_comments(slug: str) -> HttpResponse:
    return redirect("organise:comments", slug=slug)


@organiser_view(Capability.VIEW)
def comments(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    rows = selectors.letter_comments(letter=letter)
    context = {
        "letter": letter,
        "may": access.may,
        "shown": [row for row in rows if row.hidden_at is None],
        "hidden": [row for row in rows if row.hidden_at is not None],
        "capped": len(rows) >= COMMENTS_LISTED,
        "limit": COMMENTS_LISTED,
    }
    return render(request, "organise/comments.html", context)


@organiser_view(Capability.MODERATE, methods=("GET", "POST"))
def comment_hide(request: HttpRequest, access: OrganiserAccess, signature_ref: str) -> HttpResponse:
    """The confirmation step: the comment, what hiding it does, a reason;
    POST hides it."""
    letter = access.letter
    signature_id = signature_pk(signature_ref)
    row = (
        selectors.comment_to_hide(letter=letter, signature_id=signature_id)
        if signature_id is not None
        else None
    )
    if row is None:
        raise Http404
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.signature_comment_hide(
                letter=letter,
                by=access.user,
                signature_id=row.id,
                reason=form.cleaned_data["reason"],
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("The comment is hidden. The signature still counts."))
            return _to_comments(letter.slug)
    context = {"letter": letter, "row": row, "form": form}
    return render(
        request, "organise/comment_hide.html", context, status=400 if form.errors else 200
    )


@organiser_view(Capability.EDIT, methods=("POST",))
def comments_setting(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    enabled = request.POST.get("public_comments") == ON
    services.letter_set_public_comments(letter=access.letter, by=access.user, enabled=enabled)
    messages.success(
        request,
        _("Public comments are on.")
        if enabled
        else _("Public comments are off: no comment is shown, and the sign form asks for none."),
    )
    return _to_comments(access.letter.slug)
