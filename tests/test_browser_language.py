"""In Debian's Chromium: a language chosen on one page stays for the visit
(index, other letters, the privacy page, the organiser's pages), a new
browser starts in its own language again; and the organiser's moderation
table fits a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from letters import services
from letters.tests.factories import ORGANISER, PASSWORD, confirmed_signature
from letters.tests.factories import open_letter as publish_letter
from tests.test_accessibility import axe_js, run_axe

__all__ = ["axe_js"]  # the fixture, shared with tests/test_accessibility.py

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 375, "height": 812}


def lang(page: Any) -> str | None:
    return page.locator("html").get_attribute("lang")


@pytest.fixture
def two_letters(open_letter: Any, organiser: Any) -> tuple[Any, Any]:
    """Two letters in English and German: "Stop the contract" and another."""
    second = publish_letter(
        owner=organiser,
        slug="safer-nights",
        title="Safer night shifts",
        demands=["Two people on every night shift"],
        translations=[
            services.TranslationInput(
                language="de",
                title="Sicherere Nachtschichten",
                body="Sehr geehrte Geschäftsführung,\n\nbitte handeln Sie.",
                demands=["Zwei Personen in jeder Nachtschicht"],
            )
        ],
    )
    return open_letter, second


def test_a_chosen_language_stays_for_the_visit(
    site_server: str, new_page: Any, two_letters: tuple[Any, Any]
) -> None:
    first, second = two_letters
    page = new_page(locale="en-GB")  # the browser asks for English
    page.goto(f"{site_server}/letters/")  # the browser keeps this English copy (Vary)
    assert lang(page) == "en"
    page.goto(f"{site_server}{first.get_absolute_url()}")
    assert lang(page) == "en"

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
    page.wait_for_url(re.compile(r"\?lang=de$"))
    assert lang(page) == "de"
    assert page.get_by_role("heading", name="Beenden Sie den Vertrag", level=1).is_visible()

    # The next clicks: links without ?lang=, German all the same.
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Offene Briefe"
    ).click()
    page.wait_for_url(re.compile(r"/letters/$"))
    assert lang(page) == "de"
    page.get_by_role("link", name="Safer night shifts").click()  # the index: original titles
    page.wait_for_url(re.compile(rf"{second.get_absolute_url()}$"))
    assert lang(page) == "de"
    assert page.get_by_role("heading", name="Sicherere Nachtschichten", level=1).is_visible()
    page.get_by_role("contentinfo").get_by_role("link", name="Sicher unterschreiben").click()
    page.wait_for_url(re.compile(r"/signing-safely/$"))
    assert lang(page) == "de"

    # The organiser's side follows too: the login page and, signed in, the dashboard.
    page.get_by_role("link", name="Organisierende").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert lang(page) == "de"
    page.locator("input[name=login]").fill(ORGANISER.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/organise/$"))
    assert lang(page) == "de"
    page.goto(f"{site_server}/organise/{first.slug}/")
    assert lang(page) == "de"

    # Back to English, and it stays English.
    page.goto(f"{site_server}{first.get_absolute_url()}")
    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"\?lang=en$"))
    page.goto(f"{site_server}/letters/")
    assert lang(page) == "en"

    # Another browser (another person) starts in its own language.
    fresh = new_page(locale="en-GB")
    fresh.goto(f"{site_server}/letters/")
    assert lang(fresh) == "en"
    fresh.goto(f"{site_server}{second.get_absolute_url()}")
    assert fresh.get_by_role("heading", name="Safer night shifts", level=1).is_visible()


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_moderation_table_fits_a_phone(
    site_server: str, new_page: Any, open_letter: Any, language: str, axe_js: str
) -> None:
    for n, (name, title, team, place) in enumerate(
        [
            ("Maximiliane Mustermann-Schulze", "Senior Software Engineer", "Plattform", "Berlin"),
            ("Pia Public", "", "Kundendienst und Qualitätssicherung", "Leipzig"),
            ("Rui Reyes", "Data analyst", "", ""),
        ]
    ):
        confirmed_signature(
            open_letter, name=name, job_title=title, team=team, location=place,
            email=f"signer{n}@example.org",
        )  # fmt: skip
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, init_script=axe_js)
    page.goto(f"{site_server}/accounts/login/?lang={language}")
    page.locator("input[name=login]").fill(ORGANISER.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/organise/$"))

    page.goto(f"{site_server}/organise/{open_letter.slug}/signatures/")
    assert lang(page) == language
    width = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], width
    rows = page.locator("table.stacked-table tbody tr")
    assert rows.count() == 3
    for row in rows.all():
        box = row.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    # Each value is shown under its column's name; the form is in reach.
    team = page.locator("thead th").nth(2).text_content()
    cell = page.locator("td", has_text="Kundendienst und Qualitätssicherung")
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert team in label
    reason = page.get_by_placeholder(re.compile("Reason|Begründung")).first
    assert reason.is_visible()
    reason_box = reason.bounding_box()
    assert reason_box is not None
    assert reason_box["x"] + reason_box["width"] <= PHONE["width"]
    button = page.locator("table button.danger").first
    button_box = button.bounding_box()
    assert button_box is not None
    assert button_box["x"] + button_box["width"] <= PHONE["width"]
    run_axe(page)  # the stacked rows too: WCAG 2.1 A/AA

    # On a wide screen it is an ordinary table with its header row.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.locator("thead th").first.is_visible()
    assert page.locator("thead th").first.bounding_box()["height"] > 5
