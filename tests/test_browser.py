"""A co-worker signs in a real browser (Debian's Chromium), opens the email
from the SMTP server, confirms, and sees the count."""

from __future__ import annotations

import re

import pytest

from letters.models import Signature, SignatureStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def test_coworker_signs_confirms_from_the_email_and_sees_the_count(
    site_server, page, open_letter, celery_worker
):
    smtp = celery_worker
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(site_server + open_letter.get_absolute_url())
    assert page.get_by_test_id("confirmed-count").inner_text() == "0 verified signatures"

    page.get_by_label("Your name").fill("Bea Browser")
    page.get_by_label("Your email address").fill("bea@example.org")
    page.get_by_label("Team (optional)").fill("Design")
    page.get_by_label(re.compile("I agree that my email address")).check()
    page.get_by_role("button", name="Sign").click()
    page.wait_for_url(re.compile(r"/check-inbox/"))
    assert page.get_by_role("heading", name="Check your inbox").is_visible()

    (message,) = smtp.wait_for("bea@example.org", timeout=30)
    page.goto(site_server + message.link("/s/"))
    assert page.get_by_role("button", name="Confirm my signature").is_visible()
    assert Signature.objects.get().status == SignatureStatus.PENDING
    # Every detail that would be published is shown, and nothing is chosen
    # for the signer: they pick how their signature appears.
    assert page.get_by_label("Your name").input_value() == "Bea Browser"
    assert page.get_by_label("Team (optional)").input_value() == "Design"
    public = page.get_by_label("Show my name and details publicly")
    assert not public.is_checked()
    public.check()
    page.get_by_role("button", name="Confirm my signature").click()
    page.get_by_role("heading", name="Thank you for signing").wait_for()  # the POST's answer

    page.goto(site_server + open_letter.get_absolute_url())
    for _ in range(20):
        if page.get_by_test_id("confirmed-count").inner_text() == "1 verified signature":
            break
        page.wait_for_timeout(250)
        page.reload()
    assert page.get_by_test_id("confirmed-count").inner_text() == "1 verified signature"
    assert page.get_by_text("Bea Browser").is_visible()
    assert errors == []
