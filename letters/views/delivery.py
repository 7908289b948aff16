"""Delivery (organisers), the leadership page (by token), unsubscribe and
the Atom feed.  Leadership and the packet show public signers by name and
anonymous ones only as a number; groups below the threshold are suppressed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from letters import selectors, services
from letters.forms import DeliveryForm, LinkEmailForm, ResponseForm, UpdateForm
from letters.http import public_response
from letters.links import absolute_url, letter_url
from letters.models import Delivery, Letter, LetterEvent, OrganiserRole
from letters.suppression import Cell
from letters.tokens import Purpose, read_token
from letters.views.organise import _letter_for, _overview

EDITOR, VIEWER = OrganiserRole.EDITOR, OrganiserRole.VIEWER


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


@login_required
@require_http_methods(["GET", "POST"])
def deliver(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    form = DeliveryForm(
        request.POST or None,
        letter=letter,
        initial={"delivered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        days = data["links_expire_days"]
        try:
            _delivery, issued = services.letter_deliver(
                letter=letter,
                by=request.user,
                method=data["method"],
                delivered_at=data["delivered_at"],
                recipients=[services.Recipient(a.name, a.role) for a in data["recipients"]],
                note=data["note"],
                links_expire_at=timezone.now() + timedelta(days=days) if days else None,
                respond_by=data["respond_by"],
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            # Shown once, on the next page; only their hashes are stored.
            request.session[f"issued-links-{letter.pk}"] = [
                {"id": i.link.pk, "name": i.link.name, "token": i.token} for i in issued
            ]
            return redirect("organise:delivery", slug=letter.slug)
    return render(request, "organise/deliver.html", {"letter": letter, "form": form})


@login_required
@require_GET
def delivery_overview(request: HttpRequest, slug: str) -> HttpResponse:
    letter, role = _letter_for(request, slug, VIEWER)
    issued = request.session.pop(f"issued-links-{letter.pk}", [])
    for item in issued:
        item["url"] = absolute_url("leadership", token=item["token"])
        item["form"] = LinkEmailForm(initial={"link_id": item["id"], "token": item["token"]})
    return render(
        request,
        "organise/delivery.html",
        {
            "letter": letter,
            "can_edit": role != VIEWER,
            "deliveries": selectors.letter_deliveries(letter=letter),
            "issued": issued,
            "responses": selectors.letter_responses(letter=letter),
            "update_form": UpdateForm(),
        },
    )


@login_required
@require_POST
def link_email(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    form = LinkEmailForm(request.POST)
    if form.is_valid():
        try:
            services.leadership_link_email(
                letter=letter,
                by=request.user,
                link_id=form.cleaned_data["link_id"],
                email=form.cleaned_data["email"],
                token=form.cleaned_data["token"],
            )
        except services.ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The link is on its way."))
    else:
        messages.error(request, _("Enter an email address."))
    return redirect("organise:delivery", slug=letter.slug)


@login_required
@require_POST
def link_revoke(request: HttpRequest, slug: str, link_id: int) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    try:
        services.leadership_link_revoke(letter=letter, by=request.user, link_id=link_id)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The link no longer works."))
    return redirect("organise:delivery", slug=letter.slug)


@login_required
@require_http_methods(["GET", "POST"])
def record_response(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    delivery = selectors.letter_latest_delivery(letter=letter)
    if delivery is None:
        messages.error(request, _("Record the delivery first."))
        return _overview(letter.slug)
    form = ResponseForm(
        request.POST or None, demands=list(delivery.version.demands.all()), with_source=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.letter_respond(
                letter=letter,
                statement=form.cleaned_data["statement"],
                answers=form.answers(),
                recorded_by=request.user,
                source=form.cleaned_data["source"],
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("The response is on the public page."))
            return redirect("organise:delivery", slug=letter.slug)
    return render(request, "organise/response.html", {"letter": letter, "form": form})


@login_required
@require_POST
def post_update(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    form = UpdateForm(request.POST)
    if form.is_valid():
        services.letter_post_update(letter=letter, by=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Update posted; signers who asked for updates are emailed."))
    else:
        messages.error(request, _("Write the update."))
    return redirect("organise:delivery", slug=letter.slug)


@login_required
@require_GET
def packet(request: HttpRequest, slug: str) -> HttpResponse:
    """The printable delivery packet."""
    letter, _role = _letter_for(request, slug, VIEWER)
    context = _as_delivered(letter, selectors.letter_latest_delivery(letter=letter))
    return render(request, "organise/packet.html", context)


def _no_longer_valid(request: HttpRequest) -> HttpResponse:
    return render(request, "letters/leadership_invalid.html", status=404)


@require_http_methods(["GET", "POST"])
def leadership(request: HttpRequest, token: str) -> HttpResponse:
    """Leadership's page: the letter as delivered, counts, public signers,
    demands; acknowledge receipt; respond per demand."""
    link = services.leadership_link_get(token=token)
    if link is None:
        return _no_longer_valid(request)
    letter = link.delivery.letter
    delivery = link.delivery
    form = ResponseForm(
        request.POST if request.POST.get("action") == "respond" else None,
        demands=list(delivery.version.demands.all()),
    )
    if request.method == "POST":
        try:
            if request.POST.get("action") == "acknowledge":
                services.letter_acknowledge(link=link)
                messages.success(request, _("Thank you: receipt is acknowledged."))
                return redirect("leadership", token=token)
            if form.is_valid():
                services.letter_respond(
                    letter=letter,
                    statement=form.cleaned_data["statement"],
                    answers=form.answers(),
                    link=link,
                )
                messages.success(request, _("Thank you: your response is published."))
                return redirect("leadership", token=token)
        except services.ServiceError as exc:
            messages.error(request, exc.message)
    letter.refresh_from_db()
    context = _as_delivered(letter, delivery)
    context.update(
        {
            "link": link,
            "form": form,
            "can_acknowledge": letter.status == "delivered",
            "responses": selectors.letter_responses(letter=letter),
        }
    )
    response = render(request, "letters/leadership.html", context)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt  # RFC 8058 one-click unsubscribe POSTs come from mail providers
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links); POST unsubscribes."""
    signature = read_token(token, Purpose.UNSUBSCRIBE)
    if signature is None:
        return render(request, "letters/invalid_link.html", status=404)
    done = request.method == "POST"
    if done:
        services.signature_unsubscribe(signature_id=signature.pk)
    return render(request, "letters/unsubscribe.html", {"letter": signature.letter, "done": done})


# Characters XML 1.0 cannot carry (SimplerXMLGenerator refuses them, which
# would make the feed a 500 for as long as an update holds one).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


class _PlainTextXMLGenerator(SimplerXMLGenerator):
    """Writes every Atom text construct as `type="text"`."""

    TEXT_CONSTRUCTS = frozenset({"title", "subtitle", "summary", "content", "rights"})

    def startElement(self, name: str, attrs: Any) -> None:
        if name in self.TEXT_CONSTRUCTS:
            attrs = {**attrs, "type": "text"}
        super().startElement(name, attrs)


class PlainTextAtom1Feed(Atom1Feed):
    """Atom whose titles, subtitle and summaries are plain text.

    Django's Atom1Feed writes `<summary type="html">`: a feed reader would
    render an organiser's `<img src=...>` as an image and fetch it.  Here
    every text construct says `type="text"`, so readers show the text as
    written (the XML writer escapes it) and never parse it as markup."""

    def write(self, outfile: Any, encoding: str) -> None:
        handler = _PlainTextXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")


class LetterFeed(Feed):
    """The public timeline as an Atom feed, in plain text.

    Served like the letter page (`public_response`): the same bytes for
    every visitor of a language, cached for the count interval, with ETag
    and `Cache-Control: public`, through the short middleware chain; HEAD
    is GET without the body.  Links are absolute from SITE_URL, never from
    the request's Host, since the copy is shared."""

    feed_type = PlainTextAtom1Feed
    same_for_everyone = frozenset({"GET", "HEAD"})  # letters.http.same_for_everyone

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in self.same_for_everyone:
            return HttpResponseNotAllowed(sorted(self.same_for_everyone))

        feed = super().__call__

        def build() -> tuple[bytes, str]:
            response = feed(request, *args, **kwargs)
            return response.content, response["Content-Type"]

        return public_response(request, f"feed:{kwargs['slug']}", build)

    def get_object(self, request: HttpRequest, slug: str) -> Letter:
        return selectors.letter_public_get(slug=slug)

    def title(self, obj: Letter) -> str:
        return _xml_text(obj.title)

    def link(self, obj: Letter) -> str:
        return letter_url(obj)

    def feed_url(self, obj: Letter) -> str:
        return absolute_url("letters:feed", slug=obj.slug)

    def subtitle(self, obj: Letter) -> str:
        return _("Timeline of the open letter")

    def items(self, obj: Letter) -> list[LetterEvent]:
        return selectors.letter_events(letter=obj)

    def item_title(self, item: LetterEvent) -> str:
        return str(item.get_kind_display())

    def item_description(self, item: LetterEvent) -> str:
        return _xml_text(item.text)

    def item_link(self, item: LetterEvent) -> str:
        return f"{letter_url(item.letter)}#event-{item.pk}"

    def item_pubdate(self, item: LetterEvent) -> Any:
        return item.created_at
