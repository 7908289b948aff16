"""Counts: exact within the count interval, no hot row, safe under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from letters import services
from letters.models import CountDelta, Letter, LetterStats, Signature, SignatureStatus
from letters.selectors import letter_counts
from letters.tests.factories import confirmed_signature

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(i) in n threads released together; each thread has its own connection."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_hundred_concurrent_identical_signs_store_one_row(open_letter):
    results = run_concurrently(
        100,
        lambda i: services.signature_create(
            letter=open_letter, email="same@example.org", name="Same Person"
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Signature.objects.count() == 1
    assert Signature.objects.get().emails_requested <= 5


def test_ten_concurrent_confirms_confirm_once_and_count_one(open_letter):
    services.signature_create(letter=open_letter, email="click@example.org", name="Clicky")
    signature = Signature.objects.get()

    results = run_concurrently(10, lambda i: services.signature_confirm(signature=signature))

    assert results.count(True) == 1, results
    assert CountDelta.objects.count() == 1
    assert letter_counts(letter_id=open_letter.pk).confirmed == 1


def test_signing_and_confirming_never_write_the_letter_or_its_stats(open_letter):
    with CaptureQueriesContext(connection) as sign_queries:
        services.signature_create(letter=open_letter, email="q@example.org", name="Q")
    signature = Signature.objects.get()
    with CaptureQueriesContext(connection) as confirm_queries:
        services.signature_confirm(signature=signature)

    shared = {f'"{t}"' for t in (Letter._meta.db_table, LetterStats._meta.db_table)}
    written = []
    for query in [*sign_queries.captured_queries, *confirm_queries.captured_queries]:
        words = query["sql"].split()
        if words[0] == "UPDATE":
            written.append(words[1])
        elif words[:2] in (["INSERT", "INTO"], ["DELETE", "FROM"]):
            written.append(words[2])
    assert '"letters_signature"' in written  # the capture sees the writes
    assert not shared & set(written), written


def test_fold_moves_deltas_into_stats_and_the_count_stays_exact(open_letter):
    for n in range(3):
        confirmed_signature(open_letter, name=f"S{n}", email=f"s{n}@example.org")
    assert CountDelta.objects.count() == 3
    assert letter_counts(letter_id=open_letter.pk).confirmed == 3

    services.counts_fold(letter_id=open_letter.pk)

    assert CountDelta.objects.count() == 0
    assert LetterStats.objects.get(pk=open_letter.pk).confirmed == 3
    assert letter_counts(letter_id=open_letter.pk).confirmed == 3


def test_recount_repairs_drift_without_double_counting_unfolded_deltas(open_letter):
    for n in range(4):
        confirmed_signature(open_letter, name=f"S{n}", email=f"s{n}@example.org")
    services.counts_fold(letter_id=open_letter.pk)
    LetterStats.objects.filter(pk=open_letter.pk).update(confirmed=999, public=-5)  # drift
    confirmed_signature(open_letter, name="Late", email="late@example.org")  # unfolded delta

    services.counts_recount(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 5
    services.counts_fold(letter_id=open_letter.pk)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 5
    assert letter_counts(letter_id=open_letter.pk).public == 5


def test_concurrent_folds_and_confirms_lose_nothing(open_letter):
    for n in range(40):
        services.signature_create(letter=open_letter, email=f"c{n}@example.org", name=f"C{n}")
    pending = list(Signature.objects.filter(status=SignatureStatus.PENDING))

    def act(i: int) -> Any:
        if i % 5 == 0:
            return services.counts_fold(letter_id=open_letter.pk)
        return services.signature_confirm(signature=pending[i])

    run_concurrently(40, act)
    services.counts_fold(letter_id=open_letter.pk)

    expected = Signature.objects.filter(status=SignatureStatus.CONFIRMED).count()
    assert letter_counts(letter_id=open_letter.pk).confirmed == expected == 32
