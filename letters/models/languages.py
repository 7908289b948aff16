"""The languages a letter can be written in: settings.LANGUAGES, read when
asked, never frozen into a migration.

Fields pass these functions themselves (`choices=language_choices`,
`default=default_language`): migrations record the reference, so adding a
language to settings.LANGUAGES, or changing LANGUAGE_CODE, needs no
migration, while model validation and the admin still offer exactly the
configured languages."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import Promise


def language_choices() -> list[tuple[str, str | Promise]]:
    """settings.LANGUAGES as field choices: (code, name) pairs."""
    return list(settings.LANGUAGES)


def default_language() -> str:
    """settings.LANGUAGE_CODE: the language of a new letter or signature."""
    return str(settings.LANGUAGE_CODE)
