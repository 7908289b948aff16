"""A small, realistic site for the browser tests that look at whole pages
(tests/test_accessibility.py, tests/test_screenshots.py): three letters in the
states that make every section of the main pages render, and the addresses of
those pages; and what every browser test does (signing in, watching for
errors, waiting for a cached page to change).

- `open`: open, two versions, signatures public and anonymous (enough on one
  day for the chart), a pending signature and a confirmed one whose links give
  the confirm and thank-you pages;
- `responded`: delivered, acknowledged and answered by leadership, with an
  update on its timeline and a version history;
- `delivered`: delivered and waiting, for the leadership page (still with its
  "Acknowledge receipt" button) and the delivery packet (with its groups).

The browser and the site's server are fixtures (conftest.py: `chromium`,
`page`, `new_page`, `site_server`; `site` is `seed_site()`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from letters import services
from letters.models import Answer, Display, Letter
from letters.tests.factories import (
    LEADERSHIP,
    ORGANISER,
    PASSWORD,
    confirmed_signature,
    current,
    deliver,
    edit_letter,
    make_persona,
    open_letter,
    pending_signature,
)
from letters.tokens import Purpose, make_token


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
        _anonymous(first, f"Hidden {n}", f"hidden{n}@example.org")
    pending = pending_signature(first, name="Nia New", email="nia@example.org")

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
    _delivery, (waiting,) = deliver(
        delivered, by=organiser, method="email", respond_by=timezone.now() + timedelta(days=14)
    )

    return Site(
        open=current(first),
        responded=current(responded),
        delivered=current(delivered),
        confirm_token=make_token(pending, Purpose.CONFIRM),
        thanks_token=make_token(thanked, Purpose.CONFIRM),
        leadership_token=waiting.token,
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
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
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
