"""How cost grows with size (`make bench-scaling`, `python -m bench.scaling`):
the letter page, the API, the sign POST and the CSV export of a letter with
10,000, 1,000,000 (the default sizes) and, opt-in, 10,000,000 signatures
(`--sizes 10000,1000000,10000000`, `make bench-scaling
SIZES=10000,1000000,10000000`).

Each size gets a stack of its own, as `make bench` starts it (bench.stack: a
fresh database, a private Redis, the SMTP sink, gunicorn, a Celery worker,
beat), seeded by bench/seed.py's COPY (the big letter only, no coalition),
then measured with the bench's own measurements, in this order: the letter
page and the API (bench.reads, wrk after a warm-up), the export (bench.export:
the organiser's streamed CSV of the public signatories, against `psql
\\copy`), and sign POSTs (bench.sign: rows against 302s, CPU per sign, the
confirmation emails drained), with what the database wrote per sign
(bench.dbstats: rows per table, commits, WAL); and the signatures table's
size.  Each size records how long it took to seed and to measure.

What should hold: the page, the API and the sign cost the same at every size
(counts are kept, not counted; a sign is one INSERT into an index of
hashes), and the export grows linearly (rows per second stay the same).
Nothing is asserted: it prints a table and writes
bench/results/scaling.json.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import dbstats
from bench.export import measure_export
from bench.processes import BASE_DIR
from bench.reads import measure_get
from bench.report import log
from bench.sign import measure_sign
from bench.stack import Stack, StackOptions
from bench.wrk import Wrk, ensure_wrk

RESULTS = Path(__file__).resolve().parent / "results" / "scaling.json"
DEFAULT_SIZES = "10000,1000000"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help=f"signatures, comma-separated ({DEFAULT_SIZES})"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up (2)")
    parser.add_argument("--export-runs", type=int, default=2, help="exports timed (median)")
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, help="wrk connections (2 × workers)")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--pg-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--private-pg", action="store_true", help="a private cluster (initdb)")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.connections is None:
        args.connections = 2 * args.workers
    return args


def measure_size(args: argparse.Namespace, wrk_binary: str, size: int) -> dict[str, Any]:
    """One size on a stack of its own, stopped at the end."""
    from bench.run import new_run_dir, opened, seed

    run_id = datetime.now(UTC).strftime("%m%d%H%M%S") + f"s{len(str(size))}"
    workdir = new_run_dir(run_id)
    wrk = Wrk(wrk_binary, workdir, threads=args.threads, connections=args.connections)
    stack = Stack(run_id=run_id, workdir=workdir, options=StackOptions.from_args(args))
    load_before = os.getloadavg()[0]
    with opened(stack):
        log(f"{size:,} signatures: seeding (database {stack.database.name})")
        info = seed(stack, size, 0)
        log(f"{size:,}: seeded in {info['seconds']} s (COPY {info['copy_s']:.1f} s)")
        started = time.monotonic()
        web, _worker, _beat = stack.start_site()
        slug = info["slug"]
        log(f"{size:,}: letter page, API")
        page = measure_get(stack, wrk, args, f"/letters/{slug}/", "letter-page")
        api = measure_get(stack, wrk, args, f"/api/letters/{slug}/", "api")
        log(f"{size:,}: export")
        export = measure_export(stack, args, info, web.pid)
        log(f"{size:,}: sign")
        url = stack.database.url
        before = dbstats.snapshot(url)
        sign = measure_sign(stack, wrk, args, slug, run_id)
        after = dbstats.snapshot(url, settle=dbstats.IDLE_FLUSH_S)
        answered = sign["requests"]
        sign["database"] = dbstats.per_operation(
            before, after, answered, wal_shared=not stack.database.where.startswith("private")
        )
        sizes = dbstats.table_size(url)
        measured = round(time.monotonic() - started, 1)
    return {
        "signatures": size,
        "public_signatures": info["public_signatures"],
        "seed_seconds": info["seconds"],
        "copy_seconds": round(info["copy_s"], 1),
        "measure_seconds": measured,
        "letter_page": page,
        "api_letter": api,
        "export": export,
        "sign": sign,
        "storage": sizes,
        "database": stack.database.where,
        "loadavg_before": round(load_before, 2),
        "loadavg_after": round(os.getloadavg()[0], 2),
        "logs": str(workdir.relative_to(BASE_DIR)),
    }


def growth(by_size: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest size against the smallest: each figure's ratio (1.0:
    flat), and the export's rows per second (the same: linear)."""
    if len(by_size) < 2:
        return {}
    small, large = by_size[0], by_size[-1]

    def ratio(row: str, key: str) -> float | None:
        a, b = small[row].get(key), large[row].get(key)
        return round(b / a, 3) if a and b else None

    def cpu(row: str, key: str) -> float | None:
        a = (small[row].get(key) or {}).get("gunicorn")
        b = (large[row].get(key) or {}).get("gunicorn")
        return round(b / a, 3) if a and b else None

    return {
        "from": small["signatures"],
        "to": large["signatures"],
        "size_ratio": round(large["signatures"] / small["signatures"], 1),
        "page_rps": ratio("letter_page", "rps"),
        "page_gunicorn_cpu": cpu("letter_page", "cpu_ms_per_request"),
        "api_rps": ratio("api_letter", "rps"),
        "api_gunicorn_cpu": cpu("api_letter", "cpu_ms_per_request"),
        "sign_rps": ratio("sign", "rps"),
        "sign_gunicorn_cpu": cpu("sign", "cpu_ms_per_sign"),
        "export_seconds": ratio("export", "seconds"),
        "export_rows_per_s": ratio("export", "rows_per_s"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.run import git_commit

    binary = ensure_wrk()
    started = time.monotonic()
    by_size = []
    for size in args.sizes:
        by_size.append(measure_size(args, binary, size))
        log(
            f"{size:,}: measured in {by_size[-1]['measure_seconds']} s "
            f"(seeded in {by_size[-1]['seed_seconds']} s)"
        )
    return {
        "sizes": by_size,
        "growth": growth(by_size),
        "meta": {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.monotonic() - started, 1),
            "commit": git_commit(),
            "cpus": os.cpu_count(),
            "gunicorn_workers": args.workers,
            "celery_concurrency": args.celery_concurrency,
            "wrk": {"threads": args.threads, "connections": args.connections},
            "duration_s": args.duration,
        },
    }


def main(argv: list[str] | None = None) -> int:
    from bench.report import scaling_table
    from bench.run import run_and_report

    return run_and_report(parse_args(argv), run, scaling_table)


if __name__ == "__main__":
    raise SystemExit(main())
