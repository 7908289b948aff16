"""The public pages' two cache tiers (`letters.http.public_response`): each
process answers from its own memory until the copy's count interval is over,
then from the shared cache.  What a visitor notices: a revalidation costs
nothing, an organiser's change still shows within the count interval in
every process, and the pages keep answering with the cache down."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from letters import http, services
from letters.http import CachedBody, LocalCopy, new_local_tier
from letters.models import Letter
from letters.tests.factories import confirmed_signature

pytestmark = pytest.mark.django_db(transaction=True)

INTERVAL = 1


@pytest.fixture(autouse=True)
def _short_interval(settings: Any) -> None:
    settings.COUNT_INTERVAL = INTERVAL


@pytest.fixture
def redis_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every command any Redis client sends from now on."""
    calls: list[tuple[Any, ...]] = []
    original = redis.Redis.execute_command

    def counting(self: redis.Redis, *args: Any, **options: Any) -> Any:
        calls.append(args)
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return calls


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """`switch(n)`: from now on this test process behaves as gunicorn worker
    n, with that worker's own memory tier (the shared cache is the same)."""
    tiers: dict[int, Any] = {}

    def switch(n: int) -> None:
        tier = tiers.setdefault(n, new_local_tier(http.LOCAL_MAX_ENTRIES, http.LOCAL_MAX_BYTES))
        monkeypatch.setattr(http, "_local", tier)

    return switch


def wait_for_the_count_interval() -> None:
    time.sleep(INTERVAL + 0.1)


@pytest.fixture(autouse=True)
def _memory_tier_on(settings: Any) -> None:
    """These tests are about the memory tier (speed/memory.py): on, whatever
    PUBLIC_PAGE_LOCAL_TIER says."""
    settings.SPEED = {**settings.SPEED, "PUBLIC_PAGE_LOCAL_TIER": True}


def test_a_304_is_answered_from_memory_with_no_query_and_no_cache_call(
    client: Client, open_letter: Letter, redis_calls: list[Any], django_assert_num_queries: Any
) -> None:
    url = open_letter.get_absolute_url()
    api_url = reverse("api_letter", kwargs={"slug": open_letter.slug})
    first = client.get(url)
    api = client.get(api_url)
    redis_calls.clear()

    with django_assert_num_queries(0):
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        api_again = client.get(api_url, HTTP_IF_NONE_MATCH=api["ETag"])
        full = client.get(url)

    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]
    assert again["Cache-Control"] == first["Cache-Control"]
    assert api_again.status_code == 304
    assert full.content == first.content
    assert redis_calls == []


def test_a_process_asks_the_shared_cache_again_once_its_copy_is_stale(
    client: Client, open_letter: Letter, redis_calls: list[Any]
) -> None:
    url = open_letter.get_absolute_url()
    client.get(url)
    redis_calls.clear()

    wait_for_the_count_interval()
    client.get(url)

    assert "GET" in [c[0] for c in redis_calls]


def _edit_title(letter: Letter, organiser: Any) -> str:
    services.letter_edit(
        letter=letter,
        by=organiser,
        data=services.LetterInput(
            title="Stop the contract now",
            body="Dear CEO,\n\nWe, the undersigned employees, ask you to act today.",
            demands=["End the contract"],
            addressees=[("Casey Chief", "CEO")],
            goal=100,
            change_note="Shorter and sharper",
        ),
    )
    return "Shorter and sharper"


def _close(letter: Letter, organiser: Any) -> str:
    services.letter_close(letter=letter, by=organiser)
    return "Read the letter"


def _post_update(letter: Letter, organiser: Any) -> str:
    services.letter_post_update(letter=letter, by=organiser, text="We met the board today.")
    return "We met the board today."


@pytest.mark.parametrize(
    ("change", "where"),
    [(_edit_title, "page"), (_close, "embed"), (_post_update, "page"), (_post_update, "api")],
)
def test_an_organisers_change_shows_in_every_process_within_the_count_interval(
    client: Client,
    open_letter: Letter,
    organiser: Any,
    processes: Callable[[int], None],
    change: Callable[[Letter, Any], str],
    where: str,
) -> None:
    url = {
        "page": open_letter.get_absolute_url(),
        "embed": reverse("letter_embed", kwargs={"slug": open_letter.slug}),
        "api": reverse("api_letter", kwargs={"slug": open_letter.slug}),
    }[where]
    for worker in (1, 2):  # both workers hold the old copy in memory
        processes(worker)
        assert client.get(url).status_code == 200

    shown = change(open_letter, organiser)
    wait_for_the_count_interval()

    for worker in (2, 1):
        processes(worker)
        assert shown in client.get(url).content.decode(), worker


def test_a_withdrawn_public_signer_disappears_from_every_process(
    client: Client, open_letter: Letter, processes: Callable[[int], None]
) -> None:
    signature = confirmed_signature(open_letter, name="Wanda Withdrawn", email="w@example.org")
    url = open_letter.get_absolute_url()
    for worker in (1, 2):
        processes(worker)
        assert "Wanda Withdrawn" in client.get(url).content.decode()

    services.signature_withdraw(signature_id=signature.pk)
    wait_for_the_count_interval()

    for worker in (1, 2):
        processes(worker)
        assert "Wanda Withdrawn" not in client.get(url).content.decode()


def test_with_the_cache_down_a_process_rebuilds_at_most_once_per_count_interval(
    client: Client, open_letter: Letter, settings: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "KEY_PREFIX": "down",
        }
    }
    url = open_letter.get_absolute_url()

    with CaptureQueriesContext(connection) as built:
        first = client.get(url)
    with CaptureQueriesContext(connection) as served:
        again = client.get(url)
        revalidated = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == again.status_code == 200
    assert revalidated.status_code == 304
    assert len(built) > 0
    assert len(served) == 0
    confirmed_signature(open_letter, name="Late Signer", email="late@example.org")

    wait_for_the_count_interval()
    with CaptureQueriesContext(connection) as rebuilt:
        later = client.get(url)
    assert "Late Signer" in later.content.decode()
    assert len(rebuilt) > 0
    assert not [q for q in rebuilt if "GROUP BY" in q["sql"] and "letters_signature" in q["sql"]]


def test_chart_and_api_days_add_up_to_the_exact_count_between_day_recounts(
    client: Client, open_letter: Letter, settings: Any
) -> None:
    """The per-day GROUP BY runs once per CHART_CACHE_SECONDS; in between the
    total stays exact and the days still add up to it."""
    settings.CHART_CACHE_SECONDS = 300
    signatures = [
        confirmed_signature(open_letter, name=f"S{n}", email=f"s{n}@example.org") for n in range(6)
    ]
    url = reverse("api_letter_counts", kwargs={"slug": open_letter.slug})
    today = timezone.localdate().isoformat()
    assert json.loads(client.get(url).content)["days"] == [
        {"date": today, "count": 6, "suppressed": False}
    ]

    confirmed_signature(open_letter, name="S6", email="s6@example.org")
    confirmed_signature(open_letter, name="S7", email="s7@example.org")
    services.signature_withdraw(signature_id=signatures[0].pk)
    wait_for_the_count_interval()
    with CaptureQueriesContext(connection) as queries:
        data = json.loads(client.get(url).content)
        page = client.get(open_letter.get_absolute_url()).content.decode()

    assert data["confirmed_count"] == 7
    assert data["days"] == [{"date": today, "count": 7, "suppressed": False}]
    assert "7 verified signatures" in page
    assert "<td>7</td>" in page  # the chart's text alternative agrees
    assert not [q for q in queries if "GROUP BY" in q["sql"] and "letters_signature" in q["sql"]]


@pytest.mark.parametrize("page", ["letter", "signatories", "api", "api_counts", "embed"])
def test_a_rebuild_reads_signatures_only_a_page_at_a_time(
    client: Client, open_letter: Letter, page: str
) -> None:
    """What a 1M-signature letter's rebuild costs (every COUNT_INTERVAL): no
    query over every signature (counts come from the folded stats, per-day
    counts from their own cache), only the LIMITed keyset page of public
    signers."""
    for n in range(12):
        confirmed_signature(open_letter, name=f"S{n}", email=f"s{n}@example.org")
    slug = {"slug": open_letter.slug}
    url = {
        "letter": open_letter.get_absolute_url(),
        "signatories": reverse("letters:signatories", kwargs=slug),
        "api": reverse("api_letter", kwargs=slug),
        "api_counts": reverse("api_letter_counts", kwargs=slug),
        "embed": reverse("letter_embed", kwargs=slug),
    }[page]
    assert client.get(url).status_code == 200
    wait_for_the_count_interval()

    with CaptureQueriesContext(connection) as rebuild:
        assert client.get(url).status_code == 200

    assert len(rebuild) > 0  # it was rebuilt
    scans = [q["sql"] for q in rebuild if '"letters_signature"' in q["sql"]]
    assert all(" LIMIT " in sql and "GROUP BY" not in sql for sql in scans), scans


def _copy(body: bytes) -> LocalCopy:
    cached = CachedBody(body, "text/plain", '"x"', 0, time.time() + 60)
    return LocalCopy(cached, "", "")


def test_the_memory_tier_is_bounded_in_entries_and_bytes() -> None:
    tier = new_local_tier(max_entries=3, max_bytes=100)
    for n in range(5):
        tier.put(f"k{n}", _copy(b"x" * 10))
    assert len(tier) == 3
    assert tier.get("k0") is None
    assert tier.get("k4") is not None

    tier.get("k2")  # recently used: kept
    tier.put("big", _copy(b"x" * 90))
    assert tier.get("k2") is None or tier.get("k3") is None
    assert tier.get("big") is not None
    assert sum(len(c.cached.body) for c in tier._copies.values()) <= 100

    tier.put("huge", _copy(b"x" * 101))  # larger than the whole tier: not kept
    assert tier.get("huge") is None
