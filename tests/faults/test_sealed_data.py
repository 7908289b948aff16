"""Sealed signer data, proved on the real processes (issue 17): gunicorn
holding only the hash key and the public key, a Celery worker that also
holds the private key, PostgreSQL, Redis and an SMTP server of the test's
own (tests/faults/conftest.py).

After signing (named and anonymous, pending and confirmed, with addresses
in odd but valid forms), a `pg_dump --data-only` of the database, every
key and value in Redis, and the logs of the web and worker processes hold
none of the addresses (in any case, canonical or as typed, nor their local
parts) and no anonymous signer's name or details; and a process without
the private key signs, confirms and counts, but cannot read an address."""

from __future__ import annotations

import base64
import http.cookies
import json
import re
import subprocess
import textwrap
from dataclasses import dataclass
from typing import Any

import redis

from bench.client import post_form, request
from bench.postgres import pg_bin
from letters.emailaddr import mail_address
from tests.faults.conftest import DEMO_SLUG, FaultStack, open_sealed, run_python, wait_until


@dataclass(frozen=True)
class Signer:
    typed: str  # as typed into the form
    canonical: str  # what identifies the mailbox
    name: str
    display: str
    confirm: bool
    secrets: tuple[str, ...] = ()  # details that must not be stored (anonymous)


SIGNERS = (
    Signer(
        "Petra.Pendingpub+news@Sub.Dept.Example.ORG",
        "petra.pendingpub@sub.dept.example.org",
        "Petra Pendingpub",
        "public",
        confirm=False,
    ),
    Signer("o'connor.kjx@Example.org", "o'connor.kjx@example.org", "Kay OConnor", "public", True),
    Signer(
        '"quiet.zebraqq"@Example.org',
        "quiet.zebraqq@example.org",
        "Quentin Quietname",
        "anonymous",
        confirm=True,
        secrets=("Quentin Quietname", "Hushhush Team", "Lonelytown", "xyzzy plugh comment"),
    ),
    Signer(
        "Ursa_Unconf-7{x}@BÜCHER.example",
        "ursa_unconf-7{x}@xn--bcher-kva.example",
        "Ursula Unconfirmedanon",
        "anonymous",
        confirm=False,
        secrets=("Ursula Unconfirmedanon",),
    ),
    Signer(
        "WILMA.WAVERER@example.net",
        "wilma.waverer@example.net",
        "Wilma Waverer",
        "anonymous",
        confirm=True,
        secrets=("Wilma Waverer",),
    ),
)


def sent_to(signer: Signer) -> str:
    """Where the site sends (the address as typed: letters/emailaddr.py)."""
    return mail_address(signer.typed).deliver_to


def needles(signer: Signer) -> list[str]:
    """What must be found nowhere, compared lower-cased."""
    local_typed = signer.typed.rpartition("@")[0].strip('"')
    found = [signer.typed, sent_to(signer), signer.canonical]
    found += [signer.canonical.rpartition("@")[0], local_typed]
    return [n.lower() for n in (*found, *signer.secrets)]


def sign(stack: FaultStack, signer: Signer) -> None:
    fields = {
        "name": signer.name,
        "email": signer.typed,
        "display": signer.display,
        "consent": "on",
        "team": "Hushhush Team" if signer.secrets else "",
        "location": "Lonelytown" if signer.secrets else "",
        "comment": "xyzzy plugh comment" if signer.secrets else "",
    }
    answer = post_form(stack.base_url, f"/letters/{DEMO_SLUG}/sign/", fields)
    assert answer.status == 302, answer.body[:500]


def confirm(stack: FaultStack, path: str, signer: Signer) -> None:
    """The owner's click: the confirm page, then its button (with CSRF)."""
    page = request(stack.base_url, "GET", path)
    assert page.status == 200
    cookie = http.cookies.SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        cookie.load(header)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert token is not None
    fields = {"csrfmiddlewaretoken": token.group(1).decode(), "display": signer.display}
    fields |= {"name": signer.name, "job_title": "", "team": "", "location": "", "comment": ""}
    done = post_form(
        stack.base_url,
        path,
        fields,
        headers={"Cookie": f"csrftoken={cookie['csrftoken'].value}"},
    )
    assert done.status == 200, done.body[:500]  # the thanks page, shown once
    assert b"Thank you for signing" in done.body


def redis_contents(url: str) -> str:
    """Every key and value in the Redis database, as text; Celery's message
    bodies (base64 inside JSON) decoded too."""
    client = redis.Redis.from_url(url)
    parts: list[Any] = []
    for key in client.scan_iter(count=500):
        parts.append(key)
        kind = client.type(key)
        if kind == b"string":
            parts.append(client.get(key) or b"")
        elif kind == b"list":
            parts.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            parts.extend(item for pair in client.hgetall(key).items() for item in pair)
        elif kind == b"set":
            parts.extend(client.smembers(key))
        elif kind == b"zset":
            parts.extend(client.zrange(key, 0, -1))
        else:
            parts.append(repr(client.xrange(key)) if kind == b"stream" else repr(kind))
    client.close()
    texts = [p.decode(errors="replace") if isinstance(p, bytes) else str(p) for p in parts]
    for text in list(texts):
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if isinstance(message, dict) and isinstance(message.get("body"), str):
            texts.append(base64.b64decode(message["body"] + "==").decode(errors="replace"))
    return "\n".join(texts)


def pg_dump(database_url: str) -> str:
    binaries = pg_bin()
    assert binaries is not None
    done = subprocess.run(
        [str(binaries / "pg_dump"), "--data-only", f"--dbname={database_url}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def api_count(stack: FaultStack) -> int:
    answer = request(stack.base_url, "GET", f"/api/letters/{DEMO_SLUG}/")
    return int(json.loads(answer.body)["confirmed_count"])


def test_no_dump_of_the_database_redis_or_the_logs_holds_an_address_or_an_anonymous_name(
    stack: FaultStack,
) -> None:
    sink = stack.start_smtp()
    web = stack.start_web()  # hash key and public key only
    worker = stack.start_worker()  # also the private key
    assert "SIGNER_SEAL_PRIVATE_KEYS" not in stack.env()
    assert "SIGNER_SEAL_PRIVATE_KEYS" in stack.env(mail=True)
    before = api_count(stack)

    for signer in SIGNERS:
        sign(stack, signer)
    for signer in SIGNERS:
        (request_mail,) = sink.wait_for(sent_to(signer), timeout=60)
        if signer.confirm:
            confirm(stack, request_mail.link("/s/"), signer)
    confirming = [s for s in SIGNERS if s.confirm]
    for signer in confirming:
        sink.wait_for(sent_to(signer), count=2, timeout=60)  # "confirmed", from the worker
    wait_until(lambda: api_count(stack) == before + len(confirming), timeout=30, what="the count")

    rows = stack.rows("SELECT email_sealed FROM letters_signature WHERE email_sealed IS NOT NULL")
    opened = {open_sealed(row["email_sealed"]) for row in rows}
    assert {sent_to(s) for s in SIGNERS} <= opened  # sealed, and the worker's key opens them
    places = {
        "pg_dump --data-only": pg_dump(stack.database_url),
        "redis": redis_contents(stack.redis.url),
        "web log": web.log(),
        "worker log": worker.log(),
    }
    assert "succeeded" in places["worker log"]  # the log is the worker's, and it sent
    for where, text in places.items():
        haystack = text.lower()
        for signer in SIGNERS:
            for needle in needles(signer):
                assert needle not in haystack, f"{needle!r} found in {where}"
    assert "Kay OConnor" in places["pg_dump --data-only"]  # public by choice: stored


_WEB_PROCESS = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.conf import settings
    from letters import services
    from letters.models import Letter, Signature
    from letters.signer_address import NoKeyHere, open_address, address_hash

    letter = Letter.objects.get(slug="northwind-ice")
    before = services.counts_fold(letter_id=letter.pk)[0]
    services.signature_create(letter=letter, email="Nokey.Signer@Example.org", name="",
                              display="anonymous")
    signature = Signature.objects.get(letter=letter,
                                      email_hash=address_hash("nokey.signer@example.org"))
    confirmed = services.signature_confirm(signature=signature, display="anonymous")
    after = services.counts_fold(letter_id=letter.pk)[0]
    try:
        open_address(signature)
        opened = True
    except NoKeyHere:
        opened = False
    print(json.dumps({"privates": settings.SIGNER_SEAL_PRIVATE_KEYS, "confirmed": confirmed,
                      "counted": after - before, "opened": opened}))
    """
)


def test_a_web_process_without_the_private_key_signs_confirms_and_counts_but_reads_no_address(
    stack: FaultStack,
) -> None:
    """The settings imported as a web process has them (no private key,
    nothing else to fall back on), then the sign path end to end, then an
    attempt to open the address it just sealed."""
    env: dict[str, Any] = stack.env()
    assert "SIGNER_SEAL_PRIVATE_KEYS" not in env
    assert "SIGNER_KEYS_FILE" not in env

    out = run_python(["-c", _WEB_PROCESS], env=env, timeout=120, what="a web process")

    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"privates": [], "confirmed": True, "counted": 1, "opened": False}
    (row,) = stack.rows(
        "SELECT email_sealed FROM letters_signature WHERE display = 'anonymous'"
        " AND status = 'confirmed' ORDER BY id DESC LIMIT 1"
    )
    # sent to as typed; a worker opens it
    assert open_sealed(row["email_sealed"]) == "Nokey.Signer@example.org"
