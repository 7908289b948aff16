"""A signer's first minute (issue 20), in a real browser (Debian's Chromium),
on a letter long enough to push what follows it far down the page:

- on a desktop the sign form stands beside the text, in the first screen;
  on a phone it follows the text, and a "Sign this letter" button at the top
  jumps to it;
- a form sent with errors comes back with a summary at the top of the form
  that has the focus, lists each error with a link that moves the focus to
  its field, and keeps what was typed; the confirm page does the same;
  without JavaScript the summary is still the first thing in the form, in
  the first screen;
- every signer reads, next to the details a public signature shows, that an
  anonymous signature does not store them;
- axe-core finds no WCAG 2.1 A/AA violation on the letter page with its
  errors shown, in English and German.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from letters import services
from letters.models import Letter, Signature, SignatureStatus
from letters.tests import factories
from letters.tokens import Purpose, make_token
from tests.site_pages import watch_errors
from tests.test_accessibility import axe_js, run_axe

__all__ = ["axe_js"]  # the fixture, shared with tests/test_accessibility.py

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIGN_BUTTON = "form[action*='/sign/'] button[type=submit]"

NAME_IF_PUBLIC = "Enter your name to sign publicly, or choose anonymous."
INVALID_EMAIL = "Enter a valid email address."
AGREE = "Please agree so we can store your signature."
CHOOSE_DISPLAY = "Choose how your signature appears."
PUBLIC_ONLY = "Only if you sign publicly: shown with your name. Not stored if you sign anonymously."
DETAILS = ("Job title (optional)", "Team (optional)", "Location (optional)", "Comment (optional)")

REASONS = 40  # paragraphs: the letter runs to several screens on a desktop


def _long_body(reason: str) -> str:
    return "\n\n".join(
        f"{reason} {n}: " + "lorem ipsum dolor sit amet " * 8 for n in range(REASONS)
    )


@pytest.fixture
def long_letter(organiser: Any) -> Letter:
    """An open letter of REASONS paragraphs, in English and German."""
    return factories.open_letter(
        owner=organiser,
        slug="a-long-letter",
        title="A long letter",
        body="Dear Casey,\n\n" + _long_body("Reason"),
        demands=["Read it all", "Answer it all"],
        translations=[
            services.TranslationInput(
                language="de",
                title="Ein langer Brief",
                body="Sehr geehrte Geschäftsführung,\n\n" + _long_body("Grund"),
                demands=["Lesen Sie alles", "Beantworten Sie alles"],
            )
        ],
    )


def _active_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement ? document.activeElement.id : ''"))


def _unexpected(errors: list[str]) -> list[str]:
    """The console errors and failed requests of `watch_errors`, but the
    sign POST's own 400 (the form sent with errors)."""
    return [e for e in errors if not ("400" in e and "/sign/" in e.split(" on ")[0])]


def _send(page: Any) -> Any:
    """Press the sign form's button; the response the page navigated to."""
    with page.expect_navigation() as navigation:
        page.locator(SIGN_BUTTON).click()
    return navigation.value


def _check_axe(page: Any) -> None:
    """axe-core's WCAG 2.1 A/AA rules on the page as it is, light then dark."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        run_axe(page)
    page.emulate_media(color_scheme="light")


def _follow_each_link(page: Any, summary: Any, targets: dict[str, str]) -> None:
    """Each of the summary's links (text -> the id of its field) moves the
    focus to its field, which is then in view."""
    for text, field_id in targets.items():
        summary.get_by_role("link", name=text, exact=True).click()
        assert _active_id(page) == field_id, text
        expect(page.locator(f"#{field_id}")).to_be_in_viewport()


# --- Where the form is ------------------------------------------------------------


def test_on_a_desktop_the_sign_form_stands_beside_a_long_letter_in_the_first_screen(
    site_server: str, page: Any, long_letter: Letter
) -> None:
    page.goto(site_server + long_letter.get_absolute_url())

    assert page.evaluate("document.documentElement.scrollHeight") > 3 * DESKTOP["height"]
    assert page.evaluate("window.scrollY") == 0
    first_field = page.get_by_label("Your name", exact=True)
    expect(first_field).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("heading", name="Sign this letter", level=2)).to_be_in_viewport()
    # Beside the text, not under it: right of the title, level with it.
    title = page.get_by_role("heading", name="A long letter", level=1).bounding_box()
    form = page.locator("#sign").bounding_box()
    assert form["x"] >= title["x"] + title["width"], (form, title)
    assert form["y"] < title["y"] + title["height"], (form, title)
    # The button that jumps to the form is for narrow screens.
    expect(page.get_by_role("link", name="Sign this letter")).to_be_hidden()


def test_on_a_phone_a_button_at_the_top_jumps_to_the_form_after_the_text(
    site_server: str, new_page: Callable[..., Any], long_letter: Letter
) -> None:
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    errors: list[str] = []
    watch_errors(phone, errors)
    phone.goto(site_server + long_letter.get_absolute_url())

    jump = phone.get_by_role("link", name="Sign this letter")
    expect(jump).to_be_in_viewport(ratio=1)
    first_field = phone.get_by_label("Your name", exact=True)
    expect(first_field).not_to_be_in_viewport()
    # The form follows the text.
    last_reason = phone.get_by_text(f"Reason {REASONS - 1}:").bounding_box()
    assert phone.locator("#sign").bounding_box()["y"] > last_reason["y"]

    jump.tap()
    phone.wait_for_url("**#sign")
    expect(phone.get_by_role("heading", name="Sign this letter", level=2)).to_be_in_viewport()
    expect(first_field).to_be_in_viewport(ratio=1)
    # The keyboard carries on from there: the next Tab is in the form.
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.closest('#sign') !== null")

    # Sent empty, far down the page: the summary is brought into view.
    assert _send(phone).status == 400
    summary = phone.locator("#sign-errors")
    assert _active_id(phone) == "sign-errors"
    expect(summary).to_be_in_viewport(ratio=1)
    _follow_each_link(phone, summary, {NAME_IF_PUBLIC: "id_name", AGREE: "id_consent"})
    assert _unexpected(errors) == []


# --- A form sent with errors ----------------------------------------------------------


def test_a_sign_form_sent_with_errors_comes_back_with_a_focused_summary_of_them(
    site_server: str, page: Any, long_letter: Letter
) -> None:
    errors: list[str] = []
    watch_errors(page, errors)
    page.goto(site_server + long_letter.get_absolute_url())
    typed = {
        "Your email address": "not-an-address",
        "Job title (optional)": "Engineer",
        "Team (optional)": "Design",
        "Location (optional)": "Leeds",
        "Comment (optional)": "About time.",
    }
    for label, value in typed.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Email me updates about this letter (delivery, response)").check()

    response = _send(page)

    assert response.status == 400
    assert page.title().startswith("Error: ")
    summary = page.locator("#sign-errors")
    assert summary.get_attribute("role") == "alert"
    assert _active_id(page) == "sign-errors"  # the first thing heard
    expect(summary).to_be_in_viewport(ratio=1)  # and seen, without scrolling
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    # The first thing in the form, each error once, in the order of the fields.
    assert page.evaluate("document.querySelector('#sign form').firstElementChild.id") == (
        "sign-errors"
    )
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == [NAME_IF_PUBLIC, INVALID_EMAIL, AGREE]
    # What was typed is still there, to be corrected.
    for label, value in typed.items():
        assert page.get_by_label(label, exact=True).input_value() == value, label
    assert page.get_by_label("Email me updates about this letter (delivery, response)").is_checked()
    assert page.get_by_label("Show my name and details publicly").is_checked()

    # With the keyboard: Tab reaches the first link, Enter moves to its field.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == NAME_IF_PUBLIC
    page.keyboard.press("Enter")
    assert _active_id(page) == "id_name"
    _follow_each_link(
        page, summary, {INVALID_EMAIL: "id_email", AGREE: "id_consent", NAME_IF_PUBLIC: "id_name"}
    )
    assert Signature.objects.count() == 0
    assert _unexpected(errors) == []  # the site's script ran (no CSP refusal, no error)


def test_without_javascript_the_summary_is_first_in_the_form_in_the_first_screen(
    site_server: str, new_page: Callable[..., Any], long_letter: Letter
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(site_server + long_letter.get_absolute_url())
    page.get_by_label("Team (optional)", exact=True).fill("Design")

    assert _send(page).status == 400

    summary = page.locator("#sign-errors")
    expect(summary).to_be_in_viewport(ratio=1)
    assert summary.get_by_role("link").all_inner_texts() == [
        NAME_IF_PUBLIC,
        "This field is required.",
        AGREE,
    ]
    assert page.get_by_label("Team (optional)", exact=True).input_value() == "Design"
    summary.get_by_role("link", name=AGREE).click()
    page.wait_for_url("**#id_consent")
    expect(page.locator("#id_consent")).to_be_in_viewport()


def test_the_confirm_page_sent_with_errors_comes_back_with_a_focused_summary_of_them(
    site_server: str, new_page: Callable[..., Any], axe_js: str, long_letter: Letter
) -> None:
    page = new_page(init_script=axe_js)
    pending = factories.pending_signature(
        long_letter, name="Pat Pending", email="pat@example.org", team="Design"
    )
    page.goto(
        site_server + reverse("signature_confirm", args=[make_token(pending, Purpose.CONFIRM)])
    )
    summary = page.locator("#confirm-errors")
    assert summary.count() == 0  # nothing wrong yet
    page.get_by_label("Team (optional)", exact=True).fill("Operations")
    page.get_by_label("Comment (optional)", exact=True).fill("Count me in.")
    confirm = page.get_by_role("button", name="Confirm my signature")

    # 1. Nothing chosen for how the signature appears.
    with page.expect_navigation() as first:
        confirm.click()
    assert first.value.status == 400
    assert page.title().startswith("Error: ")
    assert summary.get_attribute("role") == "alert"
    assert _active_id(page) == "confirm-errors"
    expect(summary).to_be_in_viewport(ratio=1)
    assert summary.get_by_role("link").all_inner_texts() == [CHOOSE_DISPLAY]
    assert page.get_by_label("Your name", exact=True).input_value() == "Pat Pending"
    assert page.get_by_label("Team (optional)", exact=True).input_value() == "Operations"
    assert page.get_by_label("Comment (optional)", exact=True).input_value() == "Count me in."
    _follow_each_link(page, summary, {CHOOSE_DISPLAY: "id_display_0"})  # the first choice
    _check_axe(page)

    # 2. Public, but the name taken away.
    page.get_by_label("Show my name and details publicly").check()
    page.get_by_label("Your name", exact=True).fill("")
    with page.expect_navigation() as second:
        confirm.click()
    assert second.value.status == 400
    assert _active_id(page) == "confirm-errors"
    assert summary.get_by_role("link").all_inner_texts() == [NAME_IF_PUBLIC]
    assert page.get_by_label("Show my name and details publicly").is_checked()
    assert page.get_by_label("Team (optional)", exact=True).input_value() == "Operations"
    _follow_each_link(page, summary, {NAME_IF_PUBLIC: "id_name"})
    pending.refresh_from_db()
    assert pending.status == SignatureStatus.PENDING
    assert pending.team == "Design"  # nothing confirmed, nothing changed


# --- What the form says about the details ----------------------------------------------


def test_every_signer_reads_that_an_anonymous_signature_does_not_store_the_details(
    site_server: str, page: Any, long_letter: Letter
) -> None:
    pending = factories.pending_signature(long_letter, email="pat@example.org")
    pages = [
        long_letter.get_absolute_url(),
        reverse("signature_confirm", args=[make_token(pending, Purpose.CONFIRM)]),
    ]
    for path in pages:
        page.goto(site_server + path)
        for label in DETAILS:
            field = page.get_by_label(label, exact=True)
            expect(field).to_have_accessible_description(PUBLIC_ONLY)  # heard with the field
            help_line = page.locator(f"#{field.get_attribute('id')}_helptext")
            expect(help_line).to_be_visible()  # and seen next to it
            expect(help_line).to_have_text(PUBLIC_ONLY)


# --- Accessibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_letter_page_with_errors_shown_has_no_wcag_violations(
    site_server: str,
    new_page: Callable[..., Any],
    axe_js: str,
    long_letter: Letter,
    language: str,
) -> None:
    page = new_page(init_script=axe_js)
    page.goto(f"{site_server}{long_letter.get_absolute_url()}?lang={language}")
    assert page.locator("html").get_attribute("lang") == language

    assert _send(page).status == 400

    assert page.locator("html").get_attribute("lang") == language
    assert _active_id(page) == "sign-errors"
    assert page.locator("#sign-errors").get_by_role("link").count() == 3
    _check_axe(page)
