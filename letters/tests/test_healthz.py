"""/healthz, the load balancer's check (config/health.py): one query on the
primary and one Redis PING, a tiny fixed JSON body, 503 when the database
or Redis fails, never a cookie, never cached, never redirected."""

from __future__ import annotations

import copy
import io
import json
import socket
import sys
import threading
import time
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper
from django.test import Client
from django.urls import reverse

from config import health
from speed.public_chain import WithPublicChain, is_public

pytestmark = pytest.mark.django_db

HEALTHY = {"status": "ok", "database": "ok", "redis": "ok", "replica": "none"}


def dead_port() -> int:
    """A port nothing listens on (bound for a moment, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_is_at_a_fixed_plain_address():
    assert reverse("healthz") == "/healthz"


def test_a_healthy_node_answers_200_and_nothing_else(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == HEALTHY
    assert response.content == b'{"status":"ok","database":"ok","redis":"ok","replica":"none"}'
    assert response["Cache-Control"] == "private, no-store"
    assert not response.cookies
    assert "Set-Cookie" not in response.headers


def test_the_database_check_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1) as queries:
        assert health.database_state() == "ok"

    assert queries.captured_queries[0]["sql"] == "SELECT 1"


def test_head_answers_the_same_without_a_body(client):
    get = client.get("/healthz")
    head = client.head("/healthz")

    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == get["Content-Length"] == str(len(get.content))


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_other_methods_are_refused_with_405(method):
    client = Client()  # CSRF on POST without a token (a 403 first): tests/security/test_csrf.py

    response = getattr(client, method)("/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert not response.cookies


def test_redis_unreachable_is_a_503(client, settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = f"redis://127.0.0.1:{dead_port()}/0"
    settings.CACHES = caches

    response = client.get("/healthz")

    assert response.status_code == 503
    assert json.loads(response.content) == {**HEALTHY, "status": "fail", "redis": "fail"}
    assert response["Cache-Control"] == "private, no-store"


def test_a_database_that_refuses_connections_fails_the_check():
    """The primary, as this process sees it, gone: a connection to a port
    nothing listens on (no pool, so no connection kept from before).  The
    whole answer with a dead database, through HAProxy: tests/cluster/
    test_fail_open.py."""
    real = connections["default"]
    dead = copy.deepcopy(real.settings_dict)
    dead.update(HOST="127.0.0.1", PORT=dead_port())
    dead["OPTIONS"] = {k: v for k, v in dead["OPTIONS"].items() if k != "pool"}
    connections["default"] = DatabaseWrapper(dead, alias="default")
    try:
        assert health.database_state() == "fail"
    finally:
        connections["default"] = real


@pytest.mark.django_db(transaction=True)
def test_a_check_slower_than_the_deadline_fails_in_time_and_is_not_piled_up():
    """A database that hangs (here a real query sleeping 3 s) must not hold
    the answer, nor start a second stuck check per request."""

    def hangs() -> str:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_sleep(3)")
        return "ok"

    started = time.monotonic()
    first = health.bounded({"slow": hangs}, timeout=0.5, late={"slow": "fail"})
    first_took = time.monotonic() - started
    started = time.monotonic()
    second = health.bounded({"slow": hangs}, timeout=0.5, late={"slow": "fail"})
    second_took = time.monotonic() - started

    assert first == second == {"slow": "fail"}
    assert 0.4 < first_took < 1.5
    assert second_took < 0.2  # the first is still stuck: not started again
    stuck = [t for t in threading.enumerate() if t.name == "healthz-slow"]
    assert len(stuck) == 1
    stuck[0].join(5)
    assert health.bounded({"slow": lambda: "ok"}, timeout=0.5, late={"slow": "fail"}) == {
        "slow": "ok"
    }


def test_the_answer_says_nothing_but_its_four_words(client, open_letter):
    """No letter, signer, version, host, figure or error text: the same
    bytes on a site with letters as on an empty one."""
    response = client.get("/healthz", HTTP_ACCEPT_LANGUAGE="de")

    assert json.loads(response.content) == HEALTHY
    assert open_letter.slug.encode() not in response.content
    assert b"Server" not in response.content


def test_healthz_is_never_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # the middleware reads it per client

    assert client.get("/letters/").status_code == 301
    response = client.get("/healthz")

    assert response.status_code == 200
    assert json.loads(response.content) == HEALTHY


def test_healthz_is_not_rate_limited(client):
    answers = {client.get("/healthz").status_code for _ in range(50)}

    assert answers == {200}


def wsgi_get(app: Any, path: str) -> tuple[int, dict[str, str], bytes]:
    """One GET through a WSGI callable, as gunicorn makes it (behind a
    load balancer whose check names an allowed host)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8001", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }  # fmt: skip
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"] = int(status.split()[0])
        answer["headers"] = headers

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        result.close()
    return answer["status"], dict(answer["headers"]), content


@pytest.mark.django_db(transaction=True)  # the WSGI handler closes connections after each request
def test_through_gunicorns_chain_it_takes_the_short_chain_and_sets_no_cookie(settings):
    """The production WSGI application: /healthz skips the session, CSRF
    and authentication middleware, and the HTTPS redirect spares it."""
    settings.SECURE_SSL_REDIRECT = True
    app = WithPublicChain(WSGIHandler())  # built now, with these settings

    assert is_public("GET", "/healthz")
    assert is_public("HEAD", "/healthz")
    assert not is_public("POST", "/healthz")
    status, headers, content = wsgi_get(app, "/healthz")

    assert status == 200
    assert json.loads(content) == HEALTHY
    assert "Set-Cookie" not in headers
    assert headers["Cache-Control"] == "private, no-store"
    assert wsgi_get(app, "/letters/")[0] == 301  # everything else is redirected
