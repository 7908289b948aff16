"""Coalesced news through a real Celery worker (Redis broker, the delayed
fan-out's countdown) and a real SMTP server: leadership is sent the letter,
acknowledges it and responds within seconds; after the window each
opted-in signer receives one email listing the three in order, with the
statement and each demand's answer, the work mailbox one neutral notice,
and the organiser one email (issue "What people and clients see")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from letters import services
from letters.models import Answer, Letter
from letters.services import events
from letters.tests.factories import confirmed_signature, deliver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

WINDOW = 5  # seconds, for this test (the site waits events.NEWS_WINDOW)
PERSONAL = "pia.personal@example.org"
WORK = "wendy.worker@example.org"
STATEMENT = "We'll <b>review</b> the contract & report back."


def news_to(smtp: Any, address: str, subject: str) -> list[Any]:
    return [m for m in smtp.to(address) if m.message["Subject"] == subject]


def wait_for_news(smtp: Any, address: str, subject: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = news_to(smtp, address, subject)
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {subject!r} email to {address} in {timeout}s")


def test_delivered_acknowledged_and_responded_within_seconds_is_one_email_each(
    open_letter: Letter, organiser: Any, celery_worker: Any, monkeypatch: Any
) -> None:
    smtp = celery_worker
    monkeypatch.setattr(events, "NEWS_WINDOW", WINDOW)
    letter = open_letter
    confirmed_signature(letter, name="Pia", email=PERSONAL, wants_updates=True)
    confirmed_signature(letter, name="Wendy", email=WORK, wants_updates=True, work_address=True)
    assert letter.current_version is not None
    demands = list(letter.current_version.demands.order_by("position").values_list("id", flat=True))

    started = time.monotonic()
    _delivery, (issued,) = deliver(letter, organiser)
    services.letter_acknowledge(link=issued.link)
    services.letter_respond(
        letter=letter,
        statement=STATEMENT,
        answers={demands[0]: Answer.ACCEPTED, demands[1]: Answer.DECLINED},
        link=issued.link,
    )
    signer_news = "News about a letter you signed"
    if time.monotonic() - started < WINDOW - 1:
        assert news_to(smtp, PERSONAL, signer_news) == []  # the fan-out waits

    message = wait_for_news(smtp, PERSONAL, signer_news, timeout=WINDOW + 30)
    assert message.received_at - started >= WINDOW - 0.5
    time.sleep(WINDOW + 2)  # the later events' fan-outs come due too, and find nothing

    assert news_to(smtp, PERSONAL, signer_news) == [message]
    text = message.text.replace("\r\n", "\n")  # lines end in CRLF on the wire
    positions = [
        text.index(f"{kind}: Casey Chief") for kind in ("Delivered", "Acknowledged", "Response")
    ]
    assert positions == sorted(positions)
    assert STATEMENT in text
    assert "1. Condemn the agency's actions\n   ✓ Accepted" in text
    assert "2. End the contract\n   ✗ Declined" in text
    assert "3. Publish an ethics policy\n   – No answer" in text
    html = message.html
    assert "&lt;b&gt;review&lt;/b&gt; the contract &amp; report back." in html
    assert '<strong><span aria-hidden="true">✗</span> Declined</strong>' in html
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    (neutral,) = news_to(smtp, WORK, "News")
    assert [m.message["Subject"] for m in smtp.to(WORK)] == ["News"]
    for secret in ("Casey", "review", "End the contract", letter.title, "Declined"):
        assert secret not in neutral.text + neutral.html

    (to_organiser,) = news_to(smtp, organiser.email, f"News: {letter.title}")
    organiser_text = to_organiser.text.replace("\r\n", "\n")
    assert "Acknowledged: Casey Chief" in organiser_text
    assert "Delivered" not in organiser_text  # the organiser recorded that one
    assert "2. End the contract\n   ✗ Declined" in organiser_text
    assert STATEMENT in organiser_text

    claims = set(letter.events.filter(kind__in=events.NEWS).values_list("news_claim", flat=True))
    assert len(claims) == 1  # one fan-out took all three
    assert "" not in claims
