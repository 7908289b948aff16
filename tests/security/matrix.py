"""The authorisation matrix: every URL pattern of the site (walked from the
URL conf), what the matrix sends to it, and the status each role gets.

`ROUTES` is keyed by the pattern's full route string.  A pattern the walk
finds that is not listed here fails `test_every_url_pattern_is_in_the_matrix`,
so a new URL cannot be left out.  Django's admin and allauth's `accounts/`
pages are left to their own tests (the admin's MFA gate:
letters/tests/test_exports.py::test_staff_need_mfa_to_reach_the_admin).

Reading a row: `organisers(EDIT, 200)` means the organiser area's rule
(`letters.access`): no account → 302 to the login page; an account that
does not organise this letter (outsider, admin) → 404, so drafts and
organiser pages stay hidden; an organiser whose role lacks the capability
EDIT → 403, the others → 200.  Which roles hold which capability is read
from `letters.access.CAPABILITIES`, the table the views check; the members
of the letters' organising group (group_viewer, group_organiser,
group_owner) get what `letters.access.GROUP_LETTER_CAPABILITIES` maps their
group role to, and a removed member what an outsider gets.

`group_members(MANAGE, 302)` is the same rule for a group's own pages
(`letters.access.GROUP_CAPABILITIES`): 404 for every account that is not a
member of the group (the removed member included), 403 for a member whose
group role lacks the capability.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from letters.access import (
    CAPABILITIES,
    GROUP_CAPABILITIES,
    GROUP_LETTER_CAPABILITIES,
    Capability,
    GroupCapability,
)
from letters.models import OfficeRange, OrganiserRole
from letters.refs import signature_ref
from letters.tests.factories import letter_form
from tests.security.world import (
    GROUP_ROLES,
    JUNK_TOKEN,
    NO_ACCOUNT,
    ORGANISER_ROLES,
    ROLES,
    World,
)

SKIPPED_PREFIXES = ("admin/", "accounts/", "static/", "^static/", "media/")
VIEW, EXPORT, EDIT, MODERATE = (
    Capability.VIEW,
    Capability.EXPORT,
    Capability.EDIT,
    Capability.MODERATE,
)
DELIVER, INVITE, OWN = Capability.DELIVER, Capability.INVITE, Capability.OWN
GROUP_VIEW, MANAGE = GroupCapability.VIEW, GroupCapability.MANAGE
LOGIN = 302  # no account: redirected to /accounts/login/


def every_url_pattern() -> list[str]:
    """Every route of the URL conf, areas (admin, allauth) included, as its
    full route string."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    return list(walk(get_resolver().url_patterns, ""))


def url_patterns() -> list[str]:
    """Every route of the URL conf but the admin's and allauth's."""
    return [r for r in every_url_pattern() if not r.startswith(SKIPPED_PREFIXES)]


# --- Expectation helpers ---------------------------------------------------------


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def holder(role: str, status: int) -> dict[str, int]:
    """A bearer link: its holder gets `status`, everyone else a junk token's 404."""
    return {**everyone(404), role: status}


def signed_in(status: int) -> dict[str, int]:
    return {role: LOGIN if role in NO_ACCOUNT else status for role in ROLES}


def organisers(needed: Capability, status: int) -> dict[str, int]:
    """The organiser area: `status` for each organiser role (or group role,
    through the letters' group) whose capabilities hold `needed`, 403 for
    the other roles, 404 for accounts that organise nothing here (a removed
    group member included), the login page for no account."""
    expected = {**signed_in(404)}
    for role in ORGANISER_ROLES:
        expected[role] = status if needed in CAPABILITIES[OrganiserRole(role)] else 403
    for role, group_role in GROUP_ROLES.items():
        held = GROUP_LETTER_CAPABILITIES[group_role]
        expected[role] = status if needed in held else 403
    return expected


def group_members(needed: GroupCapability, status: int) -> dict[str, int]:
    """A group's organiser pages: `status` for each group role holding
    `needed`, 403 for the other members, 404 for every other account."""
    expected = {**signed_in(404)}
    for role, group_role in GROUP_ROLES.items():
        expected[role] = status if needed in GROUP_CAPABILITIES[group_role] else 403
    return expected


def group_leaving(status: int) -> dict[str, int]:
    """Removing a group member (the group organiser's membership): MANAGE, or oneself."""
    return {**group_members(GroupCapability.MANAGE, status), "group_organiser": status}


def leaving(status: int) -> dict[str, int]:
    """Removing an organiser (the editor's membership): OWN, or oneself."""
    return {**organisers(OWN, status), "editor": status}


# --- What the matrix sends --------------------------------------------------------

Data = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str  # what the matrix sends: "get", or "post" for POST-only views
    expect: dict[str, int]  # role -> status
    letter: str = "open"  # "open" or "delivered": whose slug and ids fill the route
    post: Data | None = None  # a valid form for views that take POST (CSRF tests)
    path: str | None = None  # a concrete path, for regular-expression routes
    query: list[str] = field(default_factory=list)  # extra query strings for crawls


def _sign(world: World) -> dict[str, Any]:
    return {
        "name": "Mallory Matrix",
        "email": "mallory.matrix@example.org",
        "display": "public",
        "consent": "on",
    }


def _letter_form(world: World) -> dict[str, Any]:
    """A shorter letter than `letter_form`'s, open to every address."""
    return letter_form(
        slug="brand-new-letter", title="A shorter letter", addressees="Casey Chief, CEO",
        body="Dear Casey,\n\nWe ask for less.", demands="End the contract",
        employers="", goal="100", change_note="Shorter",
    )  # fmt: skip


def _deliver(world: World) -> dict[str, Any]:
    return {
        "recipients": [a.pk for a in world.delivered.addressees.all()],
        "method": "meeting",
        "delivered_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "note": "Again",
    }


def _response(world: World) -> dict[str, Any]:
    assert world.delivered.current_version is not None
    demands = world.delivered.current_version.demands.all()
    return {
        "statement": "We decline.",
        "source": "All-hands meeting",
        **{f"demand_{d.pk}": "declined" for d in demands},
    }


def _respond_as_leadership(world: World) -> dict[str, Any]:
    return {"action": "acknowledge"}


def _link_email(world: World) -> dict[str, Any]:
    return {
        "link_id": world.link.pk,
        "token": world.leadership_token,
        "email": "casey.chief@example.org",
    }


def _const(data: dict[str, Any]) -> Data:
    return lambda world: dict(data)


def _erase(world: World) -> dict[str, Any]:
    return {"confirm": world.letter.slug}


EXPORT_QUERIES = [
    "format=csv",
    "format=json",
    "format=json&kind=team&kind=location",
    "format=notes",
]
PUBLIC_QUERIES = ["lang=de"]

ROUTES: dict[str, Route] = {
    # --- public pages (cached, the same bytes for everyone) -------------------------
    "": Route("get", everyone(302)),
    "letters/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "signing-safely/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "favicon.ico": Route("get", everyone(301)),
    "letters/<slug:slug>/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "letters/<slug:slug>/embed/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "letters/<slug:slug>/sign/": Route("post", everyone(302), post=_sign),
    "letters/<slug:slug>/signatories/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "letters/<slug:slug>/check-inbox/": Route("get", everyone(200)),
    "letters/<slug:slug>/feed/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "letters/<slug:slug>/card.png": Route("get", everyone(200), query=PUBLIC_QUERIES),
    # Internal letters' reading links (letters/views/internal.py): the world's
    # letters are public, so asking for one sends back to the letter.
    "letters/<slug:slug>/read/": Route(
        "post", everyone(302), post=_const({"email": "staff@example.org"})
    ),
    "letters/<slug:slug>/read/sent/": Route("get", everyone(200)),
    # Reports (issue 19): anyone, no account; the form has its own page.
    "letters/<slug:slug>/report/": Route(
        "get", everyone(200), post=_const({"reason": "spam", "text": "Advertising"})
    ),
    "letters/<slug:slug>/report/sent/": Route("get", everyone(200)),
    "robots.txt": Route("get", everyone(200)),
    "sitemap.xml": Route("get", everyone(200)),
    "healthz": Route("get", everyone(200)),  # the load balancer's check
    "api/letters/": Route("get", everyone(200)),
    "api/letters/<slug:slug>/": Route("get", everyone(200)),
    "api/letters/<slug:slug>/counts/": Route("get", everyone(200)),
    "api/openapi.json": Route("get", everyone(200)),
    r"^api/(?:[\s\S]*/)?$": Route("get", everyone(404), path="/api/no-such-thing/"),
    # --- emailed links: a signer's, leadership's, a reviewer's --------------------------
    "s/<str:token>/": Route("get", holder("signer", 200), post=_const({"display": "public"})),
    "w/<str:token>/": Route("get", holder("signer", 200), post=_const({})),
    "v/<str:token>/": Route("get", holder("signer", 200), post=_const({})),
    "u/<str:token>/": Route("get", holder("signer", 200), post=_const({})),
    "a/<str:token>/": Route("get", holder("signer", 200), post=_const({})),
    "l/<str:token>/": Route(
        "get", holder("leadership", 200), letter="delivered", post=_respond_as_leadership
    ),
    "p/<str:token>/": Route("get", everyone(404)),  # nobody here holds a review link
    "r/<str:token>/": Route("get", everyone(404)),  # nor a reading link
    # --- the organiser area ---------------------------------------------------------------
    "organise/": Route("get", signed_in(200)),
    "organise/new/": Route("get", signed_in(200), post=_letter_form),
    "organise/invitations/<str:token>/": Route("get", signed_in(404), post=_const({})),
    "organise/<slug:slug>/": Route("get", organisers(VIEW, 200)),
    "organise/<slug:slug>/edit/": Route("get", organisers(EDIT, 200), post=_letter_form),
    "organise/<slug:slug>/publish/": Route("post", organisers(EDIT, 302), post=_const({})),
    "organise/<slug:slug>/close/": Route("post", organisers(EDIT, 302), post=_const({})),
    "organise/<slug:slug>/archive/": Route("post", organisers(OWN, 302), post=_const({})),
    # Refused (the letter is public already), with a message: the same redirect.
    "organise/<slug:slug>/make-public/": Route("post", organisers(EDIT, 302), post=_const({})),
    "organise/<slug:slug>/duplicate/": Route("post", organisers(EDIT, 302), post=_const({})),
    "organise/<slug:slug>/preview-link/": Route("post", organisers(EDIT, 302), post=_const({})),
    "organise/<slug:slug>/paper/": Route(
        "get",
        organisers(EDIT, 200),
        post=_const({"count": "3", "collected_on": "2026-01-15", "where_how": "At the gate"}),
    ),
    "organise/<slug:slug>/erase/": Route("post", organisers(OWN, 302), post=_erase),
    # The one appeal against a takedown (refused, with a message, while
    # the letter is not taken down: the same redirect).
    "organise/<slug:slug>/appeal/": Route(
        "post", organisers(EDIT, 302), post=_const({"message": "Please reinstate it."})
    ),
    "organise/<slug:slug>/translation/": Route(
        "get",
        organisers(EDIT, 200),
        post=_const({"language": "de", "title": "Titel", "body": "Text", "demands": "Eins"}),
    ),
    "organise/<slug:slug>/organisers/invite/": Route(
        "post",
        organisers(INVITE, 302),
        post=_const({"email": "new.person@example.org", "role": "viewer"}),
    ),
    # <organiser_id> is the editor's membership: owners change anyone's role...
    "organise/<slug:slug>/organisers/<int:organiser_id>/role/": Route(
        "post", organisers(OWN, 302), post=_const({"role": "viewer"})
    ),
    # ...and remove anyone; everyone may remove themselves (the editor leaves).
    "organise/<slug:slug>/organisers/<int:organiser_id>/remove/": Route(
        "post", leaving(302), post=_const({})
    ),
    "organise/<slug:slug>/signatures/": Route("get", organisers(VIEW, 200)),
    # <signature_ref> is the letter's public signer (letters.refs).
    "organise/<slug:slug>/signatures/<str:signature_ref>/invalidate/": Route(
        "post", organisers(MODERATE, 302), post=_const({"reason": "A fake"})
    ),
    "organise/<slug:slug>/signatures/invalidate/": Route(
        "get",
        organisers(MODERATE, 200),
        post=_const({"domain": "example.org", "reason": "Fakes", "action": "invalidate"}),
    ),
    # Held signatures (issue 19): review (count, release, invalidate) is
    # moderation; office ranges are the owners'.
    "organise/<slug:slug>/signatures/held/": Route(
        "get",
        organisers(MODERATE, 200),
        post=_const({"action": "release", "reason": "Checked"}),
    ),
    "organise/<slug:slug>/signatures/held/office-ranges/": Route(
        "get",
        organisers(OWN, 200),
        post=_const({"network": "198.51.100.0/24", "label": "Head office"}),
    ),
    # <range_id> is the letter's office range if it has one (an unknown id
    # is refused by the service, after the same authorisation).
    "organise/<slug:slug>/signatures/held/office-ranges/<int:range_id>/remove/": Route(
        "post", organisers(OWN, 302), post=_const({})
    ),
    "organise/<slug:slug>/comments/": Route("get", organisers(VIEW, 200)),
    "organise/<slug:slug>/comments/setting/": Route(
        "post", organisers(EDIT, 302), post=_const({"public_comments": "off"})
    ),
    # <signature_ref> is the letter's public signer, who left a comment.
    "organise/<slug:slug>/comments/<str:signature_ref>/hide/": Route(
        "get", organisers(MODERATE, 200), post=_const({"reason": "Off topic"})
    ),
    "organise/<slug:slug>/export/counts/": Route(
        "get", organisers(EXPORT, 200), query=EXPORT_QUERIES
    ),
    "organise/<slug:slug>/export/signatories/": Route(
        "get", organisers(EXPORT, 200), query=EXPORT_QUERIES[:2]
    ),
    # --- delivery (on the delivered letter) ----------------------------------------------
    "organise/<slug:slug>/deliver/": Route(
        "get", organisers(DELIVER, 200), letter="delivered", post=_deliver
    ),
    "organise/<slug:slug>/delivery/": Route("get", organisers(VIEW, 200), letter="delivered"),
    "organise/<slug:slug>/delivery/email-link/": Route(
        "post", organisers(DELIVER, 302), letter="delivered", post=_link_email
    ),
    # <link_id> is the delivery's leadership link.
    "organise/<slug:slug>/delivery/links/<int:link_id>/revoke/": Route(
        "post", organisers(DELIVER, 302), letter="delivered", post=_const({})
    ),
    "organise/<slug:slug>/response/": Route(
        "get", organisers(DELIVER, 200), letter="delivered", post=_response
    ),
    "organise/<slug:slug>/update/": Route(
        "post", organisers(DELIVER, 302), letter="delivered", post=_const({"text": "News"})
    ),
    "organise/<slug:slug>/packet/": Route("get", organisers(VIEW, 200), letter="delivered"),
    # --- organising groups (both letters are the group's) ----------------------------------
    "groups/<slug:group_slug>/": Route("get", everyone(200), query=PUBLIC_QUERIES),
    "organise/groups/": Route("get", signed_in(200)),
    "organise/groups/new/": Route("get", signed_in(200), post=_const({"name": "A new group"})),
    "organise/groups/invitations/<str:token>/": Route("get", signed_in(404), post=_const({})),
    "organise/groups/<slug:group_slug>/": Route("get", group_members(GROUP_VIEW, 200)),
    "organise/groups/<slug:group_slug>/settings/": Route(
        "post",
        group_members(MANAGE, 302),
        post=_const({"name": "Warehouse Workers United", "description": "We organise."}),
    ),
    "organise/groups/<slug:group_slug>/invite/": Route(
        "post",
        group_members(MANAGE, 302),
        post=_const({"email": "new.member@example.org", "role": "viewer"}),
    ),
    # <member_id> is the group organiser's membership: owners change anyone's role...
    "organise/groups/<slug:group_slug>/members/<int:member_id>/role/": Route(
        "post", group_members(MANAGE, 302), post=_const({"role": "viewer"})
    ),
    # ...and remove anyone; every member may remove themselves (the organiser leaves).
    "organise/groups/<slug:group_slug>/members/<int:member_id>/remove/": Route(
        "post", group_leaving(302), post=_const({})
    ),
    # <letter_slug> is the open letter, one of the group's.
    "organise/groups/<slug:group_slug>/letters/<slug:letter_slug>/remove/": Route(
        "post", group_members(MANAGE, 302), post=_const({})
    ),
    # A letter's group: its owners choose it (here: none, taking it out).
    "organise/<slug:slug>/group/": Route("post", organisers(OWN, 302), post=_const({"group": ""})),
}


# --- Building requests ------------------------------------------------------------------


def build_path(route: str, world: World, role: str) -> str:
    """A concrete path for `route` as `role` sends it: the seeded letter's slug,
    the role's own token (signer, leadership) or a junk one, seeded ids."""
    spec = ROUTES[route]
    if spec.path is not None:
        return spec.path
    letter = world.letter_named(spec.letter)
    prefix = route.split("/", 1)[0]
    token = JUNK_TOKEN
    if role == "signer" and prefix in world.signer_tokens:
        token = world.signer_tokens[prefix]
    if role == "leadership" and prefix == "l":
        token = world.leadership_token
    values = {
        "slug": letter.slug,
        "token": token,
        "organiser_id": world.membership(letter, "editor").pk,
        "signature_ref": signature_ref(world.public[letter.pk].pk),
        "link_id": world.link.pk,
        "group_slug": world.group.slug,
        "member_id": world.group_member_id("group_organiser"),
        "letter_slug": letter.slug,
        "range_id": OfficeRange.objects.filter(letter=letter).values_list("pk", flat=True).first()
        or 0,
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def is_html(self) -> bool:
        return self.headers.get("Content-Type", "").startswith("text/html")

    def text(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return head + "\n\n" + self.body.decode("utf-8", errors="replace")


def send(
    client: Client,
    method: str,
    path: str,
    data: dict[str, Any] | None = None,
    *,
    keep: bool = False,
    **extra: Any,
) -> Answer:
    """Send one request and read the whole answer (streams too).  Unless
    `keep`, whatever it wrote is rolled back, so every role meets the same
    world; emails it would queue on commit are dropped with it."""
    with transaction.atomic():
        response = getattr(client, method)(path, data or {}, **extra)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
        else:
            body = response.content
        if not keep:
            transaction.set_rollback(True)
    return Answer(response.status_code, body, dict(response.items()))


def matrix_request(client: Client, route: str, world: World, role: str) -> Answer:
    spec = ROUTES[route]
    data = spec.post(world) if spec.method == "post" and spec.post else None
    return send(client, spec.method, build_path(route, world, role), data)


def csp_problems(url: str, policy: str | None) -> list[str]:
    """What is wrong with a page's policy: none, scripts from anywhere but our
    origin (the widget allows none), or unsafe-inline / unsafe-eval anywhere."""
    if not policy:
        return [f"{url}: no Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}
    problems = []
    if directives.get("script-src") not in (["'self'"], ["'none'"]):
        problems.append(f"{url}: script-src {directives.get('script-src')}")
    if "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        problems.append(f"{url}: unsafe-inline or unsafe-eval in {policy}")
    return problems
