"""An organiser, in a real browser, reviews the signatures the rate limits
held: sees how many and why (never who), counts them with a dry run,
releases them, and the letter's public count moves."""

from __future__ import annotations

import re

import pytest

from letters.models import Signature
from letters.tests.factories import confirmed_signature
from letters.tests.held import held_signature
from tests.site_pages import reload_until, sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_organiser_releases_held_signatures_after_a_dry_run_and_the_count_moves(
    site_server, page, open_letter
):
    errors: list[str] = []
    watch_errors(page, errors)
    for n in range(2):
        confirmed_signature(open_letter, name=f"Counted {n}", email=f"counted{n}@example.org")
    for n in range(6):
        held_signature(open_letter, name=f"Office {n}", email=f"office{n}@northwind.example")
    public_page = site_server + open_letter.get_absolute_url()
    count = page.get_by_test_id("confirmed-count")
    page.goto(public_page)
    assert count.inner_text() == "2 verified signatures"

    # The signatories page says how many are held and why, never who.
    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{open_letter.slug}/signatures/")
    held = page.get_by_role("region", name="Held for review")
    assert held.get_by_text("6 confirmed signatures are held.").is_visible()
    assert held.get_by_role("row", name=re.compile("within minutes")).is_visible()
    assert "Office 0" not in page.locator("main").inner_text()
    page.get_by_role("link", name="Review held signatures").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/signatures/held/$"))

    # Dry run: the count, and nothing changes yet.
    page.get_by_label("Email domain").fill("northwind.example")
    page.get_by_role("button", name="Count matching held signatures").click()
    assert page.get_by_role("status").filter(has_text="6 held signatures match.").is_visible()
    assert Signature.objects.filter(letter=open_letter, flagged=True).count() == 6

    # Release, with a reason.
    page.get_by_label("Reason").fill("Our Leeds office shares one address")
    page.get_by_role("button", name="Release 6 signatures").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/signatures/held/$"))
    assert page.get_by_text("6 held signatures were released").is_visible()
    assert page.get_by_text("Fewer than 5 signatures are held.").is_visible()

    page.goto(public_page)
    reload_until(page, lambda: count.inner_text() == "8 verified signatures")
    assert page.get_by_text("Office 3").first.is_visible()  # a released public signer is listed
    assert errors == []
