"""An organiser, in a real browser (Debian's Chromium), signs in, drafts a
letter with a Markdown preview, publishes it, edits the open letter into a
second version (earlier signatures keep the version they signed) and closes it."""

from __future__ import annotations

import re

import pytest

from letters.models import Letter, LetterStatus, Signature
from letters.tests.factories import confirmed_signature
from tests.site_pages import reload_until, sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SLUG = "fair-rota-now"
TITLE = "A fair rota for everyone"
BODY = "Dear Casey,\n\nWe, the undersigned, ask for a **fair rota** before the summer."
DEMANDS = ["Publish the rota a month ahead", "Cancel the on-call contract"]
NEW_DEMAND = "Cancel the on-call contract within thirty days"


def test_organiser_drafts_publishes_edits_and_closes_a_letter(site_server, page, organiser):
    errors: list[str] = []
    watch_errors(page, errors)

    # 1. Sign in through allauth's own login page.
    sign_in(page, site_server)

    # 2. Draft a letter, preview the Markdown, save.
    page.goto(site_server + "/organise/new/")
    assert page.get_by_role("heading", name="New letter", level=1).is_visible()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Web address").fill(SLUG)
    page.get_by_label("Addressed to").fill("Casey Chief, CEO")
    page.get_by_label("Letter (Markdown)").fill(BODY)
    page.get_by_label("Demands").fill("\n".join(DEMANDS))
    language = page.get_by_label("Language of the letter")
    assert language.input_value() == "en"
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    preview.wait_for()
    assert preview.locator("strong").inner_text() == "fair rota"
    assert language.input_value() == "en"
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/$"))
    assert page.get_by_role("heading", name=TITLE, level=1).is_visible()
    letter = Letter.objects.get(slug=SLUG)
    assert letter.status == LetterStatus.DRAFT
    assert letter.language == "en"

    # 3. Publish (after the step that says what publishing does); the public
    # page shows the title and both demands.
    page.get_by_role("link", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/publish/$"))
    assert page.get_by_text(f"/letters/{SLUG}/").first.is_visible()
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DRAFT  # not before the confirmation
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/$"))
    assert page.get_by_role("link", name="Close for signatures").is_visible()
    page.goto(f"{site_server}/letters/{SLUG}/")
    assert page.get_by_role("heading", name=TITLE, level=1).is_visible()
    for demand in DEMANDS:
        assert page.get_by_role("listitem").filter(has_text=demand).is_visible()
    assert page.get_by_role("button", name="Sign", exact=True).is_visible()

    # 5 (before the edit). Someone signs version 1.
    letter.refresh_from_db()
    early = confirmed_signature(letter, name="Sam Early", email="sam.early@example.org")
    assert early.version.number == 1

    # 4. Edit the open letter: change a demand and say what changed.
    page.goto(f"{site_server}/organise/{SLUG}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/edit/$"))
    page.get_by_label("Demands").fill(f"{DEMANDS[0]}\n{NEW_DEMAND}")
    page.get_by_label(re.compile("What changed")).fill("Set a deadline for the contract")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/$"))
    versions = page.get_by_role("region", name="Versions")
    assert versions.get_by_role("listitem").filter(has_text="Version 2").is_visible()
    assert versions.get_by_role("listitem").filter(has_text="Version 1").is_visible()

    page.goto(f"{site_server}/letters/{SLUG}/")
    reload_until(page, lambda: page.get_by_role("heading", name="Versions").count() == 1)
    assert page.get_by_role("listitem").filter(has_text=NEW_DEMAND).is_visible()
    public_versions = page.get_by_role("region", name="Versions")
    public_versions.get_by_text("Version 2").click()  # open the <details>
    inserted = public_versions.get_by_role("insertion").filter(has_text="within thirty days")
    assert inserted.is_visible()

    # 5. The earlier signature keeps version 1; the letter is on version 2.
    early = Signature.objects.select_related("version").get(pk=early.pk)
    assert early.version.number == 1
    letter = Letter.objects.select_related("current_version").get(slug=SLUG)
    assert letter.current_version is not None
    assert letter.current_version.number == 2

    # 6. Close for signatures (after its confirmation step): the sign form goes away.
    page.goto(f"{site_server}/organise/{SLUG}/")
    page.get_by_role("link", name="Close for signatures").click()
    page.get_by_role("button", name="Close for signatures now").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/$"))
    assert page.get_by_role("link", name="Publish", exact=True).count() == 0
    assert page.get_by_role("link", name="Close for signatures").count() == 0
    letter.refresh_from_db()
    assert letter.status == LetterStatus.CLOSED
    page.goto(f"{site_server}/letters/{SLUG}/")
    reload_until(page, lambda: page.get_by_role("button", name="Sign", exact=True).count() == 0)
    assert page.get_by_role("heading", name=TITLE, level=1).is_visible()

    assert errors == []
