"""The public finds leadership's answer after a letter closes: /letters/
lists the open letters first and then the past ones with their count and
outcome, in English and German, and a past letter's page opens with the
response (a real browser, Debian's Chromium)."""

from __future__ import annotations

import re

import pytest

from tests.site_pages import watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_past_letters_follow_the_open_ones_with_their_outcome(site_server, page, site):
    errors: list[str] = []
    watch_errors(page, errors)
    page.goto(f"{site_server}/letters/")

    headings = page.get_by_role("heading").all_inner_texts()
    assert headings.index("Open letters") < headings.index("Past letters")
    open_list = page.locator("#open-letters")
    assert open_list.get_by_role("link", name=site.open.title).is_visible()
    past = page.get_by_role("region", name="Past letters")
    answered = past.get_by_role("listitem").filter(has_text=site.responded.title)
    assert re.search(r"Responded on \d{1,2} \w+ \d{4}", answered.inner_text())
    assert re.search(r"\d+ signatures?", answered.inner_text())
    waiting = past.get_by_role("listitem").filter(has_text=site.delivered.title)
    assert "Delivered on" in waiting.inner_text()
    assert past.get_by_role("link", name=site.open.title).count() == 0

    answered.get_by_role("link", name=site.responded.title).click()
    page.wait_for_url(re.compile(rf"/letters/{site.responded.slug}/$"))
    assert page.get_by_role("heading", name="Leadership's response").is_visible()

    page.goto(f"{site_server}/letters/?lang=de")
    past = page.get_by_role("region", name="Frühere Briefe")
    assert (
        "Beantwortet am"
        in past.get_by_role("listitem").filter(has_text=site.responded.title).inner_text()
    )
    assert errors == []
