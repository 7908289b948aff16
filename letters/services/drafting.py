"""Writes on letters: create, edit (new versions), publish, close, archive,
duplicate, translations, the review link.  Every status transition is a
conditional update that checks the current state and records its event
(`event_record`, which also decides who is told)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from letters.markup import render_markdown
from letters.models import (
    Addressee,
    Demand,
    EventKind,
    Letter,
    LetterStats,
    LetterStatus,
    LetterVersion,
    Organiser,
    OrganiserRole,
    VersionTranslation,
    default_language,
)
from letters.services.employers import (
    EmployerInput,
    employers_save,
)
from letters.services.errors import ServiceError
from letters.services.events import event_record
from letters.services.internal import internal_check, public_at_count_recheck
from letters.services.slugs import letter_insert
from letters.tokens import hash_token


@dataclass(frozen=True)
class TranslationInput:
    language: str
    title: str
    body: str
    demands: list[str]


@dataclass(frozen=True)
class LetterInput:
    """What an organiser writes: the text (body, demands) and the settings."""

    title: str
    body: str
    demands: list[str]
    addressees: list[tuple[str, str]]
    language: str = field(default_factory=default_language)
    # The employers the letter speaks for (services.employers); a bare
    # list of domains (`allowed_domains`) is one employer named after its
    # first domain.
    employers: list[EmployerInput] = field(default_factory=list)
    allowed_domains: list[str] = field(default_factory=list)
    accept_supporters: bool = False
    goal: int | None = None
    closes_at: datetime | None = None
    list_public_signatories: bool = True
    show_names_after: int | None = None
    change_note: str = ""
    # Internal first (services.internal): None keeps what the letter has
    # (a new letter: not internal).
    internal: bool | None = None
    public_at_count: int | None = None


def _settings(data: LetterInput) -> dict[str, Any]:
    return {
        "title": data.title,
        "language": data.language,
        "goal": data.goal,
        "closes_at": data.closes_at,
        "list_public_signatories": data.list_public_signatories,
        "show_names_after": data.show_names_after,
        "public_at_count": data.public_at_count,
        **({} if data.internal is None else {"internal": data.internal}),
    }


def _employers(data: LetterInput) -> list[EmployerInput]:
    if data.employers or not data.allowed_domains:
        return list(data.employers)
    return [EmployerInput(name=data.allowed_domains[0], domains=list(data.allowed_domains))]


def _replace_addressees(letter: Letter, addressees: list[tuple[str, str]]) -> None:
    letter.addressees.all().delete()
    Addressee.objects.bulk_create(
        Addressee(letter=letter, position=i, name=name, role=role)
        for i, (name, role) in enumerate(addressees)
    )


def _new_version(letter: Letter, data: LetterInput, by: User | None, number: int) -> LetterVersion:
    version = LetterVersion.objects.create(
        letter=letter,
        number=number,
        body=data.body,
        body_html=render_markdown(data.body),
        change_note=data.change_note,
        created_by=by,
    )
    Demand.objects.bulk_create(
        Demand(version=version, position=i, text=text) for i, text in enumerate(data.demands)
    )
    return version


def _add_translations(version: LetterVersion, translations: Iterable[TranslationInput]) -> None:
    VersionTranslation.objects.bulk_create(
        VersionTranslation(
            version=version,
            language=t.language,
            title=t.title,
            body=t.body,
            body_html=render_markdown(t.body),
            demands=list(t.demands),
        )
        for t in translations
    )


@transaction.atomic
def letter_create(
    *,
    slug: str,
    data: LetterInput,
    owner: User | None = None,
    translations: Iterable[TranslationInput] = (),
) -> Letter:
    """Create a draft letter with its first version (and its translations);
    `owner`, if given, becomes its owner.  An empty `slug`: one made from
    the title (`services.slugs`)."""
    internal_check(letter=None, internal=data.internal, employers=_employers(data))
    letter = letter_insert(slug=slug, fields=_settings(data))
    employers_save(
        letter=letter, entries=_employers(data), accept_supporters=data.accept_supporters
    )
    _replace_addressees(letter, data.addressees)
    version = _new_version(letter, data, owner, 1)
    _add_translations(version, translations)
    letter.current_version = version
    letter.save(update_fields=["current_version"])
    LetterStats.objects.create(letter=letter)
    if owner is not None:
        Organiser.objects.create(letter=letter, user=owner, role=OrganiserRole.OWNER)
    return letter


@transaction.atomic
def letter_publish(*, letter: Letter, by: User | None = None) -> Letter:
    """draft → open, as a conditional update; writes a `published` event.
    Refused while a translation's demands are out of step with the text
    (a translation has exactly its version's demands)."""
    stale = translations_out_of_step(letter=letter)
    if stale:
        names = ", ".join(str(dict(settings.LANGUAGES).get(code, code)) for code in stale)
        raise ServiceError(
            _(
                "The translation (%(languages)s) does not have the letter's demands any more:"
                " update it before publishing."
            )
            % {"languages": names}
        )
    return _transition(
        letter,
        allowed_from=[LetterStatus.DRAFT],
        to=LetterStatus.OPEN,
        event=EventKind.PUBLISHED,
        by=by,
        message=_("Only a draft can be published."),
    )


def _rewrite_draft(version: LetterVersion, data: LetterInput) -> None:
    LetterVersion.objects.filter(pk=version.pk).update(
        body=data.body, body_html=render_markdown(data.body), change_note=data.change_note
    )
    version.demands.all().delete()
    Demand.objects.bulk_create(
        Demand(version=version, position=i, text=text) for i, text in enumerate(data.demands)
    )


@transaction.atomic
def letter_edit(*, letter: Letter, by: User, data: LetterInput) -> Letter:
    """Save an organiser's edit.

    Draft: the one unpublished version is rewritten in place (nobody has
    signed it).  Open: if the body or the demands changed, a new immutable
    version is published (a change note is required), signatures keep the
    version they signed and opted-in signers of earlier versions are emailed.
    Closed or later: the text is frozen; only settings change.  Whether
    it is internal changes only on a draft (`services.internal`).
    Locks the letter row (select_for_update) so two editors cannot both
    create version N+1.
    """
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    internal_check(letter=letter, internal=data.internal, employers=_employers(data))
    current = letter.current_version
    assert current is not None
    old_demands = list(current.demands.values_list("text", flat=True))
    text_changed = data.body != current.body or data.demands != old_demands
    if letter.status == LetterStatus.DRAFT:
        _rewrite_draft(current, data)
    elif text_changed:
        if letter.status != LetterStatus.OPEN:
            raise ServiceError(_("The text of a closed or delivered letter cannot change."))
        if not data.change_note.strip():
            raise ServiceError(
                _("Say briefly what changed: signers will see this note."), field="change_note"
            )
        letter.current_version = _new_version(letter, data, by, current.number + 1)
        Letter.objects.filter(pk=letter.pk).update(current_version=letter.current_version)
        event_record(letter=letter, kind=EventKind.NEW_VERSION, text=data.change_note, by=by)
    Letter.objects.filter(pk=letter.pk).update(**_settings(data))
    employers_save(
        letter=letter, entries=_employers(data), accept_supporters=data.accept_supporters
    )
    _replace_addressees(letter, data.addressees)
    letter.refresh_from_db()
    public_at_count_recheck(letter)
    return letter


def _transition(
    letter: Letter,
    *,
    allowed_from: Iterable[str],
    to: LetterStatus,
    event: EventKind,
    by: User | None,
    message: str,
) -> Letter:
    """A status change as one conditional update from an allowed state."""
    changes: dict[str, Any] = {"status": to}
    if to == LetterStatus.OPEN:
        changes["published_at"] = timezone.now()
    updated = Letter.objects.filter(pk=letter.pk, status__in=list(allowed_from)).update(**changes)
    if not updated:
        raise ServiceError(message)
    event_record(letter=letter, kind=event, by=by)
    letter.refresh_from_db()
    return letter


@transaction.atomic
def letter_close(*, letter: Letter, by: User | None = None) -> Letter:
    """open → closed (by hand, or by the beat task at closes_at)."""
    return _transition(
        letter,
        allowed_from=[LetterStatus.OPEN],
        to=LetterStatus.CLOSED,
        event=EventKind.CLOSED,
        by=by,
        message=_("Only an open letter can be closed."),
    )


@transaction.atomic
def letter_archive(*, letter: Letter, by: User | None = None) -> Letter:
    """any state but archived → archived: withdrawn from view.  The public
    page, lists, API, feed, widget, leadership and review links answer like
    unknown ones, and confirm and new-version links like invalid ones; the
    signers' withdraw and unsubscribe links and the organiser area keep
    working (`letters/tests/test_archive.py`)."""
    return _transition(
        letter,
        allowed_from=[s for s in LetterStatus.values if s != LetterStatus.ARCHIVED],
        to=LetterStatus.ARCHIVED,
        event=EventKind.ARCHIVED,
        by=by,
        message=_("This letter is already archived."),
    )


def letters_close_due() -> int:
    """Close every open letter whose closing date has passed (beat).  Safe
    twice at once: `letter_close` is a conditional update from open, so one
    run closes a letter and records its one "closed" event; the other's
    finds it closed (ServiceError, rolled back)."""
    closed = 0
    due = Letter.objects.filter(status=LetterStatus.OPEN, closes_at__lte=timezone.now())
    for letter in due:
        try:
            letter_close(letter=letter)
            closed += 1
        except ServiceError:  # closed by hand meanwhile
            continue
    return closed


def _free_slug(slug: str) -> str:
    base = f"{slug[:70]}-copy"
    free, n = base, 1
    while Letter.objects.filter(slug=free).exists():
        n += 1
        free = f"{base}-{n}"
    return free


@transaction.atomic
def letter_duplicate(*, letter: Letter, by: User) -> Letter:
    """Start a new draft from a letter's current text and settings (all but
    its closing date), with `by` as its owner."""
    version = letter.current_version
    assert version is not None
    data = LetterInput(
        title=letter.title,
        body=version.body,
        demands=list(version.demands.values_list("text", flat=True)),
        addressees=[(a.name, a.role) for a in letter.addressees.all()],
        language=letter.language,
        employers=[
            EmployerInput(name=e.name, domains=list(e.domains)) for e in letter.employers.all()
        ],
        accept_supporters=letter.accept_supporters,
        goal=letter.goal,
        list_public_signatories=letter.list_public_signatories,
        show_names_after=letter.show_names_after,
        internal=letter.internal,
        public_at_count=letter.public_at_count,
    )
    translations = [
        TranslationInput(t.language, t.title, t.body, list(t.demands))
        for t in version.translations.all()
    ]
    copy = letter_create(
        slug=_free_slug(letter.slug), data=data, owner=by, translations=translations
    )
    Letter.objects.filter(pk=copy.pk).update(
        duplicated_from=letter, public_comments=letter.public_comments
    )
    copy.refresh_from_db()
    return copy


def letter_preview_link_create(*, letter: Letter) -> str:
    """A new secret read-only preview link (replacing any earlier one); the
    token is returned once and stored hashed."""
    token = secrets.token_urlsafe(24)
    Letter.objects.filter(pk=letter.pk).update(preview_token_hash=hash_token(token))
    return token


def letter_preview_link_revoke(*, letter: Letter) -> None:
    Letter.objects.filter(pk=letter.pk).update(preview_token_hash="")


def _translation_problem(
    version: LetterVersion, language: str, demands: list[str], letter_language: str
) -> ServiceError | None:
    """Why a translation cannot belong to `version`, if it cannot: it must be
    in another configured language and have exactly the version's demands
    (same count, same order; each one translated)."""
    if language == letter_language:
        return ServiceError(_("This is the letter's own language."), field="language")
    if language not in dict(settings.LANGUAGES):
        return ServiceError(_("Choose one of the site's languages."), field="language")
    expected = version.demands.count()
    if len(demands) != expected or any(not d.strip() for d in demands):
        return ServiceError(
            ngettext(
                "The letter has %(count)d demand: give its translation on one line.",
                "The letter has %(count)d demands: give each one's translation on its own"
                " line, in the same order.",
                expected,
            )
            % {"count": expected},
            field="demands",
        )
    return None


def _translations_of(version: LetterVersion) -> list[TranslationInput]:
    return [
        TranslationInput(t.language, t.title, t.body, [str(d) for d in t.demands])
        for t in version.translations.order_by("language")
    ]


@transaction.atomic
def translation_save(
    *, letter: Letter, data: TranslationInput, by: User | None = None, change_note: str = ""
) -> VersionTranslation:
    """Add or change the current version's text in another language.

    A translation is part of its version: it has exactly the version's
    demands, and the version's fingerprint covers it.  So, like
    `letter_edit`: a draft's translation is rewritten in place (nobody has
    signed); on an open letter a change to a translation's body or demands
    (or a new language) publishes a new version with the same original
    text and every other translation, needs a change note and tells
    signers of earlier versions, as any edit does; a closed or delivered
    letter's text, in every language, is frozen.  A new title alone
    changes in place, as the original's title does (titles are not part
    of a version).  Locks the letter row like `letter_edit`."""
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    version = letter.current_version
    assert version is not None
    problem = _translation_problem(version, data.language, data.demands, letter.language)
    if problem is not None:
        raise problem
    existing = version.translations.filter(language=data.language).first()
    same_text = (
        existing is not None
        and existing.body == data.body
        and [str(d) for d in existing.demands] == list(data.demands)
    )
    if letter.status == LetterStatus.DRAFT or same_text:
        translation, _created = VersionTranslation.objects.update_or_create(
            version=version,
            language=data.language,
            defaults={
                "title": data.title,
                "body": data.body,
                "body_html": render_markdown(data.body),
                "demands": list(data.demands),
            },
        )
        return translation
    if letter.status != LetterStatus.OPEN:
        raise ServiceError(_("The text of a closed or delivered letter cannot change."))
    if not change_note.strip():
        raise ServiceError(
            _("Say briefly what changed: signers will see this note."), field="change_note"
        )
    demands = list(version.demands.values_list("text", flat=True))
    new = LetterInput(
        title=letter.title,
        body=version.body,
        demands=demands,
        addressees=[],
        change_note=change_note,
    )
    others = [t for t in _translations_of(version) if t.language != data.language]
    letter.current_version = _new_version(letter, new, by, version.number + 1)
    _add_translations(letter.current_version, [*others, data])
    Letter.objects.filter(pk=letter.pk).update(current_version=letter.current_version)
    event_record(letter=letter, kind=EventKind.NEW_VERSION, text=change_note, by=by)
    return letter.current_version.translations.get(language=data.language)


def translations_out_of_step(*, letter: Letter) -> list[str]:
    """The languages whose translation of the current version no longer has
    the version's demands (a draft edited after it was translated)."""
    version = letter.current_version
    if version is None:
        return []
    expected = version.demands.count()
    return [
        t.language for t in version.translations.order_by("language") if len(t.demands) != expected
    ]
