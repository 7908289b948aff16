"""Delivery (organisers) and the leadership page (by token).  Leadership
and the packet show public signers by name and anonymous ones only as a
number; groups below the threshold are suppressed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from letters import selectors, services, zones
from letters.access import Capability, OrganiserAccess, organiser_view
from letters.forms import DeliveryForm, LinkEmailForm, ResponseForm, UpdateForm
from letters.links import absolute_url, letter_url
from letters.models import Answer, Delivery, EventKind, LeadershipLink, Letter, LetterStatus
from letters.selectors.employers import employer_counts, letter_employers
from letters.suppression import Cell
from letters.views.acting import act
from letters.views.steps import signer_email_context

# The packet and the leadership page list at most this many named signers,
# newest first; the rest are counted ("and N more named signers").
PACKET_MAX_NAMES = 10_000


def _shown(cells: list[Cell]) -> list[Cell]:
    return [cell for cell in cells if cell.count is not None]


def _as_delivered(letter: Letter, delivery: Delivery | None) -> dict[str, Any]:
    """The packet's content: the text as delivered, its fingerprint, counts,
    groups with small ones suppressed, public signers, the anonymous count."""
    version = delivery.version if delivery else letter.current_version
    assert version is not None
    counts = selectors.letter_counts(letter_id=letter.pk)
    threshold = settings.EXPORT_MIN_GROUP
    signatories = selectors.letter_public_signatories(
        letter=letter, limit=PACKET_MAX_NAMES, ignore_listing=True
    )
    return {
        "letter": letter,
        "delivery": delivery,
        "version": version,
        "demands": list(version.demands.all()),
        "fingerprint": selectors.version_fingerprint(version),
        "counts": counts,
        "total": counts.confirmed + letter.paper_count,
        # A coalition letter's totals per employer (templates/letters/_employer_counts.html).
        "employers": employer_counts(letter=letter, confirmed_total=counts.confirmed),
        "paper_batches": selectors.paper_batches_counted(letter=letter)
        if letter.paper_count
        else [],
        # Only the groups shown: hidden ones are not even named.
        "teams": _shown(
            selectors.letter_group_counts(letter=letter, field="team", threshold=threshold)
        ),
        "locations": _shown(
            selectors.letter_group_counts(letter=letter, field="location", threshold=threshold)
        ),
        "threshold": threshold,
        "signatories": signatories,
        # A viral letter has more named signers than a page can list.
        "unlisted": max(0, counts.public - len(signatories))
        if len(signatories) == PACKET_MAX_NAMES
        else 0,
        "addressees": list(letter.addressees.all()),
    }


@organiser_view(Capability.DELIVER, methods=("GET", "POST"))
def deliver(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    form = DeliveryForm(
        request.POST or None,
        letter=letter,
        employers=letter_employers(letter=letter),
        initial={"delivered_at": timezone.now()},
        zone=zones.remembered(request),
    )
    if request.method == "POST" and form.is_valid():
        if form.zone_chosen:
            zones.remember(request, form.zone_name)
        data = form.cleaned_data
        days = data["links_expire_days"]
        try:
            _delivery, issued = services.letter_deliver(
                letter=letter,
                by=access.user,
                method=data["method"],
                delivered_at=data["delivered_at"],
                recipients=[services.Recipient(n, r) for n, r in form.recipients_chosen()],
                note=data["note"],
                links_expire_at=timezone.now() + timedelta(days=days) if days else None,
                respond_by=data["respond_by"],
                employer=data.get("employer"),
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # Shown once, on the next page; only their hashes are stored.
            request.session[f"issued-links-{letter.pk}"] = [
                {"id": i.link.pk, "name": i.link.name, "token": i.token} for i in issued
            ]
            return _to_delivery(letter)
    return render(request, "organise/deliver.html", {"letter": letter, "form": form})


def _to_delivery(letter: Letter) -> HttpResponse:
    return redirect("organise:delivery", slug=letter.slug)


@organiser_view(Capability.VIEW)
def delivery_overview(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    issued = request.session.pop(f"issued-links-{letter.pk}", [])
    for item in issued:
        item["url"] = absolute_url("leadership", token=item["token"])
        item["copy_id"] = f"leadership-link-{item['id']}"
        item["form"] = LinkEmailForm(initial={"link_id": item["id"], "token": item["token"]})
    # A letter with employers: its deliveries under each employer, with where
    # that employer's leadership stands.
    per_employer = selectors.employer_deliveries(letter=letter)
    context = {
        "letter": letter,
        "may": access.may,
        "per_employer": per_employer,
        "deliveries": [] if per_employer else selectors.letter_deliveries(letter=letter),
        "issued": issued,
        "responses": selectors.letter_responses(letter=letter),
        "update_form": UpdateForm(),
    }
    return render(request, "organise/delivery.html", context)


@organiser_view(Capability.DELIVER, methods=("POST",))
def link_email(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    form = LinkEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter an email address."))
        return _to_delivery(access.letter)
    act(
        request,
        lambda: services.leadership_link_email(
            letter=access.letter,
            by=access.user,
            link_id=form.cleaned_data["link_id"],
            email=form.cleaned_data["email"],
            token=form.cleaned_data["token"],
        ),
        _("The link is on its way."),
    )
    return _to_delivery(access.letter)


@organiser_view(Capability.DELIVER, methods=("POST",))
def link_revoke(request: HttpRequest, access: OrganiserAccess, link_id: int) -> HttpResponse:
    act(
        request,
        lambda: services.leadership_link_revoke(
            letter=access.letter, by=access.user, link_id=link_id
        ),
        _("The link no longer works."),
    )
    return _to_delivery(access.letter)


# Publishing a response takes two POSTs (templates/letters/_response_form.html):
# a valid form first shows what publishing will do, its answers carried in
# hidden fields; that page's CONFIRM button publishes, its CHANGE button
# opens the form again.
CONFIRM = "confirm"
CHANGE = "change"
FORM, CHECK, PUBLISH = "form", "confirm", "publish"


def response_step(request: HttpRequest, form: ResponseForm) -> str:
    """Which step a response form is at: FORM (to fill in, or change),
    CHECK (valid: show what publishing does) or PUBLISH (confirmed)."""
    if not form.is_bound or CHANGE in request.POST or not form.is_valid():
        return FORM
    return PUBLISH if CONFIRM in request.POST else CHECK


def _response_context(request: HttpRequest, letter: Letter, form: ResponseForm) -> dict[str, Any]:
    """What templates/letters/_response_form.html needs to show its step."""
    step = response_step(request, form)
    context: dict[str, Any] = {"response_step": step, "letter_url": letter_url(letter)}
    if step == CHECK:
        labels = dict(Answer.choices)
        answers = form.answers()
        context["response_answers"] = [(d.text, labels[answers[d.pk]]) for d in form.demands]
        context.update(signer_email_context(letter, EventKind.RESPONSE))
    return context


@organiser_view(Capability.DELIVER, methods=("GET", "POST"))
def record_response(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """A response leadership gave elsewhere (all-hands, email to staff),
    published after a confirmation step (`response_step`)."""
    letter = access.letter
    delivery = selectors.letter_latest_delivery(letter=letter)
    if delivery is None:  # the form asks about the delivered version's demands
        messages.error(request, _("Record the delivery first."))
        return redirect("organise:letter", slug=letter.slug)
    demands = list(delivery.version.demands.all())
    # A letter with employers: whose leadership gave it, among those delivered to.
    delivered = {
        s.employer_id for s in selectors.employer_statuses(letter=letter) if s.delivered_at
    }
    employers = [e for e in letter_employers(letter=letter) if e.pk in delivered]
    form = ResponseForm(
        request.POST or None, demands=demands, with_source=True, employers=employers
    )
    if response_step(request, form) == PUBLISH:
        try:
            services.letter_respond(
                letter=letter,
                statement=form.cleaned_data["statement"],
                answers=form.answers(),
                recorded_by=access.user,
                source=form.cleaned_data["source"],
                employer=form.cleaned_data.get("employer"),
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("The response is on the public page."))
            return _to_delivery(letter)
    context = {"letter": letter, "form": form, **_response_context(request, letter, form)}
    return render(request, "organise/response.html", context)


@organiser_view(Capability.DELIVER, methods=("POST",))
def post_update(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    form = UpdateForm(request.POST)
    if form.is_valid():
        text = form.cleaned_data["text"]
        services.letter_post_update(letter=access.letter, by=access.user, text=text)
        messages.success(request, _("Update posted; signers who asked for updates are emailed."))
    else:
        messages.error(request, _("Write the update."))
    return _to_delivery(access.letter)


@organiser_view(Capability.VIEW)
def packet(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """The printable delivery packet."""
    letter = access.letter
    context = _as_delivered(letter, selectors.letter_latest_delivery(letter=letter))
    return render(request, "organise/packet.html", context)


# --- Leadership's page --------------------------------------------------------------
# Two forms on one page, each posting its `action`: acknowledge receipt, or
# publish a response; each has its own handler.
ACKNOWLEDGE = "acknowledge"
RESPOND = "respond"


def _no_longer_valid(request: HttpRequest) -> HttpResponse:
    return render(request, "letters/leadership_invalid.html", status=404)


def _response_form(request: HttpRequest, link: LeadershipLink) -> ResponseForm:
    data = request.POST if request.POST.get("action") == RESPOND else None
    return ResponseForm(data, demands=list(link.delivery.version.demands.all()))


def _acknowledge(request: HttpRequest, link: LeadershipLink, form: ResponseForm) -> bool:
    """The "acknowledge receipt" button: delivered → acknowledged (for the
    link's employer, on a letter with employers)."""
    try:
        services.letter_acknowledge(link=link)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, _("Thank you: receipt is acknowledged."))
    return True


def _respond(request: HttpRequest, link: LeadershipLink, form: ResponseForm) -> bool:
    """The response form: publish leadership's statement and answers, once
    confirmed (`response_step`)."""
    if response_step(request, form) != PUBLISH:
        return False
    try:
        services.letter_respond(
            letter=link.delivery.letter,
            statement=form.cleaned_data["statement"],
            answers=form.answers(),
            link=link,
        )
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, _("Thank you: your response is published."))
    return True


LEADERSHIP_ACTIONS: dict[str, Callable[[HttpRequest, LeadershipLink, ResponseForm], bool]] = {
    ACKNOWLEDGE: _acknowledge,
    RESPOND: _respond,
}


def _leadership_page(
    request: HttpRequest, link: LeadershipLink, form: ResponseForm
) -> HttpResponse:
    letter = link.delivery.letter
    letter.refresh_from_db()
    context = _as_delivered(letter, link.delivery)
    context.update(
        {
            "link": link,
            "form": form,
            "can_acknowledge": letter.status == LetterStatus.DELIVERED,
            "responses": selectors.letter_responses(letter=letter),
            **_response_context(request, letter, form),
        }
    )
    if link.delivery.employer_id is not None:
        context.update(_employer_leadership(letter, link, context))
    response = render(request, "letters/leadership.html", context)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _employer_leadership(
    letter: Letter, link: LeadershipLink, context: dict[str, Any]
) -> dict[str, Any]:
    """A link to one employer's leadership (a letter with employers): that
    employer's own staff count beside the whole letter's, its own
    acknowledgement and its own responses; never another employer's."""
    employer_id = link.delivery.employer_id
    assert employer_id is not None
    status = selectors.employer_status(letter=letter, employer_id=employer_id)
    by_employer = context.get("employers") or employer_counts(
        letter=letter, confirmed_total=context["counts"].confirmed
    )
    own = next(e for e in by_employer.employers if e.employer_id == employer_id)
    several = len(by_employer.employers) > 1
    return {
        "employer_name": own.name,
        "own_count": own,
        "coalition": several,
        "can_acknowledge": status is not None and status.may_acknowledge,
        # On a letter with one employer every response is its own.
        "responses": selectors.letter_responses(letter=letter, employer_id=employer_id)
        if several
        else context["responses"],
    }


@require_http_methods(["GET", "POST"])
def leadership(request: HttpRequest, token: str) -> HttpResponse:
    """Leadership's page: the letter as delivered, counts, public signers,
    demands, and two forms (`LEADERSHIP_ACTIONS`): acknowledge receipt,
    respond per demand.  Done: back to the page (POST, redirect, GET)."""
    link = selectors.leadership_link_get(token=token)
    if link is None:
        return _no_longer_valid(request)
    form = _response_form(request, link)
    act = LEADERSHIP_ACTIONS.get(request.POST.get("action", "")) if request.POST else None
    if act is not None and act(request, link, form):
        return redirect("leadership", token=token)
    return _leadership_page(request, link, form)
