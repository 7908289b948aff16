"""A small, realistic site for the browser tests that look at whole pages
(tests/test_accessibility.py, tests/test_html_valid.py,
tests/test_screenshots.py): letters in the states that make every section of
the pages render, and the addresses of every kind of page (`PAGES`); and what
every browser test does (signing in, watching for errors, waiting for a
cached page to change, walking the whole site in a language).

- `open`: open, two versions, signatures public and anonymous (enough on one
  day for the chart) and a pending one;
- `responded`: delivered, acknowledged and answered by leadership, with an
  update on its timeline and a version history;
- `delivered`: delivered and waiting, for the leadership page (still with its
  "Acknowledge receipt" button) and the delivery packet (with its groups);
- `closed`: closed for signatures;
- `work`: open, asking for a work address.

Pages behind single-use links (confirm, withdraw, personal address, a
delivery's new leadership links...) make what they need when visited.

The browser and the site's server are fixtures (conftest.py: `chromium`,
`page`, `new_page`, `site_server`; `site` is `seed_site()`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import get_language

from letters import services
from letters.models import (
    Answer,
    Display,
    HeldReason,
    Letter,
    LetterTemplate,
    OrganiserRole,
    Signature,
)
from letters.refs import signature_ref
from letters.services.employers import EmployerInput
from letters.tests.factories import (
    LEADERSHIP,
    ORGANISER,
    PASSWORD,
    confirmed_signature,
    current,
    deliver,
    edit_letter,
    make_persona,
    make_user,
    open_letter,
    pending_signature,
    record_paper,
)
from letters.tests.held import held_signature
from letters.tokens import Purpose, make_token


@dataclass(frozen=True)
class Site:
    open: Letter
    responded: Letter
    delivered: Letter
    closed: Letter
    work: Letter  # open, asks for a work address (allowed domains)
    organiser: Any  # Olivia, who owns them all
    leadership_token: str  # Casey Chief's link to `delivered`
    responded_leadership_token: str  # Casey Chief's link to `responded`


@dataclass(frozen=True)
class SitePage:
    """A page to look at: its address, whether it needs the organiser signed
    in, what to do there first (e.g. submit a form to show its errors), and
    the status its address answers with.

    `path` runs in the test's process in the language of the visit (see
    `walk_site`): a page behind a single-use link makes its own signature,
    letter or link there, in that language, so that every visit finds the
    page in the same state whatever was visited before."""

    name: str
    path: Callable[[Site], str]
    organiser: bool = False
    action: Callable[[Any], None] | None = None
    status: int = 200


# --- Single-use things, made afresh for each visit ------------------------------------

_fresh = itertools.count(1)


def _address() -> str:
    return f"visitor{next(_fresh)}@example.org"


def _pending(letter: Letter, **fields: Any) -> Signature:
    """A pending signature in the language of the visit."""
    return pending_signature(letter, email=_address(), language=get_language(), **fields)


def _confirmed(letter: Letter, **fields: Any) -> Signature:
    return confirmed_signature(letter, email=_address(), language=get_language(), **fields)


def _link(signature: Signature, purpose: Purpose) -> str:
    prefix = {
        Purpose.CONFIRM: "s",
        Purpose.WITHDRAW: "w",
        Purpose.NEW_VERSION: "v",
        Purpose.PERSONAL: "a",
        Purpose.UNSUBSCRIBE: "u",
    }[purpose]
    return f"/{prefix}/{make_token(signature, purpose)}/"


def _confirm_link(s: Site) -> str:
    return _link(_pending(s.open, name="Vic Visitor", team="Support"), Purpose.CONFIRM)


def _work_confirm_link(s: Site) -> str:
    return _link(_pending(s.work, name="Wendy Worker", work_address=True), Purpose.CONFIRM)


def _withdraw_link(s: Site) -> str:
    return _link(_confirmed(s.open, name="Wes Withdrawer"), Purpose.WITHDRAW)


def _new_version_link(s: Site) -> str:
    """A signer of the first version of `open` (which has two)."""
    first = s.open.versions.order_by("number").first()
    assert first is not None
    assert first.pk != s.open.current_version_id
    return _link(_confirmed(s.open, name="Otto Old", version_id=first.pk), Purpose.NEW_VERSION)


def _personal_link(s: Site) -> str:
    """A work-address signer who gave a personal address when confirming."""
    signature = _pending(s.work, name="Wendy Worker", work_address=True)
    services.signature_confirm(
        signature=signature, personal_email=f"home{next(_fresh)}@home.example"
    )
    return _link(signature, Purpose.PERSONAL)


def _unsubscribe_link(s: Site) -> str:
    return _link(_confirmed(s.open, name="Una Updates", wants_updates=True), Purpose.UNSUBSCRIBE)


def _letter(s: Site, **text: Any) -> Letter:
    """A new open letter of the organiser's, "Stop the contract" in English
    (with its German translation) unless `text` says otherwise."""
    return open_letter(owner=s.organiser, slug=f"letter-{next(_fresh)}", language="en", **text)


def _to_two(s: Site) -> Letter:
    """A new open letter to two people: delivering it issues two links."""
    return _letter(s, addressees=[CASEY, ("Dana Director", "HR Director")])


def _leadership_link(s: Site) -> str:
    """Casey's link to a new letter, delivered and waiting."""
    letter = _letter(s)
    confirmed_signature(letter, name="Pia Public", email=_address())
    _delivery, (link,) = deliver(letter, by=s.organiser, method="email")
    return f"/l/{link.token}/"


def _coalition(s: Site) -> tuple[Letter, str]:
    """A new coalition letter of two employers, signed by the staff of both
    and delivered to each employer's leadership: Northwind's acknowledged
    and responded, Contoso's is 12 days past the respond-by date.  The
    letter, and the token of Contoso's leadership link."""
    employers = [
        EmployerInput(name="Northwind", domains=["northwind.example"]),
        EmployerInput(name="Contoso", domains=["contoso.example"]),
    ]
    letter = _letter(s, employers=employers)
    for name, domain in [("Nell", "northwind"), ("Nat", "northwind"), ("Cora", "contoso")]:
        address = f"{name.lower()}{next(_fresh)}@{domain}.example"
        confirmed_signature(
            letter, name=f"{name} Coalition", email=address, language=get_language()
        )
    now = timezone.now()
    links = []
    for employer, who in zip(
        letter.employers.order_by("position"), ["Nadia North", "Carl Contoso"], strict=True
    ):
        _delivery, (issued,) = services.letter_deliver(
            letter=letter,
            by=s.organiser,
            method="email",
            delivered_at=now - timedelta(days=30),
            recipients=[services.Recipient(who, "CEO")],
            respond_by=now - timedelta(days=12, hours=1),
            employer=employer,
        )
        links.append(issued)
    services.letter_acknowledge(link=links[0].link)
    demands = current(letter).current_version.demands.values_list("id", flat=True)  # type: ignore[union-attr]
    services.letter_respond(
        letter=letter,
        statement="Northwind will not renew the contract.",
        answers=dict.fromkeys(demands, Answer.ACCEPTED),
        link=links[0].link,
    )
    return letter, links[1].token


def _coalition_paper(s: Site) -> str:
    """The organiser's pages of a coalition letter with paper signatures
    for one employer (its counts by employer, with paper): the address of
    its organiser page."""
    letter, _token = _coalition(s)
    northwind = letter.employers.get(name="Northwind")
    record_paper(letter, 12, by=s.organiser, employer_id=northwind.pk)
    return f"/organise/{letter.slug}/"


def _coalition_draft(s: Site) -> str:
    title, ask, demands = TEXTS["safer-on-call"]
    data = services.LetterInput(
        title=title, body=ask, demands=demands, addressees=[CASEY], language="en", goal=10,
        employers=[
            EmployerInput(name="Northwind", domains=["northwind.example"]),
            EmployerInput(name="Contoso", domains=["contoso.example", "contoso-labs.example"]),
        ],
        accept_supporters=True,
    )  # fmt: skip
    letter = services.letter_create(slug=f"draft-{next(_fresh)}", data=data, owner=s.organiser)
    return f"/organise/{letter.slug}/"


def _internal(s: Site) -> Letter:
    """A new internal letter of the organiser's (shared with Northwind's
    staff first), with one signature."""
    letter = _letter(s, allowed_domains=["northwind.example"], internal=True)
    confirmed_signature(letter, name="Ina Insider", email=f"ina{next(_fresh)}@northwind.example")
    return letter


def _read_link(s: Site) -> str:
    """A fresh reading link to a new internal letter (as its email gives it)."""
    token, _pass = services.read_pass_issue(letter=_internal(s))
    return f"/r/{token}/"


def _review_link(s: Site) -> str:
    return f"/p/{services.letter_preview_link_create(letter=s.open)}/"


def _draft(s: Site) -> str:
    title, ask, demands = TEXTS["safer-on-call"]
    data = services.LetterInput(
        title=title, body=ask, demands=demands, addressees=[CASEY], language="en", goal=10
    )
    letter = services.letter_create(slug=f"draft-{next(_fresh)}", data=data, owner=s.organiser)
    return f"/organise/{letter.slug}/"


def _taken_down(s: Site) -> Letter:
    """A new letter of the organiser's, taken down by the site's moderators."""
    letter = _letter(s)
    services.letter_take_down(letter=letter, by=s.organiser, reason="It names a colleague.")
    return letter


def _group(s: Site) -> str:
    """A new organising group the organiser owns, with a member of each
    other role, an open invitation, and three letters: the responded and
    the closed one, and a new open one.  Its slug."""
    group = services.group_create(
        by=s.organiser,
        name=f"Warehouse Workers United {next(_fresh)}",
        description="The warehouse staff of Northwind, organised.\n\nWe meet on Mondays.",
    )
    for name, role in [("Grete Grouporganiser", "organiser"), ("Gil Groupviewer", "viewer")]:
        member = make_user(email=_address(), name=name)
        group.memberships.create(user=member, role=role)
    services.group_invite(
        group=group, by=s.organiser, email=_address(), role="viewer", language=get_language()
    )
    for letter in (s.responded, s.closed, _letter(s)):
        services.letter_group_set(letter=letter, by=s.organiser, group=group)
    return group.slug


def _invitation(s: Site) -> str:
    token = services.organiser_invite(
        letter=s.open, by=s.organiser, email=_address(), role=OrganiserRole.EDITOR
    )
    return f"/organise/invitations/{token}/"


def _letter_template(s: Site) -> LetterTemplate:
    """An active letter template in the language of the visit (the new-letter
    page lists it; `?template=<id>` fills the form from it)."""
    title, ask, demands = TEXTS["safer-on-call"]
    return LetterTemplate.objects.create(
        name=f"Safer on-call {next(_fresh)}",
        description="Ask for fewer and fairly paid on-call nights.",
        language=get_language(),
        title=title,
        body=f"Dear [name],\n\n{ask}",
        demands=demands,
    )


def _new_from_template(s: Site) -> str:
    return f"/organise/new/?template={_letter_template(s).pk}"


def _new_with_templates(s: Site) -> str:
    _letter_template(s)
    return "/organise/new/"


# --- What to do on a page before looking at it ---------------------------------------
# Buttons are found by what they are, not by their words: the walk is in German too.


def _submit(page: Any, form: str, button: str = "button[type=submit]") -> None:
    """Press the form's button, and see the page change; the browser's own
    checks of the fields are off (`novalidate`): what is looked at is the
    site's answer."""
    before = page.locator("main").inner_text()
    page.locator(form).first.evaluate("(form) => { form.noValidate = true; }")
    with page.expect_navigation():
        page.locator(f"{form} {button}").first.click()
    assert page.locator("main").inner_text() != before, f"nothing changed at {page.url}"


def _assert_errors_shown(page: Any) -> None:
    assert page.locator("main [role=alert], main .errorlist, main .notice.error").count() > 0, (
        f"no errors shown on {page.url}: {page.locator('main').inner_text()[:500]}"
    )


def _submit_empty_sign_form(page: Any) -> None:
    _submit(page, "form[action*='/sign/']")
    assert page.locator(".has-error [role=alert]").count() > 0, "no errors shown"


def _sign(page: Any) -> None:
    page.locator("#id_name").fill("Sue Signer")
    page.locator("#id_email").fill(_address())
    page.locator("#id_consent").check()
    _submit(page, "form[action*='/sign/']")
    assert "/check-inbox/" in page.url, page.url


def _confirm_without_choosing(page: Any) -> None:
    _submit(page, "form.sign-form")
    _assert_errors_shown(page)


def _confirm_publicly(page: Any) -> None:
    page.locator("input[name=display][value=public]").check()
    _submit(page, "form.sign-form")


def _first_form(page: Any) -> None:
    _submit(page, "main form")


def _hide_name(page: Any) -> None:
    _submit(page, "form:has(input[name=action][value=hide])")


def _sign_in_wrongly(page: Any) -> None:
    page.locator("input[name=login]").fill(ORGANISER.email)
    page.locator("input[name=password]").fill("not the password")
    _submit(page, "form:has(input[name=password])")
    _assert_errors_shown(page)


def _make_review_link(page: Any) -> None:
    _submit(page, "form[action$='/preview-link/']", "button[value=create]")


def _preview_the_edit(page: Any) -> None:
    _submit(page, "form.sign-form", "button[name=preview]")


def _save_empty_paper_batch(page: Any) -> None:
    _submit(page, "form.sign-form")
    _assert_errors_shown(page)


def _paper_correct(s: Site) -> str:
    """The correction form of `delivered`'s latest batch."""
    latest = s.delivered.paper_batches.filter(corrected_by__isnull=True).latest("id")
    return f"/organise/{s.delivered.slug}/paper/?correct={latest.pk}"


def _save_empty_letter(page: Any) -> None:
    _submit(page, "form.sign-form", "button[name=save]")
    _assert_errors_shown(page)


def _count_matching(page: Any) -> None:
    page.locator("input[name=domain]").fill("example.org")
    _submit(page, "form.sign-form", "button[value=count]")


def _count_held(page: Any) -> None:
    _submit(page, "form.sign-form", "button[value=count]")


def _add_a_wrong_range(page: Any) -> None:
    page.locator("input[name=network]").fill("10.0.0.0/8")
    _submit(page, "form.sign-form")


def _comment_hide(s: Site) -> str:
    """The confirmation page for hiding a comment on the open letter (a
    fresh commenter each visit: a hidden comment has no such page)."""
    signature = _confirmed(s.open, name="Cleo Comment", comment="A comment to hide.")
    return f"/organise/{s.open.slug}/comments/{signature_ref(signature.pk)}/hide/"


def _hide_without_reason(page: Any) -> None:
    _submit(page, "form.sign-form")


def _deliver_to_both(page: Any) -> None:
    boxes = page.locator("input[name=recipients]")
    assert boxes.count() == 2
    for n in range(2):
        boxes.nth(n).check()
    _submit(page, "form.sign-form")
    assert "/delivery/" in page.url, page.url
    assert page.get_by_test_id("leadership-link").count() == 2  # shown once, each with its form


def _respond_empty(page: Any) -> None:
    _submit(page, "#response-form form")


def _respond(page: Any) -> None:
    page.locator("#response-form textarea[name=statement]").fill("We will meet you on Monday.")
    for group in page.locator("#response-form fieldset").all():
        group.locator("input[type=radio]").first.check()
    _submit(page, "#response-form form")


def _password_if_asked(page: Any) -> None:
    """Adding a passkey asks for the password again unless the organiser
    signed in moments ago: give it, to reach the form."""
    if "/reauthenticate/" in page.url:
        page.locator("input[name=password]").fill(PASSWORD)
        _submit(page, "main form:has(input[name=password])")
    assert page.url.endswith("/accounts/2fa/webauthn/add/"), page.url


def _ask_to_read_empty(page: Any) -> None:
    _submit(page, "form[action*='/read/']")
    _assert_errors_shown(page)


def _ask_to_read(page: Any) -> None:
    page.locator("#id_email").fill(f"staff{next(_fresh)}@northwind.example")
    _submit(page, "form[action*='/read/']")
    assert "/read/sent/" in page.url, page.url


def _report_empty(page: Any) -> None:
    _submit(page, "form.report-form")
    _assert_errors_shown(page)


def _report(page: Any) -> None:
    page.locator("select[name=reason]").select_option("spam")
    _submit(page, "form.report-form")
    assert "/report/sent/" in page.url, page.url


def _p(name: str, path: Callable[[Site], str], **more: Any) -> SitePage:
    return SitePage(name, path, **more)


def _o(name: str, path: Callable[[Site], str], **more: Any) -> SitePage:
    return SitePage(name, path, organiser=True, **more)


NOT_A_TOKEN = "not-a-valid-token"

PAGES: dict[str, SitePage] = {
    p.name: p
    for p in [
        # What anyone sees.
        _p("index", lambda s: "/letters/"),
        _p("letter", lambda s: f"/letters/{s.open.slug}/"),
        _p("letter-responded", lambda s: f"/letters/{s.responded.slug}/"),
        _p("letter-delivered", lambda s: f"/letters/{s.delivered.slug}/"),
        _p("letter-closed", lambda s: f"/letters/{s.closed.slug}/"),
        _p("letter-work-address", lambda s: f"/letters/{s.work.slug}/"),
        _p("sign-errors", lambda s: f"/letters/{s.open.slug}/", action=_submit_empty_sign_form),
        _p("signed", lambda s: f"/letters/{s.open.slug}/", action=_sign),
        _p("check-inbox", lambda s: f"/letters/{s.open.slug}/check-inbox/"),
        _p("signatories", lambda s: f"/letters/{s.open.slug}/signatories/"),
        _p("embed", lambda s: f"/letters/{s.open.slug}/embed/"),
        _p("review-link", _review_link),
        _p("signing-safely", lambda s: "/signing-safely/"),
        _p("not-found", lambda s: "/letters/no-such-letter/", status=404),
        _p("report", lambda s: f"/letters/{s.open.slug}/report/"),
        _p("report-errors", lambda s: f"/letters/{s.open.slug}/report/", action=_report_empty),
        _p("report-sent", lambda s: f"/letters/{s.open.slug}/report/", action=_report),
        _p("taken-down", lambda s: f"/letters/{_taken_down(s).slug}/"),
        # An internal letter (shared with its employers' staff first).
        _p("internal-gate", lambda s: f"/letters/{_internal(s).slug}/"),
        _p(
            "internal-gate-errors",
            lambda s: f"/letters/{_internal(s).slug}/",
            action=_ask_to_read_empty,
        ),
        _p("internal-read-sent", lambda s: f"/letters/{_internal(s).slug}/", action=_ask_to_read),
        _p("internal-read-link", _read_link),
        _p("internal-letter", _read_link, action=_first_form),
        # Behind the links emailed to signers.
        _p("confirm", _confirm_link),
        _p("confirm-errors", _confirm_link, action=_confirm_without_choosing),
        _p("confirm-work-address", _work_confirm_link),
        _p("thanks", _confirm_link, action=_confirm_publicly),
        _p("link-used", lambda s: _link(_confirmed(s.open, name="Uma Used"), Purpose.CONFIRM)),
        _p("invalid-link", lambda s: f"/s/{NOT_A_TOKEN}/", status=404),
        _p("withdraw", _withdraw_link),
        _p("withdrawn", _withdraw_link, action=_first_form),
        _p("name-hidden", _withdraw_link, action=_hide_name),
        _p("new-version", _new_version_link),
        _p("new-version-supported", _new_version_link, action=_first_form),
        _p("personal-confirm", _personal_link),
        _p("personal-confirmed", _personal_link, action=_first_form),
        _p("unsubscribe", _unsubscribe_link),
        _p("unsubscribed", _unsubscribe_link, action=_first_form),
        # Leadership's.
        _p("leadership", lambda s: f"/l/{s.leadership_token}/"),
        _p("leadership-responded", lambda s: f"/l/{s.responded_leadership_token}/"),
        _p("leadership-response-errors", _leadership_link, action=_respond_empty),
        _p("leadership-response-check", _leadership_link, action=_respond),
        _p("leadership-invalid-link", lambda s: f"/l/{NOT_A_TOKEN}/", status=404),
        # A coalition letter: each employer's status, and one employer's leadership.
        _p("letter-coalition", lambda s: f"/letters/{_coalition(s)[0].slug}/"),
        _p("embed-coalition", lambda s: f"/letters/{_coalition(s)[0].slug}/embed/"),
        _p("leadership-coalition", lambda s: f"/l/{_coalition(s)[1]}/"),
        # Accounts.
        _p("login", lambda s: "/accounts/login/"),
        _p("login-errors", lambda s: "/accounts/login/", action=_sign_in_wrongly),
        _p("signup", lambda s: "/accounts/signup/"),
        _p("password-reset", lambda s: "/accounts/password/reset/"),
        _p("verification-sent", lambda s: "/accounts/confirm-email/"),
        _o("account-email", lambda s: "/accounts/email/"),
        _o("password-change", lambda s: "/accounts/password/change/"),
        _o("two-factor", lambda s: "/accounts/2fa/"),
        _o("passkeys", lambda s: "/accounts/2fa/webauthn/"),
        _o("passkey-add", lambda s: "/accounts/2fa/webauthn/add/", action=_password_if_asked),
        _o("logout", lambda s: "/accounts/logout/"),
        _o("admin-not-allowed", lambda s: "/admin/", status=403),
        # The organiser's.
        _o("dashboard", lambda s: "/organise/"),
        _o("organiser-letter", lambda s: f"/organise/{s.open.slug}/"),
        _o(
            "organiser-letter-review-link",
            lambda s: f"/organise/{s.open.slug}/",
            action=_make_review_link,
        ),
        _o("organiser-letter-responded", lambda s: f"/organise/{s.responded.slug}/"),
        _o("organiser-letter-draft", _draft),
        _o("organiser-letter-taken-down", lambda s: f"/organise/{_taken_down(s).slug}/"),
        _o("publish-confirm", lambda s: f"{_draft(s)}publish/"),
        _o("organiser-letter-internal", lambda s: f"/organise/{_internal(s).slug}/"),
        _o("make-public-confirm", lambda s: f"/organise/{_internal(s).slug}/make-public/"),
        _o("publish-confirm-coalition", lambda s: f"{_coalition_draft(s)}publish/"),
        _o("organiser-letter-coalition", _coalition_paper),
        _o("packet-coalition", lambda s: f"{_coalition_paper(s)}packet/"),
        _o("paper-coalition", lambda s: f"{_coalition_paper(s)}paper/"),
        _o("close-confirm", lambda s: f"/organise/{s.open.slug}/close/"),
        _o("archive-confirm", lambda s: f"/organise/{s.open.slug}/archive/"),
        _o("edit", lambda s: f"/organise/{s.open.slug}/edit/"),
        _o("edit-preview", lambda s: f"/organise/{s.open.slug}/edit/", action=_preview_the_edit),
        _o("new-letter", lambda s: "/organise/new/"),
        _o("new-letter-errors", lambda s: "/organise/new/", action=_save_empty_letter),
        _o("new-letter-templates", _new_with_templates),
        _o("new-letter-from-template", _new_from_template),
        _o("translation", lambda s: f"/organise/{s.open.slug}/translation/"),
        _o("translation-de", lambda s: f"/organise/{s.open.slug}/translation/?language=de"),
        _o("signatures", lambda s: f"/organise/{s.open.slug}/signatures/"),
        _o("invalidate", lambda s: f"/organise/{s.open.slug}/signatures/invalidate/"),
        _o(
            "invalidate-count",
            lambda s: f"/organise/{s.open.slug}/signatures/invalidate/",
            action=_count_matching,
        ),
        _o("held", lambda s: f"/organise/{s.open.slug}/signatures/held/"),
        _o(
            "held-count",
            lambda s: f"/organise/{s.open.slug}/signatures/held/",
            action=_count_held,
        ),
        _o("office-ranges", lambda s: f"/organise/{s.open.slug}/signatures/held/office-ranges/"),
        _o(
            "office-ranges-errors",
            lambda s: f"/organise/{s.open.slug}/signatures/held/office-ranges/",
            action=_add_a_wrong_range,
        ),
        _o("comments", lambda s: f"/organise/{s.open.slug}/comments/"),
        _o("comment-hide", _comment_hide),
        _o("comment-hide-errors", _comment_hide, action=_hide_without_reason),
        _o("deliver", lambda s: f"/organise/{s.open.slug}/deliver/"),
        _o(
            "delivery-two-links",
            lambda s: f"/organise/{_to_two(s).slug}/deliver/",
            action=_deliver_to_both,
        ),
        _o("delivery-responded", lambda s: f"/organise/{s.responded.slug}/delivery/"),
        _o("deliver-coalition", lambda s: f"/organise/{_coalition(s)[0].slug}/deliver/"),
        _o("delivery-coalition", lambda s: f"/organise/{_coalition(s)[0].slug}/delivery/"),
        _o("response", lambda s: f"/organise/{s.delivered.slug}/response/"),
        _o("packet", lambda s: f"/organise/{s.delivered.slug}/packet/"),
        _o("packet-responded", lambda s: f"/organise/{s.responded.slug}/packet/"),
        _o("paper", lambda s: f"/organise/{s.delivered.slug}/paper/"),
        _o("paper-correct", _paper_correct),
        _o(
            "paper-errors",
            lambda s: f"/organise/{s.open.slug}/paper/",
            action=_save_empty_paper_batch,
        ),
        _o("invitation", _invitation),
        # Organising groups: a group's public page and its members' page.
        _p("group-page", lambda s: f"/groups/{_group(s)}/"),
        _o("group-members", lambda s: f"/organise/groups/{_group(s)}/"),
    ]
}


# The letters of sections 2 and 3: slug -> title, what they ask, demands.
TEXTS = {
    "fair-rota-now": (
        "A fair rota for everyone",
        "We ask for a **fair rota** before the summer.",
        ["Publish the rota a month ahead", "Cancel the on-call contract"],
    ),
    "safer-on-call": (
        "Safer on-call hours",
        "Nights on call have doubled this year.",
        ["Cap on-call nights at four a month", "Pay on-call time in full"],
    ),
    "canteen-prices": (
        "Fair canteen prices",
        "The canteen raised its prices twice this year.",
        ["Freeze the canteen prices"],
    ),
    "badge-policy": (
        "Badges stay at the door",
        "Please do not track our badges inside the building.",
        ["Stop tracking badges inside the building"],
    ),
}
CASEY = (LEADERSHIP.name, LEADERSHIP.role)


def _published(organiser: Any, slug: str, goal: int, **more: Any) -> Letter:
    """One of TEXTS, to Casey (unless `more` says otherwise), published by
    the organiser, in English only."""
    title, ask, demands = TEXTS[slug]
    text = {"title": title, "body": f"Dear Casey,\n\n{ask}", "demands": demands, **more}
    letter = open_letter(
        owner=organiser, published_by=organiser, slug=slug, goal=goal, translations=(), **text
    )
    return current(letter)


def _anonymous(letter: Letter, name: str, email: str, **where: Any) -> None:
    confirmed_signature(letter, name=name, email=email, display=Display.ANONYMOUS, **where)


def seed_site() -> Site:
    """Create the site from the factories (through the services). Emails the
    services send go wherever the test's settings send them (use `smtp`)."""
    organiser = make_persona(ORGANISER)

    # 1. Open, with two versions and signatures on both.
    first = open_letter(owner=organiser, slug="stop-the-contract")
    confirmed_signature(
        first, name="Sam Early", email="sam@example.org", team="Design", location="Berlin"
    )
    first = edit_letter(
        first,
        by=organiser,
        body="Dear CEO,\n\nWe, the undersigned employees, ask you to **act now**.",
        demands=[
            "Condemn the agency's actions",
            "End the contract within thirty days",
            "Publish an ethics policy",
        ],
        goal=first.goal,
        change_note="A deadline for the contract",
    )
    confirmed_signature(
        first,
        name="Pia Public",
        email="pia@example.org",
        team="Support",
        location="Leeds",
        comment="Our work should not harm anyone.",
    )
    for name, team in [("Rui Reyes", "Support"), ("Mo Mensah", "Platform"), ("Lee Lin", "")]:
        confirmed_signature(
            first, name=name, email=f"{name.split()[0].lower()}@example.org", team=team
        )
    for n in range(2):
        _anonymous(first, f"Hidden {n}", f"hidden{n}@example.org")
    pending_signature(first, name="Nia New", email="nia@example.org")  # not shown anywhere
    # Held by the rate limits yesterday (counted after an organiser's review),
    # and an office range whose confirmations are never held.
    for n in range(6):
        held_signature(first, name=f"Held {n}", email=f"held{n}@example.org")
    for n in range(5):
        held_signature(first, reason=HeldReason.SUSTAINED, email=f"slow{n}@example.org")
    services.office_range_add(
        letter=first, by=organiser, network="198.51.100.0/24", label="Head office, Leeds"
    )

    # 2. Delivered, acknowledged and answered, with an update.
    responded = _published(
        organiser, "fair-rota-now", goal=20, addressees=[CASEY, ("Dana Director", "HR Director")]
    )
    confirmed_signature(responded, name="Ada Able", email="ada@example.org", team="Support")
    responded = edit_letter(
        responded,
        by=organiser,
        body=responded.current_version.body,  # type: ignore[union-attr]
        demands=["Publish the rota a month ahead", "Cancel the on-call contract by June"],
        goal=responded.goal,
        change_note="A date for the contract",
    )
    for name in ["Ben Brook", "Cy Cole", "Di Dunn"]:
        confirmed_signature(responded, name=name, email=f"{name.split()[0].lower()}@example.org")
    _anonymous(responded, "Eve Hidden", "eve@example.org")
    _delivery, (casey,) = deliver(responded, by=organiser)
    services.letter_acknowledge(link=casey.link)
    responded = current(responded)
    demand_ids = list(
        responded.current_version.demands.order_by("position").values_list("id", flat=True)  # type: ignore[union-attr]
    )
    services.letter_respond(
        letter=responded,
        statement="We will publish the rota a month ahead from July.",
        answers={demand_ids[0]: Answer.ACCEPTED, demand_ids[1]: Answer.CONSIDERING},
        link=casey.link,
    )
    services.letter_post_update(
        letter=responded, by=organiser, text="We meet the staff council on Monday."
    )

    # 3. Delivered, waiting for leadership (a respond-by date is set).
    delivered = _published(organiser, "safer-on-call", goal=10)
    # Two teams of at least EXPORT_MIN_GROUP (5) public signers, so the packet
    # shows its groups (the one anonymous signer counts in no group: the team
    # and location Kim types are not stored).
    support = ["Eve Ekins", "Fay Ford", "Gus Gray", "Hal Hunt", "Ivy Ives"]
    signers = [
        *[(name, "Support", "Leeds") for name in support],
        *[(name, "Platform", "Berlin") for name in ["Jo Judd", "Kat Kerr", "Lou Lamb", "Max Moss"]],
        ("Ned North", "Platform", "Berlin"),
    ]
    for n, (name, team, location) in enumerate(signers):
        confirmed_signature(
            delivered, name=name, email=f"signer{n}@example.org", team=team, location=location
        )
    _anonymous(delivered, "Kim Hidden", "kim@example.org", team="Support", location="Leeds")
    # Signatures on paper: a batch with a scan's checksum, one corrected.
    record_paper(
        delivered,
        14,
        by=organiser,
        where_how="Sheets at the Leeds depot",
        collected_on=timezone.localdate() - timedelta(days=3),
        scan_sha256="5e" * 32,
    )
    miscounted = record_paper(delivered, 9, by=organiser, where_how="Canteen, Berlin")
    record_paper(delivered, 8, by=organiser, where_how="Canteen, Berlin: recounted",
                 corrects=miscounted)  # fmt: skip
    _delivery, (waiting,) = deliver(
        delivered, by=organiser, method="email", respond_by=timezone.now() + timedelta(days=14)
    )

    # 4. Closed for signatures.
    closed = _published(organiser, "canteen-prices", goal=50)
    confirmed_signature(closed, name="Ola Open", email="ola@example.org")
    closed = services.letter_close(letter=closed, by=organiser)

    # 5. Open, asking for a work address (the sign form and confirm page say so).
    work = _published(organiser, "badge-policy", goal=30, allowed_domains=["northwind.example"])

    return Site(
        open=current(first),
        responded=current(responded),
        delivered=current(delivered),
        closed=current(closed),
        work=current(work),
        organiser=organiser,
        leadership_token=waiting.token,
        responded_leadership_token=casey.token,
    )


# --- What every browser test does -------------------------------------------------------

LOGIN = "/accounts/login/"


def sign_in(
    page: Any,
    base_url: str,
    email: str = ORGANISER.email,
    *,
    start: str = LOGIN,
    lands: str = r"/organise/$",
) -> None:
    """Sign in through allauth's login page with PASSWORD (as the organiser,
    unless `email` says whom): go to `start` (a page that sends there), sign
    in, wait to land on `lands` (a regular expression)."""
    page.goto(base_url + start)
    if start != LOGIN:
        page.wait_for_url(re.compile(LOGIN))
    # By the fields' names: the page is in the browser's language (or the
    # one the reader chose on an earlier page), not always English.
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").first.click()
    page.wait_for_url(re.compile(lands))


def watch_errors(page: Any, errors: list[str]) -> None:
    """Collect the page's console errors and HTTP error responses in `errors`."""

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url')}, on {page.url})")

    page.on("console", on_console)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)


def reload_until(page: Any, check: Callable[[], bool], timeout_ms: int = 10_000) -> None:
    """Reload until `check()` holds: public pages are cached for COUNT_INTERVAL
    seconds (server and browser), so a change shows after at most that long."""
    waited = 0
    while not check():
        assert waited < timeout_ms, f"{page.url} did not change within {timeout_ms} ms"
        page.wait_for_timeout(250)
        waited += 250
        page.reload()


def page_params(names: list[str], known: dict[str, str]) -> list[Any]:
    """`names` as test parameters; those in `known` (name -> the reason) are
    expected to fail (xfail, strict: a fixed page must leave the list)."""
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=known[name])] if name in known else [],
        )
        for name in names
    ]


def open_site_page(
    page: Any, base_url: str, site: Site, which: SitePage, *, signed_in: bool = False
) -> None:
    """Go to a page (signing in first if it needs the organiser, unless the
    page is `signed_in` already) and do its action; the address must answer
    with the page's status."""
    if which.organiser and not signed_in:
        sign_in(page, base_url)
    response = page.goto(base_url + which.path(site))
    assert response is not None
    assert response.status == which.status, (
        f"{which.name}: HTTP {response.status} (expected {which.status}) at {page.url}"
    )
    if which.action is not None:
        which.action(page)


# --- The whole site, in each language -------------------------------------------------

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# What a reader's browser asks for (Accept-Language), by the language the pages should be in.
BROWSER_LOCALE = {"en": "en-GB", "de": "de-DE"}


def sign_in_browser(page: Any, base_url: str, user: Any) -> None:
    """Sign `user` in without the login page (whose words are in the page's
    language): a session made on the server, its cookie given to the browser."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}]
    )


def walk_site(
    new_page: Callable[..., Any],
    base_url: str,
    site: Site,
    language: str,
    *,
    names: list[str] | None = None,
    init_script: str | None = None,
    watch: Callable[[Any], None] | None = None,
) -> Iterator[tuple[SitePage, Any]]:
    """Open every page of PAGES (or those `names`) in a browser whose
    reader asks for `language`, one after another, yielding each (page kind,
    Playwright page) once it is shown; the page must be in that language.
    The visitor and the organiser each have a browser of their own (opened
    with `new_page`, given `init_script`, and shown to `watch` first)."""
    browsers = {}
    for who in ("visitor", "organiser"):
        browsers[who] = new_page(locale=BROWSER_LOCALE[language], init_script=init_script)
        if watch is not None:
            watch(browsers[who])
    sign_in_browser(browsers["organiser"], base_url, site.organiser)
    for name in names or list(PAGES):
        which = PAGES[name]
        page = browsers["organiser" if which.organiser else "visitor"]
        with translation.override(language):  # what the page's path makes is in it too
            open_site_page(page, base_url, site, which, signed_in=True)
        shown = page.evaluate("document.documentElement.lang")
        assert shown == language, f"{name} in {language}: <html lang={shown!r}> at {page.url}"
        yield which, page
