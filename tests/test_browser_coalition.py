"""A coalition letter in a real browser (Debian's Chromium): an organiser
creates a letter with two employers, staff of both sign and confirm through
the emailed links, each employer's leadership answers through its own link,
and the public page shows both answers side by side; axe checks the new
pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from letters.models import Letter, LetterStatus, Signature, SignatureStatus
from tests.site_pages import reload_until, sign_in, watch_errors
from tests.test_accessibility import axe_js
from tests.test_browser_work_address import check_axe

__all__ = ["axe_js"]  # the fixture, shared with tests/test_accessibility.py

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SITE_URL = "http://testserver"
SLUG = "stop-selling-to-the-agency"
TITLE = "Stop selling to the agency"
DEMANDS = ["Condemn the agency's raids", "End the contracts"]
EMPLOYERS = "Northwind: northwind.example\nContoso: contoso.example, contoso-labs.example"
SIGNERS = {
    "nia@eu.northwind.example": ("Nia North", "Northwind"),  # a subdomain
    "cal@contoso-labs.example": ("Cal Contoso", "Contoso"),
}
ANSWERS = {
    "Northwind": ("Northwind will review the contract this quarter.", ["Under consideration"] * 2),
    "Contoso": ("Contoso will not renew.", ["Accepted", "Accepted"]),
}


def create_coalition_letter(page: Any, site_server: str) -> Letter:
    page.goto(site_server + "/organise/new/")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Web address").fill(SLUG)
    page.get_by_label("Addressed to").fill(
        "Dana Whitfield, CEO of Northwind\nRavi Menon, CEO of Contoso"
    )
    page.get_by_label("Letter (Markdown)").fill("Dear leadership of both companies,\n\nStop.")
    page.get_by_label("Demands").fill("\n".join(DEMANDS))
    page.get_by_label(re.compile("^Employers and their email domains")).fill(EMPLOYERS)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/$"))
    page.get_by_role("link", name="Publish", exact=True).click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/publish/$"))
    for name in ("Northwind", "Contoso"):
        assert page.get_by_role("listitem").filter(has_text=name).first.is_visible()
    page.get_by_role("button", name="Publish now").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/$"))
    letter = Letter.objects.get(slug=SLUG)
    assert letter.status == LetterStatus.OPEN
    return letter


def sign_and_confirm(page: Any, site_server: str, smtp: Any, address: str, name: str) -> None:
    page.goto(f"{site_server}/letters/{SLUG}/")
    page.get_by_label("Your name", exact=True).fill(name)
    page.get_by_label("Your email address", exact=True).fill(address)
    page.get_by_label(re.compile("^I agree")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign", exact=True).click()
    page.wait_for_url(re.compile(r"/check-inbox/"))
    (request,) = smtp.wait_for(address, timeout=30)
    page.goto(site_server + request.link("/s/"))
    page.get_by_role("heading", name="Confirm your signature", level=1).wait_for()
    page.get_by_label("Show my name and details publicly").check()  # nothing is chosen for them
    page.get_by_role("button", name="Confirm my signature").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()


def deliver_to(page: Any, site_server: str, employer: str, recipient: str) -> str:
    """Record a delivery to `employer`'s leadership; its link, as shown once."""
    page.goto(f"{site_server}/organise/{SLUG}/deliver/")
    page.get_by_role("heading", name="Record a delivery", level=1).wait_for()
    page.get_by_role("group", name="Delivered to the leadership of").get_by_label(
        employer, exact=True
    ).check()
    page.get_by_label(recipient).check()
    page.get_by_label("How").select_option(label="By email")
    page.get_by_role("button", name="Record the delivery").click()
    page.wait_for_url(re.compile(rf"/organise/{SLUG}/delivery/$"))
    link = page.get_by_test_id("leadership-link").first.input_value().strip()
    assert link.startswith(SITE_URL + "/l/"), link
    return site_server + link.removeprefix(SITE_URL)


def answer_as(boss: Any, url: str, employer: str) -> None:
    statement, answers = ANSWERS[employer]
    boss.goto(url)
    boss.get_by_role("heading", name=TITLE, level=1).wait_for()
    main = boss.locator("main").inner_text()
    assert re.search(rf"1 verified signature from the staff of {employer}", main), main
    assert "The whole coalition: 2 verified signatures" in main
    check_axe(boss)
    boss.get_by_label("Statement").fill(statement)
    for demand, answer in zip(DEMANDS, answers, strict=True):
        boss.get_by_role("group", name=demand).get_by_label(answer, exact=True).check()
    boss.get_by_role("button", name="Publish the response").click()
    confirm = boss.get_by_role("group", name="Check the response, then publish it.")
    confirm.get_by_role("button", name="Yes, publish it now").click()
    boss.get_by_text("Thank you: your response is published.").wait_for()


def test_a_coalition_letter_from_drafting_to_both_employers_answers(
    site_server: str,
    page: Any,
    new_page: Callable[..., Any],
    axe_js: str,
    smtp: Any,
    organiser: Any,
) -> None:
    errors: list[str] = []
    watch_errors(page, errors)
    sign_in(page, site_server)
    letter = create_coalition_letter(page, site_server)

    # Staff of each employer sign from their work address and confirm.
    signer = new_page(init_script=axe_js)
    watch_errors(signer, errors)
    for address, (name, _employer) in SIGNERS.items():
        sign_and_confirm(signer, site_server, smtp, address, name)
    by_employer = {
        s.employer.name: s.status
        for s in Signature.objects.filter(letter=letter).select_related("employer")
        if s.employer
    }
    assert by_employer == {
        "Northwind": SignatureStatus.CONFIRMED,
        "Contoso": SignatureStatus.CONFIRMED,
    }

    # The public page: a bar per employer and the total, axe-clean.
    signer.goto(f"{site_server}/letters/{SLUG}/")

    def bars() -> list[str]:
        return [str(b) for b in signer.get_by_test_id("employer-bar").all_inner_texts()]

    # Counts reach the cached page within COUNT_INTERVAL: reload until both show.
    reload_until(signer, lambda: sum("1 verified signature" in b for b in bars()) == 2)
    bars_now = bars()
    assert [b.split(":")[0].strip() for b in bars_now] == ["Northwind", "Contoso"]
    check_axe(signer)

    # Each employer's leadership gets its own link and answers for its company.
    links = {
        "Northwind": deliver_to(page, site_server, "Northwind", "Dana Whitfield"),
        "Contoso": deliver_to(page, site_server, "Contoso", "Ravi Menon"),
    }
    for employer, url in links.items():
        boss = new_page(init_script=axe_js)
        watch_errors(boss, errors)
        answer_as(boss, url, employer)

    # The public page shows both answers side by side, each under its name.
    signer.goto(f"{site_server}/letters/{SLUG}/")
    reload_until(signer, lambda: signer.locator(".response-employer").count() == 2)
    statuses = signer.get_by_test_id("employer-status").all_inner_texts()
    assert [s.split(":")[0] for s in statuses] == ["Northwind", "Contoso"]
    assert all("responded" in s for s in statuses), statuses
    main = signer.locator("main").inner_text()
    for statement, _answers in ANSWERS.values():
        assert statement in main
    assert sorted(signer.locator(".response-employer").all_inner_texts()) == [
        "Contoso",
        "Northwind",
    ]
    check_axe(signer)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.RESPONDED
    assert errors == []
