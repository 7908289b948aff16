"""A small, realistic site for the browser tests that look at whole pages
(tests/test_accessibility.py, tests/test_screenshots.py): three letters in the
states that make every section of the main pages render, and the addresses of
those pages.

- `open`: open, two versions, signatures public and anonymous (enough on one
  day for the chart), a pending signature and a confirmed one whose links give
  the confirm and thank-you pages;
- `responded`: delivered, acknowledged and answered by leadership, with an
  update on its timeline and a version history;
- `delivered`: delivered and waiting, for the leadership page (still with its
  "Acknowledge receipt" button) and the delivery packet (with its groups).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from letters import services
from letters.models import Answer, Display, Letter, Signature, SignatureStatus
from letters.tests.factories import confirmed_signature, make_user, open_letter
from letters.tokens import Purpose, make_token

PASSWORD = "correct horse battery staple"
ORGANISER_EMAIL = "olivia.organiser@example.org"


@dataclass(frozen=True)
class Site:
    open: Letter
    responded: Letter
    delivered: Letter
    confirm_token: str  # a pending signature on `open`
    thanks_token: str  # a confirmed signature on `open` (its confirm link, opened again)
    leadership_token: str  # Casey Chief's link to `delivered`


@dataclass(frozen=True)
class SitePage:
    """A page to look at: its address, whether it needs the organiser signed
    in, and what to do there first (e.g. submit a form to show its errors)."""

    name: str
    path: Callable[[Site], str]
    organiser: bool = False
    action: Callable[[Any], None] | None = None


def _submit_empty_sign_form(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign", exact=True).click()
    assert page.locator(".has-error [role=alert]").count() > 0, "no errors shown"


PAGES: dict[str, SitePage] = {
    p.name: p
    for p in [
        SitePage("index", lambda s: "/letters/"),
        SitePage("letter", lambda s: f"/letters/{s.open.slug}/"),
        SitePage("letter-responded", lambda s: f"/letters/{s.responded.slug}/"),
        SitePage(
            "sign-errors", lambda s: f"/letters/{s.open.slug}/", action=_submit_empty_sign_form
        ),
        SitePage("check-inbox", lambda s: f"/letters/{s.open.slug}/check-inbox/"),
        SitePage("confirm", lambda s: f"/s/{s.confirm_token}/"),
        SitePage("thanks", lambda s: f"/s/{s.thanks_token}/"),
        SitePage("signing-safely", lambda s: "/signing-safely/"),
        SitePage("login", lambda s: "/accounts/login/"),
        SitePage("dashboard", lambda s: "/organise/", organiser=True),
        SitePage("organiser-letter", lambda s: f"/organise/{s.open.slug}/", organiser=True),
        SitePage("edit", lambda s: f"/organise/{s.open.slug}/edit/", organiser=True),
        SitePage("leadership", lambda s: f"/l/{s.leadership_token}/"),
        SitePage("packet", lambda s: f"/organise/{s.delivered.slug}/packet/", organiser=True),
    ]
}


def _current(letter: Letter) -> Letter:
    return Letter.objects.select_related("current_version").get(pk=letter.pk)


def _pending_signature(letter: Letter, *, name: str, email: str) -> Signature:
    return Signature.objects.create(
        letter=letter,
        version_id=letter.current_version_id,  # type: ignore[misc]
        email=email,
        name=name,
        secret=secrets.token_urlsafe(18),
        emails_sent=1,
        status=SignatureStatus.PENDING,
        created_at=timezone.now(),
    )


def _edit(letter: Letter, by: Any, *, body: str, demands: list[str], note: str) -> Letter:
    services.letter_edit(
        letter=letter,
        by=by,
        data=services.LetterInput(
            title=letter.title,
            body=body,
            demands=demands,
            addressees=[(a.name, a.role) for a in letter.addressees.all()],
            goal=letter.goal,
            change_note=note,
        ),
    )
    return _current(letter)


def seed_site() -> Site:
    """Create the site through the services (and the test factories). Emails
    the services send go wherever the test's settings send them (use `smtp`)."""
    organiser = make_user(email=ORGANISER_EMAIL, name="Olivia Organiser")

    # 1. Open, with two versions and signatures on both.
    first = open_letter(owner=organiser, slug="stop-the-contract")
    confirmed_signature(
        first, name="Sam Early", email="sam@example.org", team="Design", location="Berlin"
    )
    first = _edit(
        first,
        organiser,
        body="Dear CEO,\n\nWe, the undersigned employees, ask you to **act now**.",
        demands=[
            "Condemn the agency's actions",
            "End the contract within thirty days",
            "Publish an ethics policy",
        ],
        note="A deadline for the contract",
    )
    thanked = confirmed_signature(
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
        confirmed_signature(
            first, name=f"Hidden {n}", email=f"hidden{n}@example.org", display=Display.ANONYMOUS
        )
    pending = _pending_signature(first, name="Nia New", email="nia@example.org")

    # 2. Delivered, acknowledged and answered, with an update.
    responded = services.letter_create(
        slug="fair-rota-now",
        title="A fair rota for everyone",
        body="Dear Casey,\n\nWe ask for a **fair rota** before the summer.",
        demands=["Publish the rota a month ahead", "Cancel the on-call contract"],
        addressees=[("Casey Chief", "CEO"), ("Dana Director", "HR Director")],
        owner=organiser,
        goal=20,
    )
    responded = _current(services.letter_publish(letter=responded, by=organiser))
    confirmed_signature(responded, name="Ada Able", email="ada@example.org", team="Support")
    responded = _edit(
        responded,
        organiser,
        body=responded.current_version.body,  # type: ignore[union-attr]
        demands=["Publish the rota a month ahead", "Cancel the on-call contract by June"],
        note="A date for the contract",
    )
    for name in ["Ben Brook", "Cy Cole", "Di Dunn"]:
        confirmed_signature(responded, name=name, email=f"{name.split()[0].lower()}@example.org")
    confirmed_signature(
        responded, name="Eve Hidden", email="eve@example.org", display=Display.ANONYMOUS
    )
    _delivery, links = services.letter_deliver(
        letter=responded,
        by=organiser,
        method="in_person",
        delivered_at=timezone.now(),
        recipients=[services.Recipient("Casey Chief", "CEO")],
    )
    services.letter_acknowledge(link=links[0].link)
    responded = _current(responded)
    demand_ids = list(
        responded.current_version.demands.order_by("position").values_list("id", flat=True)  # type: ignore[union-attr]
    )
    services.letter_respond(
        letter=responded,
        statement="We will publish the rota a month ahead from July.",
        answers={demand_ids[0]: Answer.ACCEPTED, demand_ids[1]: Answer.CONSIDERING},
        link=links[0].link,
    )
    services.letter_post_update(
        letter=responded, by=organiser, text="We meet the staff council on Monday."
    )

    # 3. Delivered, waiting for leadership (a respond-by date is set).
    delivered = services.letter_create(
        slug="safer-on-call",
        title="Safer on-call hours",
        body="Dear Casey,\n\nNights on call have doubled this year.",
        demands=["Cap on-call nights at four a month", "Pay on-call time in full"],
        addressees=[("Casey Chief", "CEO")],
        owner=organiser,
        goal=10,
    )
    delivered = _current(services.letter_publish(letter=delivered, by=organiser))
    # Two teams of at least EXPORT_MIN_GROUP (5) public signers, so the packet
    # shows its groups (the one anonymous signer counts in no group: see
    # selectors.letter_group_counts).
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
    confirmed_signature(
        delivered,
        name="Kim Hidden",
        email="kim@example.org",
        display=Display.ANONYMOUS,
        team="Support",
        location="Leeds",
    )
    _delivery, waiting = services.letter_deliver(
        letter=delivered,
        by=organiser,
        method="email",
        delivered_at=timezone.now(),
        recipients=[services.Recipient("Casey Chief", "CEO")],
        respond_by=timezone.now() + timedelta(days=14),
    )

    return Site(
        open=_current(first),
        responded=_current(responded),
        delivered=_current(delivered),
        confirm_token=make_token(pending, Purpose.CONFIRM),
        thanks_token=make_token(thanked, Purpose.CONFIRM),
        leadership_token=waiting[0].token,
    )


def sign_in(page: Any, base_url: str) -> None:
    """The organiser signs in through allauth's login page."""
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Email").fill(ORGANISER_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/organise/$"))


def open_site_page(page: Any, base_url: str, site: Site, which: SitePage) -> None:
    """Go to a page (signing in first if it needs the organiser) and do its
    action; the page must answer without a server error."""
    if which.organiser:
        sign_in(page, base_url)
    response = page.goto(base_url + which.path(site))
    assert response is not None
    assert response.status < 500, f"{which.name}: HTTP {response.status}"
    if which.action is not None:
        which.action(page)
