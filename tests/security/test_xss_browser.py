"""XSS in a real browser (Debian's Chromium): payloads in every field a
person types (title, Markdown body, demands, addressees, change note, a
signer's name, team, location and comment, an organiser's name, delivery
recipients and note, leadership's statement, an update) are rendered as text
on the public, signatories, organiser and leadership pages: no dialog opens,
nothing logs a console error (a blocked inline script would), no element
carries an event handler or a javascript: URL, and every page is served with
a Content-Security-Policy that allows scripts from our origin only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from letters import services
from letters.models import Display, Letter
from letters.tests.factories import (
    confirmed_signature,
    deliver,
    edit_letter,
    make_user,
    open_letter,
)
from tests.security.matrix import csp_problems
from tests.site_pages import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

OWNER_EMAIL = "xena.owner@example.org"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
SVG = '"><svg/onload=alert(3)>'
JS = "javascript:alert(4)"
ALL = f"{IMG} {SCRIPT} {SVG}"
BODY = "\n\n".join(
    [
        "Dear CEO,",
        IMG,
        SCRIPT,
        f"[click me]({JS})",
        f"<{JS}>",
        f"![a picture]({JS})",
        f'<a href="{JS}">raw link</a> <details open ontoggle=alert(5)>x</details>',
        "<iframe srcdoc='<script>alert(6)</script>'></iframe>",
    ]
)
LIVE_MARKUP = (
    "script:not([src]), iframe, object, embed, svg:not(.chart svg), "
    "[onerror], [onload], [onclick], [ontoggle], [onmouseover], "
    '[href^="javascript:" i], [src^="javascript:" i], [action^="javascript:" i]'
)


def seed() -> tuple[Letter, str]:
    """A letter whose every typed field carries payloads, delivered and
    answered; returns it and the leadership link's token."""
    owner = make_user(email=OWNER_EMAIL, name=f"Xena {IMG}")
    letter = open_letter(
        owner=owner,
        published_by=owner,
        slug="xss-in-the-browser",
        goal=10,
        title=f"Title {ALL}",
        body=BODY,
        demands=[f"Demand {ALL}", f"[a link]({JS})"],
        addressees=[(f"Casey {IMG}", f"CEO {SCRIPT}")],
        translations=(),
    )
    confirmed_signature(
        letter, name=f"Pat {ALL}", email="pat@example.org", team=SVG, location=SCRIPT,
        comment=f"{ALL} {JS}",
    )  # fmt: skip
    edit_letter(  # `letter` stays the first version's: the next signers sign that one
        letter,
        by=owner,
        body=BODY + f"\n\nOne more line {IMG}",
        demands=[f"Demand {ALL}", f"Second {SVG}"],
        change_note=f"Note {ALL}",
        goal=10,
    )
    confirmed_signature(letter, name=f"Ann {ALL}", email="ann@example.org", comment=ALL)
    confirmed_signature(
        letter, name=f"Hidden {ALL}", email="hid@example.org", display=Display.ANONYMOUS
    )
    _delivery, (issued,) = deliver(
        letter,
        owner,
        method="meeting",
        to=(services.Recipient(f"Boss {IMG}", f"Role {SCRIPT}"),),
        note=f"Delivery {ALL} {JS}",
    )
    services.letter_respond(
        letter=letter, statement=f"Statement {ALL} {JS}", answers={}, link=issued.link
    )
    services.letter_post_update(letter=letter, by=owner, text=f"Update {ALL} {JS}")
    letter.refresh_from_db()
    return letter, issued.token


@dataclass
class Watch:
    """What a page did besides rendering: dialogs, console errors, uncaught
    errors, requests to other origins, and each document's CSP header."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    documents: list[tuple[str, str | None]] = field(default_factory=list)

    def attach(self, page: Any, site: str) -> None:
        page.on("dialog", self.on_dialog)
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.on_request(request, site))
        page.on("response", self.on_response)

    def on_request(self, request: Any, site: str) -> None:
        if not request.url.startswith(site):
            self.elsewhere.append(request.url)

    def on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(self, message: Any) -> None:
        where = (message.location or {}).get("url", "")
        # Chromium asks for /favicon.ico itself on pages without an icon link (the embed).
        if message.type == "error" and not where.endswith("/favicon.ico"):
            self.errors.append(f"{message.text} at {where}")

    def on_response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.documents.append((response.url, response.headers.get("content-security-policy")))


def test_payloads_stay_inert_in_chromium_and_every_page_has_a_strict_csp(
    site_server: str, page: Any
) -> None:
    letter, leadership_token = seed()
    watch = Watch()
    watch.attach(page, site_server)
    public = [
        f"/letters/{letter.slug}/",
        f"/letters/{letter.slug}/?lang=de",
        f"/letters/{letter.slug}/signatories/",
        f"/letters/{letter.slug}/embed/",
        f"/l/{leadership_token}/",
    ]
    organiser = [
        "/organise/",
        f"/organise/{letter.slug}/",
        f"/organise/{letter.slug}/signatures/",
        f"/organise/{letter.slug}/delivery/",
        f"/organise/{letter.slug}/packet/",
    ]

    visited = []
    for path in public:
        page.goto(site_server + path)
        visited.append((path, page.locator(LIVE_MARKUP).count(), page.content()))
    sign_in(page, site_server, OWNER_EMAIL)
    for path in organiser:
        page.goto(site_server + path)
        visited.append((path, page.locator(LIVE_MARKUP).count(), page.content()))

    assert watch.dialogs == []
    assert watch.errors == []
    assert watch.elsewhere == []
    assert [(path, n) for path, n, _html in visited if n] == []
    for path, _n, html in visited:  # the payloads are there, shown as text
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html, path
    assert len(watch.documents) >= len(public) + len(organiser)
    assert [p for url, policy in watch.documents for p in csp_problems(url, policy)] == []
