"""Writes on letters: create, publish, and (with the organiser issue) edit,
version, close, archive.  Every status transition is a conditional update
that checks the current state and writes a LetterEvent."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from letters.markup import render_markdown
from letters.models import (
    Addressee,
    Demand,
    EventKind,
    Letter,
    LetterEvent,
    LetterStats,
    LetterStatus,
    LetterVersion,
    Organiser,
    OrganiserRole,
    VersionTranslation,
)
from letters.services.errors import ServiceError


@dataclass(frozen=True)
class TranslationInput:
    language: str
    title: str
    body: str
    demands: list[str]


@transaction.atomic
def letter_create(
    *,
    slug: str,
    title: str,
    body: str,
    demands: list[str],
    addressees: Iterable[tuple[str, str]],
    language: str = "en",
    owner: Any | None = None,
    goal: int | None = None,
    allowed_domains: list[str] | None = None,
    closes_at: datetime | None = None,
    list_public_signatories: bool = True,
    show_names_after: int | None = None,
    change_note: str = "",
    translations: Iterable[TranslationInput] = (),
) -> Letter:
    """Create a draft letter with its first version (and its translations)."""
    letter = Letter.objects.create(
        slug=slug,
        title=title,
        language=language,
        goal=goal,
        allowed_domains=allowed_domains or [],
        closes_at=closes_at,
        list_public_signatories=list_public_signatories,
        show_names_after=show_names_after,
    )
    Addressee.objects.bulk_create(
        Addressee(letter=letter, position=i, name=name, role=role)
        for i, (name, role) in enumerate(addressees)
    )
    version = LetterVersion.objects.create(
        letter=letter,
        number=1,
        body=body,
        body_html=render_markdown(body),
        change_note=change_note,
        created_by=owner,
    )
    Demand.objects.bulk_create(
        Demand(version=version, position=i, text=text) for i, text in enumerate(demands)
    )
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
    letter.current_version = version
    letter.save(update_fields=["current_version"])
    LetterStats.objects.create(letter=letter)
    if owner is not None:
        Organiser.objects.create(letter=letter, user=owner, role=OrganiserRole.OWNER)
    return letter


@transaction.atomic
def letter_publish(*, letter: Letter, by: Any | None = None) -> Letter:
    """draft → open, as a conditional update; writes a `published` event."""
    return _transition(
        letter,
        allowed_from=[LetterStatus.DRAFT],
        to=LetterStatus.OPEN,
        event=EventKind.PUBLISHED,
        by=by,
        message=_("Only a draft can be published."),
    )


@dataclass(frozen=True)
class LetterInput:
    """What an organiser edits: the text (body, demands) and the settings."""

    title: str
    body: str
    demands: list[str]
    addressees: list[tuple[str, str]]
    language: str = "en"
    allowed_domains: list[str] = field(default_factory=list)
    goal: int | None = None
    closes_at: datetime | None = None
    list_public_signatories: bool = True
    show_names_after: int | None = None
    change_note: str = ""


def _replace_addressees(letter: Letter, addressees: list[tuple[str, str]]) -> None:
    letter.addressees.all().delete()
    Addressee.objects.bulk_create(
        Addressee(letter=letter, position=i, name=name, role=role)
        for i, (name, role) in enumerate(addressees)
    )


def _apply_settings(letter: Letter, data: LetterInput) -> None:
    Letter.objects.filter(pk=letter.pk).update(
        title=data.title,
        language=data.language,
        allowed_domains=data.allowed_domains,
        goal=data.goal,
        closes_at=data.closes_at,
        list_public_signatories=data.list_public_signatories,
        show_names_after=data.show_names_after,
    )
    _replace_addressees(letter, data.addressees)


def _new_version(letter: Letter, data: LetterInput, by: Any | None, number: int) -> LetterVersion:
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


@transaction.atomic
def letter_edit(*, letter: Letter, by: Any, data: LetterInput) -> Letter:
    """Save an organiser's edit.

    Draft: the one unpublished version is rewritten in place (nobody has
    signed it).  Open: if the body or the demands changed, a new immutable
    version is published (a change note is required), signatures keep the
    version they signed and opted-in signers of earlier versions are emailed.
    Closed or later: the text is frozen; only settings change.
    Locks the letter row (select_for_update) so two editors cannot both
    create version N+1.
    """
    letter = Letter.objects.select_for_update().get(pk=letter.pk)
    current = letter.current_version
    assert current is not None
    old_demands = list(current.demands.values_list("text", flat=True))
    text_changed = data.body != current.body or data.demands != old_demands
    if letter.status == LetterStatus.DRAFT:
        LetterVersion.objects.filter(pk=current.pk).update(
            body=data.body, body_html=render_markdown(data.body), change_note=data.change_note
        )
        current.demands.all().delete()
        Demand.objects.bulk_create(
            Demand(version=current, position=i, text=text) for i, text in enumerate(data.demands)
        )
    elif text_changed:
        if letter.status != LetterStatus.OPEN:
            raise ServiceError(_("The text of a closed or delivered letter cannot change."))
        if not data.change_note.strip():
            raise ServiceError(
                _("Say briefly what changed: signers will see this note."), field="change_note"
            )
        version = _new_version(letter, data, by, current.number + 1)
        Letter.objects.filter(pk=letter.pk).update(current_version=version)
        LetterEvent.objects.create(
            letter=letter, kind=EventKind.NEW_VERSION, text=data.change_note, created_by=by
        )
        from letters.tasks import notify_new_version

        letter_id, number = letter.pk, version.number
        transaction.on_commit(lambda: notify_new_version.delay(letter_id, number))
    _apply_settings(letter, data)
    letter.refresh_from_db()
    return letter


def _transition(
    letter: Letter,
    *,
    allowed_from: Iterable[str],
    to: str,
    event: str,
    by: Any | None,
    message: str,
) -> Letter:
    """A status change as one conditional update from an allowed state."""
    changes: dict[str, Any] = {"status": to}
    if to == LetterStatus.OPEN:
        changes["published_at"] = timezone.now()
    updated = Letter.objects.filter(pk=letter.pk, status__in=list(allowed_from)).update(**changes)
    if not updated:
        raise ServiceError(message)
    LetterEvent.objects.create(letter=letter, kind=event, created_by=by)
    letter.refresh_from_db()
    return letter


@transaction.atomic
def letter_close(*, letter: Letter, by: Any | None = None) -> Letter:
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
def letter_archive(*, letter: Letter, by: Any | None = None) -> Letter:
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
    """Close every open letter whose closing date has passed (beat)."""
    closed = 0
    due = Letter.objects.filter(status=LetterStatus.OPEN, closes_at__lte=timezone.now())
    for letter in due:
        try:
            letter_close(letter=letter)
            closed += 1
        except ServiceError:  # closed by hand meanwhile
            continue
    return closed


@transaction.atomic
def letter_duplicate(*, letter: Letter, by: Any) -> Letter:
    """Start a new draft from a letter's current text and settings."""
    version = letter.current_version
    assert version is not None
    base = f"{letter.slug[:70]}-copy"
    slug, n = base, 1
    while Letter.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    copy = letter_create(
        slug=slug,
        title=letter.title,
        body=version.body,
        demands=list(version.demands.values_list("text", flat=True)),
        addressees=[(a.name, a.role) for a in letter.addressees.all()],
        language=letter.language,
        owner=by,
        goal=letter.goal,
        allowed_domains=list(letter.allowed_domains),
        translations=[
            TranslationInput(t.language, t.title, t.body, list(t.demands))
            for t in version.translations.all()
        ],
    )
    Letter.objects.filter(pk=copy.pk).update(
        duplicated_from=letter,
        list_public_signatories=letter.list_public_signatories,
        show_names_after=letter.show_names_after,
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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def letter_set_paper_count(*, letter: Letter, count: int) -> None:
    if count < 0:
        raise ServiceError(_("Enter zero or more."), field="paper_count")
    Letter.objects.filter(pk=letter.pk).update(paper_count=count)


@transaction.atomic
def translation_save(*, letter: Letter, data: TranslationInput) -> VersionTranslation:
    """Add or replace the current version's text in another language (the same
    text, translated; one count covers all languages)."""
    version = letter.current_version
    assert version is not None
    if data.language == letter.language:
        raise ServiceError(_("This is the letter's own language."), field="language")
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
