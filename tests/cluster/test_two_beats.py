"""Two beats started by mistake: no periodic task does double work.

A second Celery beat joins the cluster's one, both send every periodic task
every 2 s (CLUSTER_ENV: COUNT_INTERVAL, SIGNATURE_SWEEP_INTERVAL,
PERIODIC_INTERVALS), and both workers run what they send for more than
three intervals after the work was made: signatures whose counts must be
folded (and a milestone told), a letter due to close, a delivered letter
past its respond-by date, news whose delayed fan-out was lost, all with
signers who asked for updates.  Nobody can tell there were two: the
counts are exact, each person gets each email once, each event is
recorded once.  The database makes it so (letters/periodic.py); the
once-per-interval guard in Redis only saves the duplicates' work, and the
workers' logs show it skipping them.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from bench.cluster import Cluster
from bench.commands import run_python
from tests.cluster.conftest import COUNT_INTERVAL, ORGANISER_EMAIL, ClusterSink, wait_until

SIGNERS = 3  # per letter, each asked for updates
COUNTED = 12  # signatures on the letter whose count is folded: past the 10 milestone
INTERVAL = COUNT_INTERVAL  # every periodic task's, in the cluster (2 s)
UPDATE_TEXT = "We met the board; they asked for a week."
NEWS_SUBJECT = "News about a letter you signed"
SKIPPED = "skipped, another run started"

# Run on the primary (manage.py shell) while both beats run: the work for
# every periodic task that can email or record, made through the services
# (their emails go through the cluster's broker to its workers).
SETUP = """
import json, os
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from letters import services
from letters.models import EventKind, Letter, LetterEvent, Signature

uid = os.environ["TWO_BEATS_UID"]
user = get_user_model().objects.get(email=os.environ["TWO_BEATS_ORGANISER"])
letters = {}

def letter(kind):
    data = services.LetterInput(
        title=f"Two beats {kind} {uid}", body="A letter of the two-beats test.",
        demands=["Answer us."], addressees=[("The board", "")], language="en", goal=100,
    )
    made = services.letter_create(slug=f"two-beats-{kind}-{uid}", data=data, owner=user)
    made = services.letter_publish(letter=made, by=user)
    letters[kind] = {"id": made.pk, "title": made.title}
    return made

def signed(made, kind, n, wants_updates):
    for i in range(n):
        services.signature_create(
            letter=made, email=f"two-beats-{uid}-{kind}-{i}@example.org",
            name=f"Signer {kind} {i}", wants_updates=wants_updates,
        )
        row = Signature.objects.filter(letter=made).order_by("-id").first()
        assert services.signature_confirm(signature=row)

# Folded counts and a milestone ("10 people have signed", to the organiser).
counted = letter("count")
signed(counted, "count", int(os.environ["TWO_BEATS_COUNTED"]), False)

# Due to close, with signers who asked for updates.
closing = letter("close")
signed(closing, "close", int(os.environ["TWO_BEATS_SIGNERS"]), True)
Letter.objects.filter(pk=closing.pk).update(closes_at=timezone.now() - timedelta(minutes=1))

# Delivered (its news emailed at once), then its respond-by date passes.
overdue = letter("overdue")
signed(overdue, "overdue", int(os.environ["TWO_BEATS_SIGNERS"]), True)
with transaction.atomic():
    services.letter_deliver(
        letter=overdue, by=user, method="in_person", delivered_at=timezone.now(),
        recipients=[services.Recipient("The board")],
        respond_by=timezone.now() + timedelta(days=1),
    )
Letter.objects.filter(pk=overdue.pk).update(respond_by=timezone.now() - timedelta(hours=1))

# News whose delayed fan-out the broker lost: the event, and no task.
news = letter("news")
signed(news, "news", int(os.environ["TWO_BEATS_SIGNERS"]), True)
event = LetterEvent.objects.create(
    letter=news, kind=EventKind.UPDATE, text=os.environ["TWO_BEATS_TEXT"], created_by=user
)
LetterEvent.objects.filter(pk=event.pk).update(
    created_at=timezone.now() - timedelta(seconds=services.events.NEWS_OVERDUE + 60)
)
letters["news"]["event"] = event.pk
print("TWO_BEATS " + json.dumps(letters))
"""


def make_work(cluster: Cluster, uid: str) -> dict[str, dict[str, Any]]:
    out = run_python(
        ["manage.py", "shell", "-c", SETUP],
        env={
            **cluster.env(direct=True),
            "TWO_BEATS_UID": uid,
            "TWO_BEATS_ORGANISER": ORGANISER_EMAIL,
            "TWO_BEATS_SIGNERS": str(SIGNERS),
            "TWO_BEATS_COUNTED": str(COUNTED),
            "TWO_BEATS_TEXT": UPDATE_TEXT,
        },
        timeout=120,
        what="two-beats work",
    )
    (line,) = [line for line in out.splitlines() if line.startswith("TWO_BEATS ")]
    made: dict[str, dict[str, Any]] = json.loads(line.removeprefix("TWO_BEATS "))
    return made


def one(cluster: Cluster, sql: str, *params: Any) -> Any:
    (row,) = cluster.primary_rows(sql, params)
    (value,) = row.values()
    return value


def state(cluster: Cluster, made: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the periodic tasks did, as the primary has it."""
    ids = {kind: made[kind]["id"] for kind in made}
    return {
        "closed": one(cluster, "SELECT status FROM letters_letter WHERE id = %s", ids["close"]),
        "closed_events": one(
            cluster,
            "SELECT COUNT(*) FROM letters_letterevent WHERE letter_id = %s AND kind = 'closed'",
            ids["close"],
        ),
        "deadline_events": one(
            cluster,
            "SELECT COUNT(*) FROM letters_letterevent WHERE letter_id = %s AND kind = 'deadline'",
            ids["overdue"],
        ),
        "news_claimed": one(
            cluster,
            "SELECT news_claim <> '' FROM letters_letterevent WHERE id = %s",
            made["news"]["event"],
        ),
        "news_emails": one(
            cluster,
            "SELECT COUNT(*) FROM letters_eventemail WHERE event_id = %s",
            made["news"]["event"],
        ),
        "counted": one(
            cluster, "SELECT confirmed FROM letters_letterstats WHERE letter_id = %s", ids["count"]
        ),
        "unfolded": one(
            cluster, "SELECT COUNT(*) FROM letters_countdelta WHERE letter_id = %s", ids["count"]
        ),
        "milestones": [
            row["threshold"]
            for row in cluster.primary_rows(
                "SELECT threshold FROM letters_milestone WHERE letter_id = %s ORDER BY threshold",
                (ids["count"],),
            )
        ],
        "emails_owed": one(
            cluster,
            "SELECT COUNT(*) FROM letters_signature WHERE letter_id = ANY(%s)"
            " AND NOT email_failed AND emails_sent < emails_requested",
            list(ids.values()),
        ),
    }


DONE = {
    "closed": "closed",
    "closed_events": 1,
    "deadline_events": 1,
    "news_claimed": True,
    "news_emails": SIGNERS,
    "counted": COUNTED,
    "unfolded": 0,
    "milestones": [10],
    "emails_owed": 0,
}


def addresses(uid: str, kind: str, n: int) -> list[str]:
    return [f"two-beats-{uid}-{kind}-{i}@example.org" for i in range(n)]


def subjects(sink: ClusterSink, address: str) -> Counter[str]:
    return Counter(str(mail.message["Subject"]) for mail in sink.to(address))


def check_emails(sink: ClusterSink, address: str, news: bool) -> None:
    """A signer's emails, each once: the confirmation, the letter's news if
    there was any (the delivery, the update), and the confirmation request
    unless the confirmation made it moot before a sender took it (the
    outbox drops a superseded email)."""
    got = subjects(sink, address)
    assert max(got.values()) == 1, (address, got)
    assert set(got) - {"Please confirm your email address"} == (
        {"Your confirmation", NEWS_SUBJECT} if news else {"Your confirmation"}
    ), (address, got)


def organiser_subjects(sink: ClusterSink) -> Counter[str]:
    return subjects(sink, ORGANISER_EMAIL)


STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})")


def sends(log: str, entry: str) -> list[float]:
    """When a beat's log says it sent `entry` (seconds since the epoch)."""
    found = []
    for line in log.splitlines():
        if f"Sending due task {entry} " in line:
            stamp = STAMP.search(line)
            if stamp:
                found.append(datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return found


def test_two_beats_do_no_double_work(cluster: Cluster, sink: ClusterSink) -> None:
    uid = uuid.uuid4().hex[:8]
    beat1 = cluster.beats[0]
    beat1_from = len(beat1.log())
    workers_from = {n: len(proc.log()) for n, proc in cluster.workers.items()}
    beat2 = cluster.start_beat()
    try:
        made = make_work(cluster, uid)
        wait_until(
            lambda: state(cluster, made) == DONE,
            timeout=90,
            what="the periodic tasks' work done",
        )
        milestone = f"News: {made['count']['title']}"  # "10 people have signed"
        wait_until(
            lambda: milestone in organiser_subjects(sink), timeout=30, what="the milestone email"
        )
        # Both beats keep sending for three more intervals: nothing more happens.
        time.sleep(3 * INTERVAL + 1)
        assert state(cluster, made) == DONE
    finally:
        beat2_log = beat2.log()
        cluster.stop(beat2)

    for kind, news in (("count", False), ("close", False), ("overdue", True), ("news", True)):
        count = COUNTED if kind == "count" else SIGNERS
        for address in addresses(uid, kind, count):
            check_emails(sink, address, news)
    for address in addresses(uid, "news", SIGNERS):
        assert len([m for m in sink.to(address) if UPDATE_TEXT in m.text]) == 1, address
    organiser = organiser_subjects(sink)
    assert organiser[milestone] == 1
    for kind in ("close", "overdue", "news"):
        assert organiser[f"News: {made[kind]['title']}"] == 0

    # The guard at work: where the two beats' sends were not half an
    # interval apart (then neither comes within half an interval of the
    # other's), the workers skipped the duplicates.
    skipped = sum(
        proc.log()[workers_from.get(n, 0) :].count(SKIPPED) for n, proc in cluster.workers.items()
    )
    first = sends(beat1.log()[beat1_from:], "counts-fold")
    second = sends(beat2_log, "counts-fold")
    assert first, "beat1 sent counts-fold"
    assert second, "beat2 sent counts-fold"
    phase = (second[0] - first[0]) % INTERVAL
    print(f"\nbeats' phase {phase:.2f} s of {INTERVAL:.0f}; duplicate runs skipped: {skipped}")
    if abs(phase - INTERVAL / 2) > 0.1:
        assert skipped > 0
