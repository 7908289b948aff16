"""Writes on letters: create, publish, and (with the organiser issue) edit,
version, close, archive.  Every status transition is a conditional update
that checks the current state and writes a LetterEvent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
    now = timezone.now()
    updated = Letter.objects.filter(pk=letter.pk, status=LetterStatus.DRAFT).update(
        status=LetterStatus.OPEN, published_at=now
    )
    if not updated:
        raise ServiceError(_("Only a draft can be published."))
    LetterEvent.objects.create(letter=letter, kind=EventKind.PUBLISHED, created_by=by)
    letter.refresh_from_db()
    return letter
