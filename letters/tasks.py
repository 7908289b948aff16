"""Celery tasks: thin.  Ids in, call one service, retry transient SMTP
errors with backoff.  Every task is safe to run twice.

Imports run one way: tasks import services; services name the tasks they
want run (`letters.queue.enqueue`) and never import this module.  The
periodic ones run from CELERY_BEAT_SCHEDULE, once per interval even if two
beats send them (letters.periodic).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from celery import Task, shared_task
from celery.exceptions import Ignore
from django.conf import settings

from letters import services
from letters.notifications import SmtpTrouble
from letters.periodic import once_per_interval
from letters.queue import send
from letters.services.emailing import TryLater, Undeliverable

logger = logging.getLogger(__name__)


def _retrying[R](task: Task, ref: int, call: Callable[[], R]) -> R:
    """Run one email service call: an email that can never go is logged (by
    type, never with the address) and dropped (`Ignore`); transient SMTP
    trouble is retried with exponential backoff, EMAIL_RETRY_MAX times."""
    try:
        return call()
    except Undeliverable as exc:
        logger.log(exc.level, "%s %s: %s", task.name, ref, exc)
        raise Ignore() from None
    except TryLater as exc:
        retries = task.request.retries or 0
        if retries >= settings.EMAIL_RETRY_MAX:
            logger.error("%s %s: giving up after %s retries: %s", task.name, ref, retries, exc)
            raise Ignore() from None
        countdown = min(settings.EMAIL_RETRY_BACKOFF_MAX, 2 ** (retries + 1))
        raise task.retry(exc=SmtpTrouble(str(exc)), countdown=countdown) from None


# --- The signature email sender -----------------------------------------------


@shared_task(bind=True, acks_late=True)
def send_signature_emails(self: Task) -> dict[str, int]:
    """Send owed signature emails until none are left (or the budget is
    spent); come back when the first postponed one is due."""
    run = services.signature_emails_send()
    if run.retry_at:
        send("send_signature_emails", countdown=run.retry_at)
    return run.totals


# --- News to signers ------------------------------------------------------------


@shared_task
def notify_new_version(letter_id: int, number: int, after_id: int = 0) -> int:
    return services.new_version_fan_out(letter_id=letter_id, number=number, after_id=after_id)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_version_email(self: Task, signature_id: int, number: int) -> str:
    return _retrying(
        self,
        signature_id,
        lambda: services.version_email_send(signature_id=signature_id, number=number),
    )


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_comment_hidden_email(self: Task, signature_id: int) -> str:
    """ "An organiser hid your comment" (services.comments)."""
    return _retrying(
        self,
        signature_id,
        lambda: services.comment_hidden_email_send(signature_id=signature_id),
    )


@shared_task(bind=True)
def notify_letter_news(self: Task, letter_id: int) -> int:
    """Asked for NEWS_WINDOW seconds after news on a letter: claim all of its
    news not emailed yet, under this task's id, and fan it out together."""
    claim = self.request.id or f"direct-{uuid.uuid4()}"  # called, not sent: a claim of its own
    return services.letter_news_fan_out(letter_id=letter_id, claim=claim)


def _ids(event_ids: list[int] | int) -> list[int]:
    """Event ids as tasks carry them (one id: a task sent by an earlier release)."""
    return [event_ids] if isinstance(event_ids, int) else list(event_ids)


@shared_task
def notify_event(event_ids: list[int] | int, after_id: int = 0) -> int:
    return services.event_fan_out(event_ids=_ids(event_ids), after_id=after_id)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_event_email(self: Task, event_ids: list[int] | int, signature_id: int) -> str:
    return _retrying(
        self,
        signature_id,
        lambda: services.event_email_send(event_ids=_ids(event_ids), signature_id=signature_id),
    )


# --- To organisers and leadership -----------------------------------------------


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_organisers(self: Task, event_ids: list[int] | int) -> int:
    ids = _ids(event_ids)
    return _retrying(self, ids[0], lambda: services.organisers_tell_event(event_ids=ids))


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_moderation(self: Task, event_id: int) -> int:
    """The organisers told of a moderators' step (letters.services.reports)."""
    return _retrying(self, event_id, lambda: services.organisers_tell_moderation(event_id=event_id))


@shared_task(bind=True, max_retries=None, acks_late=True)
def notify_milestone(self: Task, letter_id: int, threshold: int) -> int:
    return _retrying(
        self,
        letter_id,
        lambda: services.organisers_tell_milestone(letter_id=letter_id, threshold=threshold),
    )


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_invitation_email(self: Task, invitation_id: int, token: str) -> str:
    return _retrying(
        self,
        invitation_id,
        lambda: services.invitation_email_send(invitation_id=invitation_id, token=token),
    )


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_group_invitation_email(self: Task, invitation_id: int, token: str) -> str:
    return _retrying(
        self,
        invitation_id,
        lambda: services.group_invitation_email_send(invitation_id=invitation_id, token=token),
    )


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_leadership_link(self: Task, link_id: int, email: str, token: str) -> str:
    return _retrying(
        self,
        link_id,
        lambda: services.leadership_link_send(link_id=link_id, email=email, token=token),
    )


# --- Internal letters ---------------------------------------------------------


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_read_pass(self: Task, letter_id: int, sealed: str, language: str) -> str:
    """A reading pass for an internal letter, to a sealed address (services.internal)."""
    return _retrying(
        self,
        letter_id,
        lambda: services.read_pass_send(letter_id=letter_id, sealed=sealed, language=language),
    )


@shared_task
def make_public_at_count(letter_id: int) -> bool:
    """An internal letter whose count reached its threshold goes public."""
    return services.letter_public_at_count_check(letter_id=letter_id)


# --- Periodic (beat) ----------------------------------------------------------
# Each is safe run twice in a row or twice at once (its service says why);
# a duplicate that a second beat sends is skipped (letters.periodic) to
# save the work.  A skipped run returns None.


@shared_task(bind=True)
def counts_fold(self: Task) -> int | None:
    return once_per_interval(self, services.counts_fold_all)


@shared_task(bind=True)
def counts_recount(self: Task) -> int | None:
    return once_per_interval(self, services.counts_recount_all)


@shared_task(bind=True)
def signatures_resend_unsent(self: Task) -> int | None:
    """The outbox sweep: if any email is owed and free, make sure a sender
    runs (the signal was lost: Redis or the broker was down, a task died)."""
    return once_per_interval(self, services.signatures_resend_unsent)


@shared_task(bind=True)
def signatures_delete_stale(self: Task) -> int | None:
    return once_per_interval(self, services.signatures_delete_stale)


@shared_task(bind=True)
def signatures_erase_retained(self: Task) -> int | None:
    return once_per_interval(self, services.signatures_erase_retained)


@shared_task(bind=True)
def letters_close_due(self: Task) -> int | None:
    return once_per_interval(self, services.letters_close_due)


@shared_task(bind=True)
def news_send_overdue(self: Task) -> int | None:
    """The sweep under coalesced news: what a lost delayed task did not send."""
    return once_per_interval(self, services.news_send_overdue)


@shared_task(bind=True)
def letters_mark_overdue(self: Task) -> int | None:
    return once_per_interval(self, services.letters_mark_overdue)
