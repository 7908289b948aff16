"""News on a letter's timeline, coalesced (issue "What people and clients
see"): delivered, acknowledged and a response that come minutes apart reach
each recipient as one email, listing them in order, a response with its
statement and each demand's answer (in words, with a mark: not colour
alone); a work address still gets only the neutral notice.

The fan-out waits NEWS_WINDOW seconds (services.events).  Here tasks run
in-process; `news_not_due_yet` holds the delayed fan-out back, as the
broker's countdown would, and the tests run it when it comes due.  The same
story through the real worker and SMTP server: tests/test_event_news_worker.py.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from letters import services, tasks
from letters.models import Answer, EventEmail, EventKind, Letter, LetterEvent
from letters.services import events
from letters.tests.factories import confirmed_signature, deliver, signature_of

pytestmark = pytest.mark.django_db(transaction=True)

PERSONAL = "pia.personal@example.org"
GERMAN = "dora.deutsch@example.org"
WORK = "wendy.worker@example.org"
STATEMENT = "We'll <b>review</b> the contract & report back.\nSecond paragraph."


@pytest.fixture
def news_not_due_yet() -> Iterator[list[tuple[Any, Any]]]:
    """The delayed fan-out, asked for but not run (the window has not
    passed): the test runs it with `run_due`.  Yields what was asked for:
    (args, countdown) per request."""
    asked: list[tuple[Any, Any]] = []

    def hold(args: Any = (), countdown: Any = None, **_: Any) -> None:
        asked.append((tuple(args), countdown))

    with mock.patch.object(tasks.notify_letter_news, "apply_async", side_effect=hold):
        yield asked


def run_due(letter: Letter, task_id: str | None = None) -> int:
    """The delayed fan-out comes due (as the worker would run it)."""
    result = tasks.notify_letter_news.apply(args=(letter.pk,), task_id=task_id)
    assert result.successful(), result.traceback
    taken = result.result
    assert isinstance(taken, int)
    return taken


@pytest.fixture
def signers(open_letter: Letter) -> Letter:
    """An English and a German signer who asked for updates, one at a work
    address (the employer reads it) and one who did not ask."""
    confirmed_signature(open_letter, name="Pia", email=PERSONAL, wants_updates=True)
    confirmed_signature(open_letter, name="Dora", email=GERMAN, wants_updates=True, language="de")
    confirmed_signature(
        open_letter, name="Wendy", email=WORK, wants_updates=True, work_address=True
    )
    confirmed_signature(open_letter, name="Quiet", email="quiet@example.org")
    mail.outbox.clear()
    return open_letter


def answer_all(letter: Letter, link: Any) -> None:
    assert letter.current_version is not None
    ids = list(letter.current_version.demands.order_by("position").values_list("id", flat=True))
    services.letter_respond(
        letter=letter,
        statement=STATEMENT,
        answers={ids[0]: Answer.ACCEPTED, ids[1]: Answer.DECLINED, ids[2]: Answer.CONSIDERING},
        link=link,
    )


def to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def html_of(message: Any) -> str:
    (html,) = [content for content, kind in message.alternatives if kind == "text/html"]
    return str(html)


def test_delivered_acknowledged_and_a_response_close_together_are_one_email(
    signers, organiser, news_not_due_yet
):
    _delivery, (issued,) = deliver(signers, organiser)
    services.letter_acknowledge(link=issued.link)
    answer_all(signers, issued.link)

    assert mail.outbox == []  # nothing before the window has passed
    assert news_not_due_yet == [((signers.pk,), events.news_delay())] * 3
    assert events.news_delay() == events.NEWS_WINDOW == 600

    assert run_due(signers) == 3  # the first request to come due takes all three
    assert run_due(signers) == 0  # the others find nothing left
    assert run_due(signers) == 0

    (message,) = to(PERSONAL)
    text = message.body
    order = [text.index(kind) for kind in ("Delivered", "Acknowledged", "Response")]
    assert order == sorted(order)
    assert "Delivered: Casey Chief" in text
    assert "We'll <b>review</b> the contract & report back.\nSecond paragraph." in text
    assert "1. Condemn the agency's actions\n   ✓ Accepted" in text
    assert "2. End the contract\n   ✗ Declined" in text
    assert "3. Publish an ethics policy\n   … Under consideration" in text
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    html = html_of(message)
    assert "We&#x27;ll &lt;b&gt;review&lt;/b&gt; the contract &amp; report back." in html
    assert "<b>review</b>" not in html
    assert (
        '<li>End the contract: <strong><span aria-hidden="true">✗</span> Declined</strong></li>'
        in html
    )
    assert 'Condemn the agency&#x27;s actions: <strong><span aria-hidden="true">✓</span>' in html
    assert html.index("Delivered") < html.index("Acknowledged") < html.index("Response")

    # The German signer reads the demands as translated, and the answers in German.
    (german,) = to(GERMAN)
    assert "Beenden Sie den Vertrag" in german.body
    assert "End the contract" not in german.body

    # The work mailbox: one neutral notice, naming nothing.
    (neutral,) = to(WORK)
    assert neutral.subject == "News"
    everything = neutral.body + html_of(neutral)
    for secret in ("Casey", "review the contract", "End the contract", signers.title, "Declined"):
        assert secret not in everything

    assert to("quiet@example.org") == []  # did not ask for updates

    # The organiser: one email, leadership's acknowledgement and response.
    (news,) = to(organiser.email)
    assert "Acknowledged: Casey Chief" in news.body
    assert "Delivered" not in news.body  # the organiser recorded that one
    assert "We'll <b>review</b> the contract & report back." in news.body
    assert "2. End the contract\n   ✗ Declined" in news.body
    assert "&lt;b&gt;review&lt;/b&gt;" in html_of(news)
    assert len(mail.outbox) == 4


def test_news_after_the_fan_out_is_its_own_email(signers, organiser, news_not_due_yet):
    deliver(signers, organiser)
    assert run_due(signers) == 1
    services.letter_post_update(letter=signers, by=organiser, text="Meeting on <Friday>")
    assert run_due(signers) == 1

    first, second = to(PERSONAL)
    assert "Delivered" in first.body
    assert "Meeting" not in first.body
    assert "Organiser update: Meeting on <Friday>" in second.body
    assert "Delivered" not in second.body
    assert "Meeting on &lt;Friday&gt;" in html_of(second)


def test_a_fan_out_run_again_sends_nobody_a_second_email(signers, organiser, news_not_due_yet):
    """At-least-once delivery: the same task (same id) runs twice, e.g. its
    worker died after sending.  It finds what it claimed and hands it on
    again; each signer's email task skips what that signer was told."""
    _delivery, (issued,) = deliver(signers, organiser)
    services.letter_acknowledge(link=issued.link)
    task_id = str(uuid.uuid4())

    assert run_due(signers, task_id) == 2
    assert run_due(signers, task_id) == 2  # the same claim, handed on again
    assert run_due(signers) == 0

    assert len(to(PERSONAL)) == 1
    assert len(to(WORK)) == 1
    signature = signature_of(signers, PERSONAL).get()
    event_ids = list(
        signers.events.filter(kind__in=events.SIGNER_NEWS).values_list("pk", flat=True)
    )
    assert EventEmail.objects.filter(signature=signature, event_id__in=event_ids).count() == 2
    again = tasks.send_event_email.apply(args=(event_ids, signature.pk)).result
    assert again == "duplicate"
    assert len(to(PERSONAL)) == 1


def test_two_fan_outs_at_once_never_share_an_event(signers, organiser, news_not_due_yet):
    _delivery, (issued,) = deliver(signers, organiser)
    services.letter_acknowledge(link=issued.link)
    answer_all(signers, issued.link)
    barrier = threading.Barrier(4)
    taken: list[list[int]] = []

    def claim(n: int) -> None:
        try:
            barrier.wait()
            got = events.news_claim(letter_id=signers.pk, claim=f"racer-{n}")
            taken.append([e.pk for e in got])
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    news = list(
        LetterEvent.objects.filter(letter=signers, kind__in=events.NEWS)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    assert sorted(taken, key=len) == [[], [], [], news]


def test_in_process_tasks_email_each_event_at_once(signers, organiser):
    """The embedded mode (no broker): the delayed fan-out runs at once."""
    deliver(signers, organiser)
    (message,) = to(PERSONAL)
    assert "Delivered: Casey Chief" in message.body
    assert signers.events.get(kind=EventKind.DELIVERED).news_claim != ""


# --- The response on the page: each answer distinct without colour ------------------------


def test_each_answer_has_its_word_and_its_own_mark_on_the_page(signers, organiser):
    _delivery, (issued,) = deliver(signers, organiser)
    assert signers.current_version is not None
    ids = list(signers.current_version.demands.order_by("position").values_list("id", flat=True))
    services.letter_respond(
        letter=signers,
        statement="Mixed news.",
        answers={ids[0]: Answer.ACCEPTED, ids[1]: Answer.DECLINED},
        link=issued.link,
    )
    pages = [
        Client().get(signers.get_absolute_url()).content.decode(),
        Client().get(f"/l/{issued.token}/").content.decode(),
    ]
    for page in pages:
        for answer, mark in (("accepted", "✓"), ("declined", "✗"), ("no_answer", "–")):
            assert (
                f'<span class="answer-badge answer-badge-{answer}">'
                '<span class="visually-hidden">Answer: </span>'
                f'<span class="answer-mark" aria-hidden="true">{mark}</span> '
                f'<strong class="answer answer-{answer}">{Answer(answer).label}</strong></span>'
            ) in page


def test_news_whose_delayed_task_was_lost_is_sent_by_the_beat_sweep(
    signers: Letter, organiser: Any, news_not_due_yet: list[tuple[Any, Any]]
) -> None:
    """The broker lost the delayed fan-out (held back here and never run):
    nothing is sent before NEWS_OVERDUE; after it, the sweep sends the news
    once, and a second sweep sends nothing more."""
    deliver(signers, organiser)
    assert news_not_due_yet  # asked for, never run
    assert tasks.news_send_overdue.apply().result == 0  # not overdue yet
    assert mail.outbox == []

    LetterEvent.objects.filter(letter=signers).update(
        created_at=timezone.now() - timedelta(seconds=events.NEWS_OVERDUE + 1)
    )
    assert tasks.news_send_overdue.apply().result == 1
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([PERSONAL, GERMAN, WORK])
    assert tasks.news_send_overdue.apply().result == 0
    assert len(mail.outbox) == 3
