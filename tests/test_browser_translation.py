"""An organiser changes an open letter's German translation in a real
browser: the original is beside the form; a translation with a demand
missing is refused with the error summary focused and the typed text kept;
the corrected one publishes a new version, and a German signer of the first
version reads what changed, in German, rendered like the letter."""

from __future__ import annotations

import re

import pytest

from letters.models import Letter, LetterVersion, Signature, VersionTranslation
from letters.tests.factories import confirmed_signature, current, open_letter
from letters.tokens import Purpose, make_token
from tests.site_pages import sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def version_now(letter: Letter) -> LetterVersion:
    """The letter's current version, as stored now."""
    version = current(letter).current_version
    assert version is not None
    return version


GERMAN_BODY = "Sehr geehrte Geschäftsführung,\n\nwir bitten Sie, **jetzt** zu handeln."


def test_a_translation_missing_a_demand_is_refused_then_a_new_version_is_published(
    site_server, page, organiser
):
    errors: list[str] = []
    watch_errors(page, errors)
    letter = open_letter(owner=organiser, published_by=organiser, slug="stop-it")  # with German
    signer = confirmed_signature(letter, name="Dora Deutsch", email="dora@example.org")
    Signature.objects.filter(pk=signer.pk).update(language="de")

    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{letter.slug}/translation/?language=de")
    original = page.get_by_role("region", name=re.compile("The original"))
    assert original.get_by_text("End the contract").is_visible()
    assert page.get_by_label("Language").input_value() == "de"
    assert "wir bitten Sie zu handeln" in page.get_by_label("Letter (Markdown)").input_value()
    page.get_by_label("Letter (Markdown)").fill(GERMAN_BODY)
    page.get_by_label("Demands").fill("Verurteilen Sie\nBeenden Sie den Vertrag")
    page.get_by_label(re.compile("What changed")).fill("Deutsche Fassung: jetzt")
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()

    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert "The letter has 3 demands" in page.locator("#id_demands_error").inner_text()
    assert page.get_by_label("Letter (Markdown)").input_value() == GERMAN_BODY
    assert version_now(letter).number == 1
    assert "jetzt" not in VersionTranslation.objects.get().body

    page.get_by_label("Demands").fill(
        "Verurteilen Sie\nBeenden Sie den Vertrag\nVeröffentlichen Sie"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/organise/{letter.slug}/$"))
    assert version_now(letter).number == 2

    token = make_token(signer, Purpose.NEW_VERSION)
    page.goto(f"{site_server}/v/{token}/")
    assert page.locator("html").get_attribute("lang") == "de"
    changed = page.locator(".diff-body")
    assert changed.locator("strong").filter(has_text="jetzt").is_visible()
    assert "**" not in changed.inner_text()
    assert errors == []
