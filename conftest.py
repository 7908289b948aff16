"""Shared fixtures: personas, letters, a real SMTP server, a real Celery worker,
Debian's Chromium through Playwright.

Tests run on PostgreSQL and Redis (`make test` checks both are up and stops,
naming what is missing, if not).  By default Celery tasks run eagerly in the
test process so that a unit test sees its emails in `mail.outbox`; tests about
delivery use the `celery_worker` fixture, which switches to the real broker.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from config.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent

# The multi-node proofs start a whole topology (minutes): only when asked
# for, as `make test-cluster` does.
collect_ignore = [] if os.environ.get("UNDERSIGNED_CLUSTER_TESTS") == "1" else ["tests/cluster"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings: Any) -> None:
    """A fresh cache namespace per test (the Redis server is shared)."""
    caches = dict(settings.CACHES)
    default = dict(caches["default"])
    default["KEY_PREFIX"] = f"t-{uuid.uuid4().hex[:12]}"
    caches["default"] = default
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _no_letter_rows_from_other_tests() -> None:
    """The sign path keeps letter rows in process memory for a moment; each
    test starts without another test's."""
    from letters import selectors

    selectors._signing_letters.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Personas log in with real passwords; hashing them need not be slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _second_factor_not_required(settings: Any) -> None:
    """The tests run with DEBUG off, where organisers must have a second
    factor (config/auth.py); the personas sign in with a password, so the
    requirement is off unless a test (accounts/tests/test_second_factor.py)
    turns it on."""
    settings.REQUIRE_ORGANISER_2FA = False


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = True


# --- Personas (letters/tests/factories.py) ---------------------------------------


@pytest.fixture
def organiser(db: None) -> Any:
    from letters.tests.factories import ORGANISER, make_persona

    return make_persona(ORGANISER)


@pytest.fixture
def outsider(db: None) -> Any:
    from letters.tests.factories import OUTSIDER, make_persona

    return make_persona(OUTSIDER)


@pytest.fixture
def open_letter(db: None, organiser: Any) -> Any:
    from letters.tests.factories import open_letter

    return open_letter(owner=organiser)


@pytest.fixture
def site(smtp: Any) -> Any:
    """The seeded site of the whole-page browser tests (tests/site_pages.py;
    `smtp`: the emails seeding causes go to the local sink)."""
    from tests.site_pages import seed_site

    return seed_site()


# --- A real SMTP server -----------------------------------------------------


@dataclass
class ReceivedMail:
    message: EmailMessage
    envelope_to: list[str]
    received_at: float

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())

    def link(self, prefix: str) -> str:
        """The path of the first link in the text part starting with `prefix`."""
        match = re.search(r"https?://[^/\s]+(" + re.escape(prefix) + r"[^\s]*)", self.text)
        assert match, f"no {prefix} link in: {self.text}"
        return match.group(1)


@dataclass
class SmtpSink:
    """aiosmtpd on a free port; RCPT answers can be scripted per address."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedMail] = field(default_factory=list)
    # address -> list of SMTP answers to give, in order, before accepting
    scripted: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self.lock:
            answers = self.scripted.get(address.lower())
            if answers:
                return answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(ReceivedMail(msg, list(envelope.rcpt_tos), time.monotonic()))
        return "250 Message accepted"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def to(self, address: str) -> list[ReceivedMail]:
        with self.lock:
            return [m for m in self.messages if address in m.envelope_to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} email(s) to {address} did not arrive in {timeout}s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=_free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpSink, settings: Any) -> SmtpSink:
    """Send through the real SMTP server from this test process too."""
    smtp_server.messages.clear()
    smtp_server.scripted.clear()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": smtp_server.host, "port": smtp_server.port, "timeout": 15},
        }
    }
    return smtp_server


# --- A real Celery worker -------------------------------------------------------


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: Any, smtp_server: SmtpSink
) -> Iterator[subprocess.Popen[bytes]]:
    """`celery -A config worker` against Redis and the test database."""
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EMAIL_URL": smtp_server.url,
        "SITE_URL": "http://testserver",
    }
    log = open(Path(settings.STATIC_ROOT).parent / "test-celery-worker.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603 -- fixed argv
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--loglevel", "INFO", "--concurrency", "2", "--pool", "prefork",
            "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-heartbeat",
            "--without-gossip", "--without-mingle",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited; see var/test-celery-worker.log")
        replies = celery_app.control.ping(timeout=0.5)
        if replies:
            break
    else:
        proc.terminate()
        raise RuntimeError("celery worker did not answer a ping within 60s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def celery_worker(
    celery_worker_process: subprocess.Popen[bytes], smtp: SmtpSink, settings: Any
) -> Iterator[SmtpSink]:
    """Tasks go through Redis to the real worker, which sends to the SMTP sink.
    The test shares the worker's cache namespace (the worker cannot follow a
    per-test one): the email sender and the sign path meet on a Redis key."""
    caches = dict(settings.CACHES)
    caches["default"] = {**caches["default"], "KEY_PREFIX": settings.CACHE_KEY_PREFIX}
    settings.CACHES = caches
    from django.core.cache import cache

    from letters.signature_outbox import KICK_KEY

    cache.delete(KICK_KEY)  # a sender another test asked for is long gone
    celery_app.conf.task_always_eager = False
    yield smtp
    celery_app.conf.task_always_eager = True


# --- Debian's Chromium ------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync",
            ],
        )  # fmt: skip
        yield browser
        browser.close()


DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """Opens pages, each in a browser context of its own (its own cookies:
    another person's browser), all closed when the test ends.  Keywords are
    the context's (`viewport`, `color_scheme`, `is_mobile`...);
    `init_script` is a file run in every document before the site's own."""
    contexts: list[Any] = []

    def open_page(*, init_script: str | None = None, **options: Any) -> Any:
        context = chromium.new_context(**{"viewport": DESKTOP, **options})
        contexts.append(context)
        if init_script is not None:
            context.add_init_script(path=init_script)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture(scope="session")
def site_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The site on a real port, serving the collected (hashed) static files as
    production does (pytest-django's live_server serves only unhashed ones)."""
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    with django_db_blocker.unblock():
        thread = LiveServerThread("localhost", static_handler=_StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
    yield f"http://localhost:{thread.port}"
    thread.terminate()
