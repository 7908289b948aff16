"""An editor, in a real browser, hides one signer's rude comment from the
signatories page (confirming with a reason): the public letter page stops
showing it, the signer's name stays, the count does not move, and the signer
is emailed why."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from letters.models import Signature
from letters.selectors import letter_counts
from letters.tests.factories import EDITOR, add_co_organisers, confirmed_signature
from tests.site_pages import reload_until, sign_in, watch_errors

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

RUDE = "Our manager is a clown"
KIND = "Proud to stand with my colleagues"
REASON = "A personal attack on a colleague"


def test_an_editor_hides_a_comment_and_the_public_page_stops_showing_it(
    site_server, page, open_letter
):
    add_co_organisers(open_letter)
    rude = confirmed_signature(
        open_letter, name="Rita Rude", email="rita@example.org", comment=RUDE, wants_updates=True
    )
    confirmed_signature(open_letter, name="Kim Kind", email="kim@example.org", comment=KIND)
    mail.outbox.clear()
    errors: list[str] = []
    public = f"{site_server}/letters/{open_letter.slug}/"
    page.goto(public)
    assert page.get_by_text(RUDE).is_visible()
    watch_errors(page, errors)

    sign_in(page, site_server, EDITOR.email)
    page.goto(f"{site_server}/organise/{open_letter.slug}/signatures/")
    page.get_by_role("link", name=re.compile("^Comments")).click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/comments/$"))
    row = page.get_by_role("row").filter(has_text=RUDE)
    row.get_by_role("link", name=re.compile("Hide comment")).click()
    page.wait_for_url(re.compile(r"/comments/[^/]+/hide/$"))
    assert page.get_by_text(RUDE).is_visible()
    assert Signature.objects.get(pk=rude.pk).comment_hidden_at is None  # not before confirming
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Hide comment").click()
    page.wait_for_url(re.compile(rf"/organise/{open_letter.slug}/comments/$"))
    assert page.get_by_text("The comment is hidden").is_visible()
    hidden = page.get_by_role("region", name="Hidden comments")
    assert hidden.get_by_text(REASON).is_visible()

    page.goto(public)
    reload_until(page, lambda: page.get_by_text(RUDE).count() == 0)
    assert page.get_by_text("Rita Rude").is_visible()
    assert page.get_by_text(KIND).is_visible()
    assert letter_counts(letter_id=open_letter.pk).confirmed == 2
    (told,) = mail.outbox
    assert told.to == ["rita@example.org"]
    assert REASON in told.body
    assert not errors, errors
