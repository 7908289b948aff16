"""`make run`'s embedded default, as a newcomer meets it: no DATABASE_URL,
REDIS_URL or EMAIL_URL.  SQLite, in-process tasks and the local outbox carry
the whole flow: sign, read the email at /outbox/, confirm, see the count;
and `manage.py run_periodic`, which `make run` starts beside the server,
folds the counts as beat would (the admin's "confirmed (folded)")."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def embedded_site(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY", "SITE_URL"}
    }
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "SITE_URL": f"http://127.0.0.1:{port}"})
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
        subprocess.run([*manage, *command], cwd=BASE_DIR, env=env, check=True, timeout=180)
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    periodic = subprocess.Popen(  # as `make run` starts it
        [*manage, "run_periodic"],
        cwd=BASE_DIR,
        env={**env, "COUNT_INTERVAL": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/letters/", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield base
    for process in (server, periodic):
        process.terminate()
        process.wait(timeout=10)


def test_newcomer_signs_and_confirms_through_the_local_outbox(embedded_site, tmp_path):
    base = embedded_site
    base_dir = tmp_path
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path: str) -> str:
        with opener.open(base + path, timeout=10) as response:
            return response.read().decode()

    def post(path: str, data: dict[str, str]) -> str:
        request = urllib.request.Request(
            base + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Origin": base, "Referer": base + path},
        )
        with opener.open(request, timeout=10) as response:
            return response.read().decode()

    listed = json.loads(get("/api/letters/"))["letters"]
    assert [x["slug"] for x in listed] == ["northwind-ice"]
    before = listed[0]["confirmed_count"]
    assert "Northwind" in get("/letters/northwind-ice/")

    answer = post(
        "/letters/northwind-ice/sign/",
        {"name": "Nia Newcomer", "email": "nia@example.org", "display": "public", "consent": "on"},
    )
    assert "Check your inbox" in answer

    outbox = get("/outbox/")
    message_path = re.search(r'href="(/outbox/\d+/)"', outbox)
    assert message_path
    message = get(message_path.group(1))
    link = re.search(r'<a href="(http://127\.0\.0\.1:\d+(/s/[^"]+))"', message)
    assert link, message

    confirm_page = get(link.group(2))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', confirm_page)
    assert token
    thanks = post(link.group(2), {"csrfmiddlewaretoken": token.group(1), "display": "public"})
    assert "Thank you for signing" in thanks

    deadline = time.monotonic() + 10
    count = before
    while time.monotonic() < deadline and count != before + 1:
        count = json.loads(get("/api/letters/northwind-ice/"))["confirmed_count"]
        time.sleep(0.5)
    assert count == before + 1

    def folded() -> int:  # what the admin shows as "confirmed (folded)"
        with sqlite3.connect(base_dir / "db.sqlite3") as db:
            (value,) = db.execute(
                "SELECT s.confirmed FROM letters_letterstats s"
                " JOIN letters_letter l ON l.id = s.letter_id WHERE l.slug = 'northwind-ice'"
            ).fetchone()
        return int(value)

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and folded() != before + 1:
        time.sleep(0.5)
    assert folded() == before + 1
