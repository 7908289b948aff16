"""The organiser area.  Every view of a letter authorises through
`letters.access.organiser_view(capability)` (the letter, and what the
user's role may do on it), validates a form, calls one service, then
redirects or renders.  Organisers never see an email address or an
anonymous name."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from letters import selectors, services, zones
from letters.access import Capability, OrganiserAccess, account, organiser_view
from letters.forms import organise as forms
from letters.links import absolute_url, letter_url
from letters.markup import render_markdown
from letters.models import Letter, OrganiserRole
from letters.refs import signature_pk
from letters.selectors.employers import employer_counts
from letters.views.acting import act
from letters.views.groups import letter_group_context
from letters.views.public import chart_context

VIEW, EDIT, MODERATE = Capability.VIEW, Capability.EDIT, Capability.MODERATE
INVITE, OWN = Capability.INVITE, Capability.OWN
GET_POST = ("GET", "POST")
POST = ("POST",)

# The buttons of the two-step forms (`name="action"`).
REVOKE = "revoke"  # the review link: revoke it (any other value makes a new one)
INVALIDATE = "invalidate"  # invalidate by filter: act (any other value counts)


def _overview(slug: str) -> HttpResponse:
    return redirect("organise:letter", slug=slug)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = selectors.letters_for_organiser(user=account(request))
    offered = selectors.letter_templates_offered(language=get_language())
    templates = [t for t in offered if t.language == get_language()] or offered
    return render(request, "organise/dashboard.html", {"rows": rows, "templates": templates})


def _preview(form: forms.LetterForm) -> dict[str, Any]:
    """The whole letter as its public page will show it (title, addressees,
    body, demands): templates/organise/_preview.html."""
    data = form.cleaned_data
    return {
        "title": data["title"],
        "language": data["language"],
        "addressees": [{"name": name, "role": role} for name, role in data["addressees"]],
        "body_html": render_markdown(data["body"]),
        "demands": data["demands"],
    }


def _letter_form(request: HttpRequest, **kwargs: Any) -> forms.LetterForm:
    return forms.LetterForm(request.POST or None, zone=zones.remembered(request), **kwargs)


def _valid(request: HttpRequest, form: forms.LetterForm) -> bool:
    """A valid letter form; the time zone it was sent with is remembered."""
    if request.method != "POST" or not form.is_valid():
        return False
    if form.zone_chosen:
        zones.remember(request, form.zone_name)
    return True


@login_required
@require_http_methods(GET_POST)
def letter_new(request: HttpRequest) -> HttpResponse:
    """A new draft, blank or started from a letter template (`?template=<id>`,
    letters/models/templates.py): the template only fills the form; nothing
    is saved until the organiser saves."""
    chosen = request.GET.get("template")
    template = selectors.letter_template_offered(chosen)
    initial: dict[str, Any] = {"language": settings.LANGUAGE_CODE}
    if template is not None:
        initial = {
            "title": template.title,
            "body": template.body,
            "demands": "\n".join(str(d) for d in template.demands),
            "language": template.language,
        }
    form = _letter_form(request, creating=True, initial=initial)
    preview = None
    if _valid(request, form):
        if "preview" in request.POST:
            preview = _preview(form)
        else:
            try:
                letter = services.letter_create(
                    slug=form.cleaned_data["slug"], data=form.to_input(), owner=account(request)
                )
            except services.ServiceError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(
                    request,
                    _("Draft saved. Once published, its page will be %(url)s")
                    % {"url": letter_url(letter)},
                )
                return _overview(letter.slug)
    context = {
        "form": form,
        "preview": preview,
        "template": template,
        "template_gone": bool(chosen) and template is None,
        "templates": selectors.letter_templates_offered(language=get_language()),
    }
    return render(request, "organise/edit.html", context)


@organiser_view(VIEW)
def letter_overview(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    version = letter.current_version
    counts = selectors.letter_counts(letter_id=letter.pk)
    context: dict[str, Any] = {
        "letter": letter,
        "access": access,
        "may": access.may,
        "counts": counts,
        # Confirmed totals per employer (rule 8), with their domains.
        "employers": employer_counts(letter=letter, confirmed_total=counts.confirmed),
        "versions": selectors.letter_versions(letter=letter),
        "events": selectors.letter_events(letter=letter),
        "organisers": selectors.organisers_of(letter=letter),
        "invitations": selectors.invitations_open(letter=letter),
        "invite_form": forms.InviteForm(),
        "role_choices": OrganiserRole.choices,
        "preview_url": request.session.pop(f"preview-url-{letter.pk}", None),
        "translations": list(version.translations.all()) if version else [],
        "letter_url": letter_url(letter),
        "zone_name": zones.current(request),
        **letter_group_context(access),
        **chart_context(letter),
    }
    return render(request, "organise/letter.html", context)


@organiser_view(EDIT, methods=GET_POST)
def letter_edit(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """Draft: rewritten in place; open: a new version if the text changed;
    later: settings only (`services.letter_edit` decides and says why not)."""
    letter = access.letter
    form = _letter_form(request, initial=forms.LetterForm.initial_for(letter))
    preview = None
    if _valid(request, form):
        if "preview" in request.POST:
            preview = _preview(form)
        else:
            try:
                services.letter_edit(letter=letter, by=access.user, data=form.to_input())
            except services.ServiceError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("Saved."))
                return _overview(letter.slug)
    context = {"form": form, "preview": preview, "letter": letter}
    return render(request, "organise/edit.html", context)


@organiser_view(EDIT, methods=POST)
def letter_duplicate(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    copy = services.letter_duplicate(letter=access.letter, by=access.user)
    messages.success(request, _("A new draft was made from this letter."))
    return _overview(copy.slug)


@organiser_view(EDIT, methods=POST)
def letter_preview_link(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    letter = access.letter
    if request.POST.get("action") == REVOKE:
        services.letter_preview_link_revoke(letter=letter)
        messages.success(request, _("The preview link no longer works."))
    else:
        token = services.letter_preview_link_create(letter=letter)
        # Shown once, on the next page; only the hash is stored.
        request.session[f"preview-url-{letter.pk}"] = absolute_url("letter_preview", token=token)
    return _overview(letter.slug)


@organiser_view(EDIT, methods=GET_POST)
def letter_translation(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """Add or change a translation, beside the original it translates
    (`?language=de` opens an existing one).  A translation is part of the
    version: services.translation_save says what changing one does."""
    letter = access.letter
    version = letter.current_version
    assert version is not None
    existing = {t.language: t for t in version.translations.all()}
    chosen = request.GET.get("language", "")
    initial: dict[str, Any] = {}
    if chosen in existing:
        t = existing[chosen]
        initial = {"language": chosen, "title": t.title, "body": t.body}
        initial["demands"] = "\n".join(str(d) for d in t.demands)
    form = forms.TranslationForm(
        request.POST or None, initial=initial, letter_language=letter.language
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        translation = services.TranslationInput(
            data["language"], data["title"], data["body"], data["demands"]
        )
        try:
            services.translation_save(
                letter=letter, data=translation, by=access.user, change_note=data["change_note"]
            )
        except services.ServiceError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Translation saved."))
            return _overview(letter.slug)
    return render(
        request,
        "organise/translation.html",
        {
            "form": form,
            "letter": letter,
            "version": version,
            "original_demands": list(version.demands.values_list("text", flat=True)),
            "existing": sorted(existing),
            "out_of_step": services.translations_out_of_step(letter=letter),
        },
    )


@organiser_view(INVITE, methods=POST)
def organiser_invite(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    form = forms.InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter an email address and a role."))
        return _overview(access.letter.slug)
    act(
        request,
        lambda: services.organiser_invite(
            letter=access.letter,
            by=access.user,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        ),
        _("Invitation sent."),
    )
    return _overview(access.letter.slug)


@organiser_view(OWN, methods=POST)
def organiser_role(
    request: HttpRequest, access: OrganiserAccess, organiser_id: int
) -> HttpResponse:
    target = access.organiser(organiser_id, OWN)
    form = forms.RoleForm(request.POST)
    if form.is_valid():
        act(
            request,
            lambda: services.organiser_set_role(
                letter=access.letter,
                by=access.user,
                organiser_id=target.pk,
                role=form.cleaned_data["role"],
            ),
        )
    return _overview(access.letter.slug)


@organiser_view(VIEW, methods=POST)
def organiser_remove(
    request: HttpRequest, access: OrganiserAccess, organiser_id: int
) -> HttpResponse:
    """Owners remove anyone; everyone may remove themselves (leave)."""
    target = access.organiser(organiser_id, OWN, oneself_may=True)
    removed = act(
        request,
        lambda: services.organiser_remove(
            letter=access.letter, by=access.user, organiser_id=target.pk
        ),
    )
    if removed and target.user_id == access.user.pk:
        return redirect("organise:dashboard")
    return _overview(access.letter.slug)


@login_required
@require_http_methods(GET_POST)
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_get(token=token)
    if invitation is None:
        return render(request, "letters/invalid_link.html", status=404)
    error = None
    if request.method == "POST":
        try:
            services.invitation_accept(token=token, user=account(request))
        except services.ServiceError as exc:
            error = exc.message
        else:
            return _overview(invitation.letter.slug)
    return render(request, "organise/invitation.html", {"invitation": invitation, "error": error})


@organiser_view(VIEW)
def signatures(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """Public signers by name; anonymous ones only as a count (DESIGN §2)."""
    letter = access.letter
    context = {
        "letter": letter,
        "may": access.may,
        "counts": selectors.letter_counts(letter_id=letter.pk),
        "signatories": selectors.letter_public_signatories(
            letter=letter, limit=500, ignore_listing=True
        ),
        "held": selectors.letter_held_counts(letter=letter),
        "reason_form": forms.ReasonForm(),
        "filter_form": forms.InvalidateFilterForm(),
    }
    return render(request, "organise/signatures.html", context)


def _to_signatures(letter: Letter) -> HttpResponse:
    return redirect("organise:signatures", slug=letter.slug)


@organiser_view(MODERATE, methods=POST)
def signature_invalidate(
    request: HttpRequest, access: OrganiserAccess, signature_ref: str
) -> HttpResponse:
    """One public signer, by the opaque reference the signatories page shows
    (`letters.refs`: ids are a site-wide counter of sign attempts)."""
    signature_id = signature_pk(signature_ref)
    if signature_id is None:
        raise Http404
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return _to_signatures(access.letter)
    act(
        request,
        lambda: services.signature_invalidate(
            letter=access.letter,
            by=access.user,
            signature_id=signature_id,
            reason=form.cleaned_data["reason"],
        ),
        _("The signature was invalidated."),
    )
    return _to_signatures(access.letter)


@organiser_view(MODERATE, methods=GET_POST)
def signatures_invalidate_matching(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """Two steps: POST action=count shows the dry-run count; action=invalidate
    (with a reason) invalidates."""
    letter = access.letter
    form = forms.InvalidateFilterForm(request.POST or None)
    dry_run: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        flt = services.SignatureFilter(
            domain=data["domain"] or "", since=data["since"], until=data["until"]
        )
        refused: services.ServiceError | None = None
        if request.POST.get("action") == INVALIDATE:
            try:
                changed = services.signatures_invalidate_matching(
                    letter=letter, by=access.user, flt=flt, reason=data["reason"]
                )
            except services.ServiceError as exc:
                refused = exc
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("%(n)d signatures were invalidated.") % {"n": changed})
                return _to_signatures(letter)
        if refused is None or refused.field == "reason":  # no reason given: still count
            try:
                count = services.signatures_matching_count(letter=letter, flt=flt)
                dry_run = {"count": count, "min": settings.MODERATION_MIN_REPORTED}
            except services.ServiceError as exc:
                form.add_error(exc.field, exc.message)
    context = {
        "letter": letter,
        "form": form,
        "dry_run": dry_run,
        "min_reported": settings.MODERATION_MIN_REPORTED,
    }
    return render(request, "organise/invalidate.html", context)


@organiser_view(OWN, methods=POST)
def letter_erase_identities(request: HttpRequest, access: OrganiserAccess) -> HttpResponse:
    """The owners' emergency button: erase every signer's personal data now
    (counts stay).  The form asks to type the letter's address to confirm."""
    letter = access.letter
    if request.POST.get("confirm") != letter.slug:
        messages.error(request, _("Type the letter's address to confirm."))
        return _overview(letter.slug)
    erased = services.letter_erase_identities(letter=letter, by=access.user)
    messages.success(request, _("Erased the identities of %(n)d signatures.") % {"n": erased})
    return _overview(letter.slug)
