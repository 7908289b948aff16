"""The organiser's steps in a real browser (Debian's Chromium): the web
address follows the title, the time zone is the browser's, the
confirmation step before closing or archiving, and the one-time links'
"Copy link" button (the clipboard's content checked), with and without
JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from letters import services
from letters.models import Letter, LetterStatus
from letters.tests.factories import confirmed_signature
from tests.site_pages import sign_in, sign_in_browser, watch_errors
from tests.test_accessibility import AXE_JS, run_axe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

CLIPBOARD = ["clipboard-read", "clipboard-write"]


def draft(owner: Any, **fields: Any) -> Letter:
    data = {
        "title": "A fair rota",
        "body": "Dear Casey",
        "demands": ["Act"],
        "addressees": [("Casey Chief", "CEO")],
    }
    return services.letter_create(
        slug="a-fair-rota", data=services.LetterInput(**(data | fields)), owner=owner
    )


def test_the_web_address_follows_the_title_until_the_organiser_edits_it(
    site_server: str, page: Any, organiser: Any
) -> None:
    errors: list[str] = []
    watch_errors(page, errors)
    sign_in(page, site_server)
    page.goto(site_server + "/organise/new/")
    title, slug = page.get_by_label("Title", exact=True), page.get_by_label("Web address")

    title.press_sequentially("Über die Straße: jetzt!")
    assert slug.input_value() == "uber-die-strae-jetzt"
    slug.fill("strasse-jetzt")
    title.fill("Something else")
    assert slug.input_value() == "strasse-jetzt"  # edited: left alone

    slug.fill("")
    title.fill("Fair pay now")
    assert slug.input_value() == "fair-pay-now"  # emptied: it follows again
    page.get_by_label("Addressed to").fill("Casey Chief, CEO")
    page.get_by_label("Letter (Markdown)").fill("Dear Casey")
    page.get_by_label("Demands").fill("Pay fairly")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/organise/fair-pay-now/$"))
    assert errors == []


def test_a_title_made_address_that_is_taken_is_numbered_not_refused(
    site_server: str, page: Any, organiser: Any
) -> None:
    draft(organiser, title="Fair pay now")  # at a-fair-rota
    services.letter_create(
        slug="fair-pay-now",
        data=services.LetterInput(title="Fair pay now", body="b", demands=["d"], addressees=[]),
    )
    sign_in(page, site_server)
    page.goto(site_server + "/organise/new/")

    page.get_by_label("Title", exact=True).fill("Fair pay now")
    page.get_by_label("Addressed to").fill("Casey Chief, CEO")
    page.get_by_label("Letter (Markdown)").fill("Dear Casey")
    page.get_by_label("Demands").fill("Pay fairly")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(re.compile(r"/organise/fair-pay-now-2/$"))
    assert page.get_by_text("/letters/fair-pay-now-2/").first.is_visible()


def test_the_time_zone_is_the_browser_s_and_stored_times_keep_their_moment(
    site_server: str, new_page: Callable[..., Any], organiser: Any
) -> None:
    """A reader in New York whose zone nothing remembers yet: the form
    takes the browser's zone, and the closing time stored (shown first in
    the site's zone, UTC) is rewritten to New York's clock, not moved."""
    closes_at = datetime(2030, 1, 15, 17, 0, tzinfo=UTC)  # 12:00 in New York (UTC-5)
    letter = draft(organiser, closes_at=closes_at)
    page = new_page(timezone_id="America/New_York")
    errors: list[str] = []
    watch_errors(page, errors)
    sign_in_browser(page, site_server, organiser)

    page.goto(f"{site_server}/organise/{letter.slug}/edit/")

    assert page.get_by_label("Time zone").input_value() == "America/New_York"
    assert page.get_by_label("Closes at (optional)").input_value() == "2030-01-15T12:00"
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/organise/{letter.slug}/$"))
    letter.refresh_from_db()
    assert letter.closes_at == closes_at
    assert "(America/New_York)" in page.get_by_test_id("closes-at").inner_text()

    # July is on daylight time (UTC-4): a time typed there is read there.
    page.goto(f"{site_server}/organise/{letter.slug}/edit/")
    assert page.get_by_label("Time zone").input_value() == "America/New_York"  # remembered
    page.get_by_label("Closes at (optional)").fill("2030-07-15T12:00")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/organise/{letter.slug}/$"))
    letter.refresh_from_db()
    assert letter.closes_at == datetime(2030, 7, 15, 16, 0, tzinfo=UTC)
    assert errors == []


def test_closing_and_archiving_go_through_a_confirmation_step(
    site_server: str, page: Any, organiser: Any, open_letter: Letter
) -> None:
    for n in range(3):
        confirmed_signature(open_letter, name=f"Signer {n}", email=f"s{n}@example.org")
    errors: list[str] = []
    watch_errors(page, errors)
    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{open_letter.slug}/")

    toc = page.get_by_role("navigation", name="On this page")
    toc.get_by_role("link", name="Status and next step").click()
    page.get_by_role("link", name="Close for signatures").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/close/$"))
    page.get_by_role("heading", name="Close this letter for signatures?").wait_for()
    assert page.get_by_text("The 3 verified signatures stay counted").is_visible()
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/$"))
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.OPEN  # cancelled: nothing changed

    page.get_by_role("link", name="Close for signatures").click()
    page.get_by_role("button", name="Close for signatures now").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/$"))
    assert page.get_by_text("Closed: signing has stopped.").is_visible()
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.CLOSED

    page.get_by_role("region", name="Archive or erase").get_by_role("link", name="Archive").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/archive/$"))
    page.get_by_role("heading", name="Archive this letter?").wait_for()
    assert page.get_by_text("It cannot be undone.").is_visible()
    page.get_by_role("button", name="Archive now").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/$"))
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.ARCHIVED
    assert errors == []


def test_the_copy_button_puts_the_one_time_review_link_on_the_clipboard(
    site_server: str, new_page: Callable[..., Any], organiser: Any
) -> None:
    letter = draft(organiser)
    page = new_page(permissions=CLIPBOARD)
    errors: list[str] = []
    watch_errors(page, errors)
    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{letter.slug}/")

    page.get_by_role("button", name="Make a review link").click()
    link = page.get_by_label("Review link", exact=True)
    url = link.input_value()
    assert re.fullmatch(r"http://testserver/p/[\w-]+/", url), url
    status = page.locator("#review-link-status")
    assert status.get_attribute("role") == "status"  # announced when it changes
    assert status.inner_text() == ""
    page.get_by_role("button", name="Copy link").click()

    status.filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert errors == []


def test_the_copy_button_copies_a_leadership_link(
    site_server: str, new_page: Callable[..., Any], organiser: Any, open_letter: Letter
) -> None:
    page = new_page(permissions=CLIPBOARD)
    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{open_letter.slug}/deliver/")
    page.get_by_label("Casey Chief, CEO").check()
    page.get_by_role("button", name="Record the delivery").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/delivery/$"))

    link = page.get_by_label("Link for Casey Chief")
    url = link.input_value()
    assert re.fullmatch(r"http://testserver/l/[\w-]+/", url), url
    page.get_by_role("listitem").filter(has=link).get_by_role("button", name="Copy link").click()
    page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == url


def test_without_javascript_the_link_is_in_a_labelled_field_to_select_and_no_button_shows(
    site_server: str, new_page: Callable[..., Any], organiser: Any
) -> None:
    letter = draft(organiser)
    page = new_page(java_script_enabled=False)
    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{letter.slug}/")

    page.get_by_role("button", name="Make a review link").click()
    link = page.get_by_label("Review link", exact=True)
    link.wait_for()
    assert link.is_editable() is False  # read-only: selectable, not changeable
    assert "/p/" in link.input_value()
    assert page.get_by_role("button", name="Copy link").count() == 0  # hidden
    link.select_text()
    selected = page.evaluate(
        "(() => { const f = document.getElementById('review-link');"
        " return f.value.slice(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == link.input_value()


def test_without_javascript_every_step_still_works(
    site_server: str, new_page: Callable[..., Any], organiser: Any
) -> None:
    """The confirmation page is a page; the address is made on the server;
    the time zone is the site's until one is chosen."""
    page = new_page(java_script_enabled=False)
    sign_in(page, site_server)
    page.goto(site_server + "/organise/new/")
    page.get_by_label("Title", exact=True).fill("Fair pay now")
    assert page.get_by_label("Web address").input_value() == ""
    page.get_by_label("Addressed to").fill("Casey Chief, CEO")
    page.get_by_label("Letter (Markdown)").fill("Dear Casey")
    page.get_by_label("Demands").fill("Pay fairly")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Closes at (optional)").fill("2030-07-15T12:00")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/organise/fair-pay-now/$"))
    letter = Letter.objects.get(slug="fair-pay-now")
    assert letter.closes_at == datetime(2030, 7, 15, 10, 0, tzinfo=UTC)

    page.get_by_role("link", name="Publish", exact=True).click()
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(r"/organise/fair-pay-now/$"))
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_steps_pass_axe(
    site_server: str, new_page: Callable[..., Any], organiser: Any, open_letter: Letter, scheme: str
) -> None:
    """The confirmation pages, and the letter page with a link to copy
    (shown "Copied"), have no WCAG 2.1 AA violation axe-core finds."""
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    letter = draft(organiser)
    page = new_page(init_script=str(AXE_JS), permissions=CLIPBOARD, color_scheme=scheme)
    sign_in(page, site_server)
    for path in (
        f"/organise/{letter.slug}/publish/",
        f"/organise/{open_letter.slug}/close/",
        f"/organise/{open_letter.slug}/archive/",
    ):
        page.goto(site_server + path)
        run_axe(page)
    page.goto(f"{site_server}/organise/{letter.slug}/")
    page.get_by_role("button", name="Make a review link").click()
    page.get_by_role("button", name="Copy link").click()
    page.locator("#review-link-status").filter(has_text="Copied").wait_for()
    run_axe(page)
