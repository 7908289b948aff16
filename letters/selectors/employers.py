"""A letter's employers and their confirmed counts (coalition letters).

Each employer's count is a total, which DESIGN §2 rule 9 lets move with one
anonymous signer; no breakdown inside an employer is read here."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Sum

from letters.models import CountDelta, Employer, EmployerStats, Letter, PaperBatch


@dataclass(frozen=True)
class EmployerCount:
    employer_id: int
    name: str
    domains: tuple[str, ...]
    confirmed: int
    paper: int = 0

    @property
    def total(self) -> int:
        return self.confirmed + self.paper


@dataclass(frozen=True)
class EmployerCounts:
    """Every employer of a letter, in order, with the other supporters
    (confirmed signatures at none of their domains) apart."""

    employers: tuple[EmployerCount, ...]
    supporters: int
    supporters_paper: int = 0

    @property
    def confirmed(self) -> int:
        return sum(e.confirmed for e in self.employers) + self.supporters

    def __bool__(self) -> bool:
        return bool(self.employers)


def letter_employers(*, letter: Letter) -> list[Employer]:
    """The letter's employers in order (one query, none for a letter whose
    `allowed_domains`, their union, is empty; cached on the instance, so a
    letter kept in memory for the sign path carries them)."""
    cached: list[Employer] | None = getattr(letter, "_employers_cache", None)
    if cached is None and not letter.allowed_domains:
        cached = []  # the union of the employers' domains: empty, no employers
    if cached is None:
        cached = list(Employer.objects.filter(letter_id=letter.pk).order_by("position", "id"))
        letter._employers_cache = cached  # type: ignore[attr-defined]
    return cached


def employer_counts(*, letter: Letter, confirmed_total: int) -> EmployerCounts:
    """Each employer's confirmed count (folded stats plus deltas not yet
    folded) and its paper signatures; `confirmed_total` (the letter's, as
    letter_counts read it) less the employers' is the other supporters.
    Three queries, whatever the number of signatures."""
    employers = letter_employers(letter=letter)
    if not employers:
        return EmployerCounts(employers=(), supporters=confirmed_total)
    stats = dict(
        EmployerStats.objects.filter(letter_id=letter.pk).values_list("employer_id", "confirmed")
    )
    # From the database the stats came from (config/db_router.py).
    db = connections[router.db_for_read(CountDelta)]
    table = db.ops.quote_name(CountDelta._meta.db_table)
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT employer_id, SUM(confirmed) FROM {table} "  # noqa: S608
            "WHERE letter_id = %s AND employer_id IS NOT NULL GROUP BY employer_id",
            [letter.pk],
        )
        deltas = {row[0]: int(row[1]) for row in cursor.fetchall()}
    paper: dict[int | None, int] = {
        row["employer_id"]: int(row["n"] or 0)
        for row in PaperBatch.objects.filter(letter_id=letter.pk, corrected_by__isnull=True)
        .values("employer_id")
        .annotate(n=Sum("count"))
    }
    rows = tuple(
        EmployerCount(
            employer_id=e.pk,
            name=e.name,
            domains=tuple(e.domains),
            confirmed=max(0, stats.get(e.pk, 0) + deltas.get(e.pk, 0)),
            paper=paper.get(e.pk, 0),
        )
        for e in employers
    )
    return EmployerCounts(
        employers=rows,
        supporters=max(0, confirmed_total - sum(r.confirmed for r in rows)),
        supporters_paper=paper.get(None, 0),
    )
