"""Headers that make a stolen page or cookie less useful: a strict
Content-Security-Policy on every HTML answer of the matrix, and, with
production settings, cookies that are Secure, HttpOnly (the session) and
SameSite=Lax."""

from __future__ import annotations

import json

from django.test import Client

from tests.security.matrix import ROUTES, build_path, csp_problems, everyone, send
from tests.security.test_cache_control import CACHING, PUBLIC
from tests.security.world import ROLES, World
from tests.test_deploy import production_shell


def test_every_html_answer_carries_a_strict_csp_refuses_framing_and_keeps_referrers(
    world: World,
) -> None:
    clients = world.clients()
    problems: list[str] = []
    html = 0

    for route, spec in ROUTES.items():
        for role in ROLES:
            path = build_path(route, world, role)
            # GET as everyone; a POST-only view's answer as the owner
            for method in {"get", spec.method if role == "owner" else "get"}:
                answer = send(clients[role], method, path, spec.post(world) if spec.post else {})
                if not answer.is_html:
                    continue
                html += 1
                where = f"{method.upper()} {path} as {role}"
                problems += csp_problems(where, answer.headers.get("Content-Security-Policy"))
                framed = route == "letters/<slug:slug>/embed/"  # the widget is made to be framed
                if not framed and answer.headers.get("X-Frame-Options") != "DENY":
                    problems.append(f"{where}: X-Frame-Options")
                if answer.headers.get("X-Content-Type-Options") != "nosniff":
                    problems.append(f"{where}: X-Content-Type-Options")
                # pages whose URL holds a token must not leak it to other sites
                if answer.headers.get("Referrer-Policy") != "same-origin":
                    problems.append(f"{where}: Referrer-Policy")

    assert problems == []
    assert html > 150


def test_public_pages_set_no_cookie_and_are_the_same_for_everyone(world: World) -> None:
    """No cookie links one visit to the next; signed-in organisers and
    visitors get the same bytes of a public page."""
    public = [
        r
        for r, s in ROUTES.items()
        if s.expect == everyone(200) and CACHING.get(r) == PUBLIC  # not forms with a CSRF token
    ]
    visitor, owner = Client(), world.client("owner")

    for route in public:
        path = build_path(route, world, "visitor")
        first = visitor.get(path)
        assert first.status_code == 200, route
        assert not first.cookies, route
        assert owner.get(path).content == first.content, route


def test_production_cookies_are_secure_http_only_and_same_site_lax() -> None:
    code = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT',"
        "'SECURE_HSTS_SECONDS', 'DEBUG')}))"
    )

    values = json.loads(production_shell(code).stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["DEBUG"] is False
