"""The benchmark runner: `python -m bench [--quick]` (what `make bench` runs).

One run starts the stack (bench.stack), seeds it (bench.seed), measures in
this order, each for a fixed duration after a short warm-up:

1. baseline: a minimal Django view (bench.baseline) on its own gunicorn with
   the same settings, stopped afterwards;
2. the letter page of the big letter, then conditional GETs (304);
3. `/api/letters/<slug>/`;
4. the streamed CSV export of the big letter's public signatories (and
   `psql \\copy` of the same rows as the floor), before anything is written;
5. sign POSTs with unique emails (wrk), then rows stored vs accepted, and the
   drain of the confirmation emails they queued (emails per second);
6. the confirmation pipeline: N signs at a steady rate, sign-to-inbox times.

It prints a table, writes bench/results/latest.json, and stops everything it
started.  Nothing is asserted: the figures are for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg

from bench import report
from bench.load import (
    Wrk,
    ensure_wrk,
    export_once,
    median,
    percentile,
    request,
    response_bytes,
    steady_signs,
    timed,
)
from bench.processes import cpu_seconds
from bench.stack import BASE_DIR, Stack, StackOptions, free_port

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BIG_SLUG = "one-million"
KEEP_RUNS = 10  # run directories (logs) kept under var/bench/runs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small scale: 20,000 signatures, 5 s per measurement"
    )
    parser.add_argument("--signatures", type=int, help="signatures on the big letter")
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
        "--output", type=Path, default=RESULTS_DIR / "latest.json", help="results file"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "signatures": 20_000 if quick else 1_000_000,
        "duration": 5.0 if quick else 30.0,
        "warmup": 1.0 if quick else 3.0,
        "connections": 2 * args.workers,
        "pipeline_seconds": 5.0 if quick else 30.0,
        "export_runs": 2,
        "burst": 300 if quick else 3000,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.drain_timeout = 20.0 if quick else 300.0
    args.inbox_timeout = 15.0 if quick else 60.0
    return args


class Interrupted(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"signal {signum}")


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)


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


def scalar(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(sql.encode(), params).fetchone()
        return row[0] if row else None


def seed(stack: Stack, count: int) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bench.seed", "--count", str(count), "--slug", BIG_SLUG],
        cwd=BASE_DIR,
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    (stack.workdir / "seed.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    info: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    info["seconds"] = round(time.monotonic() - started, 1)
    return info


def wait_for_emails(
    stack: Stack, prefix: str, expected: int, timeout: float
) -> list[tuple[float, str]]:
    deadline = time.monotonic() + timeout
    while True:
        found = stack.smtp.sink.matching(prefix)
        if len({a for _t, a in found}) >= expected or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


# --- The measurements -------------------------------------------------------------


def measure_baseline(stack: Stack, wrk: Wrk, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    proc = stack.start_baseline(port)
    try:
        url = f"http://127.0.0.1:{port}/"
        wrk.run(url, script="get", seconds=args.warmup, label="baseline-warmup")
        result = wrk.run(url, script="get", seconds=args.duration, label="baseline")
    finally:
        stack.stop(proc)
    return result.as_dict()


def measure_reads(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, slug: str
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    page = f"{stack.base_url}/letters/{slug}/"
    first = request(stack.base_url, "GET", f"/letters/{slug}/")
    if first.status != 200:
        raise RuntimeError(f"letter page answered {first.status}")
    wrk.run(page, script="get", seconds=args.warmup, label="letter-page-warmup")
    result = wrk.run(page, script="get", seconds=args.duration, label="letter-page")
    out["letter_page"] = result.as_dict() | {
        "page_bytes": len(first.body),
        "first_request_ms": round(first.seconds * 1000, 1),
    }

    out["letter_page_304"] = measure_conditional(stack, wrk, args, f"/letters/{slug}/")

    api = f"{stack.base_url}/api/letters/{slug}/"
    wrk.run(api, script="get", seconds=args.warmup, label="api-warmup")
    out["api_letter"] = wrk.run(api, script="get", seconds=args.duration, label="api").as_dict()
    return out


def measure_conditional(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, path: str
) -> dict[str, Any]:
    """Conditional GETs with the page's ETag, measured like the baseline: wrk's
    plain script (no Lua per response, which costs wrk, on the same cores,
    more than the server spends on a 304).  Which answers were 304s follows
    exactly from the bytes wrk read, a 304 and a 200 each having a fixed
    size; the ETag is checked to be current before and after."""
    etag = request(stack.base_url, "GET", path).headers.get("etag", "")
    conditional = {"If-None-Match": etag}
    before, size_304 = response_bytes(stack.base_url, path, conditional)
    _status, size_200 = response_bytes(stack.base_url, path, {})
    result = wrk.run(
        stack.base_url + path,
        script="get",
        seconds=args.duration,
        headers=(f"If-None-Match: {etag}",),
        label="letter-page-304",
    )
    after, _size = response_bytes(stack.base_url, path, conditional)
    full = round((result.bytes - result.requests * size_304) / max(1, size_200 - size_304))
    full = min(result.requests, max(0, full))
    statuses = {304: result.requests - full} | ({200: full} if full else {})
    return result.as_dict() | {
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "not_modified_share": round(statuses[304] / result.requests, 4) if result.requests else 0,
        "bytes_304": size_304,
        "bytes_200": size_200,
        "etag_answers": [before, after],
    }


def measure_export(
    stack: Stack, args: argparse.Namespace, info: dict[str, Any], web_pid: int
) -> dict[str, Any]:
    path = f"/organise/{info['slug']}/export/signatories/?format=csv"
    cookie = f"{info['session_cookie']}={info['sessionid']}"
    runs = [
        export_once(stack.base_url, path, cookie=cookie, master_pid=web_pid)
        for _ in range(args.export_runs)
    ]
    ok = [r for r in runs if r.complete]
    letter_id = int(info["letter_id"])
    columns = "name, job_title, team, location, comment, confirmed_at"
    sql = (
        f"SELECT {columns} FROM letters_signature WHERE letter_id = {letter_id} "  # noqa: S608
        "AND status = 'confirmed' AND display = 'public' AND NOT flagged "
        "ORDER BY confirmed_at, id"
    )
    psql = shutil.which("psql")
    copies: list[float] = []
    if psql:
        command = [
            psql, stack.database.url, "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-c", f"\\copy ({sql}) TO '/dev/null' WITH (FORMAT csv, HEADER)",
        ]  # fmt: skip
        for _ in range(args.export_runs):
            copies.append(timed(lambda: subprocess.run(command, check=True, capture_output=True)))
    seconds = [r.seconds for r in ok]
    best = max(runs, key=lambda r: r.rss_growth_mb)
    copy_s = median(copies) if copies else None
    export_s = median(seconds) if seconds else None
    return {
        "rps": round(1 / export_s, 3) if export_s else 0.0,
        "p50_ms": round(export_s * 1000, 1) if export_s else None,
        "p99_ms": round(max(seconds) * 1000, 1) if seconds else None,
        "errors": len(runs) - len(ok),
        "seconds": round(export_s, 2) if export_s else None,
        "peak_rss_mb": round(best.peak_rss_mb, 1),
        "rss_before_mb": round(best.rss_before_mb, 1),
        "rss_growth_mb": round(best.rss_growth_mb, 1),
        "psql_copy_seconds": round(copy_s, 3) if copy_s is not None else None,
        "vs_psql_copy": round(export_s / copy_s, 2) if export_s and copy_s else None,
        "rows": ok[0].rows if ok else 0,
        "expected_rows": info["public_signatures"],
        "megabytes": round(ok[0].bytes / 1e6, 1) if ok else 0,
        "rows_per_s": round(ok[0].rows / export_s) if ok and export_s else 0,
        "runs": [
            {
                "seconds": round(r.seconds, 2),
                "status": r.status,
                "complete": r.complete,
                "peak_rss_mb": round(r.peak_rss_mb, 1),
                "rss_growth_mb": round(r.rss_growth_mb, 1),
                **({"error": r.error} if r.error else {}),
            }
            for r in runs
        ],
    }


def measure_sign(
    stack: Stack, wrk: Wrk, args: argparse.Namespace, slug: str, run_id: str
) -> dict[str, Any]:
    """The sign POSTs, then waiting for the confirmation emails they made owed
    (given up after `drain_timeout`, so that the pipeline starts empty)."""
    prefix = f"s{run_id}"
    groups = stack.process_groups()
    cpu_before = cpu_seconds(groups)
    result = wrk.run(
        f"{stack.base_url}/letters/{slug}/sign/",
        script="sign",
        seconds=args.duration,
        args=(prefix, stack.base_url),
        label="sign",
    )
    cpu_after = cpu_seconds(groups)
    ended = time.monotonic()
    backlog = stack.owed_emails(f"{prefix}-")
    accepted = result.statuses.get(302, 0)
    answered = sum(result.statuses.values())
    unanswered = max(0, result.sent - answered)
    # The requests in flight when wrk stopped are still served: count the
    # rows once they have landed, so that every row's email is waited for.
    time.sleep(1)
    rows = int(
        scalar(
            stack.database.url,
            "SELECT count(*) FROM letters_signature WHERE email LIKE %s",
            (f"{prefix}-%",),
        )
    )
    log(f"sign: {result.rps:.0f}/s, {rows} rows; {backlog} emails still owed")
    found = wait_for_emails(stack, f"{prefix}-", rows, args.drain_timeout)
    delivered = len({a for _t, a in found})
    last = max((t for t, _a in found), default=ended)
    emails: dict[str, Any] = {
        "expected": rows,
        "delivered": delivered,
        "queued_at_stop": backlog,
        "last_after_stop_s": round(max(0.0, last - ended), 2),
    }
    if delivered < rows:
        emails["purged"] = stack.drop_owed_emails(f"{prefix}-")
        time.sleep(1)
    return result.as_dict() | {
        "accepted": accepted,
        "rows_stored": rows,
        "unanswered_at_stop": unanswered,
        # wrk stops with requests in flight: the server may still store those.
        "rows_match_accepted": accepted <= rows <= accepted + unanswered,
        "other_statuses": {str(k): v for k, v in sorted(result.statuses.items()) if k != 302},
        # Where the CPU went while signing, in ms per sign answered: the
        # email worker sends the confirmations of the signs being measured.
        "cpu_ms_per_sign": {
            key: round((cpu_after[key] - cpu_before[key]) * 1000 / max(1, answered), 3)
            for key in cpu_after
        },
        "emails": emails,
    }


def measure_burst(stack: Stack, args: argparse.Namespace, slug: str, run_id: str) -> dict[str, Any]:
    """`--burst` confirmation emails queued at once (bench.burst); the rate at
    which the sink receives them is the pipeline's email capacity."""
    prefix = f"b{run_id}"
    done = subprocess.run(
        [
            sys.executable, "-m", "bench.burst", "--slug", slug, "--prefix", prefix,
            "--count", str(args.burst),
        ],
        cwd=BASE_DIR,
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    (stack.workdir / "burst.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"burst failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    found = wait_for_emails(stack, f"{prefix}-", args.burst, args.drain_timeout)
    times = sorted(t for t, _a in found)
    delivered = len({a for _t, a in found})
    if delivered < args.burst:
        stack.drop_owed_emails(f"{prefix}-")
    start = float(info["committing_at"])
    return {
        "emails": args.burst,
        "delivered": delivered,
        "emails_per_s": round(len(times) / (times[-1] - start), 1) if times else 0.0,
        "first_to_last_per_s": round((len(times) - 1) / (times[-1] - times[0]), 1)
        if len(times) >= 2 and times[-1] > times[0]
        else 0.0,
        "seconds": round(times[-1] - start, 2) if times else None,
        "enqueue_s": round(float(info["enqueued_at"]) - start, 2),
    }


def measure_pipeline(
    stack: Stack, args: argparse.Namespace, slug: str, run_id: str
) -> dict[str, Any]:
    prefix = f"p{run_id}"
    count = max(1, round(args.pipeline_rate * args.pipeline_seconds))
    signs = steady_signs(
        stack.base_url,
        f"/letters/{slug}/sign/",
        prefix=prefix,
        rate=args.pipeline_rate,
        count=count,
    )
    accepted = signs.statuses.get(302, 0)
    found = wait_for_emails(stack, f"{prefix}-", accepted, args.inbox_timeout)
    first_arrival: dict[str, float] = {}
    for arrived, address in sorted(found):
        first_arrival.setdefault(address, arrived)
    delays = [
        first_arrival[address] - sent
        for address, sent in signs.sent.items()
        if address in first_arrival
    ]
    arrivals = sorted(first_arrival.values())
    bad = sum(n for status, n in signs.statuses.items() if not 200 <= status < 400)
    return {
        "rps": round(signs.answered_per_s, 1),
        "p50_ms": round(percentile(signs.latencies_ms, 50), 2),
        "p99_ms": round(percentile(signs.latencies_ms, 99), 2),
        "errors": bad + signs.failures + (accepted - len(delays)),
        "p50_s": round(percentile(delays, 50), 3),
        "p95_s": round(percentile(delays, 95), 3),
        "max_s": round(max(delays), 3) if delays else None,
        "signs": count,
        "rate": args.pipeline_rate,
        "accepted": accepted,
        "delivered": len(delays),
        "steady_emails_per_s": round((len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), 1)
        if len(arrivals) >= 2 and arrivals[-1] > arrivals[0]
        else 0.0,
    }


# --- The run ------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    run_id = datetime.now(UTC).strftime("%m%d%H%M%S") + secrets.token_hex(2)
    runs_dir = BASE_DIR / "var" / "bench" / "runs"
    for old in sorted(runs_dir.glob("*"))[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)
    workdir = runs_dir / run_id
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    wrk = Wrk(ensure_wrk(), workdir, threads=args.threads, connections=args.connections)
    options = StackOptions(
        workers=args.workers,
        celery_concurrency=args.celery_concurrency,
        admin_url=args.pg_admin_url,
        private_pg=args.private_pg,
        access_log=args.access_log,
    )
    stack = Stack(run_id=run_id, workdir=workdir, options=options)
    started = time.monotonic()
    results: dict[str, Any] = {}
    failed = True
    try:
        stack.open()
        log(f"database {stack.database.name} ({stack.database.where}); logs in {workdir}")
        log(f"seeding {args.signatures:,} signatures")
        info = seed(stack, args.signatures)
        log(f"seeded in {info['seconds']} s (COPY {info['copy_s']:.1f} s)")

        log("baseline")
        results["baseline"] = measure_baseline(stack, wrk, args)
        web, _worker, _beat = stack.start_site()
        log("letter page, 304, API")
        results.update(measure_reads(stack, wrk, args, info["slug"]))
        log("export")
        results["export"] = measure_export(stack, args, info, web.pid)
        log("sign")
        results["sign"] = measure_sign(stack, wrk, args, info["slug"], run_id)
        log(f"pipeline: {args.pipeline_rate:g} signs/s for {args.pipeline_seconds:g} s")
        pipeline = measure_pipeline(stack, args, info["slug"], run_id)
        log(f"pipeline: {args.burst} confirmation emails queued at once")
        burst = measure_burst(stack, args, info["slug"], run_id)
        results["pipeline"] = {**pipeline, "emails_per_s": burst["emails_per_s"], "burst": burst}
        failed = False
    except (Interrupted, KeyboardInterrupt):
        failed = False  # no logs to show: the user stopped it
        raise
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        previous = (
            signal.signal(signal.SIGINT, signal.SIG_IGN),
            signal.signal(signal.SIGTERM, signal.SIG_IGN),
        )
        problems = stack.close()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
        if failed:
            for name in sorted(p.name for p in workdir.glob("*.log")):
                text = (workdir / name).read_text(errors="replace").splitlines()
                print(f"----- {name} (last lines) -----\n" + "\n".join(text[-15:]))
        if problems:
            log("cleanup problems: " + "; ".join(problems))
    base = results["baseline"]["rps"] or 1.0
    results["ratios"] = {
        key: round(results[key]["rps"] / base, 3)
        for key in ("letter_page", "letter_page_304", "api_letter", "sign")
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
        "seed_seconds": info["seconds"],
        "copy_seconds": round(info["copy_s"], 1),
        "database": stack.database.where,
        "access_log": options.access_log,
        # Other work on the machine: the 1-minute load average before and after.
        "loadavg_before": round(load_before[0], 2),
        "loadavg_after": round(os.getloadavg()[0], 2),
        "logs": str(workdir.relative_to(BASE_DIR)),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
    print(report.table(results))
    log(f"wrote {args.output}")
    return 0
