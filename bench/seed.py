"""Prepare the benchmark database, in one Django process (production settings
from the environment the runner sets):

1. `migrate`, `collectstatic`, `load_demo` (the demo organiser and the small
   demo letter, the "second small letter");
2. a second open letter owned by the demo organiser (same text as the demo)
   with `--count` confirmed signatures, and a coalition letter (the same
   text) naming ten employers, each with its own domains, with
   `--coalition-count` confirmed signatures spread across them unevenly
   (some at a subdomain, ~2% other supporters at other domains, which the
   letter accepts) and two paper batches per employer (and one of other
   supporters).  Both letters' signatures are written by one COPY: unique
   addresses (stored as the site stores them: keyed hash, sealed address,
   domain tags), a mix of public and anonymous (an anonymous signer's name
   and details are not stored), teams, locations and job titles, some
   comments and German speakers, confirmed over the last 60 days (more
   towards the end, as a letter that goes viral), in time order;
3. VACUUM ANALYZE and `counts_recount` of both letters, so the counts
   (the coalition's EmployerStats too) and the planner's statistics are
   right; then the coalition's per-employer counts are checked to agree
   four ways (what was seeded, a GROUP BY over its signatures, EmployerStats
   and the `employer_counts` selector, paper included), and that selector
   is timed;
4. a database session for the demo organiser (for the export).

Run as `python -m bench.seed --count N --slug S [--coalition-count M
--coalition-slug C]`; the last line of stdout is a JSON object the runner
reads.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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
DOMAIN = "northwind.example"  # the big letter's signers' (it names no employer)
COLUMNS = [
    "letter_id", "version_id", "email_hash", "email_sealed", "email_domains", "name",
    "job_title", "team", "location", "comment", "display", "wants_updates", "language",
    "status", "flagged", "secret", "emails_requested", "email_kind", "emails_sent",
    "email_failed", "email_attempts", "created_at",
    "confirmation_sent_at", "confirmed_at", "notified_version", "email_window_count",
    "work_address", "held_reason", "comment_hidden_reason", "employer_id",
]  # fmt: skip
UNNAMED = ("", "", "", "", "")  # an anonymous row's name, job title, team, location, comment

# The coalition letter's employers: name, domains, and share of its signatures
# in per cent (the other supporters have the rest).  Uneven, as coalitions
# are: one large employer, a long tail.
EMPLOYERS: list[tuple[str, list[str], int]] = [
    ("Northwind Traders", ["northwind.example"], 24),
    ("Contoso", ["contoso.example", "contoso-labs.example"], 18),
    ("Fabrikam", ["fabrikam.example"], 13),
    ("Tailspin Toys", ["tailspin.example"], 10),
    ("Wingtip Toys", ["wingtip.example"], 8),
    ("Adventure Works", ["adventure-works.example"], 7),
    ("Litware", ["litware.example"], 6),
    ("Proseware", ["proseware.example"], 5),
    ("Woodgrove Bank", ["woodgrove.example", "woodgrovebank.example"], 4),
    ("Alpine Ski House", ["alpineskihouse.example"], 3),
]  # fmt: skip
# A tenth of each employer's staff sign from a subdomain of its first domain
# (eu.contoso.example), which its domain covers.
SUBDOMAIN = "eu"
# Other supporters (the coalition letter accepts them), at domains of no employer.
SUPPORTER_DOMAINS = ["mailbox.example", "post.example"]


def placeholder(domain: str) -> str:
    """The address sealed into every seeded row at `domain` (see `SeededAddresses`)."""
    return f"seeded-signer@{domain}"


@dataclass(frozen=True)
class Workplace:
    """Where a seeded signer's address is: its domain, the employer that
    domain makes theirs (None: the big letter, which names no employer, or
    an other supporter of the coalition), and its share of the letter's
    rows (a weight)."""

    domain: str
    employer_id: int | None = None
    employer: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class SeededAddresses:
    """How the seeded addresses are stored (letters/signer_address.py).

    - `address_hash`: the site's keyed hash, of each row's own canonical
      address (unique per row, as the live-address unique index wants);
    - `sealed`: per domain, ONE address at it sealed once and shared by
      every seeded row at that domain.  Sealing costs ~0.1-0.2 ms of CPU (a
      million rows: minutes), and seeded rows are never emailed (already
      confirmed, their emails sent, no letter update is published during a
      run), so nothing opens it; it is the size and kind of value a real
      row holds (~1.2 kB).  It opens to `placeholder(domain)`, not to the
      row's own address;
    - `tags`: per domain, its domain tags (the domain's and its parents'),
      as every row at that domain holds them."""

    address_hash: Callable[[str], str]
    sealed: Mapping[str, bytes]
    tags: Mapping[str, str]

    @classmethod
    def of_site(cls, domains: Iterable[str]) -> SeededAddresses:
        """With the site's keys (a Django process with the settings)."""
        from django.conf import settings

        from letters.sealing import seal
        from letters.signer_address import address_hash, domain_tags

        unique = sorted(set(domains))
        return cls(
            address_hash=address_hash,
            sealed={d: seal(placeholder(d), settings.SIGNER_SEAL_PUBLIC_KEY) for d in unique},
            tags={d: domain_tags(d) for d in unique},
        )


def seeded_address(i: int, domain: str = DOMAIN, local: str = "signer") -> str:
    """The `i`th seeded signer's address, already canonical (lower-case
    ASCII local part at a canonical domain: `canonical_email` leaves it as
    it is, which `copy_signatures` checks once per domain rather than per
    row)."""
    return f"{local}{i:07d}@{domain}"


@dataclass
class Seeding:
    """One letter's seeded signatures: `count` rows at `workplaces` (picked
    by weight), their addresses starting with `local`.  `confirmed` is
    filled in as the rows are made: the rows per employer id (None: no
    employer), what was seeded, to check the recount against."""

    letter_id: int
    version_id: int
    count: int
    workplaces: Sequence[Workplace]
    local: str = "signer"
    seed: int = 7
    confirmed: Counter[int | None] = field(default_factory=Counter)


def signature_rows(
    seeding: Seeding, *, end: datetime, addresses: SeededAddresses
) -> Iterator[tuple[Any, ...]]:
    """`seeding.count` confirmed signatures, oldest first, deterministic for
    a seed.  Anonymous rows keep no name, job title, team, location or
    comment (as the site stores them; a check constraint insists).  A row
    at an employer's domain is a work address (as signing marks it)."""
    rng = random.Random(seeding.seed)
    # Workplaces are picked from their own generator: the big letter's rows
    # (one workplace, nothing picked) stay what they were.
    picker = random.Random(seeding.seed + 1)
    places = list(seeding.workplaces)
    cumulative = list(itertools.accumulate(place.weight for place in places))
    address_hash, count = addresses.address_hash, seeding.count
    start = end - timedelta(days=DAYS)
    span = (end - start).total_seconds()
    for i in range(count):
        place = places[0] if len(places) == 1 else picker.choices(places, cum_weights=cumulative)[0]
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
        seeding.confirmed[place.employer_id] += 1
        yield (
            seeding.letter_id,
            seeding.version_id,
            address_hash(seeded_address(i, place.domain, seeding.local)),
            addresses.sealed[place.domain],
            addresses.tags[place.domain],
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
            place.employer_id is not None,  # at an employer's domain: a work address
            "",  # not held
            "",  # its comment not hidden
            place.employer_id,
        )


def copy_signatures(
    database_url: str,
    seedings: Sequence[Seeding],
    *,
    end: datetime,
    addresses: SeededAddresses,
) -> None:
    """COPY every seeding's rows, in one transaction, in binary format: a
    sealed address is ~1.1 kB of bytea, which text COPY would write and
    parse as hex (twice as slow here)."""
    import psycopg

    from letters.emailaddr import canonical_email

    for seeding in seedings:
        for place in seeding.workplaces:
            for i in (0, max(0, seeding.count - 1)):
                address = seeded_address(i, place.domain, seeding.local)
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
                for seeding in seedings:
                    for row in signature_rows(seeding, end=end, addresses=addresses):
                        copy.write_row(row)
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks, due first
        for _name, definition in rebuilt:
            conn.execute(definition.encode())
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE letters_signature")


def demo_letter(user: Any, slug: str, title: str, **settings: Any) -> Any:
    """An open letter of `user`'s with the demo's text and translations, its
    title prefixed with `title`; `settings` are more LetterInput fields."""
    from letters import services
    from letters.demo_content import DEMO_LETTER

    demo: dict[str, Any] = dict(DEMO_LETTER)
    letter = services.letter_create(
        slug=slug,
        data=services.LetterInput(
            title=title + str(demo["title"]),
            body=str(demo["body"]),
            demands=list(demo["demands"]),
            addressees=[(a["name"], a["role"]) for a in demo["addressees"]],
            language=str(demo["language"]),
            **settings,
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
    return letter


def demo_organiser() -> Any:
    from django.contrib.auth import get_user_model

    from letters.demo_content import DEMO_ORGANISER

    return get_user_model().objects.get(email=DEMO_ORGANISER["email"])


def big_letter(user: Any, slug: str) -> Any:
    """The demo organiser's second open letter, with the demo's text (any
    domain may sign it: it names no employer)."""
    return demo_letter(user, slug, "One million voices: ", goal=1_000_000)


def coalition_letter(user: Any, slug: str, count: int) -> Any:
    """The demo organiser's coalition letter: the demo's text, the ten
    EMPLOYERS, other supporters accepted."""
    from letters.services.employers import EmployerInput

    return demo_letter(
        user,
        slug,
        "Ten employers, one letter: ",
        goal=max(1000, count),
        employers=[EmployerInput(name=name, domains=domains) for name, domains, _ in EMPLOYERS],
        accept_supporters=True,
    )


def coalition_workplaces(employers: Sequence[Any]) -> list[Workplace]:
    """Where the coalition's signers are: each employer's domains (its share
    of the rows, less a tenth), a subdomain of its first domain (a tenth),
    and the other supporters' domains (the rest)."""
    shares = {name: share for name, _domains, share in EMPLOYERS}
    places: list[Workplace] = []
    for employer in employers:
        share = shares[employer.name]
        places += [
            Workplace(domain, employer.pk, employer.name, 0.9 * share / len(employer.domains))
            for domain in employer.domains
        ]
        subdomain = f"{SUBDOMAIN}.{employer.domains[0]}"
        places.append(Workplace(subdomain, employer.pk, employer.name, 0.1 * share))
    rest = 100 - sum(shares.values())
    places += [Workplace(d, None, "", rest / len(SUPPORTER_DOMAINS)) for d in SUPPORTER_DOMAINS]
    return places


def coalition_paper(letter: Any, user: Any) -> dict[int | None, int]:
    """Paper signatures as an organiser records them: two batches per
    employer and one of other supporters; the count per employer id."""
    from django.utils import timezone

    from letters import services
    from letters.selectors.employers import letter_employers

    today = timezone.localdate()
    targets = [(e.pk, e.name) for e in letter_employers(letter=letter)]
    paper: Counter[int | None] = Counter()
    for k, (employer_id, name) in enumerate([*targets, (None, "")]):
        for j in range(2 if employer_id is not None else 1):
            count = 20 + 15 * k + 7 * j
            services.paper_batch_record(
                letter=letter,
                by=user,
                data=services.PaperInput(
                    count=count,
                    collected_on=today - timedelta(days=40 - 10 * j - k),
                    where_how=f"Sign-up sheets in the canteen ({name or 'a rally'})",
                    employer_id=employer_id,
                ),
            )
            paper[employer_id] += count
    return dict(paper)


def _median_ms(call: Callable[[], object], runs: int = 25) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


def coalition_check(
    letter: Any, seeding: Seeding, paper: Mapping[int | None, int]
) -> dict[str, Any]:
    """The coalition's counts after the recount, four ways: what was
    seeded, a GROUP BY over its signatures, EmployerStats, and what the
    `employer_counts` selector reads (as the page and API do; paper too);
    raises if they disagree.  Then the selector's cost (median ms, the
    queries of one call), beside `letter_counts`'s, in this process (the
    site not started yet)."""
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from letters.models import EmployerStats, Signature, SignatureStatus
    from letters.selectors.counts import letter_counts
    from letters.selectors.employers import employer_counts, letter_employers

    grouped: dict[int | None, int] = dict(
        Signature.objects.filter(letter=letter, status=SignatureStatus.CONFIRMED, flagged=False)
        .values("employer_id")
        .annotate(n=Count("id"))
        .values_list("employer_id", "n")
    )
    stats = dict(
        EmployerStats.objects.filter(letter=letter).values_list("employer_id", "confirmed")
    )
    total = letter_counts(letter_id=letter.pk).confirmed
    counts = employer_counts(letter=letter, confirmed_total=total)
    read = {row.employer_id: row.confirmed for row in counts.employers}
    read_paper = {row.employer_id: row.paper for row in counts.employers}
    employer_ids = [e.pk for e in letter_employers(letter=letter)]
    seeded = {pk: seeding.confirmed.get(pk, 0) for pk in employer_ids}
    problems = [
        f"{what} {found} != seeded {seeded}"
        for what, found in (
            ("GROUP BY", {pk: grouped.get(pk, 0) for pk in employer_ids}),
            ("EmployerStats", {pk: stats.get(pk, 0) for pk in employer_ids}),
            ("employer_counts", read),
        )
        if found != seeded
    ]
    supporters = seeding.confirmed.get(None, 0)
    if (counts.supporters, grouped.get(None, 0), total) != (supporters, supporters, seeding.count):
        problems.append(
            f"supporters {counts.supporters} / GROUP BY {grouped.get(None, 0)} / total "
            f"{total}: seeded {supporters} of {seeding.count}"
        )
    recorded = {pk: paper.get(pk, 0) for pk in employer_ids}
    if read_paper != recorded or counts.supporters_paper != paper.get(None, 0):
        problems.append(f"paper {read_paper} + {counts.supporters_paper}: recorded {paper}")
    if problems:
        raise RuntimeError("coalition counts disagree: " + "; ".join(problems))

    def employer_counts_fresh() -> object:
        letter.__dict__.pop("_employers_cache", None)  # as a page rebuild reads them
        return employer_counts(letter=letter, confirmed_total=total)

    with CaptureQueriesContext(connection) as queries:
        employer_counts_fresh()
    names = {e.pk: e.name for e in letter_employers(letter=letter)}
    return {
        "employers": [
            {
                "name": names[row.employer_id],
                "domains": list(row.domains),
                "confirmed": row.confirmed,
                "paper": row.paper,
            }
            for row in counts.employers
        ],
        "supporters": counts.supporters,
        "supporters_paper": counts.supporters_paper,
        "counts_agree": True,
        "employer_counts_queries": len(queries.captured_queries),
        "employer_counts_ms": _median_ms(employer_counts_fresh),
        "letter_counts_ms": _median_ms(lambda: letter_counts(letter_id=letter.pk)),
    }


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


def seed_database(
    slug: str, count: int, coalition_slug: str = "", coalition_count: int = 0
) -> dict[str, Any]:
    """Every step of the module's docstring; what the runner reads.  No
    coalition letter if `coalition_count` is 0."""
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from letters import services
    from letters.demo_content import DEMO_LETTER
    from letters.models import Display, Letter, Signature, SignatureStatus
    from letters.selectors.employers import letter_employers
    from letters.signer_address import domain_tag

    timings: dict[str, float] = {}
    started = time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("load_demo", verbosity=0)
    timings["setup_s"] = time.monotonic() - started

    user = demo_organiser()
    letter = big_letter(user, slug)
    seedings = [Seeding(letter.pk, letter.current_version_id, count, [Workplace(DOMAIN)])]
    coalition = paper = None
    if coalition_count:
        coalition = coalition_letter(user, coalition_slug, coalition_count)
        places = coalition_workplaces(letter_employers(letter=coalition))
        seedings.append(
            Seeding(
                coalition.pk, coalition.current_version_id, coalition_count, places, "member", 11
            )
        )
        paper = coalition_paper(coalition, user)
    started = time.monotonic()
    copy_signatures(
        os.environ["DATABASE_URL"],
        seedings,
        end=timezone.now() - timedelta(minutes=1),
        addresses=SeededAddresses.of_site(p.domain for s in seedings for p in s.workplaces),
    )
    timings["copy_s"] = time.monotonic() - started
    started = time.monotonic()
    for seeding in seedings:
        services.counts_recount(letter_id=seeding.letter_id)
    timings["recount_s"] = time.monotonic() - started

    sessionid = organiser_session(user)

    def public_count(letter: Any) -> int:
        return Signature.objects.filter(
            letter=letter, status=SignatureStatus.CONFIRMED, display=Display.PUBLIC, flagged=False
        ).count()

    info: dict[str, Any] = {
        "slug": letter.slug,
        "letter_id": letter.pk,
        "small_slug": Letter.objects.get(slug=str(DEMO_LETTER["slug"])).slug,
        "signatures": count,
        "public_signatures": public_count(letter),
        "sessionid": sessionid,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        **timings,
        "coalition": None,
    }
    if coalition is not None:
        assert paper is not None
        info["coalition"] = {
            "slug": coalition.slug,
            "letter_id": coalition.pk,
            "signatures": coalition_count,
            "public_signatures": public_count(coalition),
            **coalition_check(coalition, seedings[1], paper),
            # Where the sign measurement signs from: every workplace, with the
            # tag of its domain, by which the rows it makes are found.
            "sign_domains": [
                {
                    "domain": p.domain,
                    "employer_id": p.employer_id,
                    "employer": p.employer,
                    "tag": domain_tag(p.domain),
                }
                for p in seedings[1].workplaces
            ],
        }
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--coalition-count", type=int, default=0)
    parser.add_argument("--coalition-slug", default="coalition")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(
        json.dumps(seed_database(args.slug, args.count, args.coalition_slug, args.coalition_count))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
