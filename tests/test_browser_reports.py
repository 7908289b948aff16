"""Reports and takedown in a real browser (Debian's Chromium), as people
see them: a visitor reports a letter from its page; an admin (password and
TOTP) finds the report in the moderation queue and takes the letter down
with a public reason; the letter's page then shows the notice and not the
text; the organiser appeals from their letter's page, and the appeal shows
in the admin's queue."""

from __future__ import annotations

import re
from typing import Any

import pytest

from letters.models import Letter, LetterStatus, Report, Takedown
from letters.tests.factories import confirmed_signature, make_admin
from tests.site_pages import reload_until, sign_in, watch_errors
from tests.test_browser_admin import _sign_in_to_admin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

REASON = "It accuses a named colleague without evidence."
APPEAL = "We removed the colleague's name; please reinstate the letter."


def test_a_visitor_reports_an_admin_takes_the_letter_down_and_the_organisers_appeal(
    site_server: str, new_page: Any, open_letter: Letter
) -> None:
    confirmed_signature(open_letter, name="Pia Public", email="pia@example.org")
    make_admin()
    errors: list[str] = []
    letter_url = f"{site_server}/letters/{open_letter.slug}/"

    # 1. A visitor, no account, reports the letter from its page.
    visitor = new_page(locale="en-GB")
    watch_errors(visitor, errors)
    visitor.goto(letter_url)
    visitor.get_by_role("link", name="Report this letter to the site's moderators").click()
    visitor.wait_for_url(re.compile(r"/report/$"))
    visitor.get_by_label("What is wrong with this letter?").select_option(
        label="Harassment, hate or threats"
    )
    visitor.get_by_label("Anything the moderators should know (optional)").fill(
        "It names a colleague."
    )
    visitor.get_by_role("button", name="Send the report").click()
    visitor.wait_for_url(re.compile(r"/report/sent/$"))
    assert visitor.get_by_role("heading", name="Thank you for your report").is_visible()
    assert "Pia Public" not in visitor.locator("main").inner_text()
    assert Report.objects.filter(letter=open_letter, outcome="open").count() == 1

    # 2. The admin finds it in the moderation queue and takes the letter down.
    admin = new_page(locale="en-GB")
    watch_errors(admin, errors)
    _sign_in_to_admin(admin, site_server)
    admin.get_by_role("link", name="Reports").first.click()
    admin.wait_for_url(re.compile(r"/admin/letters/report/$"))
    entry = admin.get_by_test_id("queue-entry").filter(has_text=open_letter.title)
    assert "It names a colleague." in entry.inner_text()
    assert "Pia Public" not in admin.locator("#content").inner_text()
    entry.get_by_label("Public reason").fill(REASON)
    entry.get_by_role("button", name="Take the letter down").click()
    admin.wait_for_url(re.compile(r"/admin/letters/report/$"))
    assert admin.get_by_text(f"Took “{open_letter.title}” down.").is_visible()
    open_letter.refresh_from_db()
    assert open_letter.status == LetterStatus.TAKEN_DOWN

    # 3. The public page shows the notice with the reason, not the text.
    visitor.goto(letter_url)
    reload_until(visitor, lambda: visitor.get_by_test_id("taken-down").count() == 1)
    main = visitor.locator("main").inner_text()
    assert REASON in main
    assert "taken down by the site's moderators" in main
    for hidden in ("We, the undersigned", "End the contract", "Pia Public"):
        assert hidden not in main, hidden
    assert visitor.locator("form[action$='/sign/']").count() == 0

    # 4. The organiser sees the takedown on their letter's page and appeals once.
    organiser = new_page(locale="en-GB")
    watch_errors(organiser, errors)
    sign_in(organiser, site_server)
    organiser.goto(f"{site_server}/organise/{open_letter.slug}/")
    moderation = organiser.get_by_test_id("moderation")
    assert REASON in moderation.inner_text()
    moderation.get_by_label("Why should the letter be reinstated?").fill(APPEAL)
    moderation.get_by_role("button", name="Send the appeal").click()
    organiser.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/$"))
    assert organiser.get_by_text("Your appeal was sent to the site's moderators.").is_visible()
    moderation = organiser.get_by_test_id("moderation")
    assert "The moderators will decide." in moderation.inner_text()
    assert moderation.get_by_role("button", name="Send the appeal").count() == 0  # once
    assert Takedown.objects.get(letter=open_letter).appeal == APPEAL

    # 5. The appeal waits in the admin's queue, with its buttons.
    admin.reload()
    entry = admin.get_by_test_id("queue-entry").filter(has_text=open_letter.title)
    assert APPEAL in entry.get_by_test_id("appeal").inner_text()
    assert entry.get_by_role("button", name="Reinstate the letter").is_visible()
    assert entry.get_by_role("button", name="Reject the appeal").is_visible()

    # The report's sent page is not the visitor's 404 and no page failed.
    assert [e for e in errors if "favicon" not in e] == []
