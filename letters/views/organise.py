"""The organiser area.  Every view authorises through `_letter_for` (the role
on that letter), validates a form, calls one service, then redirects or
renders.  Organisers never see an email address or an anonymous name."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from letters import selectors, services
from letters.forms import (
    InvalidateFilterForm,
    InviteForm,
    LetterForm,
    PaperCountForm,
    ReasonForm,
    RoleForm,
    TranslationForm,
)
from letters.links import absolute_url
from letters.markup import render_markdown
from letters.models import Letter, LetterStatus, OrganiserRole
from letters.refs import signature_pk
from letters.selectors import ROLE_RANK
from letters.views.public import chart_context

VIEWER, EDITOR, OWNER = OrganiserRole.VIEWER, OrganiserRole.EDITOR, OrganiserRole.OWNER


def _letter_for(request: HttpRequest, slug: str, needed: str) -> tuple[Letter, str]:
    """The letter and the user's role on it.  Not an organiser: 404 (drafts
    stay secret); organiser with too small a role: 403."""
    letter = Letter.objects.select_related("current_version").filter(slug=slug).first()
    role = selectors.organiser_role(user=request.user, letter=letter) if letter else None
    if letter is None or role is None:
        raise Http404
    if not selectors.role_allows(role, needed):
        raise PermissionDenied
    return letter, role


def _fail(request: HttpRequest, error: services.ServiceError) -> None:
    messages.error(request, error.message)


def _overview(slug: str) -> HttpResponse:
    return redirect("organise:letter", slug=slug)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = selectors.letters_for_organiser(user=request.user)
    return render(request, "organise/dashboard.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def letter_new(request: HttpRequest) -> HttpResponse:
    form = LetterForm(request.POST or None, creating=True, initial={"language": "en"})
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["body"])
        else:
            data = form.to_input()
            letter = services.letter_create(
                slug=form.cleaned_data["slug"],
                title=data.title,
                body=data.body,
                demands=data.demands,
                addressees=data.addressees,
                language=data.language,
                owner=request.user,
                goal=data.goal,
                allowed_domains=data.allowed_domains,
                closes_at=data.closes_at,
                list_public_signatories=data.list_public_signatories,
                show_names_after=data.show_names_after,
                change_note=data.change_note,
            )
            messages.success(request, _("Draft saved."))
            return _overview(letter.slug)
    return render(request, "organise/edit.html", {"form": form, "preview": preview})


@login_required
@require_GET
def letter_overview(request: HttpRequest, slug: str) -> HttpResponse:
    letter, role = _letter_for(request, slug, VIEWER)
    counts = selectors.letter_counts(letter_id=letter.pk)
    context: dict[str, Any] = {
        "letter": letter,
        "role": role,
        "can_edit": ROLE_RANK[OrganiserRole(role)] >= ROLE_RANK[EDITOR],
        "is_owner": role == OWNER,
        "counts": counts,
        "versions": selectors.letter_versions(letter=letter),
        "events": selectors.letter_events(letter=letter),
        "organisers": selectors.organisers_of(letter=letter),
        "invitations": selectors.invitations_open(letter=letter),
        "invite_form": InviteForm(),
        "role_choices": OrganiserRole.choices,
        "paper_form": PaperCountForm(initial={"paper_count": letter.paper_count}),
        "preview_url": request.session.pop(f"preview-url-{letter.pk}", None),
        **chart_context(letter),
        "translations": list(letter.current_version.translations.all())
        if letter.current_version
        else [],
    }
    return render(request, "organise/letter.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def letter_edit(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    if letter.status not in (LetterStatus.DRAFT, LetterStatus.OPEN):
        messages.error(request, _("The text of a closed or delivered letter cannot change."))
        return _overview(letter.slug)
    form = LetterForm(request.POST or None, initial=LetterForm.initial_for(letter))
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["body"])
        else:
            try:
                services.letter_edit(letter=letter, by=request.user, data=form.to_input())
            except services.ServiceError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("Saved."))
                return _overview(letter.slug)
    return render(
        request, "organise/edit.html", {"form": form, "preview": preview, "letter": letter}
    )


def _transition_view(request: HttpRequest, slug: str, needed: str, action: Any) -> HttpResponse:
    letter, _role = _letter_for(request, slug, needed)
    try:
        action(letter=letter, by=request.user)
    except services.ServiceError as exc:
        _fail(request, exc)
    return _overview(letter.slug)


@login_required
@require_POST
def letter_publish(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(request, slug, EDITOR, services.letter_publish)


@login_required
@require_POST
def letter_close(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(request, slug, EDITOR, services.letter_close)


@login_required
@require_POST
def letter_archive(request: HttpRequest, slug: str) -> HttpResponse:
    return _transition_view(request, slug, OWNER, services.letter_archive)


@login_required
@require_POST
def letter_duplicate(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    copy = services.letter_duplicate(letter=letter, by=request.user)
    messages.success(request, _("A new draft was made from this letter."))
    return _overview(copy.slug)


@login_required
@require_POST
def letter_preview_link(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    if request.POST.get("action") == "revoke":
        services.letter_preview_link_revoke(letter=letter)
        messages.success(request, _("The preview link no longer works."))
    else:
        token = services.letter_preview_link_create(letter=letter)
        # Shown once, on the next page; only the hash is stored.
        request.session[f"preview-url-{letter.pk}"] = absolute_url("letter_preview", token=token)
    return _overview(letter.slug)


@login_required
@require_POST
def letter_paper_count(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    form = PaperCountForm(request.POST)
    if form.is_valid():
        services.letter_set_paper_count(letter=letter, count=form.cleaned_data["paper_count"])
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Enter zero or more."))
    return _overview(letter.slug)


@login_required
@require_http_methods(["GET", "POST"])
def letter_translation(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, EDITOR)
    form = TranslationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.translation_save(
                letter=letter,
                data=services.TranslationInput(
                    data["language"], data["title"], data["body"], data["demands"]
                ),
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Translation saved."))
            return _overview(letter.slug)
    return render(request, "organise/translation.html", {"form": form, "letter": letter})


@login_required
@require_POST
def organiser_invite(request: HttpRequest, slug: str) -> HttpResponse:
    letter, _role = _letter_for(request, slug, OWNER)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter an email address and a role."))
        return _overview(letter.slug)
    try:
        services.organiser_invite(
            letter=letter,
            by=request.user,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except services.ServiceError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Invitation sent."))
    return _overview(letter.slug)


@login_required
@require_POST
def organiser_role(request: HttpRequest, slug: str, organiser_id: int) -> HttpResponse:
    letter, _role = _letter_for(request, slug, OWNER)
    if not any(o.pk == organiser_id for o in selectors.organisers_of(letter=letter)):
        raise Http404
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.organiser_set_role(
                letter=letter,
                by=request.user,
                organiser_id=organiser_id,
                role=form.cleaned_data["role"],
            )
        except services.ServiceError as exc:
            _fail(request, exc)
    return _overview(letter.slug)


@login_required
@require_POST
def organiser_remove(request: HttpRequest, slug: str, organiser_id: int) -> HttpResponse:
    """Owners remove anyone; everyone may remove themselves (leave)."""
    letter, role = _letter_for(request, slug, VIEWER)
    target = next((o for o in selectors.organisers_of(letter=letter) if o.pk == organiser_id), None)
    if target is None:
        raise Http404
    if role != OWNER and target.user_id != request.user.pk:
        raise PermissionDenied
    try:
        services.organiser_remove(letter=letter, by=request.user, organiser_id=organiser_id)
    except services.ServiceError as exc:
        _fail(request, exc)
        return _overview(letter.slug)
    if target.user_id == request.user.pk:
        return redirect("organise:dashboard")
    return _overview(letter.slug)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_get(token=token)
    if invitation is None:
        return render(request, "letters/invalid_link.html", status=404)
    error = None
    if request.method == "POST":
        try:
            services.invitation_accept(token=token, user=request.user)
        except services.ServiceError as exc:
            error = exc.message
        else:
            return _overview(invitation.letter.slug)
    return render(request, "organise/invitation.html", {"invitation": invitation, "error": error})


@login_required
@require_GET
def signatures(request: HttpRequest, slug: str) -> HttpResponse:
    """Public signers by name; anonymous ones only as a count (DESIGN §2)."""
    letter, role = _letter_for(request, slug, VIEWER)
    context = {
        "letter": letter,
        "can_edit": ROLE_RANK[OrganiserRole(role)] >= ROLE_RANK[EDITOR],
        "counts": selectors.letter_counts(letter_id=letter.pk),
        "signatories": selectors.letter_public_signatories(
            letter=letter, limit=500, ignore_listing=True
        ),
        "reason_form": ReasonForm(),
        "filter_form": InvalidateFilterForm(),
    }
    return render(request, "organise/signatures.html", context)


@login_required
@require_POST
def signature_invalidate(request: HttpRequest, slug: str, signature_ref: str) -> HttpResponse:
    """One public signer, by the opaque reference the signatories page shows
    (`letters.refs`: ids are a site-wide counter of sign attempts)."""
    letter, _role = _letter_for(request, slug, EDITOR)
    signature_id = signature_pk(signature_ref)
    if signature_id is None:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
    else:
        try:
            services.signature_invalidate(
                letter=letter,
                by=request.user,
                signature_id=signature_id,
                reason=form.cleaned_data["reason"],
            )
        except services.ServiceError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("The signature was invalidated."))
    return redirect("organise:signatures", slug=letter.slug)


@login_required
@require_http_methods(["GET", "POST"])
def signatures_invalidate_matching(request: HttpRequest, slug: str) -> HttpResponse:
    """Two steps: POST action=count shows the dry-run count; action=invalidate
    (with a reason) invalidates."""
    letter, _role = _letter_for(request, slug, EDITOR)
    form = InvalidateFilterForm(request.POST or None)
    dry_run: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        flt = services.SignatureFilter(
            domain=data["domain"] or "", since=data["since"], until=data["until"]
        )
        try:
            if request.POST.get("action") == "invalidate":
                if not data["reason"]:
                    form.add_error("reason", _("Give a reason."))
                else:
                    changed = services.signatures_invalidate_matching(
                        letter=letter, by=request.user, flt=flt, reason=data["reason"]
                    )
                    messages.success(
                        request, _("%(n)d signatures were invalidated.") % {"n": changed}
                    )
                    return redirect("organise:signatures", slug=letter.slug)
            count = services.signatures_matching_count(letter=letter, flt=flt)
            dry_run = {"count": count, "min": settings.MODERATION_MIN_REPORTED}
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
    return render(
        request,
        "organise/invalidate.html",
        {
            "letter": letter,
            "form": form,
            "dry_run": dry_run,
            "min_reported": settings.MODERATION_MIN_REPORTED,
        },
    )


@login_required
@require_POST
def letter_erase_identities(request: HttpRequest, slug: str) -> HttpResponse:
    """The owners' emergency button: erase every signer's personal data now
    (counts stay).  The form asks to type the letter's address to confirm."""
    letter, _role = _letter_for(request, slug, OWNER)
    if request.POST.get("confirm") != letter.slug:
        messages.error(request, _("Type the letter's address to confirm."))
        return _overview(letter.slug)
    erased = services.letter_erase_identities(letter=letter, by=request.user)
    messages.success(request, _("Erased the identities of %(n)d signatures.") % {"n": erased})
    return _overview(letter.slug)
