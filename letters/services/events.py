"""The public timeline.  `event_record` writes every LetterEvent and decides,
by kind, who is told (on commit, through Celery):

- signer news (`SIGNER_NEWS`): emailed to confirmed signers who opted in;
- leadership acting (`ORGANISER_NEWS`): the letter's organisers are emailed;
- a new version: signers of earlier versions who opted in are told what
  changed (the letter's `current_version` is the new one).
"""

from __future__ import annotations

from accounts.models import User
from letters.models import EventKind, Letter, LetterEvent
from letters.queue import enqueue

SIGNER_NEWS = frozenset(
    {EventKind.DELIVERED, EventKind.ACKNOWLEDGED, EventKind.RESPONSE, EventKind.UPDATE}
)
ORGANISER_NEWS = frozenset({EventKind.ACKNOWLEDGED, EventKind.RESPONSE})


def event_record(
    *, letter: Letter, kind: EventKind, text: str = "", by: User | None = None
) -> LetterEvent:
    """Write a timeline event (by an organiser, or by leadership or the beat
    when `by` is None) and enqueue the emails its kind calls for."""
    event = LetterEvent.objects.create(letter=letter, kind=kind, text=text, created_by=by)
    if kind in SIGNER_NEWS:
        enqueue("notify_event", event.pk)
    if kind in ORGANISER_NEWS:
        enqueue("notify_organisers", event.pk)
    if kind == EventKind.NEW_VERSION:
        assert letter.current_version is not None
        enqueue("notify_new_version", letter.pk, letter.current_version.number)
    return event
