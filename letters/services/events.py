"""The public timeline.  `event_record` writes every LetterEvent and decides,
by kind, who is told (on commit, through Celery):

- signer news (`SIGNER_NEWS`): emailed to confirmed signers who opted in;
- leadership acting (`ORGANISER_NEWS`): the letter's organisers are emailed;
- a new version: signers of earlier versions who opted in are told what
  changed (the letter's `current_version` is the new one).

News is coalesced: delivered, acknowledged and a response often come
minutes apart, and three emails in a row are two too many.  Recording news
asks for `notify_letter_news` NEWS_WINDOW seconds later; when it runs, it
claims every event of the letter nobody has emailed yet (one conditional
UPDATE: whichever task runs first takes them all, the others find none) and
fans them out together, so each recipient gets one email listing them in
order.  The first event's task is the one that sends: news waits at most
NEWS_WINDOW, and events within it share an email.  A task run again
(at-least-once delivery: a worker died) finds what it claimed itself by
its task id and sends it on; each signer's email task then skips the
events that signer was already emailed (EventEmail).

Where tasks run in-process (no broker: `make run`, Celery eager mode) the
task runs at once, so each event is emailed at once, on its own.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from letters.models import Employer, EventKind, Letter, LetterEvent, Response
from letters.queue import enqueue, send

SIGNER_NEWS = frozenset(
    {
        EventKind.DELIVERED,
        EventKind.ACKNOWLEDGED,
        EventKind.RESPONSE,
        EventKind.UPDATE,
        EventKind.WENT_PUBLIC,  # an internal letter (services.internal)
    }
)
ORGANISER_NEWS = frozenset({EventKind.ACKNOWLEDGED, EventKind.RESPONSE})
NEWS = SIGNER_NEWS | ORGANISER_NEWS

# Seconds between the first unsent news of a letter and the one email about
# it and whatever else happened meanwhile.  Kept below the broker's
# visibility timeout (a task waiting longer would be handed out twice).
NEWS_WINDOW = 600


def news_delay() -> int:
    """How long the fan-out of fresh news waits (see NEWS_WINDOW)."""
    return max(0, min(NEWS_WINDOW, settings.CELERY_VISIBILITY_TIMEOUT - 120))


def event_record(
    *,
    letter: Letter,
    kind: EventKind,
    text: str = "",
    by: User | None = None,
    response: Response | None = None,
    employer: Employer | None = None,
) -> LetterEvent:
    """Write a timeline event (by an organiser, or by leadership or the beat
    when `by` is None) and ask for the emails its kind calls for.
    `employer`: whose leadership it is about, on a coalition letter."""
    event = LetterEvent.objects.create(
        letter=letter, kind=kind, text=text, created_by=by, response=response, employer=employer
    )
    if kind in NEWS:
        enqueue("notify_letter_news", letter.pk, countdown=news_delay())
    if kind == EventKind.NEW_VERSION:
        assert letter.current_version is not None
        enqueue("notify_new_version", letter.pk, letter.current_version.number)
    return event


def news_claim(*, letter_id: int, claim: str) -> list[LetterEvent]:
    """Take every news event of the letter that no fan-out took yet, for
    `claim` (a task id), and return what `claim` holds, oldest first (what
    it took before too, if it runs again).  One conditional UPDATE: two
    fan-outs at once never share an event (PostgreSQL re-checks the
    condition on rows another UPDATE changed meanwhile)."""
    assert claim
    LetterEvent.objects.filter(letter_id=letter_id, news_claim="", kind__in=NEWS).update(
        news_claim=claim
    )
    return list(
        LetterEvent.objects.filter(letter_id=letter_id, news_claim=claim).order_by(
            "created_at", "id"
        )
    )


def letter_news_fan_out(*, letter_id: int, claim: str) -> int:
    """Claim the letter's unsent news and hand it on: one batched fan-out to
    the signers who asked for updates, one email to each organiser.  Returns
    how many events went."""
    events = news_claim(letter_id=letter_id, claim=claim)
    for_signers = [e.pk for e in events if e.kind in SIGNER_NEWS]
    for_organisers = [e.pk for e in events if e.kind in ORGANISER_NEWS]
    if for_signers:
        send("notify_event", for_signers)
    if for_organisers:
        send("notify_organisers", for_organisers)
    return len(events)


# News no fan-out claimed this long after it happened had its delayed task
# lost (the broker restarted, a message expired): the beat sends it then.
NEWS_OVERDUE = NEWS_WINDOW + 300


def news_send_overdue() -> int:
    """The safety net under the delayed fan-out (beat, every few minutes):
    fan out, now, the news of every letter that has news older than
    NEWS_OVERDUE that nobody claimed.  The same claim as the task's, so
    it never sends what a task (or another sweep, a second beat's) already
    took.  Returns how many letters' news it sent."""
    since = timezone.now() - timedelta(seconds=NEWS_OVERDUE)
    letters = set(
        LetterEvent.objects.filter(news_claim="", kind__in=NEWS, created_at__lte=since)
        .values_list("letter_id", flat=True)
        .distinct()
    )
    sent = 0
    for letter_id in sorted(letters):
        if letter_news_fan_out(letter_id=letter_id, claim=f"sweep-{uuid.uuid4()}"):
            sent += 1
    return sent
