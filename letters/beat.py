"""Periodic tasks (celery beat, CELERY_BEAT_SCHEDULE): each calls one
service.  Apart from `letters.tasks` because these call services, which
enqueue the email tasks: imports run one way (services → tasks)."""

from __future__ import annotations

from celery import shared_task

from letters import services


@shared_task
def counts_fold() -> int:
    return services.counts_fold_all()


@shared_task
def counts_recount() -> int:
    return services.counts_recount_all()


@shared_task
def signatures_resend_unsent() -> int:
    """The outbox sweep: if any email is owed and free, make sure a sender
    runs (the signal was lost: Redis or the broker was down, a task died)."""
    return services.signatures_resend_unsent()


@shared_task
def signatures_delete_stale() -> int:
    return services.signatures_delete_stale()


@shared_task
def signatures_erase_retained() -> int:
    return services.signatures_erase_retained()


@shared_task
def letters_close_due() -> int:
    return services.letters_close_due()


@shared_task
def letters_mark_overdue() -> int:
    return services.letters_mark_overdue()
