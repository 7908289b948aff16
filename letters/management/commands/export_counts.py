"""Export signature counts, as the admin action and the organiser dashboard do.

    manage.py export_counts --letter SLUG [--letter SLUG2] [--kind day --kind team]
    manage.py export_counts --summary                   # one row per letter
    ... [--format csv|json|notes] [--output FILE] [--threshold N]

CSV starts with a UTF-8 byte-order mark (read it with "utf-8-sig"); JSON is
`{"meta": ..., "rows": [...]}`, the meta saying what the export is (letters,
day, columns, kinds, suppression rule and threshold, pending left out);
`--format notes` writes that meta as text, to keep next to a CSV.  Paper
signatures are their own kind; a coalition letter's counts by employer
(`--kind employer`) are totals; pending signatures are in no export.
Groups below the threshold are suppressed.  The threshold is
EXPORT_MIN_GROUP unless a higher one is given; a lower one is refused (the
floor for counts that can contain anonymous signers is a setting, not a
command-line choice).  Each run is written to the audit log with its
threshold, kinds and format (the notes, which hold no counts, are not).

On a terminal, stderr shows how far it got (signature rows counted, their
rate, the time left: letters/progress.py), unless the export itself goes to
that terminal; piped or redirected, nothing but the export is written.
`--progress` forces it (plain lines), `--no-progress` and `-v 0` stop it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters import exports, services
from letters.models import Letter
from letters.progress import Progress, add_progress_argument, command_progress
from letters.selectors.counts import signature_rows_many

# One part of an export: the letter it reads and its rows (read when pulled).
Part = tuple[Letter, Callable[[], Iterable[dict[str, Any]]]]


class Command(BaseCommand):
    help = "Export signature counts (CSV or JSON) to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--letter", action="append", default=[], help="letter slug")
        parser.add_argument("--summary", action="store_true", help="one row per letter")
        parser.add_argument(
            "--kind",
            action="append",
            choices=exports.KINDS,
            default=[],
            help="; ".join(f"{k.name}: {k.label}" for k in exports.COUNT_KINDS.values())
            + " (default: all)",
        )
        parser.add_argument(
            "--format",
            choices=exports.COUNT_FORMATS,
            default="csv",
            help="csv (with a UTF-8 byte-order mark), json (rows and meta) or notes (what the "
            "columns mean, as text)",
        )
        parser.add_argument("--output", help="file to write (default: stdout)")
        parser.add_argument(
            "--threshold",
            type=int,
            default=None,
            help="suppress groups below this (default and lowest: EXPORT_MIN_GROUP)",
        )
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            threshold = exports.export_threshold(options["threshold"])
        except ValueError as exc:
            raise CommandError(
                f"--{exc}: groups that small could single out a signer.  Use a "
                f"threshold of at least {settings.EXPORT_MIN_GROUP}."
            ) from exc
        kinds = options["kind"] or list(exports.KINDS)
        fmt = options["format"]
        if not options["output"] and options["progress"] is None and self.stdout.isatty():
            options["progress"] = False  # progress would garble the export on the screen
        progress = command_progress(self, options, unit="signatures")
        if options["summary"]:
            letters = Letter.objects.order_by("id")
            if options["letter"]:
                letters = letters.filter(slug__in=options["letter"])
            parts: list[Part] = [
                (letter, partial(exports.summary_rows, [letter])) for letter in letters
            ]
            fields = exports.SUMMARY_FIELDS
            meta = exports.summary_meta()
        else:
            if not options["letter"]:
                raise CommandError("Name at least one --letter, or use --summary.")
            chosen = list(Letter.objects.filter(slug__in=options["letter"]).order_by("id"))
            missing = set(options["letter"]) - {letter.slug for letter in chosen}
            if missing:
                raise CommandError(f"No such letter: {', '.join(sorted(missing))}")
            parts = [
                (letter, partial(exports.count_rows, letter, kind, threshold))
                for letter in chosen
                for kind in kinds
            ]
            fields = exports.COUNT_FIELDS
            meta = exports.counts_meta(chosen, kinds, threshold)
        if fmt != "notes":
            services.audit(
                actor=None,
                action="export.command",
                target=",".join(options["letter"]) or "all",
                summary=options["summary"],
                kinds="summary" if options["summary"] else ",".join(kinds),
                threshold=threshold,
                format=fmt,
            )
        chunks = exports.stream(_tracked(parts, progress), fields, fmt, meta)
        with progress:
            if options["output"]:
                # UTF-8 whatever the locale says: names must come out intact.
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    out.writelines(chunks)
            else:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")


def _tracked(parts: list[Part], progress: Progress) -> Iterator[dict[str, Any]]:
    """The parts' rows in turn, advancing `progress` by each letter's
    signature rows as its parts are read (a letter's kinds share them: each
    kind is one query over them).  The rows are counted (one grouped query)
    only when someone is looking."""
    letter_ids = [letter.pk for letter, _rows in parts]
    sizes = signature_rows_many(sorted(set(letter_ids))) if progress.enabled else {}
    progress.start(sum(sizes.values()))
    of_letter = Counter(letter_ids)
    seen: dict[int, int] = {}
    for letter, rows in parts:
        yield from rows()
        before = seen.get(letter.pk, 0)
        seen[letter.pk] = before + 1
        size, n = sizes.get(letter.pk, 0), of_letter[letter.pk]
        progress.advance(size * (before + 1) // n - size * before // n)
