"""Count exports (CSV and JSON), streamed: rows are produced one at a time
from server-side cursors, so memory stays flat whatever the letter's size.

Counts by team and location hold public signers only (anonymous signers
are in the totals only: DESIGN §2, rule 9); counts by day are the net change
of the total on that day (`selectors.letter_day_counts`).  Group counts go
through `suppress`: cells below the threshold are reported as suppressed,
with complementary suppression.  The threshold is never below
EXPORT_MIN_GROUP, whoever asks (`count_rows` refuses a lower one).  No
export carries a signer's email; the signatory list holds public signers
only.  Callers audit every export, with its threshold
(`letters.services.audit`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.http import StreamingHttpResponse

from letters import selectors
from letters.models import Display, Letter, Signature, SignatureStatus
from letters.suppression import Cell, suppress

FORMATS = ("csv", "json")
COUNT_FIELDS = ["letter", "kind", "key", "count", "suppressed"]
SUMMARY_FIELDS = [
    "letter", "title", "status", "confirmed", "public", "anonymous", "pending",
    "withdrawn", "invalidated", "flagged", "paper",
]  # fmt: skip
SIGNATORY_FIELDS = ["name", "job_title", "team", "location", "comment", "confirmed_at"]
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# What a kind's cells come from: (letter, threshold, for_organisers).
CellSource = Callable[[Letter, int, bool], Iterable[Cell]]


@dataclass(frozen=True)
class CountKind:
    """One kind of count export.  `cells` gives its cells in order; a
    breakdown by group suppresses them at the threshold it is given (a
    suppressed cell has count None).  `names_people`: its keys can point at a
    person (a team, a location), so its suppressed cells are reported as one
    unnamed row, not by name."""

    name: str
    label: str
    cells: CellSource
    names_people: bool = False


def _status_cells(letter: Letter, threshold: int, for_organisers: bool) -> list[Cell]:
    # Organisers get no pending count (see selectors.letter_status_counts).
    raw = selectors.letter_status_counts(letter=letter, with_pending=not for_organisers)
    return [Cell(key, n) for key, n in raw.items()]


def _day_cells(letter: Letter, threshold: int, for_organisers: bool) -> list[Cell]:
    raw = selectors.letter_day_counts(letter=letter)
    return sorted(suppress(raw, threshold), key=lambda c: c.label)


def _version_cells(letter: Letter, threshold: int, for_organisers: bool) -> list[Cell]:
    counts = selectors.letter_version_counts(letter=letter)
    return [Cell(str(number), n) for number, n in sorted(counts.items())]


def _group_cells(field: str) -> CellSource:
    def cells(letter: Letter, threshold: int, for_organisers: bool) -> list[Cell]:
        return selectors.letter_group_counts(letter=letter, field=field, threshold=threshold)

    return cells


# Every kind of count export, in the order exports list them.  The views,
# the admin and the command take their kinds from here: a new kind is one
# entry.
COUNT_KINDS: dict[str, CountKind] = {
    kind.name: kind
    for kind in [
        CountKind("status", "signatures by status", _status_cells),
        CountKind("day", "net change of the total by day", _day_cells),
        CountKind("version", "signatures by version signed", _version_cells),
        CountKind("team", "public signers by team", _group_cells("team"), names_people=True),
        CountKind(
            "location", "public signers by location", _group_cells("location"), names_people=True
        ),
    ]
}
KINDS = tuple(COUNT_KINDS)

# The signers a signatory export lists: confirmed public ones, never
# anonymous or flagged ones.
LISTED_SIGNERS = Q(status=SignatureStatus.CONFIRMED, display=Display.PUBLIC, flagged=False)


def neutralise(value: Any) -> Any:
    """Spreadsheet formula injection: a text cell that starts with = + - @
    (or a tab or carriage return) is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def export_threshold(threshold: int | None = None) -> int:
    """The threshold an export uses: EXPORT_MIN_GROUP unless a higher one is
    asked for.  A lower one is refused (ValueError): the floor for anything
    that can contain anonymous signers is a setting, not a caller's choice."""
    floor = settings.EXPORT_MIN_GROUP
    if threshold is None:
        return floor
    if threshold < floor:
        raise ValueError(f"threshold {threshold} is below EXPORT_MIN_GROUP ({floor})")
    return threshold


def count_rows(
    letter: Letter, kind: str, threshold: int | None = None, *, for_organisers: bool = False
) -> Iterator[dict[str, Any]]:
    """One letter's counts of one kind (`COUNT_KINDS`).  Group kinds are
    suppressed; hidden team and location cells are reported as one unnamed
    row (a team's name can point at a person).  Team and location rows count
    public signers only; day rows are net changes of the total (may be
    negative).  Organisers get no pending count.  Raises ValueError at once
    (not on the first row) for an unknown kind or a threshold below
    EXPORT_MIN_GROUP."""
    if kind not in COUNT_KINDS:
        raise ValueError(kind)
    return _count_rows(letter, COUNT_KINDS[kind], export_threshold(threshold), for_organisers)


def _count_rows(
    letter: Letter, kind: CountKind, threshold: int, for_organisers: bool
) -> Iterator[dict[str, Any]]:
    hidden = False
    for cell in kind.cells(letter, threshold, for_organisers):
        if cell.count is None and kind.names_people:
            hidden = True
            continue
        yield {
            "letter": letter.slug,
            "kind": kind.name,
            "key": cell.label,
            "count": cell.count,
            "suppressed": cell.count is None,
        }
    if hidden:
        yield {
            "letter": letter.slug, "kind": kind.name, "key": "", "count": None, "suppressed": True,
        }  # fmt: skip


def letters_count_rows(
    letters: Iterable[Letter],
    kinds: Iterable[str],
    threshold: int | None = None,
    *,
    for_organisers: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every letter's counts of every kind; refuses (ValueError, at once) an
    unknown kind or a threshold below EXPORT_MIN_GROUP, like `count_rows`."""
    kinds = list(kinds)
    unknown = set(kinds) - set(COUNT_KINDS)
    if unknown:
        raise ValueError(", ".join(sorted(unknown)))
    threshold = export_threshold(threshold)

    def rows() -> Iterator[dict[str, Any]]:
        for letter in letters:
            for kind in kinds:
                yield from count_rows(letter, kind, threshold, for_organisers=for_organisers)

    return rows()


def summary_rows(letters: Iterable[Letter]) -> Iterator[dict[str, Any]]:
    """The cross-letter summary for admins: one row per letter."""
    for letter in letters:
        status = selectors.letter_status_counts(letter=letter)
        counts = selectors.letter_counts(letter_id=letter.pk)
        yield {
            "letter": letter.slug,
            "title": letter.title,
            "status": letter.status,
            "confirmed": counts.confirmed,
            "public": counts.public,
            "anonymous": counts.anonymous,
            "pending": status[SignatureStatus.PENDING],
            "withdrawn": status[SignatureStatus.WITHDRAWN],
            "invalidated": status[SignatureStatus.INVALIDATED],
            "flagged": status["flagged"],
            "paper": letter.paper_count,
        }


def signatory_rows(letter: Letter) -> Iterator[dict[str, Any]]:
    """Public confirmed signers (never anonymous ones, never emails), oldest
    first, read through a server-side cursor in chunks."""
    rows = (
        Signature.objects.filter(LISTED_SIGNERS, letter=letter)
        .order_by("confirmed_at", "id")
        .values_list(*SIGNATORY_FIELDS)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        record = dict(zip(SIGNATORY_FIELDS, row, strict=True))
        record["confirmed_at"] = record["confirmed_at"].isoformat()
        yield record


class _Echo:
    """A write-only file that hands back what is written (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[dict[str, Any]], fields: list[str]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(fields)
    for row in rows:
        yield writer.writerow([neutralise(row.get(f)) for f in fields])


def stream_json(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "\n]\n"


def stream(rows: Iterable[dict[str, Any]], fields: list[str], fmt: str) -> Iterator[str]:
    if fmt not in FORMATS:
        raise ValueError(fmt)
    return stream_csv(rows, fields) if fmt == "csv" else stream_json(rows)


def http_response(
    rows: Iterable[dict[str, Any]], fields: list[str], fmt: str, filename: str
) -> StreamingHttpResponse:
    """A streamed download (nothing is built in memory first)."""
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = StreamingHttpResponse(stream(rows, fields, fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


COPY_CHUNK = 64 * 1024


def signatory_csv_copy(letter: Letter) -> Iterator[bytes]:
    """The public signatory list as CSV straight from PostgreSQL's COPY:
    the same columns, rows, order and formula neutralising as
    `stream_csv(signatory_rows(...))`, at the speed of `psql \\copy` and in
    constant memory (COPY streams; blocks are passed on as they come)."""
    table = connection.ops.quote_name(Signature._meta.db_table)

    def cell(column: str) -> str:
        # NULLIF: COPY quotes an empty string ("") but writes NULL as nothing,
        # which is what Python's csv module writes for "".
        neutral = f"CASE WHEN {column} ~ '^[-=+@\\t\\r]' THEN '''' || {column} ELSE {column} END"
        return f"NULLIF({neutral}, '')"

    confirmed_at = (
        "to_char(confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    )
    columns = ", ".join([*(cell(c) for c in SIGNATORY_FIELDS[:-1]), confirmed_at])
    query = (
        f"COPY (SELECT {columns} FROM {table} "  # noqa: S608 -- no user input in the SQL
        "WHERE letter_id = %s AND status = %s AND display = %s AND NOT flagged "
        "ORDER BY confirmed_at, id) TO STDOUT WITH (FORMAT csv)"
    )
    buffer = bytearray((",".join(SIGNATORY_FIELDS) + "\n").encode())
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(query, [letter.pk, SignatureStatus.CONFIRMED, Display.PUBLIC]) as copy:
            # COPY hands over about one row per block; passing each on would
            # cost a write to the client per row.  Send ~64 KB at a time.
            for block in copy:
                buffer += block
                if len(buffer) >= COPY_CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
    yield bytes(buffer)


def signatories_http_response(letter: Letter, fmt: str) -> StreamingHttpResponse:
    """CSV through COPY on PostgreSQL; JSON (and SQLite) through the ORM."""
    if fmt == "csv" and connection.vendor == "postgresql":
        response = StreamingHttpResponse(
            signatory_csv_copy(letter), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{letter.slug}-signatories.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
    return http_response(
        signatory_rows(letter), SIGNATORY_FIELDS, fmt, f"{letter.slug}-signatories"
    )
