"""A co-worker signs a letter that requires a work address, in a real browser
(Debian's Chromium), in English and in German: the sign form says what the
work mailbox will get, the confirmation link offers a personal address
(refusing one the employer runs, next to the field), the thank-you page
shows the withdraw link once, and the confirmation link, opened again, says
only that it has been used.  axe-core finds no WCAG 2.1 A/AA violation on
any of these pages, in light and dark mode.

What the pages say is read from the catalogue at run time (a German reader
sees whatever locale/de says), so the test follows the translators'
wording; every string it looks for must have a German translation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from letters.forms.signing import ConfirmForm, SignForm
from letters.models import Display, Letter, Signature, SignatureStatus
from letters.tests import factories
from tests.site_pages import watch_errors
from tests.test_accessibility import axe_js, run_axe

__all__ = ["axe_js"]  # the fixture, shared with tests/test_accessibility.py

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

WORK = "wendy.worker@northwind.example"
AT_WORK_TOO = "wendy.private@northwind.example"  # "personal", but the employer runs it
HOME = "wendy@home.example"
NAME = "Wendy Worker"
TITLES = ("Stop the contract", "Beenden Sie den Vertrag")  # the factory letter, en and de


@dataclass(frozen=True)
class Language:
    code: str
    browser_locale: str  # what the co-worker's browser asks for (Accept-Language)
    title: str  # the letter's title in this language


ENGLISH = Language("en", "en-GB", TITLES[0])
GERMAN = Language("de", "de-DE", TITLES[1])


def say(language: Language, message: str) -> str:
    """`message` as the catalogue of `language` has it (English if untranslated)."""
    with translation.override(language.code):
        return translation.gettext(message)


def label(language: Language, form: Any, field: str) -> str:
    with translation.override(language.code):
        return str(form.base_fields[field].label)


def choice(language: Language, form: Any, field: str, value: str) -> str:
    with translation.override(language.code):
        return str(dict(form.base_fields[field].choices)[value])


UPDATES_AT_WORK = (
    "Send a neutral notice to my work address when there is news (it names nothing: "
    "not the letter, not the organisers, not the count)"
)
WORK_ADDRESS_HELP = (
    "This letter asks for your work address, which your employer can read. We send it "
    "only the confirmation request, which does not name the letter. After you confirm, "
    "you see your withdraw link once: keep it. Without the box ticked, we send nothing more."
)
SHOWN_ONCE_WITH_PERSONAL = (
    "This page is shown only once. We sent a request to confirm the personal address you "
    "gave; once you confirm it, this link and news about the letter go there, never to your "
    "work address. Keep this link too, somewhere only you can reach."
)
REFUSED = "Give an address your employer does not run (not at %(domains)s)."
WITHDRAW_LABEL = (
    "Withdraw link (works for %(days)s day)",
    "Withdraw link (works for %(days)s days)",
)
# What the test reads on the pages, besides the forms' labels.
MESSAGES = (
    "Sign this letter", "Sign", "Check your inbox", UPDATES_AT_WORK, WORK_ADDRESS_HELP,
    "Confirm your signature", "Confirm my signature", "There is a problem",
    REFUSED, "Thank you for signing", "Keep your withdraw link", SHOWN_ONCE_WITH_PERSONAL,
    "This link has been used", "There is nothing more to do with it.",
    "Withdraw your signature", "Withdraw and erase my data", "Signature withdrawn",
)  # fmt: skip
LABELS = (
    (SignForm, "name"), (SignForm, "email"), (SignForm, "consent"), (SignForm, "wants_updates"),
    (ConfirmForm, "personal_email"), (ConfirmForm, "display"),
)  # fmt: skip


@pytest.fixture
def work_letter(organiser: Any) -> Letter:
    """The factory letter (with its German translation), signable only from
    an address at northwind.example."""
    return factories.open_letter(
        owner=organiser, slug="northwind-ice", allowed_domains=["northwind.example"]
    )


def check_axe(page: Any) -> None:
    """axe-core's WCAG 2.1 A/AA rules (tests/test_accessibility.py), on the
    page as it is now, in light and then dark mode."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark == (scheme == "dark")
        run_axe(page)
    page.emulate_media(color_scheme="light")


def assert_in(language: Language, page: Any) -> None:
    assert page.locator("html").get_attribute("lang") == language.code, page.url


@pytest.mark.parametrize("language", [ENGLISH, GERMAN], ids=["en", "de"])
def test_a_work_address_signer_keeps_the_withdraw_link_and_the_used_link_says_nothing(
    site_server: str,
    new_page: Callable[..., Any],
    axe_js: str,
    work_letter: Letter,
    smtp: Any,
    language: Language,
) -> None:
    if language != ENGLISH:
        untranslated = [m for m in MESSAGES if say(language, m) == m] + [
            f"{form.__name__}.{field}"
            for form, field in LABELS
            if label(language, form, field) == label(ENGLISH, form, field)
        ]
        assert untranslated == [], f"still English in locale/{language.code}"
    page = new_page(locale=language.browser_locale, init_script=axe_js)
    errors: list[str] = []
    watch_errors(page, errors)

    # 1. The letter page says what the work mailbox will get, before signing.
    page.goto(f"{site_server}{work_letter.get_absolute_url()}")
    assert_in(language, page)
    sign_heading = page.get_by_role("heading", name=say(language, "Sign this letter"), level=2)
    assert sign_heading.is_visible()
    updates = page.get_by_label(say(language, UPDATES_AT_WORK), exact=True)
    assert updates.is_visible()
    assert not updates.is_checked()
    generic = label(language, SignForm, "wants_updates")
    assert page.get_by_label(generic, exact=True).count() == 0  # the wording for others
    help_text = page.locator("#work-address-help")
    assert help_text.is_visible()
    assert help_text.inner_text().strip() == say(language, WORK_ADDRESS_HELP)
    check_axe(page)

    page.get_by_label(label(language, SignForm, "name"), exact=True).fill(NAME)
    page.get_by_label(label(language, SignForm, "email"), exact=True).fill(WORK)
    updates.check()
    page.get_by_label(label(language, SignForm, "consent"), exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name=say(language, "Sign"), exact=True).click()
    page.wait_for_url(re.compile(r"/check-inbox/"))
    assert page.get_by_role("heading", name=say(language, "Check your inbox"), level=1).is_visible()

    # 2. The confirmation link: the personal address, refused at the work domain.
    (request,) = smtp.wait_for(WORK, timeout=30)
    confirm_url = site_server + request.link("/s/")
    page.goto(confirm_url)
    assert_in(language, page)
    confirm_heading = say(language, "Confirm your signature")
    assert page.get_by_role("heading", name=confirm_heading, level=1).is_visible()
    assert language.title in page.locator("main").inner_text()  # what is being signed
    assert page.get_by_label(say(language, UPDATES_AT_WORK), exact=True).is_checked()
    assert page.locator("#work-address-help").is_visible()
    assert page.get_by_label(label(language, ConfirmForm, "name"), exact=True).input_value() == NAME
    personal = page.get_by_label(label(language, ConfirmForm, "personal_email"), exact=True)
    assert personal.is_visible()
    assert personal.input_value() == ""

    page.get_by_label(choice(language, ConfirmForm, "display", Display.PUBLIC)).check()
    personal.fill(AT_WORK_TOO)
    confirm_button = page.get_by_role("button", name=say(language, "Confirm my signature"))
    with page.expect_navigation() as refused:
        confirm_button.click()
    assert refused.value.status == 400
    assert Signature.objects.get().status == SignatureStatus.PENDING

    summary = page.locator("#confirm-errors")
    assert summary.is_visible()
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "confirm-errors"  # focused
    refusal = say(language, REFUSED) % {"domains": "northwind.example"}
    assert summary.get_by_role("link").all_inner_texts() == [refusal]
    container = page.locator(".has-error").filter(has=page.locator("#id_personal_email"))
    assert container.count() == 1
    alert = container.get_by_role("alert")
    assert alert.inner_text().strip() == refusal
    assert page.locator(".has-error").count() == 1  # nothing else is marked
    field = page.locator("#id_personal_email")
    assert field.get_attribute("aria-invalid") == "true"
    error_id = alert.locator(".errorlist").get_attribute("id")
    assert error_id in (field.get_attribute("aria-describedby") or "").split()
    assert field.input_value() == AT_WORK_TOO  # kept, to be corrected
    check_axe(page)

    personal.fill(HOME)
    with page.expect_navigation() as confirmed:
        confirm_button.click()
    assert confirmed.value.status == 200

    # 3. The thank-you page, shown once, holds the withdraw link.
    assert_in(language, page)
    thanks = say(language, "Thank you for signing")
    assert page.get_by_role("heading", name=thanks, level=1).is_visible()
    keep = page.get_by_role("heading", name=say(language, "Keep your withdraw link"), level=2)
    assert keep.is_visible()
    assert page.get_by_text(say(language, SHOWN_ONCE_WITH_PERSONAL)).is_visible()
    days = settings.SIGNATURE_WITHDRAW_MAX_AGE // 86400
    with translation.override(language.code):
        withdraw_label = translation.ngettext(*WITHDRAW_LABEL, days) % {"days": days}
    link_field = page.get_by_label(withdraw_label, exact=True)
    assert link_field.get_attribute("id") == "withdraw-link"
    assert link_field.get_attribute("readonly") is not None
    withdraw_url = link_field.input_value()
    assert re.fullmatch(re.escape(site_server) + r"/w/[^/\s]+/", withdraw_url), withdraw_url
    check_axe(page)
    smtp.wait_for(HOME)  # "we sent a request to confirm the personal address"
    assert len(smtp.to(WORK)) == 1  # the work mailbox: the confirmation request only

    # 4. The confirmation link, opened again, says it was used and nothing else.
    page.goto(confirm_url)
    assert_in(language, page)
    used = say(language, "This link has been used")
    headings = page.get_by_role("heading")
    assert [h.strip() for h in headings.all_inner_texts()] == [used]
    main = page.locator("main")
    lines = [line.strip() for line in main.inner_text().splitlines() if line.strip()]
    assert lines == [used, say(language, "There is nothing more to do with it.")]
    assert page.locator("form").count() == 0
    assert page.locator("input, button, textarea, select").count() == 0
    html = page.content()
    for secret in (*TITLES, NAME, "Wendy", "northwind", "/w/"):
        assert secret.lower() not in html.lower(), secret
    check_axe(page)

    # The kept link works, in another browser (say, at home): it withdraws.
    home = new_page(locale=language.browser_locale)
    home.goto(withdraw_url)
    withdraw = say(language, "Withdraw your signature")
    assert home.get_by_role("heading", name=withdraw, level=1).is_visible()
    with home.expect_navigation():
        home.get_by_role("button", name=say(language, "Withdraw and erase my data")).click()
    withdrawn = say(language, "Signature withdrawn")
    assert home.get_by_role("heading", name=withdrawn, level=1).is_visible()
    assert Signature.objects.get().status == SignatureStatus.WITHDRAWN

    # The one error response: the refused personal address (400).
    assert errors, "the refused personal address answered 400"
    assert [e for e in errors if confirm_url not in e] == []


def test_a_signer_who_switched_to_german_confirms_in_german(
    site_server: str, page: Any, work_letter: Letter, smtp: Any
) -> None:
    """An English browser; the co-worker picks Deutsch on the letter page,
    signs, and gets the email in German.  The page its link opens, where the
    withdraw link is explained once, must be in German too."""
    page.goto(f"{site_server}{work_letter.get_absolute_url()}")
    switcher = page.get_by_role("navigation", name=say(ENGLISH, "Language"))
    switcher.get_by_role("link", name="Deutsch").click()
    page.wait_for_url(re.compile(r"\?lang=de$"))
    assert_in(GERMAN, page)
    page.get_by_label(label(GERMAN, SignForm, "name"), exact=True).fill(NAME)
    page.get_by_label(label(GERMAN, SignForm, "email"), exact=True).fill(WORK)
    page.get_by_label(label(GERMAN, SignForm, "consent"), exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name=say(GERMAN, "Sign"), exact=True).click()
    assert page.get_by_role("heading", name=say(GERMAN, "Check your inbox"), level=1).is_visible()
    (request,) = smtp.wait_for(WORK, timeout=30)
    assert request.message["Subject"] == say(GERMAN, "Please confirm your email address")

    page.goto(site_server + request.link("/s/"))
    assert GERMAN.title in page.locator("main").inner_text()  # the letter: in German
    heading = say(GERMAN, "Confirm your signature")
    assert page.get_by_role("heading", name=heading, level=1).is_visible()
    assert_in(GERMAN, page)
