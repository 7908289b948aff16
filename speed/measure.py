"""Measure what each trick of the speed machinery gains today, on and off
in the same run: `make speed` (or `python -m speed.measure`, with the test
environment's DATABASE_URL and REDIS_URL).  In one process, against a
throwaway PostgreSQL database and the Redis given; CPU time per operation
(`time.process_time`), the median of alternating batches, so that both
sides see the same machine.  Prints a table; asserts nothing.  The figures
go to docs/speed.md by hand.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402

from letters import selectors, services  # noqa: E402
from letters.http import local_tier_clear  # noqa: E402
from letters.models import Letter  # noqa: E402
from letters.notifications import build_email  # noqa: E402
from speed.counters import count_in_windows  # noqa: E402
from speed.dbpool import check_unless_recent  # noqa: E402
from speed.public_chain import WithPublicChain  # noqa: E402
from speed.redis_client import RedisCache as SharedClientCache  # noqa: E402

COLUMNS = ("CPU here", "wall", "CPU in PostgreSQL")
THROUGH_WSGI = {"sign POST through the public chain (WSGI)", "letter page from process memory"}
BATCHES = int(os.environ.get("SPEED_BATCHES", "7"))
PER_BATCH = int(os.environ.get("SPEED_PER_BATCH", "200"))


def database_cpu_s() -> float:
    """CPU seconds the PostgreSQL backend serving this process has used
    (from /proc: the server runs on this machine)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_op_ms(operation: Callable[[], object], n: int) -> tuple[float, float, float]:
    """(CPU ms here, wall ms, CPU ms in PostgreSQL) per call of `operation`."""
    database = database_cpu_s()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        operation()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / n, wall * 1000 / n, (database_cpu_s() - database) * 1000 / n


Result = tuple[str, tuple[float, float, float], tuple[float, float, float]]


def compare(
    name: str, on: Callable[[], Callable[[], object]], off: Callable[[], Callable[[], object]]
) -> Result:
    """Median (CPU, wall) ms per operation with the trick on and off,
    in alternating batches."""
    results: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
    for _batch, side in itertools.product(range(BATCHES), (True, False)):
        operation = (on if side else off)()
        operation()  # warm
        results[side].append(per_op_ms(operation, PER_BATCH))

    def median(side: bool) -> tuple[float, float, float]:
        return (
            statistics.median(r[0] for r in results[side]),
            statistics.median(r[1] for r in results[side]),
            statistics.median(r[2] for r in results[side]),
        )

    return name, median(True), median(False)


@contextmanager
def switch(**values: Any) -> Iterator[None]:
    speed = {**settings.SPEED, **{k: v for k, v in values.items() if k in settings.SPEED}}
    others = {k: v for k, v in values.items() if k not in settings.SPEED}
    with override_settings(SPEED=speed, **others):
        yield


def _wsgi_call(app: Any, method: str, path: str, body: bytes = b"") -> int:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
    }
    status: list[str] = []
    b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return int(status[0].split()[0])


def switched(
    name: str,
    setting: str,
    operation: Callable[[], object],
    values: tuple[object, object] = (True, False),
    before: Callable[[], object] = lambda: None,
) -> Result:
    """`compare` for a trick with a switch: `operation` run with `setting`
    at its on and off value (`before` runs ahead of each batch)."""

    def side(value: object) -> Callable[[], object]:
        before()

        def run() -> object:
            with switch(**{setting: value}):
                return operation()

        return run

    return compare(name, lambda: side(values[0]), lambda: side(values[1]))


def request_tricks(letter: Letter) -> Iterator[Result]:
    """The tricks on the sign path and the public pages."""
    numbers = itertools.count()
    domain = letter.allowed_domains[0] if letter.allowed_domains else "example.org"
    site = get_wsgi_application()
    chained = WithPublicChain(site)

    def sign() -> object:
        address = f"m{next(numbers)}@{domain}"
        return services.signature_create(letter=letter, email=address, name="Measured")

    def post(app: Any) -> Callable[[], object]:
        def run() -> object:
            body = f"email=w{next(numbers)}%40{domain}&name=W&display=public&consent=on"
            return _wsgi_call(app, "POST", f"/letters/{letter.slug}/sign/", body.encode())

        return run

    yield switched("sign INSERT prepared (signature_create)", "DATABASE_PREPARED_STATEMENTS", sign)
    yield compare(
        "sign POST through the public chain (WSGI)", lambda: post(chained), lambda: post(site)
    )
    yield switched(
        "letter page from process memory",
        "PUBLIC_PAGE_LOCAL_TIER",
        lambda: _wsgi_call(site, "GET", f"/letters/{letter.slug}/"),
        before=local_tier_clear,
    )
    yield switched(
        "letter row kept 2 s for the sign path",
        "SIGNING_LETTER_TTL",
        lambda: selectors.letter_for_signing(slug=letter.slug),
        values=(2.0, 0),
        before=selectors._signing_letters.clear,
    )


def service_tricks() -> Iterator[Result]:
    """The tricks under every request and in the email sender."""
    yield switched(
        "rate-limit windows in one Lua call",
        "REDIS_COUNTER_SCRIPT",
        lambda: count_in_windows([("speed:a", 60), ("speed:b", 86400)]),
    )
    location = settings.CACHES["default"]["LOCATION"]
    shared, plain = SharedClientCache(location, {}), DjangoRedisCache(location, {})
    yield compare(
        "one redis.Redis per pool (cache.get)",
        lambda: lambda: shared.get("speed:x"),
        lambda: lambda: plain.get("speed:x"),
    )
    connection.ensure_connection()
    raw = connection.connection
    yield compare(
        "no health round trip for a busy connection",
        lambda: lambda: check_unless_recent(raw),
        lambda: lambda: ConnectionPool.check_connection(raw),
    )
    message = build_email(
        name="signature-confirm",
        to="someone@example.org",
        context={"confirm_url": "http://x/s/t/", "max_age_days": 3, "pending_days": 7},
        language=settings.LANGUAGE_CODE,
    )
    yield switched(
        "header classes made once (email to MIME)", "EMAIL_HEADER_CLASSES_CACHED", message.message
    )


def main() -> None:
    logging.getLogger("django.request").setLevel(logging.ERROR)
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("speed.measure needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        call_command("load_demo", stdout=io.StringIO())
        letter = Letter.objects.get(slug="northwind-ice")
        caches["default"].clear()
        print(f"{'trick (ms per operation, on/off)':<46}" + "".join(f"{c:>21}" for c in COLUMNS))
        for trick, on, off in itertools.chain(request_tricks(letter), service_tricks()):
            cells = [
                f"{on[i]:.3f}/{off[i]:.3f} {1 - on[i] / off[i]:4.0%}" if off[i] else "-"
                for i in range(3)
            ]
            if trick in THROUGH_WSGI:  # a request may use another pooled backend
                cells[2] = "-"
            print(f"{trick:<46}" + "".join(f"{c:>21}" for c in cells))
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
