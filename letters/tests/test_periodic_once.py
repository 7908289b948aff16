"""Two beats started by mistake: no periodic task does double work.

Each periodic task of CELERY_BEAT_SCHEDULE runs twice at once here (threads,
each with its own database connection, released together; the guard is not
involved: the calls are direct), then once more after, and nobody can
tell: counts are exact, each email goes once, each event is recorded once.
The database makes that so (letters.periodic).  Then the guard itself: a
run beat sent (Celery's own beat code, in-process, and a message through
Redis to a real worker) is skipped when another ran within half the
interval; with Redis down it runs, and is still right.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery.beat import Scheduler
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from config.celery import app as celery_app
from letters import periodic, services, tasks
from letters.models import (
    AuditLog,
    CountDelta,
    Display,
    EventEmail,
    EventKind,
    Letter,
    LetterEvent,
    LetterStats,
    LetterStatus,
    Milestone,
    Signature,
)
from letters.selectors import letter_counts
from letters.tests.factories import (
    ORGANISER,
    confirmed_signature,
    current,
    deliver,
    open_letter,
    pending_signature,
)

pytestmark = pytest.mark.django_db(transaction=True)

TWICE = 2  # two beats
AT_ONCE = 4  # and a backlog: more runs at once than two beats would send


def at_once(n: int, fn: Callable[[], Any]) -> list[Any]:
    """fn() in n threads released together, each on its own connection;
    an exception is returned, not raised."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


def emails_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def no_email_twice() -> None:
    """No one got the same email twice (same recipient, same subject)."""
    sent = Counter((tuple(m.to), m.subject) for m in mail.outbox)
    assert [key for key, n in sent.items() if n > 1] == []


def opted_in(letter: Letter, n: int, prefix: str = "fan") -> list[str]:
    """n confirmed signers of `letter` who asked for updates; their addresses."""
    addresses = [f"{prefix}{i}@example.org" for i in range(n)]
    for i, address in enumerate(addresses):
        confirmed_signature(letter, name=f"Fan {i}", email=address, wants_updates=True)
    return addresses


# --- Each task, twice at once --------------------------------------------------------


def test_folds_at_once_count_each_signature_once_and_tell_a_milestone_once(
    open_letter: Letter,
) -> None:
    for i in range(12):
        confirmed_signature(
            open_letter,
            name=f"Signer {i}",
            display=Display.PUBLIC if i % 3 else Display.ANONYMOUS,
        )
    mail.outbox.clear()
    assert CountDelta.objects.filter(letter=open_letter).count() == 12

    at_once(AT_ONCE, services.counts_fold_all)

    stats = LetterStats.objects.get(letter=open_letter)
    assert (stats.confirmed, stats.public) == (12, 8)
    assert not CountDelta.objects.filter(letter=open_letter).exists()
    assert letter_counts(letter_id=open_letter.pk).confirmed == 12
    assert list(
        Milestone.objects.filter(letter=open_letter).values_list("threshold", flat=True)
    ) == [10]
    assert len(emails_to(ORGANISER.email)) == 1  # "10 signatures", once

    assert services.counts_fold_all() == 0
    assert len(mail.outbox) == 1


def test_recounts_at_once_with_folds_leave_the_counts_exact(open_letter: Letter) -> None:
    """A recount sets the figures (true counts less the deltas not folded
    yet) under the same lock as the fold: two beats' recounts and folds,
    all at once, agree."""
    for i in range(6):
        confirmed_signature(open_letter, name=f"Signer {i}")
    services.counts_fold_all()
    for i in range(4):
        confirmed_signature(open_letter, name=f"Later {i}", display=Display.ANONYMOUS)
    mail.outbox.clear()

    def recount_then_fold() -> int:
        services.counts_recount_all()
        return services.counts_fold_all()

    at_once(AT_ONCE, recount_then_fold)

    stats = LetterStats.objects.get(letter=open_letter)
    assert (stats.confirmed, stats.public) == (10, 6)
    assert letter_counts(letter_id=open_letter.pk).confirmed == 10
    assert services.counts_recount_all() == 1
    assert LetterStats.objects.get(letter=open_letter).confirmed == 10
    assert len(emails_to(ORGANISER.email)) == 1  # "10 signatures", once
    assert len(mail.outbox) == 1


def test_sweeps_at_once_send_each_owed_confirmation_email_once(open_letter: Letter) -> None:
    """The emails' signal was lost (Redis or the broker was down): rows owe
    their email; two beats' sweeps both find them."""
    addresses = [f"owed{i}@example.org" for i in range(6)]
    for i, address in enumerate(addresses):
        pending_signature(open_letter, name=f"Owed {i}", email=address, emails_sent=0)
    mail.outbox.clear()

    at_once(AT_ONCE, services.signatures_resend_unsent)

    for address in addresses:
        assert len(emails_to(address)) == 1, address
    assert not Signature.objects.filter(emails_sent__lt=1).exists()
    assert services.signatures_resend_unsent() == 0
    assert len(mail.outbox) == len(addresses)


def test_closing_sweeps_at_once_close_each_letter_once(organiser: Any) -> None:
    due = [open_letter(owner=organiser, slug=f"due-{i}") for i in range(2)]
    later = open_letter(owner=organiser, slug="not-yet")
    for letter in due:
        opted_in(letter, 3, prefix=f"{letter.slug}-")
    Letter.objects.filter(pk__in=[letter.pk for letter in due]).update(
        closes_at=timezone.now() - timedelta(minutes=1)
    )
    Letter.objects.filter(pk=later.pk).update(closes_at=timezone.now() + timedelta(days=1))
    mail.outbox.clear()

    results = at_once(AT_ONCE, services.letters_close_due)

    assert sum(results) == len(due)
    for letter in due:
        assert current(letter).status == LetterStatus.CLOSED
        assert letter.events.filter(kind=EventKind.CLOSED).count() == 1
    assert current(later).status == LetterStatus.OPEN
    assert services.letters_close_due() == 0
    no_email_twice()


def test_deadline_sweeps_at_once_mark_a_passed_deadline_once(
    open_letter: Letter, organiser: Any
) -> None:
    opted_in(open_letter, 3)
    deliver(open_letter, organiser, respond_by=timezone.now() + timedelta(days=1))
    Letter.objects.filter(pk=open_letter.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    mail.outbox.clear()
    events_before = LetterEvent.objects.filter(letter=open_letter).count()

    results = at_once(AT_ONCE, services.letters_mark_overdue)

    assert sum(results) == 1
    assert open_letter.events.filter(kind=EventKind.DEADLINE_PASSED).count() == 1
    assert LetterEvent.objects.filter(letter=open_letter).count() == events_before + 1
    assert services.letters_mark_overdue() == 0
    no_email_twice()


def test_news_sweeps_at_once_email_each_signer_and_organiser_once(
    open_letter: Letter, organiser: Any
) -> None:
    """News whose delayed fan-out the broker lost (the events are there, no
    task will come): two beats' sweeps both find it overdue."""
    fans = opted_in(open_letter, 5)
    confirmed_signature(open_letter, name="Quiet", email="quiet@example.org")  # did not ask
    overdue = timezone.now() - timedelta(seconds=services.events.NEWS_OVERDUE + 1)
    news = [
        LetterEvent.objects.create(
            letter=open_letter,
            kind=EventKind.UPDATE,
            text="We met the board.",
            created_by=organiser,
        ),
        LetterEvent.objects.create(
            letter=open_letter, kind=EventKind.ACKNOWLEDGED, text="Casey Chief"
        ),
    ]
    LetterEvent.objects.filter(pk__in=[e.pk for e in news]).update(created_at=overdue)
    mail.outbox.clear()

    results = at_once(AT_ONCE, services.news_send_overdue)

    assert sum(results) == 1  # one letter's news, fanned out by one sweep
    for address in fans:
        (email,) = emails_to(address)
        assert "We met the board." in email.body
    assert emails_to("quiet@example.org") == []
    assert len(emails_to(ORGANISER.email)) == 1  # leadership acknowledged
    assert EventEmail.objects.count() == len(fans) * len(news)
    assert len({e.news_claim for e in LetterEvent.objects.filter(pk__in=[e.pk for e in news])}) == 1

    assert services.news_send_overdue() == 0
    assert len(mail.outbox) == len(fans) + 1


def test_retention_sweeps_at_once_erase_each_row_once_and_audit_it_once(
    open_letter: Letter, settings: Any
) -> None:
    kept = [confirmed_signature(open_letter, name=f"Kept {i}") for i in range(8)]
    for i in range(3):
        pending_signature(open_letter, name=f"Never confirmed {i}")
    services.letter_close(letter=open_letter)
    LetterEvent.objects.filter(letter=open_letter, kind=EventKind.CLOSED).update(
        created_at=timezone.now() - timedelta(days=settings.RETENTION_DAYS + 1)
    )

    results = at_once(TWICE, services.signatures_erase_retained)

    assert sum(results) == len(kept)
    rows = Signature.objects.filter(letter=open_letter)
    assert rows.count() == len(kept)  # the pending ones deleted
    assert not rows.filter(erased_at__isnull=True).exists()
    assert not rows.exclude(name="").exists()
    entries = AuditLog.objects.filter(action="retention.erase", letter=open_letter)
    assert sum(int(e.details["count"]) for e in entries) == len(kept)
    assert all(int(e.details["count"]) for e in entries)  # no entry for nothing done

    assert services.signatures_erase_retained() == 0
    assert AuditLog.objects.filter(action="retention.erase").count() == entries.count()
    assert letter_counts(letter_id=open_letter.pk).confirmed == len(kept)  # counts stay


def test_stale_sweeps_at_once_delete_each_stale_row_once(
    open_letter: Letter, settings: Any
) -> None:
    old = timezone.now() - timedelta(seconds=settings.SIGNATURE_PENDING_MAX_AGE + 60)
    stale = [pending_signature(open_letter, name=f"Stale {i}").pk for i in range(5)]
    Signature.objects.filter(pk__in=stale).update(created_at=old)
    fresh = pending_signature(open_letter, name="Fresh")
    signer = confirmed_signature(open_letter, name="Confirmed")

    results = at_once(AT_ONCE, services.signatures_delete_stale)

    assert sum(results) == 5
    assert set(Signature.objects.values_list("pk", flat=True)) == {fresh.pk, signer.pk}
    assert services.signatures_delete_stale() == 0


def test_every_periodic_task_is_proven_here() -> None:
    """A periodic task added later needs its twice-at-once test above."""
    proven = {
        "counts_fold", "counts_recount", "signatures_resend_unsent", "letters_close_due",
        "letters_mark_overdue", "news_send_overdue", "signatures_erase_retained",
        "signatures_delete_stale",
    }  # fmt: skip
    scheduled = {
        str(e["task"]).removeprefix("letters.tasks.")
        for e in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert scheduled == proven


# --- The guard: a second beat's run is skipped ---------------------------------------


def beat_sends(task: str) -> Any:
    """Celery's own beat scheduler, with our schedule, sends `task` now (its
    entry, as if due), marked as beat marks every message; the run is eager
    (in this process).  Returns the run's result."""
    beat = Scheduler(app=celery_app)
    (entry,) = [e for e in beat.schedule.values() if e.task == f"letters.tasks.{task}"]
    result = beat.apply_async(entry, advance=False)
    assert result.successful(), result.traceback
    return result.result


def due_letter(organiser: Any, slug: str) -> Letter:
    letter = open_letter(owner=organiser, slug=slug)
    Letter.objects.filter(pk=letter.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    return letter


def test_a_second_beats_run_within_half_the_interval_is_skipped(organiser: Any) -> None:
    first = due_letter(organiser, "first")
    assert beat_sends("letters_close_due") == 1
    assert current(first).status == LetterStatus.CLOSED

    second = due_letter(organiser, "second")
    assert beat_sends("letters_close_due") is None  # skipped
    assert current(second).status == LetterStatus.OPEN

    # Not sent by beat (by hand, `make run`'s run_periodic): never skipped.
    assert tasks.letters_close_due.apply().result == 1
    assert current(second).status == LetterStatus.CLOSED


def test_the_guard_lasts_half_the_interval_and_is_per_task(settings: Any) -> None:
    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        "counts-fold": {"task": "letters.tasks.counts_fold", "schedule": 0.6},
    }
    assert periodic.first_in_interval("letters.tasks.counts_fold")
    assert not periodic.first_in_interval("letters.tasks.counts_fold")
    assert periodic.first_in_interval("letters.tasks.counts_recount")  # its own key
    assert periodic.first_in_interval("letters.tasks.not_periodic")
    assert periodic.first_in_interval("letters.tasks.not_periodic")

    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    ttl_ms = client.pttl(cache.make_key(periodic.guard_key("letters.tasks.counts_fold")))
    assert 0 < ttl_ms <= 300
    time.sleep(0.35)
    assert periodic.first_in_interval("letters.tasks.counts_fold")


def test_with_redis_down_a_beat_run_still_runs_and_stays_right(
    organiser: Any, settings: Any
) -> None:
    """Correctness never depended on the guard: with the cache gone, both
    beats' runs go, and the letter is still closed once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens there once closed
    letter = due_letter(organiser, "no-redis")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/0",
        }
    }

    results = at_once(TWICE, lambda: beat_sends("letters_close_due"))

    assert sorted(results) == [0, 1]  # both ran; one closed it
    assert letter.events.filter(kind=EventKind.CLOSED).count() == 1


@pytest.fixture
def worker_guard(celery_worker: Any) -> Iterator[Any]:
    """The real worker; the guard of `letters_close_due` free (another test
    may have taken it within the last half minute)."""
    cache.delete(periodic.guard_key("letters.tasks.letters_close_due"))
    yield celery_worker
    cache.delete(periodic.guard_key("letters.tasks.letters_close_due"))


def wait_for_status(letter: Letter, status: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if current(letter).status == status:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.worker
def test_a_worker_skips_a_beat_message_within_half_the_interval(
    organiser: Any, worker_guard: Any
) -> None:
    """The same through Redis and a real worker: beat's mark reaches the
    task as the worker delivers it."""
    beat_mark: Any = {periodic.BEAT_HEADER: True}  # as celery.beat marks its messages
    first = due_letter(organiser, "worker-first")
    tasks.letters_close_due.apply_async(headers=beat_mark)
    assert wait_for_status(first, LetterStatus.CLOSED, 30)

    second = due_letter(organiser, "worker-second")
    tasks.letters_close_due.apply_async(headers=beat_mark)
    assert not wait_for_status(second, LetterStatus.CLOSED, 3)  # skipped

    tasks.letters_close_due.apply_async()  # by hand: runs
    assert wait_for_status(second, LetterStatus.CLOSED, 30)
