"""Prepare the benchmark database, in one Django process (production settings
from the environment the runner sets):

1. `migrate`, `collectstatic`, `load_demo` (the demo organiser and the small
   demo letter, the "second small letter");
2. a second open letter owned by the demo organiser (same text as the demo)
   with `--count` confirmed signatures written by COPY: unique emails, a mix
   of public and anonymous, teams, locations and job titles, some comments
   and German speakers, confirmed over the last 60 days (more towards the
   end, as a letter that goes viral), in time order;
3. VACUUM ANALYZE and `counts_recount`, so the counts and the planner's
   statistics are right;
4. a database session for the demo organiser (for the export).

Run as `python -m bench.seed --count N --slug S`; the last line of stdout is
a JSON object the runner reads.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

FIRST = [
    "Ada", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustav", "Hana", "Ivan", "Jamal",
    "Kira", "Liam", "Maya", "Nikhil", "Olga", "Pedro", "Qing", "Rosa", "Sven", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Anders", "Bea", "Cyrus", "Dalia",
]  # fmt: skip
LAST = [
    "Abbott", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Haddad",
    "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Müller", "Nakamura", "O'Brien", "Patel",
    "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Weber", "Xu", "Yilmaz", "Zhou",
    "Novak", "Moreau", "Silva", "Kim", "Okafor", "Larsen", "Horvat", "Costa", "Meyer",
]  # fmt: skip
TEAMS = [
    "Engineering", "Design", "Support", "Sales", "Marketing", "Data", "Security", "Finance",
    "Legal", "People", "Research", "Infrastructure", "Mobile", "Web", "Payments", "Growth",
    "Documentation", "Quality", "Operations", "Partnerships", "Platform", "Search",
    "Localization", "Accessibility",
]  # fmt: skip
LOCATIONS = [
    "Berlin", "London", "Seattle", "Remote", "Toronto", "Dublin", "Bangalore", "Madrid",
    "Warsaw", "Tokyo", "São Paulo", "Amsterdam", "Austin", "Lisbon",
]  # fmt: skip
TITLES = [
    "Software Engineer", "Senior Software Engineer", "Product Designer", "Data Scientist",
    "Support Specialist", "Account Executive", "Engineering Manager", "Recruiter",
    "Technical Writer", "Security Engineer", "Product Manager", "SRE",
]  # fmt: skip
COMMENTS = [
    "I want to be proud of where my code ends up.",
    "There are customers we should be willing to lose.",
    "Signing for my team, who could not all be here.",
    "This is why I joined.",
    "Please read this, Dana.",
    '=1+1 "quoted", with a comma',  # exercises the exporter's neutralising and quoting
]
DAYS = 60
COLUMNS = [
    "letter_id", "version_id", "email", "name", "job_title", "team", "location", "comment",
    "display", "wants_updates", "language", "status", "flagged", "secret", "emails_requested",
    "email_kind", "emails_sent", "email_failed", "email_attempts", "created_at",
    "confirmation_sent_at", "confirmed_at", "notified_version", "email_window_count",
]  # fmt: skip


def signature_rows(
    *, letter_id: int, version_id: int, count: int, end: datetime, seed: int = 7
) -> Iterator[tuple[Any, ...]]:
    """`count` confirmed signatures, oldest first, deterministic for a seed."""
    rng = random.Random(seed)
    start = end - timedelta(days=DAYS)
    span = (end - start).total_seconds()
    for i in range(count):
        # Density grows linearly towards `end` (a letter going viral).
        fraction = ((i + rng.random()) / count) ** 0.5
        confirmed_at = start + timedelta(seconds=span * fraction)
        created_at = confirmed_at - timedelta(seconds=30 + rng.random() * 7200)
        first, last = FIRST[rng.randrange(len(FIRST))], LAST[rng.randrange(len(LAST))]
        roll = rng.random()
        yield (
            letter_id,
            version_id,
            f"signer{i:07d}@northwind.example",
            f"{first} {last}",
            TITLES[i % len(TITLES)] if roll < 0.5 else "",
            TEAMS[rng.randrange(len(TEAMS))] if roll < 0.85 else "",
            LOCATIONS[rng.randrange(len(LOCATIONS))] if rng.random() < 0.8 else "",
            COMMENTS[rng.randrange(len(COMMENTS))] if rng.random() < 0.05 else "",
            "public" if rng.random() < 0.75 else "anonymous",
            rng.random() < 0.3,
            "de" if rng.random() < 0.1 else "en",
            "confirmed",
            False,
            secrets.token_urlsafe(18),
            2,
            "confirmed",
            2,
            False,
            0,
            created_at,
            created_at + timedelta(seconds=2),
            confirmed_at,
            0,
            0,
        )


def copy_signatures(
    database_url: str, *, letter_id: int, version_id: int, count: int, end: datetime
) -> None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        with conn.cursor() as cursor:
            statement = f"COPY letters_signature ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(statement.encode()) as copy:
                for row in signature_rows(
                    letter_id=letter_id, version_id=version_id, count=count, end=end
                ):
                    copy.write_row(row)
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE letters_signature")


def big_letter(slug: str) -> tuple[Any, Any]:
    """The demo organiser and a second open letter of theirs, with the demo's
    text and translations: (user, letter)."""
    from django.contrib.auth import get_user_model

    from letters import services
    from letters.demo_content import DEMO_LETTER, DEMO_ORGANISER

    user = get_user_model().objects.get(email=DEMO_ORGANISER["email"])
    demo: dict[str, Any] = dict(DEMO_LETTER)
    letter = services.letter_create(
        slug=slug,
        data=services.LetterInput(
            title="One million voices: " + str(demo["title"]),
            body=str(demo["body"]),
            demands=list(demo["demands"]),
            addressees=[(a["name"], a["role"]) for a in demo["addressees"]],
            language=str(demo["language"]),
            goal=1_000_000,
        ),
        owner=user,
        translations=[
            services.TranslationInput(
                language=lang, title=t["title"], body=t["body"], demands=list(t["demands"])
            )
            for lang, t in demo["translations"].items()
        ],
    )
    services.letter_publish(letter=letter, by=user)
    letter.refresh_from_db()
    assert letter.current_version_id is not None
    return user, letter


def organiser_session(user: Any) -> str:
    """A database session logged in as `user`: its key, for the export's cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def seed_database(slug: str, count: int) -> dict[str, Any]:
    """Every step of the module's docstring; what the runner reads."""
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from letters import services
    from letters.demo_content import DEMO_LETTER
    from letters.models import Display, Letter, Signature, SignatureStatus

    timings: dict[str, float] = {}
    started = time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("load_demo", verbosity=0)
    timings["setup_s"] = time.monotonic() - started

    user, letter = big_letter(slug)
    started = time.monotonic()
    copy_signatures(
        os.environ["DATABASE_URL"],
        letter_id=letter.pk,
        version_id=letter.current_version_id,
        count=count,
        end=timezone.now() - timedelta(minutes=1),
    )
    timings["copy_s"] = time.monotonic() - started
    started = time.monotonic()
    services.counts_recount(letter_id=letter.pk)
    timings["recount_s"] = time.monotonic() - started

    sessionid = organiser_session(user)
    public = Signature.objects.filter(
        letter=letter, status=SignatureStatus.CONFIRMED, display=Display.PUBLIC, flagged=False
    ).count()
    return {
        "slug": letter.slug,
        "letter_id": letter.pk,
        "small_slug": Letter.objects.get(slug=str(DEMO_LETTER["slug"])).slug,
        "signatures": count,
        "public_signatures": public,
        "sessionid": sessionid,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        **timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--slug", required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(seed_database(args.slug, args.count)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
