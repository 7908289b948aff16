"""An organiser, in a real browser, records a batch of paper signatures,
corrects it, and the public letter page shows the online and paper counts
apart and together, with the two timeline entries (numbers only)."""

from __future__ import annotations

import re

import pytest

from letters.tests.factories import confirmed_signature
from tests.site_pages import reload_until, sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_organiser_records_and_corrects_a_paper_batch_and_the_letter_page_adds_it(
    site_server, page, open_letter
):
    errors: list[str] = []
    watch_errors(page, errors)
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    paper_page = f"{site_server}/organise/{open_letter.slug}/paper/"

    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{open_letter.slug}/")
    page.get_by_role("link", name=re.compile("^Paper signatures")).click()
    page.wait_for_url(paper_page)
    page.get_by_label("Signatures in this batch").fill("40")
    page.get_by_label("Collected on").fill("2026-01-15")
    page.get_by_label("Where and how").fill("Sheets at the Leeds depot")
    page.get_by_role("button", name="Save the batch").click()
    page.wait_for_url(paper_page)
    assert page.get_by_test_id("paper-totals").inner_text() == (
        "40 signatures on paper and 1 verified online: 41 in all."
    )

    # A recount: the correction replaces the batch in the total.
    page.get_by_role("link", name=re.compile(r"^Correct batch \d+$")).click()
    assert page.get_by_label("Signatures in this batch").input_value() == "40"
    page.get_by_label("Signatures in this batch").fill("38")
    page.get_by_label("Where and how").fill("Leeds depot, recounted")
    page.get_by_role("button", name="Save the correction").click()
    page.wait_for_url(paper_page)
    assert page.get_by_test_id("paper-totals").inner_text() == (
        "38 signatures on paper and 1 verified online: 39 in all."
    )
    batches = page.get_by_test_id("paper-batches")
    assert batches.get_by_text("No: corrected by").is_visible()
    assert batches.get_by_role("link", name=re.compile("^Correct batch")).count() == 1

    page.goto(site_server + open_letter.get_absolute_url())
    together = page.get_by_text("plus 38 signatures on paper: 39 in all")
    reload_until(page, together.is_visible)
    assert page.get_by_test_id("confirmed-count").inner_text() == "1 verified signature"
    timeline = page.locator("ol.timeline").inner_text()
    assert "Paper signatures recorded: 40" in timeline
    assert "Paper signatures corrected: 40 → 38" in timeline
    assert "Leeds" not in page.locator("main").inner_text()
    assert errors == []
