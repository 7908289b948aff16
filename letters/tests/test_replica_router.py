"""Public reads from a replica (letters/replica.py, letters/replica_health.py,
config/db_router.py, config/database.py).

`make test` has one PostgreSQL server.  The replica here is the test
database itself, reached through a TCP relay that this module can stop and
start again on the same port: to the site, a replica that answers, then
one that is gone (existing connections cut, new ones refused), then one
that is back.  Its lag cannot be made real on one server; the rule that
turns a probe's findings into "fresh" or "lagging" is tested on its own
(`verdict`), and a real replica's lag is the cluster tests' to prove.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from typing import Any

import environ
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.urls import reverse

from config.database import REPLICA, REPLICA_ROUTER, databases
from letters import replica_health, services
from letters.links import signer_url
from letters.models import Letter
from letters.replica import public_reads, reading_from, reads_from_replica
from letters.replica_health import CAUGHT_UP_SQL, LAGGING, OK, Probe, lag_of, verdict
from letters.selectors import letter_counts
from letters.tests.factories import confirmed_signature, pending_signature
from letters.tests.test_healthz import dead_port
from letters.tokens import Purpose
from tests.test_deploy import manage

transactional = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


# --- The lag rule -----------------------------------------------------------------------


def test_an_idle_primary_leaves_a_caught_up_replica_fresh_however_old_its_last_commit():
    idle = Probe(in_recovery=True, replayed_primary_position=True, last_commit_age=86400.0)

    assert lag_of(idle) == 0.0
    assert verdict(idle, max_lag=5.0) == OK


def test_a_replica_behind_the_primary_is_as_stale_as_its_last_replayed_commit():
    behind = Probe(in_recovery=True, replayed_primary_position=False, last_commit_age=4.0)
    further = Probe(in_recovery=True, replayed_primary_position=False, last_commit_age=6.5)

    assert verdict(behind, max_lag=5.0) == OK
    assert lag_of(further) == 6.5
    assert verdict(further, max_lag=5.0) == LAGGING


def test_a_replica_that_lacks_the_primary_position_and_replayed_no_commit_is_not_fresh():
    """A disconnected receiver after a restart: nothing says how far behind."""
    unknown = Probe(in_recovery=True, replayed_primary_position=False, last_commit_age=None)

    assert lag_of(unknown) is None
    assert verdict(unknown, max_lag=3600.0) == LAGGING


def test_a_server_not_in_recovery_is_a_primary_and_fresh():
    primary = Probe(in_recovery=False, replayed_primary_position=False, last_commit_age=None)

    assert verdict(primary, max_lag=0.0) == OK


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("replayed", "primary", "caught_up"),
    [
        ("0/3016200", "0/3016200", True),
        ("0/3016208", "0/3016200", True),
        ("0/3016200", "0/3016208", False),  # a record (>= 24 bytes) not replayed
        ("0/3000000", "0/3000028", True),  # a segment's first page: its long header
        ("0/3002000", "0/3002018", True),  # any other page: its short header
        ("0/3002000", "0/3002030", False),  # the header and a record
        ("0/3001FD8", "0/3002000", False),  # mid-page: 40 bytes of records
    ],
)
def test_caught_up_allows_for_the_page_header_an_idle_primary_points_past(
    replayed, primary, caught_up
):
    """Run on the test server: the expression of the real probe."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT {CAUGHT_UP_SQL} FROM (SELECT %s::pg_lsn AS lsn) AS r, "  # noqa: S608
            "(SELECT %s::pg_lsn AS lsn) AS x",
            [replayed, primary],
        )
        assert cursor.fetchone()[0] is caught_up


# --- The settings -----------------------------------------------------------------------


def env_of(**values: str) -> environ.Env:
    env = environ.Env()
    env.ENVIRON = values
    return env


SPEED_ON = {"DATABASE_PREPARED_STATEMENTS": True, "DATABASE_POOL_SKIP_RECENT_CHECK": True}


def test_a_replica_url_adds_a_replica_configured_like_the_primary(tmp_path):
    env = env_of(
        DATABASE_URL="postgres://app@primary:5432/letters?sslmode=require",
        DATABASE_REPLICA_URL="postgres://app@replica:5432/letters",
    )

    dbs = databases(env, var_dir=tmp_path, speed=SPEED_ON, pgbouncer=False)

    default, replica = dbs["default"], dbs[REPLICA]
    assert replica["HOST"] == "replica"
    assert replica["ENGINE"] == default["ENGINE"] == "django.db.backends.postgresql"
    assert replica["OPTIONS"]["sslmode"] == "require"  # the primary URL's options too
    assert replica["OPTIONS"]["prepare_threshold"] == default["OPTIONS"]["prepare_threshold"] == 5
    pool, replica_pool = default["OPTIONS"]["pool"], replica["OPTIONS"]["pool"]
    assert {**replica_pool, "timeout": pool["timeout"]} == pool
    assert replica_pool["timeout"] == 1.0  # a stopped replica costs a page one second, once
    assert replica["OPTIONS"]["connect_timeout"] == 2
    assert replica["TEST"] == {"MIRROR": "default"}
    assert "DISABLE_SERVER_SIDE_CURSORS" not in default


def test_without_a_replica_url_there_is_one_database(tmp_path):
    env = env_of(DATABASE_URL="postgres://app@primary:5432/letters")

    assert list(databases(env, var_dir=tmp_path, speed=SPEED_ON, pgbouncer=False)) == ["default"]


def test_pgbouncer_mode_prepares_nothing_and_opens_no_server_side_cursor(tmp_path):
    env = env_of(
        DATABASE_URL="postgres://app@bouncer:6432/letters",
        DATABASE_REPLICA_URL="postgres://app@bouncer:6432/letters_replica",
    )

    dbs = databases(env, var_dir=tmp_path, speed=SPEED_ON, pgbouncer=True)

    for db in dbs.values():
        assert "prepare_threshold" in db["OPTIONS"]
        assert db["OPTIONS"]["prepare_threshold"] is None
        assert db["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_a_replica_needs_postgresql(tmp_path):
    env = env_of(DATABASE_REPLICA_URL="postgres://app@replica:5432/letters")

    with pytest.raises(ImproperlyConfigured):
        databases(env, var_dir=tmp_path, speed=SPEED_ON, pgbouncer=False)


def test_the_settings_route_public_reads_and_turn_off_prepared_statements_behind_pgbouncer():
    """The real settings module, in a process of its own with the
    environment a node behind PgBouncer with a replica gets."""
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({'routers': s.DATABASE_ROUTERS, "
        "'prepared': s.SPEED['DATABASE_PREPARED_STATEMENTS'], "
        "'threshold': [d['OPTIONS'].get('prepare_threshold', 'unset') "
        "for d in s.DATABASES.values()], "
        "'cursors': [d.get('DISABLE_SERVER_SIDE_CURSORS') for d in s.DATABASES.values()], "
        "'aliases': sorted(s.DATABASES), "
        "'lag': [s.REPLICA_CHECK_INTERVAL, s.REPLICA_MAX_LAG, s.REPLICA_RETRY]}))"
    )
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        env={
            "DEBUG": "1",
            "DATABASE_URL": "postgres://app@127.0.0.1:6432/letters",
            "DATABASE_REPLICA_URL": "postgres://app@127.0.0.1:6433/letters",
            "DATABASE_PGBOUNCER": "1",
        },
        drop=("REPLICA_", "DATABASE_"),
    )
    assert result.returncode == 0, result.stderr

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        "routers": [REPLICA_ROUTER],
        "prepared": False,
        "threshold": [None, None],
        "cursors": [True, True],
        "aliases": ["default", REPLICA],
        "lag": [2.0, 5.0, 5.0],
    }


# --- A replica that can be stopped ------------------------------------------------------


class Relay:
    """A TCP relay to the test database's server, on a port of its own,
    that can be stopped (its connections cut, new ones refused) and
    started again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = dead_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.05)
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if self._accepting is not None:
            self._accepting.join()  # it lets go of the listening socket
        if listener is not None:
            listener.close()
        with self._lock:
            cut, self._sockets = self._sockets, set()
        for s in cut:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def _drop_replica_connections() -> None:
    wrapper = connections[REPLICA]
    with suppress(Exception):
        wrapper.close()
    pool = type(wrapper)._connection_pools.pop(REPLICA, None)  # type: ignore[attr-defined]
    if pool is not None:
        pool.close(timeout=1.0)


@pytest.fixture(scope="module", autouse=True)
def _replica_alias(django_db_setup: None) -> Iterator[Relay]:
    """The alias "replica", configured as config/database.py configures one,
    reaching the test database through a relay.  Defined for this module's
    tests only, before their database access is set up (Django's test case
    allows only the aliases it was told of, and checks they exist)."""
    default = connections[DEFAULT_DB_ALIAS].settings_dict
    relay = Relay(default["HOST"] or "127.0.0.1", int(default["PORT"] or 5432))
    relay.start()
    env = env_of(
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        DATABASE_REPLICA_URL=f"postgres://u@127.0.0.1:{relay.port}/x",
    )
    made = databases(env, var_dir=django_settings.VAR_DIR, speed=SPEED_ON, pgbouncer=False)
    conf = copy.deepcopy(default)  # the test database's name, user, and Django's defaults
    conf.update(HOST="127.0.0.1", PORT=relay.port, OPTIONS=made[REPLICA]["OPTIONS"])
    conf["TEST"] = {**conf["TEST"], "MIRROR": DEFAULT_DB_ALIAS}
    connections.settings[REPLICA] = conf
    try:
        yield relay
    finally:
        _drop_replica_connections()
        with suppress(AttributeError):
            del connections[REPLICA]
        del connections.settings[REPLICA]
        relay.stop()


@pytest.fixture
def replica(_replica_alias: Relay, transactional_db: None, settings: Any) -> Iterator[Relay]:
    """The replica, answering, with the router on and nothing known of it yet."""
    settings.DATABASE_ROUTERS = [REPLICA_ROUTER]
    settings.REPLICA_CHECK_INTERVAL = 60.0  # one probe per test unless a test says otherwise
    settings.REPLICA_MAX_LAG = 5.0
    settings.REPLICA_RETRY = 0.5
    replica_health.forget()
    try:
        yield _replica_alias
    finally:
        replica_health.forget()
        _drop_replica_connections()
        if _replica_alias._listener is None:
            _replica_alias.start()


class Captured:
    """The statements run on the primary and on the replica meanwhile (as
    Django runs them, the speed machinery's prepared cursor included),
    without the replica probe's own, and without opening a connection."""

    PROBE = ("pg_is_in_recovery", "pg_current_wal_insert_lsn")

    def __init__(self) -> None:
        self.stack = ExitStack()
        self.on_primary: list[str] = []
        self.on_replica: list[str] = []

    def _recorder(self, into: list[str]) -> Any:
        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            if not any(marker in sql for marker in self.PROBE):
                into.append(sql)
            return execute(sql, params, many, context)

        return record

    def __enter__(self) -> Captured:
        for alias, into in ((DEFAULT_DB_ALIAS, self.on_primary), (REPLICA, self.on_replica)):
            self.stack.enter_context(connections[alias].execute_wrapper(self._recorder(into)))
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


# --- Routing ----------------------------------------------------------------------------


@transactional
def test_reads_outside_a_public_read_context_go_to_the_primary(replica, open_letter):
    with Captured() as q:
        assert Letter.objects.get(pk=open_letter.pk).slug == open_letter.slug
        letter_counts(letter_id=open_letter.pk)

    assert reading_from() == DEFAULT_DB_ALIAS
    assert len(q.on_primary) == 3
    assert q.on_replica == []


@transactional
def test_public_reads_go_to_a_fresh_replica_and_writes_still_to_the_primary(replica, open_letter):
    confirmed_signature(open_letter)
    with Captured() as q, public_reads() as alias:
        assert alias == REPLICA
        letter = Letter.objects.get(pk=open_letter.pk)
        counts = letter_counts(letter_id=open_letter.pk)  # stats and the raw delta query
        Letter.objects.filter(pk=letter.pk).update(goal=200)
        replica_reads = len(q.on_replica)
        with transaction.atomic():
            assert reading_from() == DEFAULT_DB_ALIAS
            Letter.objects.select_for_update().get(pk=letter.pk)
            Letter.objects.get(pk=letter.pk)

    assert replica_health.status() == OK
    assert counts.confirmed == 1
    assert replica_reads == 3  # the letter, its stats, its unfolded deltas
    assert len(q.on_replica) == 3
    assert any(s.startswith("UPDATE") for s in q.on_primary)
    assert any("FOR UPDATE" in s for s in q.on_primary)


@transactional
def test_a_replica_that_lags_serves_no_reads(replica, open_letter):
    replica_health.record(
        Probe(in_recovery=True, replayed_primary_position=False, last_commit_age=30.0)
    )

    with Captured() as q, public_reads() as alias:
        Letter.objects.get(pk=open_letter.pk)

    assert alias == DEFAULT_DB_ALIAS
    assert replica_health.status() == LAGGING
    assert q.on_replica == []


def public_addresses(letter: Letter) -> list[str]:
    assert letter.group is not None
    slug = {"slug": letter.slug}
    return [
        reverse("letters:index"),
        reverse("letters:detail", kwargs=slug),
        reverse("letters:signatories", kwargs=slug),
        reverse("letter_embed", kwargs=slug),
        reverse("letters:feed", kwargs=slug),
        reverse("letters:card", kwargs=slug),
        reverse("api_letters"),
        reverse("api_letter", kwargs=slug),
        reverse("api_letter_counts", kwargs=slug),
        reverse("sitemap"),
        reverse("group_page", kwargs={"group_slug": letter.group.slug}),
    ]


@pytest.fixture
def grouped_letter(open_letter, organiser) -> Letter:
    group = services.group_create(by=organiser, name="Warehouse Workers United")
    Letter.objects.filter(pk=open_letter.pk).update(group=group)
    open_letter.refresh_from_db()
    confirmed_signature(open_letter, name="Rosa Public")
    return open_letter


@transactional
def test_every_public_copy_is_built_from_the_replica(replica, client, grouped_letter):
    for path in public_addresses(grouped_letter):
        with Captured() as q:
            response = client.get(path)

        assert response.status_code == 200, path
        assert q.on_replica, f"{path} read nothing from the replica"
        assert q.on_primary == [], f"{path} read from the primary: {q.on_primary}"
    assert "Rosa Public" in client.get(public_addresses(grouped_letter)[2]).content.decode()


@transactional
def test_organisers_signers_and_posts_read_from_the_primary(
    replica, client, grouped_letter, organiser
):
    pending = pending_signature(grouped_letter, name="Pat Pending")
    confirm = signer_url(pending, Purpose.CONFIRM).removeprefix("http://testserver")
    slug = {"slug": grouped_letter.slug}
    client.force_login(organiser)
    visits = [
        ("get", reverse("organise:dashboard"), {}),
        ("get", reverse("organise:letter", kwargs=slug), {}),
        ("get", confirm, {}),
        ("post", confirm, {"display": "public"}),
        (
            "post",
            reverse("letters:sign", kwargs=slug),
            {"name": "Ada", "email": "ada@example.org", "display": "public", "consent": "on"},
        ),
    ]
    for method, path, data in visits:
        with Captured() as q:
            response = getattr(client, method)(path, data)

        assert response.status_code in (200, 302), (path, response.status_code)
        assert q.on_replica == [], f"{method} {path} read from the replica"
        assert q.on_primary, path


# --- A replica that stops and comes back ------------------------------------------------


@transactional
def test_a_stopped_replica_is_given_up_and_public_pages_answer_from_the_primary(
    replica, client, grouped_letter, settings
):
    api = reverse("api_letter", kwargs={"slug": grouped_letter.slug})
    settings.COUNT_INTERVAL = 0  # every request rebuilds its copy
    assert replica_health.status() == OK
    replica.stop()
    _drop_replica_connections()  # as after a request: the next one needs a new connection
    replica_health.forget()  # the next public build probes

    started = time.monotonic()
    with Captured() as q:
        response = client.get(api)

    assert response.status_code == 200
    assert json.loads(response.content)["confirmed_count"] == 1
    assert replica_health.status() == replica_health.DOWN
    assert q.on_primary
    assert not q.on_replica
    assert time.monotonic() - started < 5  # the replica's timeout, not the primary's

    # Given up: no attempt until REPLICA_RETRY has passed.
    with Captured() as q:
        quick = time.monotonic()
        assert client.get(api).status_code == 200
    assert time.monotonic() - quick < 0.5
    assert q.on_primary
    assert not q.on_replica

    replica.start()
    time.sleep(settings.REPLICA_RETRY)
    with Captured() as q:
        assert client.get(api).status_code == 200

    assert replica_health.status() == OK
    assert q.on_replica  # reads went back to it
    assert not q.on_primary


@transactional
def test_a_replica_failing_during_a_build_is_given_up_and_the_build_rerun_on_the_primary(
    replica, client, grouped_letter
):
    """Believed fresh (probed a moment ago), then cut off: the build fails
    on the replica, and the same request answers from the primary."""
    assert replica_health.status() == OK
    with public_reads():
        Letter.objects.get(pk=grouped_letter.pk)  # a live replica connection in this thread
    replica.stop()

    response = client.get(reverse("letters:detail", kwargs={"slug": grouped_letter.slug}))

    assert response.status_code == 200
    assert "Rosa Public" in response.content.decode()
    assert replica_health.status() == replica_health.DOWN


@transactional
def test_a_wrapped_build_runs_once_on_a_healthy_replica(replica, open_letter):
    runs: list[str] = []

    @reads_from_replica
    def build() -> str:
        runs.append(reading_from())
        return Letter.objects.get(pk=open_letter.pk).slug

    assert build() == open_letter.slug
    assert runs == [REPLICA]


# --- /healthz with a replica ------------------------------------------------------------


@transactional
def test_healthz_reports_the_replica_and_stays_200_when_it_is_down(replica, client, settings):
    assert json.loads(client.get("/healthz").content)["replica"] == "ok"

    replica.stop()
    replica_health.forget()
    response = client.get("/healthz")

    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "replica": "down",
    }
