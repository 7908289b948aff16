"""Rule 11 (DESIGN §2): every answer that carries a token or personal data
is `Cache-Control: private, no-store`.

Every URL pattern of the URL conf has a decision in `CACHING` (public, the
same cached bytes for everyone; or private), and a pattern without one
fails `test_every_url_pattern_has_a_caching_decision`.  The matrix's URLs
(tests/security/matrix.py) are fetched as every role, with the role's own
token or account, so the real pages are checked, not their 404s: GET with
the matrix's query variants and, for views that take a form, the POST.
allauth's and the admin's pages, which the matrix leaves to their own
tests, are all private and are fetched here too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import include
from django.urls import path as url_path

from config import urls as project_urls
from letters import selectors
from outbox.models import OutboxMessage
from tests.security.matrix import ROUTES, Answer, build_path, every_url_pattern, send
from tests.security.world import NO_ACCOUNT, ROLES, World, other_tokens

PUBLIC, PRIVATE = "public", "private"

# What the answers of each URL of the matrix may say.  Public: the shared
# copies of `letters.http.public_response`, the same bytes for everyone.
# Private: everything else (the middleware's default, config/middleware.py).
CACHING: dict[str, str] = {
    "": PRIVATE,  # a redirect to the index; the default, nothing gained by sharing it
    "favicon.ico": PRIVATE,  # the same
    "letters/": PUBLIC,
    "signing-safely/": PUBLIC,
    "letters/<slug:slug>/": PUBLIC,
    "letters/<slug:slug>/embed/": PUBLIC,
    "letters/<slug:slug>/sign/": PRIVATE,  # a refused sign echoes the signer's name and email
    "letters/<slug:slug>/signatories/": PUBLIC,
    "letters/<slug:slug>/check-inbox/": PUBLIC,
    "letters/<slug:slug>/feed/": PUBLIC,
    "letters/<slug:slug>/card.png": PUBLIC,  # the share card (og:image)
    "letters/<slug:slug>/read/": PRIVATE,  # an internal letter's reading-link request
    "letters/<slug:slug>/read/sent/": PRIVATE,  # after a form: nothing gained by sharing
    "letters/<slug:slug>/report/": PRIVATE,  # a form with its CSRF token
    "letters/<slug:slug>/report/sent/": PRIVATE,  # after a form: nothing gained by sharing
    "robots.txt": PUBLIC,
    "sitemap.xml": PUBLIC,
    "healthz": PRIVATE,  # the load balancer's check: never a cached answer
    "api/letters/": PUBLIC,
    "api/letters/<slug:slug>/": PUBLIC,
    "api/letters/<slug:slug>/counts/": PUBLIC,
    "api/openapi.json": PUBLIC,
    r"^api/(?:[\s\S]*/)?$": PRIVATE,  # the API's JSON 404 (and its 405s, preflights)
    # emailed links: the token is in the URL, the page shows the signer's choices
    "s/<str:token>/": PRIVATE,
    "w/<str:token>/": PRIVATE,
    "v/<str:token>/": PRIVATE,
    "u/<str:token>/": PRIVATE,
    "a/<str:token>/": PRIVATE,
    "l/<str:token>/": PRIVATE,
    "p/<str:token>/": PRIVATE,
    "r/<str:token>/": PRIVATE,
    # the organiser area
    "organise/": PRIVATE,
    "organise/new/": PRIVATE,
    "organise/invitations/<str:token>/": PRIVATE,
    "organise/<slug:slug>/": PRIVATE,
    "organise/<slug:slug>/edit/": PRIVATE,
    "organise/<slug:slug>/publish/": PRIVATE,
    "organise/<slug:slug>/close/": PRIVATE,
    "organise/<slug:slug>/archive/": PRIVATE,
    "organise/<slug:slug>/make-public/": PRIVATE,
    "organise/<slug:slug>/duplicate/": PRIVATE,
    "organise/<slug:slug>/preview-link/": PRIVATE,
    "organise/<slug:slug>/paper/": PRIVATE,
    "organise/<slug:slug>/erase/": PRIVATE,
    "organise/<slug:slug>/appeal/": PRIVATE,
    "organise/<slug:slug>/translation/": PRIVATE,
    "organise/<slug:slug>/organisers/invite/": PRIVATE,
    "organise/<slug:slug>/organisers/<int:organiser_id>/role/": PRIVATE,
    "organise/<slug:slug>/organisers/<int:organiser_id>/remove/": PRIVATE,
    "organise/<slug:slug>/signatures/": PRIVATE,
    "organise/<slug:slug>/comments/": PRIVATE,
    "organise/<slug:slug>/comments/setting/": PRIVATE,
    "organise/<slug:slug>/comments/<str:signature_ref>/hide/": PRIVATE,
    "organise/<slug:slug>/signatures/<str:signature_ref>/invalidate/": PRIVATE,
    "organise/<slug:slug>/signatures/invalidate/": PRIVATE,
    "organise/<slug:slug>/signatures/held/": PRIVATE,
    "organise/<slug:slug>/signatures/held/office-ranges/": PRIVATE,
    "organise/<slug:slug>/signatures/held/office-ranges/<int:range_id>/remove/": PRIVATE,
    "organise/<slug:slug>/export/counts/": PRIVATE,
    "organise/<slug:slug>/export/signatories/": PRIVATE,
    "organise/<slug:slug>/deliver/": PRIVATE,
    "organise/<slug:slug>/delivery/": PRIVATE,
    "organise/<slug:slug>/delivery/email-link/": PRIVATE,
    "organise/<slug:slug>/delivery/links/<int:link_id>/revoke/": PRIVATE,
    "organise/<slug:slug>/response/": PRIVATE,
    "organise/<slug:slug>/update/": PRIVATE,
    "organise/<slug:slug>/packet/": PRIVATE,
    # organising groups: the public page is shared; the organiser area's are not
    "groups/<slug:group_slug>/": PUBLIC,
    "organise/groups/": PRIVATE,
    "organise/groups/new/": PRIVATE,
    "organise/groups/invitations/<str:token>/": PRIVATE,
    "organise/groups/<slug:group_slug>/": PRIVATE,
    "organise/groups/<slug:group_slug>/settings/": PRIVATE,
    "organise/groups/<slug:group_slug>/invite/": PRIVATE,
    "organise/groups/<slug:group_slug>/members/<int:member_id>/role/": PRIVATE,
    "organise/groups/<slug:group_slug>/members/<int:member_id>/remove/": PRIVATE,
    "organise/groups/<slug:group_slug>/letters/<slug:letter_slug>/remove/": PRIVATE,
    "organise/<slug:slug>/group/": PRIVATE,
}
# Whole areas the matrix leaves to their own tests: every pattern under them
# is private (each is fetched below).  The local outbox (DEBUG only) is
# checked on its own, below.
PRIVATE_AREAS = ("accounts/", "admin/")

# Values for the parameters of the areas' patterns.
AREA_VALUES = {
    "key": "no-such-key",
    "uidb36": "1",
    "id": "1",
    "object_id": "1",
    "content_type_id": "1",
    "app_label": "letters",
    "url": "no-such-page/",
    "letter_id": "1",  # the moderation queue's actions
    "action": "dismiss",
    "pk": "1",  # a passkey or security key (allauth's WebAuthn pages)
}


def area_path(route: str) -> str:
    """A concrete path for a route of the admin or allauth."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: AREA_VALUES[m.group(1)], route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: AREA_VALUES[m.group(1)], path)
    return "/" + path.replace("^", "").replace("$", "")


def directives(answer: Answer) -> set[str]:
    value = answer.headers.get("Cache-Control", "")
    return {d.split("=", 1)[0].strip().lower() for d in value.split(",") if d.strip()}


def language_cookie(client: Client) -> str | None:
    morsel = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return None if morsel is None else morsel.value


def private_problem(where: str, answer: Answer) -> list[str]:
    if {"private", "no-store"} <= directives(answer) and "public" not in directives(answer):
        return []
    return [f"{where} ({answer.status}): Cache-Control {answer.headers.get('Cache-Control')!r}"]


# The URL conf with the local outbox, which only DEBUG turns on.
urlpatterns = [*project_urls.urlpatterns, url_path("outbox/", include("outbox.urls"))]

PRIVATE_ROUTES = sorted(r for r, c in CACHING.items() if c == PRIVATE)
PUBLIC_ROUTES = sorted(r for r, c in CACHING.items() if c == PUBLIC)
AREA_ROUTES = sorted(r for r in every_url_pattern() if r.startswith(PRIVATE_AREAS))


def test_every_url_pattern_has_a_caching_decision() -> None:
    found = set(every_url_pattern())
    decided = {r for r in found if r in CACHING or r.startswith(PRIVATE_AREAS)}

    assert sorted(found - decided) == [], "decide: add these URLs to CACHING, public or private"
    assert sorted(set(CACHING) - found) == [], "these URLs are gone: remove them from CACHING"
    assert set(CACHING) == set(ROUTES), "the matrix and CACHING list the same URLs"


@pytest.mark.parametrize("route", PRIVATE_ROUTES)
def test_every_answer_of_a_private_url_is_private_and_no_store(world: World, route: str) -> None:
    """As every role, with its own token or account: the GETs (with the
    matrix's query variants) and the POST of views that take a form."""
    spec = ROUTES[route]
    clients = world.clients()
    problems: list[str] = []
    reached = {}

    for role in ROLES:
        path = build_path(route, world, role)
        for query in ["", *spec.query]:
            url = f"{path}?{query}" if query else path
            answer = send(clients[role], "get", url)
            problems += private_problem(f"GET {url} as {role}", answer)
            if spec.method == "get" and not query:
                reached[role] = answer.status
        if spec.post is not None:
            answer = send(clients[role], "post", path, spec.post(world))
            problems += private_problem(f"POST {path} as {role}", answer)
            if spec.method == "post":
                reached[role] = answer.status

    assert problems == []
    # each role got its real answer (the page, the redirect, the refusal), not a stray one
    assert reached == spec.expect


TOKEN_ROUTES = {
    "p/<str:token>/": "preview",
    "organise/invitations/<str:token>/": "invitation",
    "organise/groups/invitations/<str:token>/": "group_invitation",
}


@pytest.mark.parametrize("route", sorted(TOKEN_ROUTES))
def test_the_review_link_and_the_invitation_are_private_with_a_live_token(
    world: World, route: str
) -> None:
    """The matrix holds no live review link or invitation; here one is used."""
    tokens = other_tokens(world.letter, world.users["owner"])
    token = tokens[TOKEN_ROUTES[route]]
    path = "/" + route.replace("<str:token>", token)
    problems: list[str] = []
    statuses = {}

    for role, client in world.clients().items():
        answer = send(client, "get", path)
        statuses[role] = answer.status
        problems += private_problem(f"GET {path} as {role}", answer)
        if route.startswith("organise/"):
            answer = send(client, "post", path, {})
            problems += private_problem(f"POST {path} as {role}", answer)

    assert problems == []
    if route.startswith("p/"):
        assert set(statuses.values()) == {200}
    else:
        assert statuses == {r: 302 if r in NO_ACCOUNT else 200 for r in ROLES}


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
def test_every_answer_of_a_public_url_is_public_and_the_same_for_everyone(
    world: World, route: str
) -> None:
    spec = ROUTES[route]
    clients = world.clients()
    problems: list[str] = []

    for role in ROLES:
        path = build_path(route, world, role)
        for query in ["", *spec.query]:
            url = f"{path}?{query}" if query else path
            language = language_cookie(clients[role])
            answer = send(clients[role], "get", url)
            assert answer.status == 200, f"GET {url} as {role}"
            if language_cookie(clients[role]) != language:
                # `?lang=` chose a language, kept for the visit: the one answer
                # that sets the language cookie is private, never a shared copy
                # (letters.http.remember_language); with the cookie, it is one.
                assert query.startswith("lang="), f"GET {url} as {role} set the language"
                problems += private_problem(f"GET {url} as {role}, choosing", answer)
                answer = send(clients[role], "get", url)
            if "public" not in directives(answer) or directives(answer) & {"private", "no-store"}:
                problems.append(f"GET {url} as {role}: {answer.headers.get('Cache-Control')!r}")
            again = send(clients[role], "get", url, HTTP_IF_NONE_MATCH=answer.headers["ETag"])
            assert again.status == 304, f"GET {url} as {role}, revalidated"
            assert again.headers["Cache-Control"] == answer.headers["Cache-Control"]

    assert problems == []


@pytest.mark.parametrize("route", AREA_ROUTES)
def test_every_account_and_admin_page_is_private(world: World, route: str) -> None:
    """allauth's pages (login, sign-up, password reset, two-factor) and the
    admin's, as a visitor, a signed-in outsider and the admin; GET and POST."""
    path = area_path(route)
    problems: list[str] = []

    for role in ("visitor", "outsider", "admin"):
        for method in ("get", "post"):
            answer = send(world.client(role), method, path)
            problems += private_problem(f"{method.upper()} {path} as {role}", answer)

    assert problems == []


def test_errors_redirects_and_refusals_are_private(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers no view wrote: the URL conf's 404, APPEND_SLASH's redirect, a
    405, a public page's 404 and a server error; a redirect whose Location
    holds a token; and the thanks page the confirm POST answers with (it
    holds the withdraw link)."""
    client = Client(raise_request_exception=False)
    owner = world.client("owner")
    confirm = build_path("s/<str:token>/", world, "signer")
    new_version = build_path("v/<str:token>/", world, "signer")
    answers = {
        "no such page": send(client, "get", "/no-such-page/"),
        "no such letter": send(client, "get", "/letters/no-such-letter/"),
        "no such feed": send(client, "get", "/letters/no-such-letter/feed/"),
        "APPEND_SLASH": send(owner, "get", f"/organise/{world.letter.slug}"),
        "405": send(client, "post", "/letters/"),
        "preflight": send(client, "options", "/api/letters/"),
        "confirm's thanks page": send(client, "post", confirm, {"display": "public"}),
        "new version's redirect": send(client, "post", new_version, {}),
    }
    assert answers["APPEND_SLASH"].status == 301
    assert answers["confirm's thanks page"].status == 200
    assert b"/w/" in answers["confirm's thanks page"].body
    assert answers["new version's redirect"].status == 302
    assert world.signer_tokens["v"] in answers["new version's redirect"].headers["Location"]

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(selectors, "letter_public_get", broken)
    answers["server error"] = send(client, "get", build_path("letters/<slug:slug>/", world, ""))
    assert answers["server error"].status == 500

    problems = [p for where, a in answers.items() for p in private_problem(where, a)]
    assert problems == []


def test_an_answer_that_sets_its_own_non_public_cache_control_is_made_private() -> None:
    """A view that says `max-age=600` (and not `public`) is not shared."""
    from django.http import HttpRequest, HttpResponse

    from config.middleware import private_by_default

    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("personal")
        response["Cache-Control"] = "max-age=600"
        return response

    response = private_by_default(view)(HttpRequest())

    assert {d.strip() for d in response["Cache-Control"].split(",")} == {
        "max-age=600",
        "private",
        "no-store",
    }


@override_settings(ROOT_URLCONF=__name__)
def test_the_local_outbox_is_private(world: World) -> None:
    """Development's outbox shows every email the site sent, links and all."""
    message = OutboxMessage.objects.create(
        from_email="site@example.org", to="sam.signer@example.org", subject="Confirm", body="x"
    )
    problems: list[str] = []

    for url in ("/outbox/", f"/outbox/{message.pk}/"):
        answer = send(Client(), "get", url)
        assert answer.status == 200, url
        problems += private_problem(f"GET {url}", answer)

    assert problems == []
