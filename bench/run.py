"""The benchmark runner: `python -m bench [--quick]` (what `make bench` runs).

One run starts the stack (bench.stack), seeds it (bench.seed), times the
sealing of signers' addresses in this process while the stack is idle
(bench.sealing_cost), then measures in this order, each for a fixed duration
after a short warm-up:

1. baseline: a minimal Django view (bench.baseline) on its own gunicorn with
   the same settings, stopped afterwards (bench.reads);
2. the letter page of the big letter, the coalition letter's page (ten
   employers, counted apart), then conditional GETs of the big letter's (304);
3. `/api/letters/<slug>/` of the big letter, then of the coalition letter;
4. the streamed CSV export of the big letter's public signatories (and
   `psql \\copy` of the same rows as the floor), before anything is written
   (bench.export);
5. sign POSTs with unique emails (wrk), then rows stored vs accepted, and the
   drain of the confirmation emails they queued (bench.sign); then the same
   on the coalition letter, from its employers' domains and subdomains (and
   other supporters'), with each row's employer checked;
6. the confirmation pipeline: N signs at a steady rate, sign-to-inbox times,
   and emails per second with the worker's CPU per email (bench.pipeline);
7. the mixed load of a viral letter (page, API, sign, confirm), offered at
   rising rates until p99 passes 200 ms (bench.mixed);
8. the cluster (bench.cluster: HAProxy, two web nodes, PgBouncer, a
   replica, two worker nodes) seeded with the big letter, and through it the
   letter page and sign POSTs (each between two of the single node's, side
   by side; quick: the sign only), the API and the mixed load
   (bench.cluster_bench); skipped without haproxy or pgbouncer.

The sealing costs are then set against the CPU per sign and per email.

It prints a table (bench.report), writes bench/results/latest.json, and
stops everything it started.  Nothing is asserted: the figures are for
reading.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import cluster_bench
from bench.commands import run_python
from bench.export import measure_export
from bench.mixed import measure_mixed, parse_rates, single_node_target
from bench.pipeline import measure_burst, measure_pipeline
from bench.processes import BASE_DIR
from bench.reads import measure_baseline, measure_get, measure_reads
from bench.report import log, table
from bench.sealing_cost import measure_sealing, shares
from bench.sign import measure_sign
from bench.stack import Stack, StackOptions
from bench.wrk import Wrk, ensure_wrk

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BIG_SLUG = "one-million"
COALITION_SLUG = "coalition"
# The rows given as requests/s over the baseline's.
RATIO_KEYS = (
    "letter_page", "letter_page_304", "api_letter", "sign",
    "coalition_page", "coalition_api", "coalition_sign",
)  # fmt: skip
KEEP_RUNS = 10  # run directories (logs) kept under var/bench/runs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small scale: 20,000 signatures (and 20,000 on the coalition letter), 5 s each",
    )
    parser.add_argument("--signatures", type=int, help="signatures on the big letter")
    parser.add_argument(
        "--coalition-signatures",
        type=int,
        help="signatures on the coalition letter (10 employers; 0: no coalition letter)",
    )
    parser.add_argument("--duration", type=float, help="seconds per wrk measurement")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each read")
    parser.add_argument(
        "--workers", type=int, default=2 * cores + 1, help="gunicorn workers (2 × cores + 1)"
    )
    parser.add_argument(
        "--celery-concurrency", type=int, default=2, help="Celery worker processes (2)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, help="wrk connections (2 × workers)")
    parser.add_argument("--pipeline-rate", type=float, default=100.0, help="signs/s (100)")
    parser.add_argument("--pipeline-seconds", type=float, help="seconds of steady signing")
    parser.add_argument("--export-runs", type=int, help="exports to time (median reported)")
    parser.add_argument("--burst", type=int, help="emails queued at once for emails/s")
    parser.add_argument(
        "--pg-admin-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server to create the fresh database on",
    )
    parser.add_argument(
        "--private-pg", action="store_true", help="always use a private cluster (initdb)"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="gunicorn with an access log (bin/serve has none: paths hold tokens)",
    )
    parser.add_argument(
        "--mixed-rates", help="the mixed load's offered req/s, comma-separated (rising)"
    )
    parser.add_argument("--mixed-seconds", type=float, help="seconds per mixed-load step")
    parser.add_argument("--no-mixed", action="store_true", help="no mixed load")
    parser.add_argument(
        "--no-cluster", action="store_true", help="no cluster phase (HAProxy, two nodes...)"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS_DIR / "latest.json", help="results file"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "signatures": 20_000 if quick else 1_000_000,
        "coalition_signatures": 20_000 if quick else 1_000_000,
        "duration": 5.0 if quick else 30.0,
        "warmup": 1.0 if quick else 3.0,
        "connections": 2 * args.workers,
        "pipeline_seconds": 5.0 if quick else 30.0,
        "export_runs": 2,
        "burst": 300 if quick else 3000,
        "mixed_seconds": 2.0 if quick else 10.0,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.drain_timeout = 20.0 if quick else 300.0
    args.inbox_timeout = 15.0 if quick else 60.0
    args.mixed_rates = parse_rates(args.mixed_rates, quick=quick)
    args.mixed_links = 50 if quick else 200  # confirmation links collected first
    args.mixed_warmup = 1.0 if quick else 2.0
    return args


class Interrupted(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"signal {signum}")


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip()
    except OSError:
        return ""


def new_run_dir(run_id: str) -> Path:
    """var/bench/runs/<run_id>, for the logs of every process; the oldest
    runs' directories are removed (KEEP_RUNS are kept)."""
    runs_dir = BASE_DIR / "var" / "bench" / "runs"
    for old in sorted(runs_dir.glob("*"))[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)
    workdir = runs_dir / run_id
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def seed(stack: Stack, count: int, coalition_count: int) -> dict[str, Any]:
    started = time.monotonic()
    argv = ["-m", "bench.seed", "--count", str(count), "--slug", BIG_SLUG]
    argv += ["--coalition-count", str(coalition_count), "--coalition-slug", COALITION_SLUG]
    out = run_python(
        argv,
        env=stack.env(),
        timeout=3600,
        what="seeding",
        log_path=stack.workdir / "seed.log",
    )
    info: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    info["seconds"] = round(time.monotonic() - started, 1)
    return info


@contextlib.contextmanager
def opened(stack: Stack) -> Iterator[Stack]:
    """The stack, open; closed however the run ends (a second Ctrl-C cannot
    cut that short), with the end of every log shown if the run failed."""
    failed = True
    try:
        stack.open()
        yield stack
        failed = False
    except (Interrupted, KeyboardInterrupt):
        failed = False  # no logs to show: the user stopped it
        raise
    finally:
        previous = (
            signal.signal(signal.SIGINT, signal.SIG_IGN),
            signal.signal(signal.SIGTERM, signal.SIG_IGN),
        )
        problems = stack.close()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
        if failed:
            for name in sorted(p.name for p in stack.workdir.glob("*.log")):
                text = (stack.workdir / name).read_text(errors="replace").splitlines()
                print(f"----- {name} (last lines) -----\n" + "\n".join(text[-15:]))
        if problems:
            log("cleanup problems: " + "; ".join(problems))


def measure(
    stack: Stack, wrk: Wrk, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seed, then every measurement in order: (what the seeding said, results)."""
    log(f"database {stack.database.name} ({stack.database.where}); logs in {stack.workdir}")
    log(
        f"seeding {args.signatures:,} signatures, {args.coalition_signatures:,} on the "
        "coalition letter"
    )
    info = seed(stack, args.signatures, args.coalition_signatures)
    log(f"seeded in {info['seconds']} s (COPY {info['copy_s']:.1f} s)")
    slug, run_id, coalition = info["slug"], stack.run_id, info["coalition"]

    log("sealing: CPU per seal and open, in the runner (the stack idle)")
    sealing = measure_sealing(stack.signer_keys)
    log("baseline")
    results: dict[str, Any] = {"baseline": measure_baseline(stack, wrk, args)}
    web, worker, beat = stack.start_site()
    coalition_slug = coalition["slug"] if coalition else ""
    log("letter page, coalition letter page, 304, API, coalition API")
    results.update(measure_reads(stack, wrk, args, slug, coalition_slug))
    log("export")
    results["export"] = measure_export(stack, args, info, web.pid)
    log("sign")
    results["sign"] = measure_sign(stack, wrk, args, slug, run_id)
    if coalition:
        log("sign on the coalition letter")
        results["coalition_sign"] = measure_sign(
            stack,
            wrk,
            args,
            coalition["slug"],
            run_id,
            sign_domains=coalition["sign_domains"],
            label="coalition-sign",
        )
    log(f"pipeline: {args.pipeline_rate:g} signs/s for {args.pipeline_seconds:g} s")
    pipeline = measure_pipeline(stack, args, slug, run_id)
    log(f"pipeline: {args.burst} confirmation emails queued at once")
    burst = measure_burst(stack, args, slug, run_id)
    results["pipeline"] = {**pipeline, "emails_per_s": burst["emails_per_s"], "burst": burst}
    results["sealing"] = {**sealing, **shares(sealing, results["sign"], burst)}
    if coalition:
        results["coalition"] = coalition_summary(coalition, results)
    if not args.no_mixed:
        log(f"mixed load: {', '.join(f'{r:g}' for r in args.mixed_rates)} req/s offered")
        results["mixed"] = measure_mixed(
            wrk.binary,
            single_node_target(stack, slug),
            run_id=run_id,
            rates=args.mixed_rates,
            seconds=args.mixed_seconds,
            links=args.mixed_links,
            warmup=args.mixed_warmup,
        )
    lacking = cluster_bench.missing()
    if args.no_cluster or lacking:
        results["cluster"] = {"skipped": "--no-cluster" if args.no_cluster else f"no {lacking}"}
        return info, results
    # The single-node site stays up, idle, for the letter page and sign
    # measured just before and after the cluster's (side by side); it stops
    # once the cluster is done.
    log("cluster: HAProxy, two web nodes, PgBouncer, a replica, two worker nodes")
    page_path = f"/letters/{slug}/"

    def single_page(label: str) -> dict[str, Any]:
        return measure_get(stack, wrk, args, page_path, label)

    cluster = cluster_bench.measure_cluster(
        args,
        wrk,
        run_id=run_id,
        slug=slug,
        mixed_rates=[] if args.no_mixed else args.mixed_rates,
        mixed_seconds=args.mixed_seconds,
        single=cluster_bench.SingleNode(
            sign=lambda label: measure_sign(stack, wrk, args, slug, run_id, label=label),
            # quick: the sign only (CI's time)
            page=None if args.quick else single_page,
        ),
    )
    for proc in (web, worker, beat):
        stack.processes.stop(proc)
    results["cluster"] = cluster | {"vs_single_node": cluster_bench.vs_single(cluster, results)}
    return info, results


def coalition_summary(coalition: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """What the seeding said of the coalition letter (its counts checked
    four ways, the per-employer counts' cost), and its rows against the
    big letter's in the same run: requests/s over requests/s, and the big
    letter's gunicorn CPU per request (per sign) over the coalition's."""
    kept = {key: value for key, value in coalition.items() if key != "sign_domains"}
    pairs = {
        "page": ("coalition_page", "letter_page", "cpu_ms_per_request"),
        "api": ("coalition_api", "api_letter", "cpu_ms_per_request"),
        "sign": ("coalition_sign", "sign", "cpu_ms_per_sign"),
    }
    return kept | {
        "sign_employers": results["coalition_sign"].get("employers"),
        "vs_big_letter": {
            name: round(results[mine]["rps"] / (results[theirs]["rps"] or 1.0), 3)
            for name, (mine, theirs, _cpu) in pairs.items()
        },
        "cpu_vs_big_letter": {
            name: round(
                results[theirs][cpu]["gunicorn"] / max(0.001, results[mine][cpu]["gunicorn"]), 3
            )
            for name, (mine, theirs, cpu) in pairs.items()
        },
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    run_id = datetime.now(UTC).strftime("%m%d%H%M%S") + secrets.token_hex(2)
    workdir = new_run_dir(run_id)
    load_before = os.getloadavg()
    wrk = Wrk(ensure_wrk(), workdir, threads=args.threads, connections=args.connections)
    stack = Stack(run_id=run_id, workdir=workdir, options=StackOptions.from_args(args))
    started = time.monotonic()
    with opened(stack):
        info, results = measure(stack, wrk, args)
    base = results["baseline"]["rps"] or 1.0
    results["ratios"] = {
        key: round(results[key]["rps"] / base, 3) for key in RATIO_KEYS if key in results
    }
    # The same for the reads from the web server's own CPU per request: the
    # baseline's over the row's (less moved by other work on the machine).
    base_cpu = results["baseline"]["cpu_ms_per_request"]["gunicorn"]
    results["cpu_ratios"] = {
        key: round(base_cpu / max(0.001, results[key]["cpu_ms_per_request"]["gunicorn"]), 3)
        for key in RATIO_KEYS
        if "cpu_ms_per_request" in results.get(key, {})
    }
    results["meta"] = {
        "mode": "quick" if args.quick else "full",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "commit": git_commit(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "gunicorn_workers": args.workers,
        "celery_concurrency": args.celery_concurrency,
        "wrk": {"threads": args.threads, "connections": args.connections},
        "duration_s": args.duration,
        "signatures": args.signatures,
        "public_signatures": info["public_signatures"],
        "coalition_signatures": args.coalition_signatures,
        "coalition_public_signatures": (info["coalition"] or {}).get("public_signatures", 0),
        "seed_seconds": info["seconds"],
        "copy_seconds": round(info["copy_s"], 1),
        "database": stack.database.where,
        "access_log": args.access_log,
        # Other work on the machine: the 1-minute load average before and after.
        "loadavg_before": round(load_before[0], 2),
        "loadavg_after": round(os.getloadavg()[0], 2),
        "logs": str(workdir.relative_to(BASE_DIR)),
    }
    return results


def run_and_report(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], dict[str, Any]],
    table: Callable[[dict[str, Any]], str],
) -> int:
    """`run(args)` with everything it starts stopped on Ctrl-C or SIGTERM;
    its results written to `args.output` (whole or not at all) and printed
    as `table` makes them; the exit status."""
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        results = run(args)
    except (Interrupted, KeyboardInterrupt):
        log("interrupted; everything started was stopped")
        return 130
    except RuntimeError as exc:
        log(f"failed: {exc}")
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(args.output)
    print(table(results))
    log(f"wrote {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_and_report(parse_args(argv), run, table)
