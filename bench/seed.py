"""Prepare the benchmark database, in one Django process (production settings
from the environment the runner sets):

1. `migrate`, `collectstatic`, `load_demo` (the demo organiser and the small
   demo letter, the "second small letter");
2. a second open letter owned by the demo organiser (same text as the demo)
   with `--count` confirmed signatures written by COPY: unique addresses
   (stored as the site stores them: keyed hash, sealed address, domain
   tags), a mix of public and anonymous (an anonymous signer's name and
   details are not stored), teams, locations and job titles, some comments
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
DOMAIN = "northwind.example"
# The address sealed into every seeded row (see `SeededAddresses`).
PLACEHOLDER = f"seeded-signer@{DOMAIN}"
COLUMNS = [
    "letter_id", "version_id", "email_hash", "email_sealed", "email_domains", "name",
    "job_title", "team", "location", "comment", "display", "wants_updates", "language",
    "status", "flagged", "secret", "emails_requested", "email_kind", "emails_sent",
    "email_failed", "email_attempts", "created_at",
    "confirmation_sent_at", "confirmed_at", "notified_version", "email_window_count",
    "work_address", "held_reason", "comment_hidden_reason",
]  # fmt: skip
UNNAMED = ("", "", "", "", "")  # an anonymous row's name, job title, team, location, comment


@dataclass(frozen=True)
class SeededAddresses:
    """How the seeded addresses are stored (letters/signer_address.py).

    - `address_hash`: the site's keyed hash, of each row's own canonical
      address (unique per row, as the live-address unique index wants);
    - `sealed`: ONE address sealed once and shared by every seeded row.
      Sealing costs ~0.1-0.2 ms of CPU (a million rows: minutes), and
      seeded rows are never emailed (already confirmed, their emails sent,
      no letter update is published during a run), so nothing opens it; it
      is the size and kind of value a real row holds (~1.2 kB).  It opens
      to `PLACEHOLDER`, not to the row's own address;
    - `domains`: the domain tags, the same for every row (one domain)."""

    address_hash: Callable[[str], str]
    sealed: bytes
    domains: str

    @classmethod
    def of_site(cls) -> SeededAddresses:
        """With the site's keys (a Django process with the settings)."""
        from django.conf import settings

        from letters.sealing import seal
        from letters.signer_address import address_hash, domain_tags

        return cls(
            address_hash=address_hash,
            sealed=seal(PLACEHOLDER, settings.SIGNER_SEAL_PUBLIC_KEY),
            domains=domain_tags(seeded_address(0).rpartition("@")[2]),
        )


def seeded_address(i: int) -> str:
    """The `i`th seeded signer's address, already canonical (lower-case
    ASCII local part at a canonical domain: `canonical_email` leaves it as
    it is, which `copy_signatures` checks once rather than per row)."""
    return f"signer{i:07d}@{DOMAIN}"


def signature_rows(
    *,
    letter_id: int,
    version_id: int,
    count: int,
    end: datetime,
    addresses: SeededAddresses,
    seed: int = 7,
) -> Iterator[tuple[Any, ...]]:
    """`count` confirmed signatures, oldest first, deterministic for a seed.
    Anonymous rows keep no name, job title, team, location or comment (as
    the site stores them; a check constraint insists)."""
    rng = random.Random(seed)
    address_hash, sealed, domains = addresses.address_hash, addresses.sealed, addresses.domains
    start = end - timedelta(days=DAYS)
    span = (end - start).total_seconds()
    for i in range(count):
        # Density grows linearly towards `end` (a letter going viral).
        fraction = ((i + rng.random()) / count) ** 0.5
        confirmed_at = start + timedelta(seconds=span * fraction)
        created_at = confirmed_at - timedelta(seconds=30 + rng.random() * 7200)
        first, last = FIRST[rng.randrange(len(FIRST))], LAST[rng.randrange(len(LAST))]
        roll = rng.random()
        details = (
            f"{first} {last}",
            TITLES[i % len(TITLES)] if roll < 0.5 else "",
            TEAMS[rng.randrange(len(TEAMS))] if roll < 0.85 else "",
            LOCATIONS[rng.randrange(len(LOCATIONS))] if rng.random() < 0.8 else "",
            COMMENTS[rng.randrange(len(COMMENTS))] if rng.random() < 0.05 else "",
        )
        public = rng.random() < 0.75
        yield (
            letter_id,
            version_id,
            address_hash(seeded_address(i)),
            sealed,
            domains,
            *(details if public else UNNAMED),
            "public" if public else "anonymous",
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
            False,  # the demo letter accepts any domain
            "",  # not held
            "",  # its comment not hidden
        )


def copy_signatures(
    database_url: str,
    *,
    letter_id: int,
    version_id: int,
    count: int,
    end: datetime,
    addresses: SeededAddresses,
) -> None:
    """COPY the rows in binary format: a sealed address is ~1.1 kB of bytea,
    which text COPY would write and parse as hex (twice as slow here)."""
    import psycopg

    from letters.emailaddr import canonical_email

    for i in (0, max(0, count - 1)):
        address = seeded_address(i)
        assert canonical_email(address) == address, f"not canonical: {address}"
    with psycopg.connect(database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        # Binary COPY needs each column's type: the table's own.
        types: dict[str, int] = dict(
            conn.execute(
                "SELECT attname, atttypid::int FROM pg_attribute "
                "WHERE attrelid = 'letters_signature'::regclass AND attnum > 0 "
                "AND NOT attisdropped"
            ).fetchall()
        )
        # The unique index on the keyed hashes (random order, unlike the
        # time-ordered others) is built once after the COPY, sorted, rather
        # than updated a million times at random places; in the same
        # transaction, so it checks the same uniqueness and a failed seed
        # leaves it as it was.
        rebuilt = [
            (name, definition)
            for name, definition in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = 'letters_signature' AND indexdef LIKE '%%email_hash%%'"
            ).fetchall()
        ]
        for name, _definition in rebuilt:
            conn.execute(f'DROP INDEX "{name}"'.encode())
        with conn.cursor() as cursor:
            statement = f"COPY letters_signature ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            with cursor.copy(statement.encode()) as copy:
                copy.set_types([types[column] for column in COLUMNS])
                for row in signature_rows(
                    letter_id=letter_id,
                    version_id=version_id,
                    count=count,
                    end=end,
                    addresses=addresses,
                ):
                    copy.write_row(row)
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks, due first
        for _name, definition in rebuilt:
            conn.execute(definition.encode())
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
    """A database session logged in as `user`: its key, for the export's
    cookie.  The organiser gets an authenticator app first, as production
    requires of every organiser (REQUIRE_ORGANISER_2FA); the session is the
    one signing in with it would leave."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    TOTP.activate(user, generate_totp_secret())

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
        addresses=SeededAddresses.of_site(),
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
