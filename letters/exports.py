"""Count exports (CSV and JSON), streamed: rows are produced one at a time
from server-side cursors, so memory stays flat whatever the letter's size.

Counts by team and location hold public signers only (anonymous signers
are in the totals only: DESIGN §2, rule 9); counts by day are the net change
of the total on that day (`selectors.letter_day_counts`).  Group counts go
through `suppress`: cells below the threshold are reported as suppressed,
with complementary suppression.  The threshold is never below
EXPORT_MIN_GROUP, whoever asks (`count_rows` refuses a lower one).  No
export carries a signer's email; the signatory list holds public signers
only.  No export counts or lists pending signatures, for anyone, admins
included: anyone can start one with anyone's address (rule 8).  Paper
signatures are their own kind ("paper"), never added to a verified count.
Counts by employer (a coalition letter's) are totals, anonymous signers
included, like the letter's own total: an employer is public and rule 9
lets its total move with one anonymous signer; no export breaks an
employer down any further (no employer by team, location or day), and
teams and locations stay across the whole letter, public signers only.
Callers audit every export, with its threshold (`letters.services.audit`).

What an export is, is said with it, the same way from the organiser page,
the admin and the command (`counts_meta`, `summary_meta`,
`signatories_meta`): JSON is `{"meta": {...}, "rows": [...]}`, the meta
naming the letters, the day it was made, what each column and kind means,
the suppression rule and threshold applied and that pending signatures are
left out; CSV stays plain rows under one header line (anything above the
header would break a spreadsheet's columns), in a file named after the
letter and the day, and the same meta comes as a text download of its own
(`notes_text`, format "notes").  CSV starts with a UTF-8 byte-order mark,
so spreadsheet programs show names with accents intact; read it back with
the "utf-8-sig" codec.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from letters import selectors
from letters.models import Display, Letter, Signature, SignatureStatus
from letters.selectors.employers import employer_counts
from letters.suppression import Cell, suppress

FORMATS = ("csv", "json")  # the data formats of every export
COUNT_FORMATS = (*FORMATS, "notes")  # count exports also explain themselves
BOM = "\ufeff"  # UTF-8 byte-order mark: spreadsheet programs then read UTF-8
COUNT_FIELDS = ["letter", "kind", "key", "count", "suppressed"]
SUMMARY_FIELDS = [
    "letter", "title", "status", "confirmed", "public", "anonymous", "withdrawn",
    "invalidated", "flagged", "paper",
]  # fmt: skip
SIGNATORY_FIELDS = ["name", "job_title", "team", "location", "comment", "confirmed_at"]
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The employer kind's key for signers at none of the employers' domains.
SUPPORTERS_KEY = "other supporters"

# What each column means, said in every export's meta and notes.
COUNT_COLUMNS: dict[str, Promise] = {
    "letter": _("the letter's short name (its address is /letters/<letter>/)"),
    "kind": _("what is counted (see the kinds)"),
    "key": _(
        "which group of that kind: a status, a day (YYYY-MM-DD), a version number, a team or "
        'location ("—" for signers who gave none; empty on the one row that stands for every '
        'hidden team or location), an employer\'s name or "other supporters", or "paper"'
    ),
    "count": _(
        "how many; empty (null in JSON) when suppressed.  Day rows are the net change of the "
        "total on that day and may be negative"
    ),
    "suppressed": _(
        "True when the count is hidden (see the suppression rule), False when it is shown"
    ),
}
SUMMARY_COLUMNS: dict[str, Promise] = {
    "letter": _("the letter's short name (its address is /letters/<letter>/)"),
    "title": _("the letter's title"),
    "status": _("the letter's status (draft, open, closed, delivered, ...)"),
    "confirmed": _(
        "confirmed, counted signatures, anonymous ones included (paper signatures not included)"
    ),
    "public": _("confirmed signers who show their name"),
    "anonymous": _("confirmed signers who chose to stay anonymous"),
    "withdrawn": _("signatures withdrawn by their signers"),
    "invalidated": _("signatures invalidated by the organisers"),
    "flagged": _("confirmed signatures held by the rate limits, not counted"),
    "paper": _(
        'signatures on paper, as recorded by the organisers: not verified, not in "confirmed"'
    ),
}
SIGNATORY_COLUMNS: dict[str, Promise] = {
    "name": _("the name the signer chose to show"),
    "job_title": _("job title, if given"),
    "team": _("team, if given"),
    "location": _("location, if given"),
    "comment": _("comment, if given"),
    "confirmed_at": _("when the signature was confirmed (ISO 8601, UTC)"),
}
SUPPRESSION_RULE = _(
    "Groups (days, teams, locations) with fewer than %(threshold)s signatures are hidden; if "
    "only one group of a kind would be hidden, the next smallest is hidden too, so that no "
    "hidden group can be worked out from the total.  Hidden teams and locations are not "
    "named: they are one row with an empty key.  Statuses, versions and paper signatures are "
    "not groups of people and are not suppressed; nor are employers, whose totals the "
    "letter's public page shows."
)
PENDING_RULE = _(
    "Not included: signatures still waiting for their email confirmation are in no export, "
    "for anyone (anyone can start one with anyone's address)."
)
ANONYMOUS_RULE = _(
    'Anonymous signers are counted in the totals (status "confirmed", days, each employer\'s '
    "total) only: never in a team, location or version row, and never named."
)
CSV_NOTE = _(
    "The CSV file is UTF-8 and starts with a byte-order mark, so spreadsheet programs show "
    'names with accents intact; to read it in a program, decode it as "utf-8-sig".'
)

# What a kind's cells come from: (letter, threshold).
CellSource = Callable[[Letter, int], Iterable[Cell]]


@dataclass(frozen=True)
class CountKind:
    """One kind of count export.  `cells` gives its cells in order; a
    breakdown by group suppresses them at the threshold it is given (a
    suppressed cell has count None; `suppressed` says the kind does).
    `names_people`: its keys can point at a person (a team, a location), so
    its suppressed cells are reported as one unnamed row, not by name."""

    name: str
    label: Promise
    cells: CellSource
    suppressed: bool = False
    names_people: bool = False


def _status_cells(letter: Letter, threshold: int) -> list[Cell]:
    # No pending count for anyone (see selectors.letter_status_counts).
    raw: dict[str, int | None] = {
        **selectors.letter_status_counts(letter=letter, with_pending=False)
    }
    # Held ("flagged"): the figure the signatories page shows, signatures
    # held on an earlier day, none below MODERATION_MIN_REPORTED, so one
    # confirmation never moves it (docs/threat-model.md, "Held signatures").
    raw["flagged"] = selectors.letter_held_counts(letter=letter).total
    return [Cell(key, n) for key, n in raw.items()]


def _day_cells(letter: Letter, threshold: int) -> list[Cell]:
    raw = selectors.letter_day_counts(letter=letter)
    return sorted(suppress(raw, threshold), key=lambda c: c.label)


def _version_cells(letter: Letter, threshold: int) -> list[Cell]:
    counts = selectors.letter_version_counts(letter=letter)
    return [Cell(str(number), n) for number, n in sorted(counts.items())]


def _group_cells(field: str) -> CellSource:
    def cells(letter: Letter, threshold: int) -> list[Cell]:
        return selectors.letter_group_counts(letter=letter, field=field, threshold=threshold)

    return cells


def _employer_cells(letter: Letter, threshold: int) -> list[Cell]:
    # Totals, anonymous signers included (rule 9 lets an employer's total
    # move with one of them): not suppressed, as the public page shows
    # them.  Confirmed, counted signatures only (rule 8); paper apart.  A
    # letter that names no employer has no rows.
    confirmed = selectors.letter_counts(letter_id=letter.pk).confirmed
    counts = employer_counts(letter=letter, confirmed_total=confirmed)
    if not counts:
        return []
    cells = [Cell(row.name, row.confirmed) for row in counts.employers]
    if letter.accept_supporters or counts.supporters:
        cells.append(Cell(SUPPORTERS_KEY, counts.supporters))
    return cells


def _paper_cells(letter: Letter, threshold: int) -> list[Cell]:
    # A number the organisers typed in: its own row, never added to a
    # verified count.
    return [Cell("paper", letter.paper_count)]


# Every kind of count export, in the order exports list them.  The views,
# the admin and the command take their kinds from here: a new kind is one
# entry.
COUNT_KINDS: dict[str, CountKind] = {
    kind.name: kind
    for kind in [
        CountKind(
            "status",
            _(
                "signatures by status: confirmed (counted, anonymous ones included), "
                "withdrawn, invalidated, flagged (confirmed but held, not counted)"
            ),
            _status_cells,
        ),
        CountKind(
            "day",
            _("net change of the confirmed total by day (site time zone)"),
            _day_cells,
            suppressed=True,
        ),
        CountKind(
            "version", _("public signers by version of the text they signed"), _version_cells
        ),
        CountKind(
            "team",
            _("public signers by team"),
            _group_cells("team"),
            suppressed=True,
            names_people=True,
        ),
        CountKind(
            "location",
            _("public signers by location"),
            _group_cells("location"),
            suppressed=True,
            names_people=True,
        ),
        CountKind(
            "employer",
            _(
                "confirmed signatures by employer (totals, anonymous signers included; other "
                "supporters, at none of the employers' domains, apart); only letters that name "
                "employers have these rows"
            ),
            _employer_cells,
        ),
        CountKind(
            "paper",
            _(
                "signatures on paper, as recorded by the organisers: not verified, and in no "
                "other row"
            ),
            _paper_cells,
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


def count_rows(letter: Letter, kind: str, threshold: int | None = None) -> Iterator[dict[str, Any]]:
    """One letter's counts of one kind (`COUNT_KINDS`).  Group kinds are
    suppressed; hidden team and location cells are reported as one unnamed
    row (a team's name can point at a person).  Team and location rows count
    public signers only; day rows are net changes of the total (may be
    negative); paper signatures are a kind of their own.  No pending count,
    whoever asks.  Raises ValueError at once (not on the first row) for an
    unknown kind or a threshold below EXPORT_MIN_GROUP."""
    if kind not in COUNT_KINDS:
        raise ValueError(kind)
    return _count_rows(letter, COUNT_KINDS[kind], export_threshold(threshold))


def _count_rows(letter: Letter, kind: CountKind, threshold: int) -> Iterator[dict[str, Any]]:
    hidden = False
    for cell in kind.cells(letter, threshold):
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
    letters: Iterable[Letter], kinds: Iterable[str], threshold: int | None = None
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
                yield from count_rows(letter, kind, threshold)

    return rows()


def summary_rows(letters: Iterable[Letter]) -> Iterator[dict[str, Any]]:
    """The cross-letter summary for admins: one row per letter (no pending
    count: see the module's docstring)."""
    for letter in letters:
        status = selectors.letter_status_counts(letter=letter, with_pending=False)
        counts = selectors.letter_counts(letter_id=letter.pk)
        yield {
            "letter": letter.slug,
            "title": letter.title,
            "status": letter.status,
            "confirmed": counts.confirmed,
            "public": counts.public,
            "anonymous": counts.anonymous,
            "withdrawn": status[SignatureStatus.WITHDRAWN],
            "invalidated": status[SignatureStatus.INVALIDATED],
            "flagged": status["flagged"],
            "paper": letter.paper_count,
        }


def signatory_rows(letter: Letter) -> Iterator[dict[str, Any]]:
    """Public confirmed signers (never anonymous ones, never emails), oldest
    first, read through a server-side cursor in chunks."""
    # The comment as the public sees it (`selectors.shown_comment`).
    columns = ["shown_comment" if f == "comment" else f for f in SIGNATORY_FIELDS]
    rows = (
        Signature.objects.filter(LISTED_SIGNERS, letter=letter)
        .annotate(shown_comment=selectors.shown_comment(letter))
        .order_by("confirmed_at", "id")
        .values_list(*columns)
        .iterator(chunk_size=5000)
    )
    for row in rows:
        record = dict(zip(SIGNATORY_FIELDS, row, strict=True))
        record["confirmed_at"] = record["confirmed_at"].isoformat()
        yield record


# --- What an export is: the meta of its JSON, and its notes ------------------------------


def _meta(
    export: str,
    about: str,
    letters: Sequence[Letter] | None,
    columns: dict[str, Promise],
    kinds: dict[str, str] | None = None,
    suppression: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What every export's meta says, in the order a person reads it; built
    when the export is asked for (in the asker's language), before any row
    is read.  The day, not a time: two downloads of unchanged counts are the
    same bytes (and the tests that compare exports before and after an
    action can say so)."""
    meta: dict[str, Any] = {"export": export, "about": about}
    if letters is not None:
        meta["letters"] = [{"slug": letter.slug, "title": letter.title} for letter in letters]
    meta |= {
        "generated_on": timezone.localdate().isoformat(),
        "time_zone": settings.TIME_ZONE,
        "columns": {name: str(text) for name, text in columns.items()},
    }
    if kinds is not None:
        meta["kinds"] = kinds
    return meta | {
        "suppression": suppression,
        "pending_included": False,
        "pending": str(PENDING_RULE),
        "anonymous": str(ANONYMOUS_RULE),
    }


def counts_meta(letters: Sequence[Letter], kinds: Sequence[str], threshold: int) -> dict[str, Any]:
    """The meta of a count export: the letters, the day, what each column
    and each kind included means, the suppression rule and the threshold
    applied, and that pending signatures are not included."""
    return _meta(
        "counts",
        gettext("Signature counts, one row per count."),
        letters,
        COUNT_COLUMNS,
        kinds={kind: str(COUNT_KINDS[kind].label) for kind in kinds},
        suppression={
            "threshold": threshold,
            "kinds": [kind for kind in kinds if COUNT_KINDS[kind].suppressed],
            "rule": str(SUPPRESSION_RULE) % {"threshold": threshold},
        },
    )


def summary_meta() -> dict[str, Any]:
    """The admins' summary: totals per letter, no groups, nothing suppressed
    (its rows name the letters)."""
    return _meta(
        "summary",
        gettext("One row per letter: its totals (for admins; no groups, nothing suppressed)."),
        None,
        SUMMARY_COLUMNS,
    )


def signatories_meta(letter: Letter) -> dict[str, Any]:
    return _meta(
        "signatories",
        gettext(
            "The public signatories: confirmed signers who chose to show their name, oldest "
            "first.  Anonymous, withdrawn, invalidated and held signatures are never listed, "
            "and no email address is."
        ),
        [letter],
        SIGNATORY_COLUMNS,
    )


def notes_text(meta: dict[str, Any]) -> str:
    """The meta as plain text, for people: the notes that go with a CSV."""
    lines = [meta["about"], ""]
    for letter in meta.get("letters", []):
        lines.append(gettext("Letter: %(title)s (%(slug)s)") % letter)
    lines.append(
        gettext("Made on %(day)s (dates in the %(zone)s time zone).")
        % {"day": meta["generated_on"], "zone": meta["time_zone"]}
    )
    lines += ["", gettext("Columns:")]
    lines += [f"  {name}: {text}" for name, text in meta["columns"].items()]
    if meta.get("kinds"):
        lines += ["", gettext('Kinds (the "kind" column):')]
        lines += [f"  {name}: {text}" for name, text in meta["kinds"].items()]
    if meta.get("suppression"):
        lines += [
            "",
            gettext("Small groups (threshold applied: %(threshold)s):")
            % {"threshold": meta["suppression"]["threshold"]},
            "  " + meta["suppression"]["rule"],
        ]
    lines += [
        "",
        gettext("Pending signatures:"),
        "  " + meta["pending"],
        "",
        gettext("Anonymous signers:"),
        "  " + meta["anonymous"],
        "",
        str(CSV_NOTE),
        "",
    ]
    return "\n".join(lines)


# --- Streams and downloads -----------------------------------------------------------------


class _Echo:
    """A write-only file that hands back what is written (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[dict[str, Any]], fields: list[str]) -> Iterator[str]:
    """A byte-order mark, one header line, then the rows (nothing above the
    header: spreadsheets take the first line for the column names)."""
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield BOM + writer.writerow(fields)
    for row in rows:
        yield writer.writerow([neutralise(row.get(f)) for f in fields])


def stream_json(rows: Iterable[dict[str, Any]], meta: dict[str, Any]) -> Iterator[str]:
    """`{"meta": ..., "rows": [...]}`, a row at a time."""
    yield '{"meta": ' + json.dumps(meta, ensure_ascii=False) + ',\n"rows": ['
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "\n]}\n"


def stream(
    rows: Iterable[dict[str, Any]], fields: list[str], fmt: str, meta: dict[str, Any]
) -> Iterator[str]:
    """The export as text chunks: CSV, JSON (with its meta) or the notes
    (the meta alone; the rows are not read)."""
    if fmt not in COUNT_FORMATS:
        raise ValueError(fmt)
    if fmt == "csv":
        return stream_csv(rows, fields)
    if fmt == "json":
        return stream_json(rows, meta)
    return iter([notes_text(meta)])


def filename(stem: str, meta: dict[str, Any], fmt: str) -> str:
    """`<stem>-<day>.csv`, `.json`, or `-notes.txt`: the day the export was
    made, so that downloads on different days do not overwrite each other
    and the notes sit next to their CSV."""
    name = f"{stem}-{meta['generated_on']}"
    return f"{name}-notes.txt" if fmt == "notes" else f"{name}.{fmt}"


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "notes": "text/plain; charset=utf-8",
}


def _download(response: HttpResponse | StreamingHttpResponse, name: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"


def http_response(
    rows: Iterable[dict[str, Any]], fields: list[str], fmt: str, stem: str, meta: dict[str, Any]
) -> HttpResponse | StreamingHttpResponse:
    """A download: CSV and JSON streamed (nothing is built in memory first),
    the notes (a page of text about the export) in one piece."""
    if fmt == "notes":
        response: HttpResponse | StreamingHttpResponse = HttpResponse(
            notes_text(meta), content_type=CONTENT_TYPES[fmt]
        )
    else:
        response = StreamingHttpResponse(
            stream(rows, fields, fmt, meta), content_type=CONTENT_TYPES[fmt]
        )
    _download(response, filename(stem, meta, fmt))
    return response


COPY_CHUNK = 64 * 1024


def signatory_csv_copy(letter: Letter) -> Iterator[bytes]:
    """The public signatory list as CSV straight from PostgreSQL's COPY:
    the same byte-order mark, columns, rows, order and formula neutralising
    as `stream_csv(signatory_rows(...))`, at the speed of `psql \\copy` and in
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
    # A comment shows as `selectors.shown_comment` says: never a hidden one,
    # none while the letter's comments are off.
    comment = (
        f"CASE WHEN comment_hidden_at IS NULL THEN {cell('comment')} END"
        if letter.public_comments
        else "NULL"
    )
    columns = ", ".join(
        [*(comment if c == "comment" else cell(c) for c in SIGNATORY_FIELDS[:-1]), confirmed_at]
    )
    query = (
        f"COPY (SELECT {columns} FROM {table} "  # noqa: S608 -- no user input in the SQL
        "WHERE letter_id = %s AND status = %s AND display = %s AND NOT flagged "
        "ORDER BY confirmed_at, id) TO STDOUT WITH (FORMAT csv)"
    )
    buffer = bytearray((BOM + ",".join(SIGNATORY_FIELDS) + "\n").encode())
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
    meta = signatories_meta(letter)
    stem = f"{letter.slug}-signatories"
    if fmt == "csv" and connection.vendor == "postgresql":
        response = StreamingHttpResponse(
            signatory_csv_copy(letter), content_type=CONTENT_TYPES[fmt]
        )
        _download(response, filename(stem, meta, fmt))
        return response
    if fmt not in FORMATS:
        raise ValueError(fmt)
    streamed = http_response(signatory_rows(letter), SIGNATORY_FIELDS, fmt, stem, meta)
    assert isinstance(streamed, StreamingHttpResponse)
    return streamed
