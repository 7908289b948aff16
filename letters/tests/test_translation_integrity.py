"""A translation is part of its version (issue "What people and clients
see"): it has exactly the version's demands, the fingerprint covers every
language's text, and once the letter is open changing any language's text
is a new version with re-consent, like any edit.  More languages need no
migration.  Signers of an earlier version see what changed rendered like the
letter, in their language."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from letters import selectors, services
from letters.models import (
    EventKind,
    Letter,
    LetterStatus,
    LetterVersion,
    Signature,
    VersionTranslation,
)
from letters.tests.factories import STOP_THE_CONTRACT, confirmed_signature, current, deliver
from letters.tokens import Purpose, make_token

pytestmark = pytest.mark.django_db(transaction=True)


def version_now(letter: Letter) -> LetterVersion:
    """The letter's current version, as stored now."""
    version = current(letter).current_version
    assert version is not None
    return version


GERMAN = STOP_THE_CONTRACT["translations"][0]


def german(**changes: Any) -> services.TranslationInput:
    fields = {
        "language": "de",
        "title": GERMAN.title,
        "body": GERMAN.body,
        "demands": list(GERMAN.demands),
        **changes,
    }
    return services.TranslationInput(**fields)


def draft(organiser: Any, **text: Any) -> Letter:
    data = services.LetterInput(
        title="Stop the contract",
        body=STOP_THE_CONTRACT["body"],
        demands=list(STOP_THE_CONTRACT["demands"]),
        addressees=[("Casey Chief", "CEO")],
        **text,
    )
    return services.letter_create(slug="a-draft", data=data, owner=organiser)


def translation_form(**overrides: str) -> dict[str, str]:
    return {
        "language": "de",
        "title": GERMAN.title,
        "body": GERMAN.body,
        "demands": "\n".join(GERMAN.demands),
        "change_note": "",
        **overrides,
    }


def test_a_translation_with_fewer_demands_is_refused_next_to_the_demands(organiser):
    letter = draft(organiser)
    with pytest.raises(services.ServiceError) as refused:
        services.translation_save(letter=letter, data=german(demands=["Eins", "Zwei"]))
    assert refused.value.field == "demands"
    assert not VersionTranslation.objects.exists()

    client = Client()
    client.force_login(organiser)
    url = reverse("organise:translation", kwargs={"slug": letter.slug})
    page = client.post(url, translation_form(demands="Eins\nZwei")).content.decode()
    assert 'id="id_demands_error"' in page
    assert "The letter has 3 demands" in page
    assert "There is a problem" in page  # the summary at the top of the form
    assert "Sehr geehrte" in page  # what was typed is kept
    assert not VersionTranslation.objects.exists()


def test_the_translation_form_shows_the_original_beside_it(organiser):
    letter = draft(organiser)
    client = Client()
    client.force_login(organiser)
    page = client.get(reverse("organise:translation", kwargs={"slug": letter.slug}))
    html = page.content.decode()
    original = html.split('id="original-heading"')[1].split('id="translation-heading"')[0]
    assert "We, the undersigned employees, ask you to act." in original
    for demand in STOP_THE_CONTRACT["demands"]:
        assert demand.replace("'", "&#x27;") in original
    # The letter's own language is not offered as a translation.
    assert 'value="en"' not in html.split('name="language"')[1].split("</select>")[0]


def test_a_drafts_translation_changes_in_place(organiser):
    letter = draft(organiser)
    services.translation_save(letter=letter, data=german())
    services.translation_save(letter=letter, data=german(body="Neuer Text."))
    letter.refresh_from_db()
    assert letter.versions.count() == 1
    assert version_now(letter).translations.get().body == "Neuer Text."


def test_changing_a_translation_of_an_open_letter_is_a_new_version_with_reconsent(
    open_letter, organiser
):
    early = confirmed_signature(open_letter, name="Early", email="early@example.org")
    Signature.objects.filter(pk=early.pk).update(wants_updates=True, language="de")
    before = selectors.version_fingerprint(version_now(open_letter))
    mail.outbox.clear()

    with pytest.raises(services.ServiceError) as no_note:
        services.translation_save(letter=open_letter, data=german(body="Anders."), by=organiser)
    assert no_note.value.field == "change_note"

    services.translation_save(
        letter=open_letter,
        data=german(body="Sehr geehrte Geschäftsführung,\n\nwir bitten Sie **sofort** zu handeln."),
        by=organiser,
        change_note="Deutsche Fassung korrigiert",
    )
    letter = current(open_letter)
    version = version_now(letter)
    assert version.number == 2
    assert version.body == STOP_THE_CONTRACT["body"]  # the original is unchanged
    assert list(version.demands.values_list("text", flat=True)) == STOP_THE_CONTRACT["demands"]
    assert version.translations.get(language="de").body.endswith("**sofort** zu handeln.")
    assert selectors.version_fingerprint(version) != before
    event = letter.events.get(kind=EventKind.NEW_VERSION)
    assert event.text == "Deutsche Fassung korrigiert"
    early.refresh_from_db()
    assert early.version.number == 1  # signed the text they read
    assert [m.to for m in mail.outbox] == [["early@example.org"]]

    # The German signer's review page: the German text, rendered, the change marked.
    review = Client().get(
        reverse("signature_new_version", kwargs={"token": make_token(early, Purpose.NEW_VERSION)})
    )
    html = review.content.decode()
    assert "**" not in html
    assert "<strong><ins>sofort</ins></strong>" in html  # the German text, diffed
    assert "Deutsche Fassung korrigiert" in html


def test_a_new_language_on_an_open_letter_is_a_new_version_too(open_letter, organiser):
    VersionTranslation.objects.filter(version__letter=open_letter).delete()
    services.translation_save(
        letter=open_letter, data=german(), by=organiser, change_note="Auf Deutsch"
    )
    assert version_now(open_letter).number == 2


def test_saving_the_same_text_again_or_only_a_new_title_is_no_new_version(open_letter, organiser):
    services.translation_save(letter=open_letter, data=german(), by=organiser)
    services.translation_save(letter=open_letter, data=german(title="Neuer Titel"), by=organiser)
    letter = current(open_letter)
    assert version_now(letter).number == 1
    assert version_now(letter).translations.get().title == "Neuer Titel"
    assert not letter.events.filter(kind=EventKind.NEW_VERSION).exists()


@pytest.mark.parametrize("state", ["closed", "delivered"])
def test_no_language_of_a_closed_or_delivered_letter_can_change(open_letter, organiser, state):
    services.letter_close(letter=open_letter, by=organiser)
    if state == "delivered":
        deliver(open_letter, organiser)
    with pytest.raises(services.ServiceError):
        services.translation_save(
            letter=open_letter, data=german(body="Anders."), by=organiser, change_note="x"
        )
    assert version_now(open_letter).translations.get().body == GERMAN.body
    client = Client()
    client.force_login(organiser)
    url = reverse("organise:translation", kwargs={"slug": open_letter.slug})
    page = client.post(url, translation_form(body="Anders.", change_note="x"))
    assert page.status_code == 200
    assert "cannot change" in page.content.decode()
    assert version_now(open_letter).translations.get().body == GERMAN.body


def test_the_fingerprint_covers_every_language(open_letter):
    version = version_now(open_letter)
    demands = list(version.demands.values_list("text", flat=True))
    with_german = selectors.version_fingerprint(version)
    # Without translations it is the fingerprint versions always had.
    assert version.fingerprint(demands) != with_german
    VersionTranslation.objects.filter(version=version).update(demands=["a", "b", "c"])
    assert selectors.version_fingerprint(version) != with_german
    api = Client().get(f"/api/letters/{open_letter.slug}/").json()
    assert api["versions"][0]["fingerprint"] == selectors.version_fingerprint(version)
    assert api["versions"][0]["languages"] == ["en", "de"]


def test_a_draft_whose_demands_changed_cannot_be_published_until_retranslated(organiser):
    letter = draft(organiser)
    services.translation_save(letter=letter, data=german())
    services.letter_edit(
        letter=letter,
        by=organiser,
        data=services.LetterInput(
            title=letter.title,
            body=STOP_THE_CONTRACT["body"],
            demands=[*STOP_THE_CONTRACT["demands"], "A fourth demand"],
            addressees=[("Casey Chief", "CEO")],
        ),
    )
    with pytest.raises(services.ServiceError, match="German"):
        services.letter_publish(letter=letter, by=organiser)
    assert Letter.objects.get(pk=letter.pk).status == LetterStatus.DRAFT
    services.translation_save(letter=letter, data=german(demands=[*GERMAN.demands, "Viertens"]))
    assert services.letter_publish(letter=letter, by=organiser).status == LetterStatus.OPEN


def test_a_third_language_needs_no_migration(settings, organiser):
    settings.LANGUAGES = [("en", "English"), ("de", "German"), ("fr", "French")]
    out = StringIO()
    call_command("makemigrations", "letters", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
    letter = draft(organiser)
    services.translation_save(letter=letter, data=german())
    french = services.TranslationInput(
        "fr",
        "Arrêtez le contrat",
        "Madame, Monsieur,\n\nagissez.",
        ["Condamnez", "Arrêtez", "Publiez"],
    )
    saved = services.translation_save(letter=letter, data=french)
    saved.full_clean()  # the field's choices are the configured languages
    assert sorted(version_now(letter).translations.values_list("language", flat=True)) == [
        "de",
        "fr",
    ]
    settings.LANGUAGES = [("en", "English"), ("de", "German")]
    with pytest.raises(services.ServiceError):
        services.translation_save(letter=letter, data=french)


def test_the_letter_changed_page_renders_the_letter_and_folds_what_did_not_change(
    open_letter, organiser
):
    signer = confirmed_signature(open_letter, name="Early", email="early@example.org")
    body = (
        STOP_THE_CONTRACT["body"] + "\n\nWe ask for **three** things.\n\n<script>alert(1)</script>"
    )
    services.letter_edit(
        letter=open_letter,
        by=organiser,
        data=services.LetterInput(
            title=open_letter.title,
            body=body,
            demands=list(STOP_THE_CONTRACT["demands"]),
            addressees=[("Casey Chief", "CEO")],
            change_note="One more paragraph",
        ),
    )
    token = make_token(signer, Purpose.NEW_VERSION)
    html = Client().get(reverse("signature_new_version", kwargs={"token": token})).content.decode()
    diff = html.split('id="diff-heading"')[1]
    assert "**" not in diff
    assert "<strong>three</strong>" in diff
    assert "alert(1)" not in diff
    assert "&lt;script" not in diff
    assert re.search(r'<details class="diff-same"><summary>2 unchanged paragraphs</summary>', diff)
    assert diff.count("We, the undersigned employees") == 1  # folded, not repeated
