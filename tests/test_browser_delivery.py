"""Delivery in a real browser (Debian's Chromium): an organiser records a
delivery, leadership opens its personal link in a separate (signed-out)
browser, acknowledges receipt and answers each demand, and the public page
shows the response and the timeline; the delivery packet prints as a PDF."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from letters import selectors
from letters.models import Answer, Display, Letter, LetterStatus
from letters.tests.factories import STOP_THE_CONTRACT, confirmed_signature, current, deliver
from tests.site_pages import reload_until, sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SITE_URL = "http://testserver"
STATEMENT = "We have read the letter and will meet the staff council next week."
# The factory letter's demands -> the answer leadership gives.
ANSWERS = dict(
    zip(
        STOP_THE_CONTRACT["demands"],
        [Answer.ACCEPTED, Answer.DECLINED, Answer.CONSIDERING],
        strict=True,
    )
)


@pytest.fixture
def signed(smtp: Any, open_letter: Letter) -> Letter:
    """The organiser's letter with a public and an anonymous signer (`smtp`:
    the emails this and the delivery cause go to the local SMTP sink)."""
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    confirmed_signature(
        open_letter, name="Zed Hidden", email="zed@example.org", display=Display.ANONYMOUS
    )
    return open_letter


def test_organiser_delivers_leadership_acknowledges_and_responds_and_the_public_sees_it(
    site_server: str, page: Any, new_page: Callable[..., Any], signed: Letter
) -> None:
    letter = signed
    errors: list[str] = []
    watch_errors(page, errors)

    # 1. The organiser records an in-person delivery to the CEO.
    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{letter.slug}/deliver/")
    assert page.get_by_role("heading", name="Record a delivery", level=1).is_visible()
    page.get_by_label("Casey Chief, CEO").check()
    page.get_by_label("How").select_option(label="In person")
    page.get_by_role("button", name="Record the delivery").click()
    page.wait_for_url(re.compile(rf"/organise/{letter.slug}/delivery/$"))
    link = page.get_by_test_id("leadership-link").input_value().strip()
    assert link.startswith(SITE_URL + "/l/"), link
    leadership_url = site_server + link.removeprefix(SITE_URL)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DELIVERED

    # 2. Leadership opens its link in a browser of its own (not signed in).
    boss = new_page()
    watch_errors(boss, errors)
    boss.goto(leadership_url)
    assert boss.get_by_role("heading", name=letter.title, level=1).is_visible()
    for demand in ANSWERS:
        assert boss.locator("ol.demands li").filter(has_text=demand).first.is_visible()
    signatories = boss.locator("ul.signatories")
    assert signatories.get_by_text("Pia Public").is_visible()
    assert boss.get_by_text("and 1 more who withheld their name").is_visible()
    assert "Zed Hidden" not in boss.content()

    boss.get_by_role("button", name="Acknowledge receipt").click()
    boss.get_by_text("Thank you: receipt is acknowledged.").wait_for()
    assert boss.get_by_role("button", name="Acknowledge receipt").count() == 0
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ACKNOWLEDGED

    boss.get_by_label("Statement").fill(STATEMENT)
    for demand, answer in ANSWERS.items():
        group = boss.get_by_role("group", name=demand)
        group.get_by_label(str(answer.label), exact=True).check()
    boss.get_by_role("button", name="Publish the response").click()
    confirm = boss.get_by_role("group", name="Check the response, then publish it.")
    assert confirm.get_by_text(STATEMENT).is_visible()
    assert letter.responses.count() == 0  # not before the confirmation
    confirm.get_by_role("button", name="Yes, publish it now").click()
    boss.get_by_text("Thank you: your response is published.").wait_for()
    assert "Zed Hidden" not in boss.content()

    # 3. The public page shows the response, each answer and the timeline.
    page.goto(f"{site_server}/letters/{letter.slug}/")
    reload_until(
        page, lambda: page.get_by_role("heading", name="Leadership's response").count() == 1
    )
    response = page.get_by_role("region", name="Leadership's response")
    assert response.get_by_text(STATEMENT).is_visible()
    for demand, answer in ANSWERS.items():
        item = response.get_by_role("listitem").filter(has_text=demand)
        assert item.locator(".answer").inner_text() == str(answer.label)
    timeline = page.get_by_role("region", name="Timeline")
    for kind in ("Delivered", "Acknowledged", "Response"):
        entry = timeline.get_by_role("listitem").filter(has_text=re.compile(rf": {kind}: "))
        assert entry.count() == 1, kind
        assert "Casey Chief" in entry.inner_text()
    assert "Zed Hidden" not in page.content()

    letter.refresh_from_db()
    assert letter.status == "responded"
    assert errors == []


def test_delivery_packet_prints_as_a_pdf(
    site_server: str, page: Any, organiser: Any, signed: Letter
) -> None:
    deliver(signed, organiser, method="email")
    letter = current(signed)
    assert letter.current_version is not None
    errors: list[str] = []
    watch_errors(page, errors)

    sign_in(page, site_server)
    page.goto(f"{site_server}/organise/{letter.slug}/packet/")
    assert page.get_by_role("heading", name=letter.title, level=1).is_visible()
    fingerprint = page.get_by_test_id("fingerprint").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint), fingerprint
    assert fingerprint == selectors.version_fingerprint(letter.current_version)
    assert page.locator("ul.signatories").get_by_text("Pia Public").is_visible()
    assert page.get_by_text("and 1 more who withheld their name").is_visible()
    assert "Zed Hidden" not in page.content()

    assert page.locator(".site-header").is_visible()
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000

    assert errors == []
