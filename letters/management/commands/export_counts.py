"""Export signature counts, as the admin action and the organiser dashboard do.

    manage.py export_counts --letter SLUG [--letter SLUG2] [--kind day --kind team]
    manage.py export_counts --summary                   # one row per letter
    ... [--format csv|json|notes] [--output FILE] [--threshold N]

CSV starts with a UTF-8 byte-order mark (read it with "utf-8-sig"); JSON is
`{"meta": ..., "rows": [...]}`, the meta saying what the export is (letters,
day, columns, kinds, suppression rule and threshold, pending left out);
`--format notes` writes that meta as text, to keep next to a CSV.  Paper
signatures are their own kind; pending signatures are in no export.
Groups below the threshold are suppressed.  The threshold is
EXPORT_MIN_GROUP unless a higher one is given; a lower one is refused (the
floor for counts that can contain anonymous signers is a setting, not a
command-line choice).  Each run is written to the audit log with its
threshold, kinds and format (the notes, which hold no counts, are not).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from letters import exports, services
from letters.models import Letter


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
        if options["summary"]:
            letters = Letter.objects.order_by("id")
            if options["letter"]:
                letters = letters.filter(slug__in=options["letter"])
            rows = exports.summary_rows(letters.iterator())
            fields = exports.SUMMARY_FIELDS
            meta = exports.summary_meta()
        else:
            if not options["letter"]:
                raise CommandError("Name at least one --letter, or use --summary.")
            chosen = list(Letter.objects.filter(slug__in=options["letter"]).order_by("id"))
            missing = set(options["letter"]) - {letter.slug for letter in chosen}
            if missing:
                raise CommandError(f"No such letter: {', '.join(sorted(missing))}")
            rows = exports.letters_count_rows(chosen, kinds, threshold)
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
        chunks = exports.stream(rows, fields, fmt, meta)
        if options["output"]:
            # UTF-8 whatever the locale says: names must come out intact.
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                out.writelines(chunks)
        else:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
