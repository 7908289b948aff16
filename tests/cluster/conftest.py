"""Multi-node proofs (issue 22): the whole topology of `bench/cluster.py`
started once per session on private servers, driven through HAProxy (or
one node directly), and the database read on the primary.

Not in `make test`: the root conftest leaves this directory out of a
collection unless UNDERSIGNED_CLUSTER_TESTS=1 (or the directory is named on
the command line).  `make test-cluster` (`PYTEST_ARGS="-k replica"` for
one), or without make `DEBUG=1 .venv/bin/python -m pytest tests/cluster`
(no shared server needed).
Needs root (runuser), Debian's PostgreSQL server binaries, pgbouncer,
haproxy and redis-server; touches none of the machine's shared servers.

Fixture API (for a new test in this directory):

- `cluster` (session scope): a started `bench.cluster.Cluster`: HAProxy in
  front of 2 web nodes (2 sync gunicorn workers each), 2 Celery worker nodes
  (concurrency 2) and exactly 1 beat, PgBouncer (transaction mode) in front
  of the primary, a streaming replica, Redis, and the SMTP sink `sink`.
  Every site process runs with CLUSTER_ENV (shortened intervals).  Useful:
  `cluster.url` (HAProxy), `cluster.node_url(n)`, `kill_node(n)`,
  `start_node(n)`, `kill_worker(n)`, `start_worker(n)`, `start_beat()`
  (a second beat; `cluster.stop(proc)` stops it), `stop_replica()`,
  `start_replica()`, `restart_pgbouncer()`, `stop_pgbouncer()`,
  `start_pgbouncer()`, `server_state("node1")`,
  `wait_state("node1", "UP", timeout=...)`, `wait_for_replica()` (until
  it replayed what the primary wrote), `primary_rows(sql, params)`,
  `queue` (the Celery queue), `redis.url`, `worker_name(n)`.  Nodes and
  workers are numbered from 1.  The cluster is shared by the whole
  session: a test may stop or kill parts of it, and before every test
  whatever is not running is started again (`Cluster.restore`: missing
  nodes, workers, the replica, PgBouncer; extra beats stopped).  Use
  addresses of your own (`<test-name>-<i>@example.org`), and
  leave the demo letter open (close a letter of your own: `open_letter`).
- `sink` (function scope): the cluster's SMTP sink (`ClusterSink`, the
  root conftest's `SmtpSink`: `to(address)`, `wait_for(address, count,
  timeout)`, each message's `link("/s/")`), its `delay` reset to 0.
- helpers: `sign(base_url, address)` (the sign POST as the letter page
  sends it), `signatures(cluster, *addresses)` (rows found by keyed hash,
  each with its opened address as "email"), `confirm(base_url, path)`
  (GET the emailed link, POST its button), `WebClient` (cookies and CSRF
  for logged-in pages) and `organiser(base_url)` (the demo organiser,
  logged in), `open_letter(cluster, slug, title)` (a new open letter of the demo
  organiser), `ReplicaLog` (statements the replica ran since a mark).

On failure, the end of every log of the cluster is printed with the report.
"""

from __future__ import annotations

import asyncio
import http.cookies
import json
import re
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.client import Answer, post_form, request
from bench.cluster import DEMO_SLUG, Cluster, ClusterOptions
from bench.commands import run_python
from conftest import SmtpSink
from tests.faults.conftest import SIGNER_KEYS, address_hash, open_sealed
from tests.faults.conftest import wait_until as wait_until  # the tests import it from here

# What every site process of the cluster runs with, beside the production
# defaults: intervals shortened so that faults heal within seconds.
CLUSTER_ENV = {
    # Public copies are rebuilt and counts folded every 2 s (default 5).
    "COUNT_INTERVAL": "2",
    # A killed worker's task comes back after 8 s; its leased emails are
    # free after 4 s (SIGNATURE_EMAIL_LEASE: half of it); the beat sweep
    # looks for owed emails every 2 s.
    "CELERY_VISIBILITY_TIMEOUT": "8",
    "SIGNATURE_SWEEP_INTERVAL": "2",
    # The closing, deadline and overdue-news sweeps too (default 60, 300,
    # 300 s): test_two_beats.py lets two beats run them for a few intervals.
    "PERIODIC_INTERVALS": "letters_close_due=2,letters_mark_overdue=2,news_send_overdue=2",
    "EMAIL_RETRY_BACKOFF_MAX": "2",
    # Every request of these tests comes from 127.0.0.1: the per-client
    # confirmation limits would hold all but the first ten confirmations.
    "SIGN_RATE_ALLOWLIST": "127.0.0.1/32",
    # The demo organiser logs in with a password only (DEBUG=0 would ask
    # for a second factor), as the root conftest's personas do.
    "REQUIRE_ORGANISER_2FA": "0",
    # The production defaults, written out: the tests' bounds are made of them.
    "SIGNING_LETTER_TTL": "2",
    "REPLICA_CHECK_INTERVAL": "2",
    "REPLICA_MAX_LAG": "5",
    "REPLICA_RETRY": "5",
}
COUNT_INTERVAL = float(CLUSTER_ENV["COUNT_INTERVAL"])
SIGNING_LETTER_TTL = float(CLUSTER_ENV["SIGNING_LETTER_TTL"])
REPLICA_CHECK_INTERVAL = float(CLUSTER_ENV["REPLICA_CHECK_INTERVAL"])
REPLICA_MAX_LAG = float(CLUSTER_ENV["REPLICA_MAX_LAG"])
REPLICA_RETRY = float(CLUSTER_ENV["REPLICA_RETRY"])
# How stale a public answer may be (letters/replica.py): a copy lives
# COUNT_INTERVAL after its build, which read a replica lacking no commit
# older than REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL.
PUBLIC_STALENESS = COUNT_INTERVAL + REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL
ORGANISER_EMAIL = "organiser@example.org"
ORGANISER_PASSWORD = "undersigned-demo"  # the demo's (letters/demo_content.py)


@dataclass
class ClusterSink(SmtpSink):
    """The root conftest's SMTP sink, which can take `delay` seconds over
    each message before accepting it (a slower mail server).  A message
    whose sender vanished meanwhile was never accepted: not recorded."""

    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def per_address(self, prefix: str) -> dict[str, int]:
        """Messages accepted per recipient starting with `prefix`."""
        counts: dict[str, int] = {}
        with self.lock:
            for mail in self.messages:
                for address in mail.envelope_to:
                    if address.startswith(prefix):
                        counts[address] = counts.get(address, 0) + 1
        return counts


# --- The cluster ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    options = ClusterOptions(
        nodes=2,
        web_workers=2,
        worker_nodes=2,
        worker_concurrency=2,
        access_log=True,
        log_replica_statements=True,
        env=dict(CLUSTER_ENV),
    )
    started = time.monotonic()
    with Cluster(options, keys=SIGNER_KEYS, sink=ClusterSink()) as running:
        print(f"\ncluster up in {time.monotonic() - started:.1f} s ({running.workdir})")
        yield running


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture(autouse=True)
def _whole_cluster(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[None]:
    """Every part running before each test; every log's end after a failure."""
    done = cluster.restore()
    if done:
        print(f"restored before {request.node.name}: {', '.join(done)}")
    yield
    if request.node.stash.get(_FAILED, True):
        print(f"\n===== cluster logs ({cluster.workdir}) =====\n{cluster.logs(60)}")


@pytest.fixture
def sink(cluster: Cluster) -> ClusterSink:
    assert isinstance(cluster.sink, ClusterSink)
    cluster.sink.delay = 0.0
    return cluster.sink


# --- Signing ------------------------------------------------------------------------------


def sign(base_url: str, address: str, *, slug: str = DEMO_SLUG, timeout: float = 30) -> Answer:
    """The sign POST as the letter page sends it (public, consenting)."""
    return post_form(
        base_url,
        f"/letters/{slug}/sign/",
        {"name": "Nora Node", "email": address, "display": "public", "consent": "on"},
        timeout=timeout,
    )


def signatures(cluster: Cluster, *addresses: str) -> list[dict[str, Any]]:
    """The signature rows of `addresses` on the primary, found by their keyed
    hash, each with the address its sealed value opens to as "email"."""
    rows = cluster.primary_rows(
        "SELECT id, email_hash, email_sealed, status, emails_requested, emails_sent,"
        " email_failed FROM letters_signature WHERE email_hash = ANY(%s)",
        ([address_hash(address) for address in addresses],),
    )
    for row in rows:
        row["email"] = open_sealed(row.pop("email_sealed"))
    return sorted(rows, key=lambda row: (row["email"], row["id"]))


class WebClient:
    """A visitor's browser, as far as the site needs: cookies kept, the CSRF
    token of the last form seen sent back with a POST, Origin set."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def _keep(self, answer: Answer) -> Answer:
        for header in answer.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', answer.body)
        if token is not None:
            self.csrf = token.group(1).decode()
        return answer

    def _headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {"Cookie": cookie} if cookie else {}

    def get(self, path: str) -> Answer:
        return self._keep(request(self.base_url, "GET", path, headers=self._headers()))

    def post(self, path: str, fields: dict[str, str]) -> Answer:
        fields = {"csrfmiddlewaretoken": self.csrf, **fields}
        return self._keep(post_form(self.base_url, path, fields, headers=self._headers()))


def confirm(base_url: str, path: str) -> Answer:
    """The owner's click on the emailed link: its page, then its button
    (public, the name as signed); the answer to the POST (200: thanks)."""
    client = WebClient(base_url)
    page = client.get(path)
    assert page.status == 200, (path, page.status, page.body[:300])
    return client.post(
        path,
        {
            "display": "public",
            "name": "Nora Node",
            "job_title": "",
            "team": "",
            "location": "",
            "comment": "",
        },
    )


def organiser(base_url: str) -> WebClient:
    """The demo organiser, logged in (password only: CLUSTER_ENV)."""
    client = WebClient(base_url)
    assert client.get("/accounts/login/").status == 200
    answer = client.post(
        "/accounts/login/", {"login": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD}
    )
    assert answer.status == 302, (answer.status, answer.body[:500])
    return client


def open_letter(cluster: Cluster, slug: str, title: str) -> None:
    """A new letter of the demo organiser, published (open for signing),
    made on the primary as `load_demo` makes the demo (services)."""
    code = f"""
from django.contrib.auth import get_user_model
from letters import services
user = get_user_model().objects.get(email={ORGANISER_EMAIL!r})
data = services.LetterInput(
    title={title!r}, body="A letter of the cluster tests.", demands=["Answer us."],
    addressees=[("The board", "")], language="en", goal=100,
)
letter = services.letter_create(slug={slug!r}, data=data, owner=user)
services.letter_publish(letter=letter, by=user)
"""
    run_python(
        ["manage.py", "shell", "-c", code],
        env=cluster.env(direct=True),
        timeout=60,
        what=f"open letter {slug}",
    )


def api_letter(base_url: str, slug: str = DEMO_SLUG) -> dict[str, Any]:
    answer = request(base_url, "GET", f"/api/letters/{slug}/", timeout=10)
    assert answer.status == 200, (answer.status, answer.body[:300])
    data: dict[str, Any] = json.loads(answer.body)
    return data


# --- The replica's statements --------------------------------------------------------------


class ReplicaLog:
    """The statements the replica ran (log_statement=all) since `mark()`."""

    def __init__(self, cluster: Cluster) -> None:
        assert cluster.replica is not None
        self.path: Path = cluster.replica.log
        self.offset = 0
        self.mark()

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def statements(self) -> list[str]:
        """Each statement logged since the mark (the line's text from
        "statement:" or "execute", with its parameters' line if any)."""
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            text = log.read().decode(errors="replace")
        found: list[str] = []
        for line in text.splitlines():
            if "LOG:  statement: " in line or "LOG:  execute " in line:
                found.append(line.split("LOG:  ", 1)[1])
            elif "DETAIL:  parameters:" in line and found:
                found[-1] += " " + line.split("DETAIL:  ", 1)[1]
        return found

    def reads(self) -> list[str]:
        """The statements since the mark that read a table (Django quotes
        table names: `FROM "letters_letter"`); the site's probe of the
        replica (`SELECT pg_is_in_recovery(), ...`) reads none."""
        return [s for s in self.statements() if re.search(r'\bFROM\s+"', s)]

    def mentions(self, needle: str) -> bool:
        return any(needle in statement for statement in self.statements())


def wait_for_emails_sent(cluster: Cluster, addresses: list[str], timeout: float) -> None:
    """Until every signature of `addresses` owes no email (sent as many as requested)."""

    def settled() -> bool:
        rows = signatures(cluster, *addresses)
        return len(rows) >= len(addresses) and all(
            row["emails_sent"] >= row["emails_requested"] for row in rows
        )

    wait_until(settled, timeout=timeout, what=f"emails owed to {len(addresses)} signers sent")
